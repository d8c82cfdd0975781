"""The scale-out section of `make bench` (issue 17): workers sharing PostgreSQL and Redis.

    cd backend && ../.venv/bin/python -m bench.scale_out [--quick] [--scale-ramp 250,500,750,1000]

Real PostgreSQL and Redis servers (Debian's, started and stopped here by the tests' own
helpers, tests/postgres.py and tests/redis_server.py), the bench's model server, and:

1. the ramp (concurrent streams held with p99 added latency < 50 ms) for one worker and for
   `serve --workers 2`, both on PostgreSQL and Redis;
2. CPU per 1,000 chunks at one level for `serve --workers 2` (its supervisor and workers
   together) over one process on SQLite without Redis (the app's default);
3. two single-worker processes A and B on two ports (any worker may receive any socket, so
   this is two workers behind a proxy with the proxy's choice made by the client): every
   conversation's owner socket on A, a second tab on B, half the owner sockets dropped
   mid-reply and resumed on B: every numbered frame once, in order (frames lost, duplicated);
4. then conversations whose turns wait for an approval on A, A SIGKILLed, each client back on
   B sending its approval until it is taken: SIGKILL → the tool runs, per conversation
   (alone, several times over: `--failover-only ROUNDS`).

Every process started here is stopped here, on failure too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import tempfile
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench import loadgen, procs, report, scenarios, stats
from bench.procs import Proc
from bench.scenarios import JsonDict, Load, Target
from gatehouse import redis_client
from gatehouse.settings import Settings
from gatehouse.turn_lease import TurnLeases
from tests.postgres import postgres_server
from tests.redis_server import redis_server

log = logging.getLogger("bench")

FAILOVER_TEXT = "bench-failover"
# An approval is sent once (the worker holds it while the dead owner's lease runs), again
# this long after a refusal, and at once when the call is asked again. Until 2026-12-03 it went
# every 100 ms until taken, as if the person kept clicking: ~15 copies per conversation, each
# held by the surviving worker and refused once the first decided the call.
APPROVAL_RETRY_S = 0.1
FAILOVER_DEADLINE_S = 60.0
ACCEPTED = frozenset({"tool_decided", "tool_started", "tool_chunk", "tool_finished"})
REFUSALS = ("owner_unreachable", "unknown_tool_call")
STAMP = re.compile(r"@(\d{10,})(?=@)")
PER_CONNECTION = frozenset({"session_created", "history"})  # carry the seq the client is at


@dataclass(frozen=True)
class ScaleConfig:
    load: Load
    ramp: list[int]
    cpu_level: int
    conversations: int  # for the follow check and the failover
    lease_ms: int
    log_level: str
    app_src: Path | None
    ramp_budget_s: float


@dataclass(frozen=True)
class Backing:
    """The PostgreSQL and Redis servers every worker shares."""

    database_url: str
    redis_url: str

    def _pids(self) -> list[int]:
        """Redis, and PostgreSQL's postmaster with every backend below it."""
        redis_port = self.redis_url.rsplit(":", 1)[1].split("/", 1)[0]
        pg_port = self.database_url.rsplit(":", 1)[1].split("/", 1)[0]
        roots: list[int] = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            title = argv[0]  # redis-server sets it to "<path> <host>:<port>"
            redis = "redis-server" in title and title.endswith(f":{redis_port}")
            postgres = argv[0].endswith("/postgres") and "-p" in argv and pg_port in argv
            if redis or postgres:
                roots.append(int(cmdline.parent.name))
        return [pid for root in roots for pid in procs.descendants(root)]

    def cpu_seconds(self) -> float:
        return sum(procs.cpu_seconds_of(pid) for pid in self._pids())


@contextlib.contextmanager
def backing() -> Generator[Backing]:
    with postgres_server() as database, redis_server() as redis:
        yield Backing(database, redis.url)


class Cluster:
    """Processes of the app on one PostgreSQL and one Redis, with one workspace."""

    def __init__(self, cfg: ScaleConfig, workdir: Path, model: Proc, shared: Backing) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.model = model
        self.env = {
            "DATABASE_URL": shared.database_url,
            "REDIS_URL": shared.redis_url,
            "TURN_LEASE_MS": str(cfg.lease_ms),
            "WORKSPACE_DIR": str(workdir / "shared-workspace"),
            "DATA_DIR": str(workdir / "shared-data"),
            # the failover's clients send their approval again until it is taken
            "RATE_LIMIT_PER_S": "1000",
            "RATE_LIMIT_BURST": "1000",
        }
        (workdir / "shared-workspace").mkdir(parents=True, exist_ok=True)

    def start(self, name: str, workers: int = 1, *, shared: bool = True) -> Proc:
        args = ["--workers", str(workers)] if workers > 1 else []
        return procs.start_app(
            self.workdir,
            f"http://127.0.0.1:{self.model.port}",
            self.cfg.app_src,
            self.cfg.log_level,
            self.cfg.load.server_compression,
            name=name,
            args=args,
            extra_env=self.env if shared else None,
        )


@contextlib.asynccontextmanager
async def running(
    cluster: Cluster, name: str, workers: int = 1, shared: bool = True
) -> AsyncGenerator[Target]:
    proc = cluster.start(name, workers, shared=shared)
    try:
        if workers > 1:
            await _all_workers_up(proc, workers)
        yield Target(name, proc, cluster.model)
    finally:
        proc.stop()


async def _all_workers_up(proc: Proc, workers: int) -> None:
    """/health answered: one worker listens. The others come up a moment later; each is a
    process of its own below the supervisor (bounded wait)."""
    deadline = time.monotonic() + procs.STARTUP_S
    while isinstance(proc, procs.ProcTree) and len(proc.workers()) < workers:
        if time.monotonic() > deadline or not proc.alive():
            raise RuntimeError(f"{proc.name}: {workers} workers did not start:\n{proc.log_tail()}")
        await asyncio.sleep(0.1)  # process start-up has no event to await from here


# ── 1 and 2: streams held, CPU per chunk ──────────────────────────────────────────────────
async def level(target: Target, load: Load, n: int, shared: Backing | None = None) -> JsonDict:
    """One streaming level (scenarios.streaming_level), with each worker's CPU share and
    the CPU of the PostgreSQL and Redis servers over it."""
    pids = target.proc.workers() if isinstance(target.proc, procs.ProcTree) else []
    workers_before = [procs.cpu_seconds_of(pid) for pid in pids]
    backing_before = shared.cpu_seconds() if shared else 0.0
    started = time.monotonic()
    out = await scenarios.streaming_level(target, load, n)
    out["passed"] = scenarios.passes(out, report.RAMP_P99_MS)
    out["worker_cpu_s"] = [
        procs.cpu_seconds_of(pid) - before for pid, before in zip(pids, workers_before, strict=True)
    ]
    if shared is not None and out["chunks"]:
        backing_s = shared.cpu_seconds() - backing_before
        out["backing_cpu_s"] = backing_s
        out["backing_s_per_1000_chunks"] = 1000 * backing_s / out["chunks"]
    lat = out["latency_ms"]
    log.info(
        "[%s] %d conversations: p50 %.2f ms, p99 %.2f ms, %d chunks, %s CPU s/1000 chunks "
        "(workers %s), %d streaming at once, %d errors (%.0f s)",
        target.name,
        n,
        lat["p50"],
        lat["p99"],
        out["chunks"],
        _fmt(out["cpu"]["target_s_per_1000_chunks"]),
        ", ".join(f"{s:.1f}" for s in out["worker_cpu_s"]) or "one",
        out["achieved_concurrency"],
        out["errors"],
        time.monotonic() - started,
    )
    return out


async def ramp(target: Target, cfg: ScaleConfig, shared: Backing, done: JsonDict) -> JsonDict:
    """Levels up until one fails twice (p99 ≥ 50 ms, an error, fewer streaming at once);
    `done`, a level measured already, counts as its first try."""
    steps: list[JsonDict] = []
    best: JsonDict | None = None
    deadline = time.monotonic() + cfg.ramp_budget_s
    for n in cfg.ramp:
        step: JsonDict | None = done if done["conversations"] == n else None
        tries = 2 if step is None else 0 if step["passed"] else 1  # a failure must repeat
        for _try in range(tries):
            if time.monotonic() > deadline:
                log.warning("[%s] ramp stopped at %d: time budget spent", target.name, n)
                break
            step = await level(target, cfg.load, n, shared)
            if step["passed"]:
                break
        if step is None:
            break
        steps.append(step)
        if not step["passed"]:
            break
        best = step
    return {
        "steps": steps,
        "max_streams": best["conversations"] if best else None,
        "max_chunks_per_s": best["steady_chunks_per_s"] if best else None,
    }


# ── 3: every frame once, in order, on the other worker ────────────────────────────────────
@dataclass
class Seen:
    """What one socket of a conversation received: its numbered frames and chunk stamps."""

    seqs: list[int] = field(default_factory=lambda: list[int]())
    latency_ns: list[int] = field(default_factory=lambda: list[int]())
    texts: list[str] = field(default_factory=lambda: list[str]())
    last_seq: int = 0
    last_event: str = ""
    last_frame: str = ""
    done: bool = False  # its reply completed
    ok: bool = False  # ... with reason "ok"

    def restart(self) -> None:
        """Count from here: what came before (an earlier reply) is not checked."""
        self.seqs.clear()
        self.latency_ns.clear()
        self.texts.clear()

    def take(self, raw: str | bytes) -> str:
        """Note one frame; its event."""
        now = time.time_ns()
        frame: JsonDict = json.loads(raw)
        event = str(frame.get("event", ""))
        self.last_event = event
        self.last_frame = (raw if isinstance(raw, str) else raw.decode())[:120]
        self.done = event == loadgen.COMPLETED
        if self.done:
            self.ok = frame["data"].get("reason") == "ok"
        seq = frame.get("seq")
        if isinstance(seq, int) and event not in PER_CONNECTION:
            if not (event == "error" and seq == self.last_seq):  # an error to this socket only
                self.seqs.append(seq)
            self.last_seq = max(self.last_seq, seq)
        elif isinstance(seq, int):
            self.last_seq = max(self.last_seq, seq)
        if event == "ai_chunk":
            text = str(frame["data"]["text"])
            if text.startswith("@"):  # several deltas may come as one chunk: the first's stamp
                self.latency_ns.append(now - int(text[1 : text.index("@", 1)]))
            self.texts.append(text)
        return event

    def deltas(self) -> int:
        """The model's text deltas in what was received (each starts with its send time; a
        reply's first has the request's arrival time after it)."""
        return len(STAMP.findall("".join(self.texts))) - 1


def order_faults(seqs: list[int]) -> tuple[int, int]:
    """(lost, duplicated) in a list of frame numbers that should rise by one."""
    lost = duplicated = 0
    for before, after in zip(seqs, seqs[1:], strict=False):
        if after <= before:
            duplicated += 1
        elif after > before + 1:
            lost += after - before - 1
    return lost, duplicated


async def _open(url: str) -> tuple[ClientConnection, Seen, JsonDict]:
    ws = await connect(url, max_size=None, ping_interval=None, open_timeout=60)
    first: JsonDict = json.loads(await ws.recv())
    if first.get("event") != "session_created":
        await ws.close()
        raise RuntimeError(f"first frame was not session_created: {str(first)[:200]}")
    seen = Seen(last_seq=int(first.get("seq", 0)))
    return ws, seen, first


async def _until(ws: ClientConnection, seen: Seen, event: str, count: int = 1) -> None:
    while count:
        if seen.take(await ws.recv()) == event:
            count -= 1


def _resume_url(target: Target, session_id: str, last_seq: int) -> str:
    return f"{target.url}?session_id={session_id}&last_seq={last_seq}"


async def _one_followed(
    a: Target, b: Target, load: Load, drop: bool, where: dict[str, Seen]
) -> JsonDict:
    """A conversation owned by A: its owner socket, a tab on B; when `drop`, the owner socket
    goes mid-reply and comes back on B."""
    ws, owner, first = await _open(a.url)
    session_id = str(first["data"]["session_id"])
    where[f"{session_id} owner"] = owner
    tabs: list[ClientConnection] = [ws]
    follow: asyncio.Task[None] | None = None
    try:
        await ws.send(json.dumps({"event": "user_message", "data": {"text": loadgen.WARM_TEXT}}))
        await _until(ws, owner, loadgen.COMPLETED)  # stored: a tab elsewhere can follow it
        log.debug("[follow] %s warm done at %d", session_id, owner.last_seq)
        tab_ws, tab, _ = await _open(_resume_url(b, session_id, owner.last_seq))
        where[f"{session_id} tab"] = tab
        tabs.append(tab_ws)
        start = owner.last_seq
        owner.restart()
        tab.restart()
        text = {"event": "user_message", "data": {"text": loadgen.STREAM_TEXT}}
        await ws.send(json.dumps(text))
        follow = asyncio.create_task(_until(tab_ws, tab, loadgen.COMPLETED))
        if drop:
            while len(owner.texts) < load.deltas // 2:
                owner.take(await ws.recv())
            ws.transport.abort()
            ws, _seen, _ = await _open(_resume_url(b, session_id, owner.last_seq))
            tabs.append(ws)
            log.debug("[follow] %s resumed on B at %d", session_id, owner.last_seq)
        await _until(ws, owner, loadgen.COMPLETED)
        log.debug("[follow] %s owner done at %d", session_id, owner.last_seq)
        await follow
        log.debug("[follow] %s tab done at %d", session_id, tab.last_seq)
    finally:
        for each in tabs:
            each.transport.abort()
        if follow is not None and not follow.done():
            follow.cancel()
        if follow is not None:
            await asyncio.gather(follow, return_exceptions=True)
    faults = [order_faults([start, *s.seqs]) for s in (owner, tab)]
    return {
        "lost": sum(f[0] for f in faults),
        "duplicated": sum(f[1] for f in faults),
        "replies_not_whole": sum(s.deltas() != load.deltas for s in (owner, tab)),
        "same_text": "".join(owner.texts) == "".join(tab.texts),
        "not_ok": sum(not s.ok for s in (owner, tab)),
        "tab_latency_ns": tab.latency_ns,
    }


async def follow_check(a: Target, b: Target, load: Load, n: int) -> JsonDict:
    """`n` conversations owned by A, each followed by a tab on B; every other one has its
    owner socket dropped mid-reply and resumed on B."""
    started = time.monotonic()
    timeout_s = load.reply_s * 2 + 30
    where: dict[str, Seen] = {}  # each socket's progress, for a conversation that stalls
    tasks = [asyncio.create_task(_one_followed(a, b, load, i % 2 == 0, where)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    stalled = {k: (seen.last_seq, seen.last_frame) for k, seen in where.items() if not seen.done}
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    results = [t.result() for t in done if t.exception() is None]
    errors = [f"conversation: {t.exception()!r}"[:200] for t in done if t.exception() is not None]
    errors += [f"timeout: {len(pending)} conversations unfinished"] if pending else []
    errors += [f"stalled: {k} at seq {seq} after {event}" for k, (seq, event) in stalled.items()]
    latency = [ns for r in results for ns in r["tab_latency_ns"]]
    out: JsonDict = {
        "conversations": n,
        "sockets": 2 * n + (n + 1) // 2,
        "resumed_on_other_worker": (n + 1) // 2,
        "checked": len(results),
        "frames_lost": sum(r["lost"] for r in results),
        "frames_duplicated": sum(r["duplicated"] for r in results),
        "replies_not_whole": sum(r["replies_not_whole"] for r in results),
        "sockets_stalled": len(stalled),
        "replies_not_ok": sum(r["not_ok"] for r in results),
        "tab_text_differs": sum(not r["same_text"] for r in results),
        "tab_latency_ms": stats.percentiles_ms(latency),
        "errors": len(errors),
        "error_samples": errors[:25],
        "took_s": time.monotonic() - started,
    }
    log.info("[follow] %s", {k: v for k, v in out.items() if k != "tab_latency_ms"})
    return out


# ── 4: SIGKILL of the owner → its pending approvals work again ─────────────────────────────
def _script_failover(model: Proc, n: int) -> None:
    for i in range(n):
        use = {
            "id": "toolu_failover",
            "name": "create_file",
            "input": {"path": f"failover/{i}.txt", "content": "taken over\n"},
        }
        procs.script_model(model, {"tool_uses": [use]}, _failover_text(i), times=1)


def _failover_text(i: int) -> str:
    return f"{FAILOVER_TEXT} #{i:05d}#"


@dataclass
class Waiting:
    """A conversation whose turn waits for the approval of `tool_use_id`."""

    session_id: str
    tool_use_id: str
    last_seq: int


async def _ask(a: Target, i: int) -> Waiting:
    ws, seen, first = await _open(a.url)
    try:
        await ws.send(json.dumps({"event": "user_message", "data": {"text": _failover_text(i)}}))
        while True:
            raw = await ws.recv()
            event = seen.take(raw)
            if event == "tool_request":
                tool_use_id = str(json.loads(raw)["data"]["id"])
                return Waiting(str(first["data"]["session_id"]), tool_use_id, seen.last_seq)
            if event in ("error", loadgen.COMPLETED):
                raise RuntimeError(f"no tool_request: {str(raw)[:200]}")
    finally:
        ws.transport.abort()  # the worker dies with the turn waiting: the socket goes too


async def _approve_until_taken(b: Target, waiting: Waiting, killed_ns: int) -> JsonDict:
    """Back on B (as a browser whose socket dropped), the approval is sent once, as a person
    clicks once: the worker holds it while the dead owner's lease runs. It goes again only
    when refused, or when the call is asked again."""
    ws, seen, _ = await _open(_resume_url(b, waiting.session_id, waiting.last_seq))
    approval = json.dumps(
        {"event": "tool_approval", "data": {"tool_use_id": waiting.tool_use_id, "approved": True}}
    )
    sent = refusals = 0
    try:
        accepted_ns = 0
        while not accepted_ns:
            await ws.send(approval)
            sent += 1
            while True:
                raw = await ws.recv()
                event = seen.take(raw)
                text = raw if isinstance(raw, str) else raw.decode()
                if event in ACCEPTED and waiting.tool_use_id in text:
                    accepted_ns = time.time_ns()
                    break
                if event == "error" and any(code in text for code in REFUSALS):
                    refusals += 1
                    await asyncio.sleep(APPROVAL_RETRY_S)  # as a person clicks again
                    break
                if event == "error" or event == loadgen.COMPLETED:
                    raise RuntimeError(f"approval failed: {text[:200]}")
                if event == "tool_request":
                    break  # asked again: the answer goes at once
        completed = await _completed(ws)
    finally:
        ws.transport.abort()
    return {
        "kill_to_accepted_ns": accepted_ns - killed_ns,
        "sent": sent,
        "refusals": refusals,
        "completed_ok": completed,
    }


async def _completed(ws: ClientConnection) -> bool:
    while True:
        text = await ws.recv()
        text = text if isinstance(text, str) else text.decode()
        if loadgen.COMPLETED in text[:48]:
            return '"reason":"ok"' in text


async def _lease_left_ms(redis_url: str, waiting: list[Waiting]) -> int:
    """The most time any of the waiting turns' leases has left (read just before the kill):
    the takeover cannot come sooner."""
    client = redis_client.connect(redis_url)
    try:
        held = await TurnLeases(client).holders([w.session_id for w in waiting])
    finally:
        await client.aclose()
    return max((ms for _owner, ms in held), default=0)


async def failover(a: Target, b: Target, n: int, lease_ms: int, redis_url: str) -> JsonDict:
    """`n` conversations waiting for an approval on A; A SIGKILLed; each client back on B
    approves until it is taken. SIGKILL → the approval accepted, per conversation."""
    _script_failover(a.model, n)
    waiting = await asyncio.gather(*(_ask(a, i) for i in range(n)))
    await procs.quiesce(a.proc)  # the turns are stored and waiting
    lease_left_ms = await _lease_left_ms(redis_url, waiting)
    killed_ns = time.time_ns()
    os.kill(a.proc.pid, signal.SIGKILL)
    a.proc.popen.wait(15)
    tasks = [asyncio.create_task(_approve_until_taken(b, w, killed_ns)) for w in waiting]
    done, pending = await asyncio.wait(tasks, timeout=FAILOVER_DEADLINE_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    results = [t.result() for t in done if t.exception() is None]
    errors = [f"conversation: {t.exception()!r}"[:200] for t in done if t.exception() is not None]
    errors += [f"timeout: {len(pending)} approvals never taken"] if pending else []
    out: JsonDict = {
        "conversations": n,
        "lease_ms": lease_ms,
        "retry_ms": APPROVAL_RETRY_S * 1000,
        "accepted": len(results),
        "completed_ok": sum(r["completed_ok"] for r in results),
        "kill_to_accepted_ms": stats.percentiles_ms([r["kill_to_accepted_ns"] for r in results]),
        "lease_left_at_kill_ms": lease_left_ms,
        "approvals_sent": sum(r["sent"] for r in results),
        "refusals": sum(r["refusals"] for r in results),
        "errors": len(errors),
        "error_samples": errors[:25],
    }
    log.info("[failover] %s", out)
    return out


# ── the section ───────────────────────────────────────────────────────────────────────────
async def measure(cfg: ScaleConfig, workdir: Path, model: Proc) -> JsonDict:
    """The whole section; every server and worker it starts is stopped before it returns."""
    procs.script_model(model, cfg.load.model_reply(), loadgen.STREAM_TEXT)
    procs.script_model(model, scenarios.WARM_REPLY, loadgen.WARM_TEXT)
    out: JsonDict = {
        "config": {
            "ramp": cfg.ramp,
            "cpu_level": cfg.cpu_level,
            "conversations": cfg.conversations,
            "lease_ms": cfg.lease_ms,
        }
    }
    compression = cfg.load.compression
    with backing() as shared:
        cluster = Cluster(cfg, workdir, model, shared)
        async with running(cluster, "single", shared=False) as single:
            await scenarios.warm(single, compression)
            out["single"] = {"cpu_level": await level(single, cfg.load, cfg.cpu_level)}
        for name, workers in (("workers1", 1), ("workers2", 2)):
            async with running(cluster, name, workers) as target:
                await scenarios.warm(target, compression)
                at_cpu = await level(target, cfg.load, cfg.cpu_level, shared)
                out[name] = {"cpu_level": at_cpu, **await ramp(target, cfg, shared, at_cpu)}
        async with running(cluster, "worker-a") as a, running(cluster, "worker-b") as b:
            await scenarios.warm(a, compression)
            await scenarios.warm(b, compression)
            out["follow"] = await follow_check(a, b, cfg.load, cfg.conversations)
            out["failover"] = await failover(
                a, b, cfg.conversations, cfg.lease_ms, shared.redis_url
            )
    return out


async def failover_rounds(cfg: ScaleConfig, workdir: Path, model: Proc, rounds: int) -> JsonDict:
    """The failover alone, `rounds` times: a new A each time, one B throughout."""
    procs.script_model(model, scenarios.WARM_REPLY, loadgen.WARM_TEXT)
    out: JsonDict = {"rounds": []}
    with backing() as shared:
        cluster = Cluster(cfg, workdir, model, shared)
        async with running(cluster, "worker-b") as b:
            await scenarios.warm(b, cfg.load.compression)
            for round_ in range(rounds):
                async with running(cluster, f"worker-a{round_}") as a:
                    await scenarios.warm(a, cfg.load.compression)
                    result = await failover(a, b, cfg.conversations, cfg.lease_ms, shared.redis_url)
                    out["rounds"].append(result)
    return out


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def config(
    load: Load,
    *,
    quick: bool,
    ramp_text: str,
    lease_ms: int,
    log_level: str,
    app_src: Path | None,
    ramp_min: float,
) -> ScaleConfig:
    counts = sorted({int(v) for v in ramp_text.split(",") if v.strip()})
    return ScaleConfig(
        load=load,
        ramp=[20, 50] if quick else counts,
        cpu_level=20 if quick else 50,
        conversations=10 if quick else 50,
        lease_ms=lease_ms,
        log_level=log_level,
        app_src=app_src,
        ramp_budget_s=ramp_min * 60,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale-ramp", default="250,500,750,1000", help="scale-out: ramp levels per config"
    )
    parser.add_argument(
        "--lease-ms",
        type=int,
        default=Settings.model_fields["turn_lease_ms"].default,
        help="scale-out: TURN_LEASE_MS of the workers (the app's default)",
    )
    parser.add_argument(
        "--scale-ramp-min", type=float, default=4.0, help="scale-out: ramp time per config"
    )


def main(argv: list[str] | None = None) -> None:
    """The section alone (a smoke run: `--quick`); prints its rows and its JSON."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--deltas", type=int, default=150)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--out", type=Path, help="write the section's JSON here")
    parser.add_argument(
        "--failover-only", type=int, metavar="ROUNDS", help="only the failover, ROUNDS times"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.deltas, args.gap_ms = 40, 50.0
    load = Load(args.gap_ms, args.deltas, 20, 60, "deflate")
    cfg = config(
        load,
        quick=args.quick,
        ramp_text=args.scale_ramp,
        lease_ms=args.lease_ms,
        log_level=args.log_level,
        app_src=None,
        ramp_min=args.scale_ramp_min,
    )
    procs.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-scale-"))
    log.info("work folder %s", workdir)

    async def run() -> JsonDict:
        model = procs.start_model_server(workdir)
        try:
            if args.failover_only:
                return await failover_rounds(cfg, workdir, model, args.failover_only)
            return await measure(cfg, workdir, model)
        finally:
            model.stop()
            procs.tidy(workdir)

    section = procs.run_on_uvloop(run())
    if args.out:
        args.out.write_text(json.dumps(section, indent=2) + "\n")
    if args.failover_only:
        return
    for row in report.scale_out_rows(section):
        log.info("| %s |", " | ".join(row.cells()))


if __name__ == "__main__":
    main()
