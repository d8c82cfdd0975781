"""results.json, results.md (metric, ours, baseline, ratio, target, pass/fail) and latency.png."""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import stats
from bench.plot import latency_plot

JsonDict = dict[str, Any]
log = logging.getLogger("bench")
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "bench" / "results"
README = DEFAULT_DIR.parents[1] / "README.md"
README_START = "<!-- bench-table:start (written by make bench) -->"
README_END = "<!-- bench-table:end -->"

P99_TARGET_MS = 5.0  # at 200 streams
RAMP_P99_MS = 50.0
STREAMS_TARGET = 1000
CPU_RATIO_TARGET = 1.5
IDLE_KB_TARGET = 32.0  # issue 18 (was 64)
SAME_PATH_CPU_TARGET = 1.15  # × the bare relay on the app's SDK path, issue 18
SCALE_CPU_RATIO_TARGET = 1.3  # issue 17: 2 workers with Redis fan-out over one process
TAKEOVER_P99_TARGET_MS = 2000.0  # issue 17: SIGKILL → pending approvals work again


@dataclass(frozen=True)
class Row:
    metric: str
    ours: float | None
    baseline: float | None
    target: str = ""
    passed: bool | None = None
    digits: int = 2

    def cells(self) -> list[str]:
        ratio = (
            self.ours / self.baseline
            if self.ours is not None and self.baseline and not math.isnan(self.baseline)
            else None
        )
        verdict = "—" if self.passed is None else ("pass" if self.passed else "**FAIL**")
        return [
            self.metric,
            _num(self.ours, self.digits),
            _num(self.baseline, self.digits),
            _num(ratio, 2, suffix="×"),
            self.target or "—",
            verdict,
        ]


def _num(value: float | None, digits: int, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if float(value).is_integer() and digits == 0:
        return f"{int(value):,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def _get(data: JsonDict, *path: str | int) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or str(key) not in node:
            return None
        node = node[str(key)]  # pyright: ignore[reportUnknownVariableType]
    return node  # pyright: ignore[reportUnknownVariableType]


def _saturation(ours: JsonDict, base: JsonDict, n: int) -> str:
    notes = [
        f"{name}: {level['errors']:,} error{'' if level['errors'] == 1 else 's'}, "
        f"{level['achieved_concurrency']:,} streaming at once"
        for name, level in (
            ("ours", _get(ours, "levels", n)),
            ("baseline", _get(base, "levels", n)),
        )
        if level is not None and stats.saturated(level)
    ]
    return f" — saturated ({'; '.join(notes)})" if notes else ""


def rows(results: JsonDict) -> list[Row]:
    ours, base = results["ours"], results["baseline"]
    out: list[Row] = []
    for n in results["config"]["levels"]:
        for q in ("p50", "p99"):
            o = _get(ours, "levels", n, "latency_ms", q)
            b = _get(base, "levels", n, "latency_ms", q)
            target, passed = "", None
            if n == 200 and q == "p99":
                target, passed = f"≤ {P99_TARGET_MS:g} ms", o is not None and o <= P99_TARGET_MS
            label = "conversation" if n == 1 else "concurrent conversations"
            note = _saturation(ours, base, n) if q == "p50" else ""
            out.append(
                Row(
                    f"added latency per chunk {q}, {n:,} {label} (ms){note}",
                    o,
                    b,
                    target,
                    passed,
                )
            )
    ttfc = results["config"]["ttfc_level"]
    for key, label in (
        ("added_ms", "time to first chunk over the model's own"),
        ("request_path_ms", "… of which user_message → model gets the request"),
        ("first_relay_ms", "… of which first delta sent → first ai_chunk received"),
    ):
        for q in ("p50", "p99"):
            o = _get(ours, "levels", ttfc, "first_chunk", key, q)
            b = _get(base, "levels", ttfc, "first_chunk", key, q)
            out.append(Row(f"{label} {q}, {ttfc:,} conversations (ms)", o, b))
    cpu_level = results["config"]["cpu_level"]
    o = _get(ours, "levels", cpu_level, "cpu", "target_s_per_1000_chunks")
    b = _get(base, "levels", cpu_level, "cpu", "target_s_per_1000_chunks")
    ok = o is not None and b is not None and o <= CPU_RATIO_TARGET * b
    label = f"CPU s per 1,000 chunks, {cpu_level:,} conversations (neither saturated)"
    out.append(Row(label, o, b, f"≤ {CPU_RATIO_TARGET:g}× baseline", ok, 3))
    o = _get(ours, "levels", cpu_level, "cpu_steady", "target_s_per_1000_chunks")
    b = _get(base, "levels", cpu_level, "cpu_steady", "target_s_per_1000_chunks")
    out.append(Row("… steady window only (reply start-ups left out)", o, b, digits=3))
    out += _same_path_rows(results)
    for n in results["config"]["levels"]:
        if n > cpu_level:
            o = _get(ours, "levels", n, "cpu", "target_s_per_1000_chunks")
            b = _get(base, "levels", n, "cpu", "target_s_per_1000_chunks")
            out.append(Row(f"… {n:,} conversations", o, b, digits=3))
    o = _get(ours, "idle", "off", "kb_per_connection")
    b = _get(base, "idle", "off", "kb_per_connection")
    sockets = _get(ours, "idle", "off", "sockets") or 0
    ok = o is not None and o <= IDLE_KB_TARGET
    label = f"RSS per idle connection, {sockets:,} sockets (KB)"
    out.append(Row(label, o, b, f"≤ {IDLE_KB_TARGET:g} KB", ok, 1))
    o = _get(ours, "idle", "on", "kb_per_connection")
    b = _get(base, "idle", "on", "kb_per_connection")
    out.append(Row("… with permessage-deflate accepted (WS_COMPRESSION=true) (KB)", o, b, digits=1))
    o, b = ours.get("max_streams"), base.get("max_streams")
    ok = o is not None and o >= STREAMS_TARGET
    label = f"most concurrent streams with p99 < {RAMP_P99_MS:g} ms (ramp)"
    out.append(Row(label, o, b, f"≥ {STREAMS_TARGET:,}", ok, 0))
    o, b = ours.get("max_chunks_per_s"), base.get("max_chunks_per_s")
    out.append(Row("… relayed chunks/s at that step", o, b, digits=0))
    o = _get(ours, "file", "approval_to_last_chunk_ms")
    chunks = _get(ours, "file", "tool_chunks")
    label = f"1 MiB create_file: approval → last tool_chunk ({chunks} chunks) (ms)"
    out.append(Row(label, o, None, digits=0))
    return out + scale_out_rows(results.get("scale_out"))


def scale_out_rows(section: JsonDict | None) -> list[Row]:
    """Issue 17's figures: workers on PostgreSQL and Redis (bench/scale_out.py)."""
    if not section:
        return []
    if "error" in section:
        return [Row(f"scale-out: the section failed ({section['error']})", None, None, "", False)]
    out: list[Row] = []
    ramp_label = f"most concurrent streams with p99 < {RAMP_P99_MS:g} ms"
    for name, label in (("workers1", "1 worker"), ("workers2", "2 workers")):
        if name not in section:
            continue
        streams = section[name].get("max_streams")
        target, passed = "", None
        if name == "workers2":
            target = f"≥ {STREAMS_TARGET:,}"
            passed = streams is not None and streams >= STREAMS_TARGET
        tried = ", ".join(f"{n:,}" for n in section["config"]["ramp"])
        row = f"scale-out: {ramp_label}, {label} on PostgreSQL + Redis (ramp {tried})"
        out.append(Row(row, streams, None, target, passed, 0))
    level = section["config"]["cpu_level"]
    o = _get(section, "workers2", "cpu_level", "cpu", "target_s_per_1000_chunks")
    b = _get(section, "single", "cpu_level", "cpu", "target_s_per_1000_chunks")
    ok = o is not None and b is not None and o <= SCALE_CPU_RATIO_TARGET * b
    label = (
        f"scale-out: CPU s per 1,000 chunks, {level:,} conversations, 2 workers with Redis "
        "fan-out, all their processes (baseline column: 1 process, SQLite, no Redis)"
    )
    target = f"≤ {SCALE_CPU_RATIO_TARGET:g}× one process"
    out.append(Row(label, o, b, target, ok, 3))
    one = _get(section, "workers1", "cpu_level", "cpu", "target_s_per_1000_chunks")
    out.append(Row("… 1 worker on PostgreSQL + Redis (same baseline)", one, b, digits=3))
    backing = _get(section, "workers2", "cpu_level", "backing_s_per_1000_chunks")
    out.append(
        Row(
            "… 2 workers, the PostgreSQL and Redis servers' CPU added",
            None if o is None or backing is None else o + backing,
            b,
            digits=3,
        )
    )
    fail: JsonDict = section.get("failover") or {}
    kill: JsonDict = fail.get("kill_to_accepted_ms") or {}
    n: int = fail.get("conversations", 0)
    lease: int = fail.get("lease_ms", 0)
    for q in ("p50", "p99"):
        o: float | None = kill.get(q)
        target, passed = "", None
        if q == "p99":
            taken = fail.get("accepted") == n and not fail.get("errors")
            target = f"≤ {TAKEOVER_P99_TARGET_MS:,.0f} ms"
            passed = o is not None and not math.isnan(o) and o <= TAKEOVER_P99_TARGET_MS and taken
        label = (
            f"scale-out: SIGKILL of a worker → its pending approvals work again {q}, "
            f"{n:,} conversations, TURN_LEASE_MS={lease:,} (ms)"
        )
        out.append(Row(label, o, None, target, passed, 0))
    follow = section.get("follow")
    if follow:
        bad = follow["frames_lost"] + follow["frames_duplicated"]
        complete = (
            follow["checked"] == follow["conversations"]
            and not follow["errors"]
            and not follow.get("replies_not_whole")
            and not follow.get("replies_not_ok")
            and not follow.get("tab_text_differs")
        )
        label = (
            f"scale-out: frames lost or duplicated, {follow['conversations']:,} conversations "
            f"followed on the other worker, {follow['resumed_on_other_worker']:,} resumed there"
        )
        out.append(Row(label, bad, None, "0", bad == 0 and complete, 0))
        q = _get(follow, "tab_latency_ms", "p99")
        out.append(Row("… added latency per chunk p99 on the other worker (ms)", q, None))
    return out


def table(results: JsonDict) -> list[str]:
    head = [
        "| metric | ours | baseline | ratio | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    return head + ["| " + " | ".join(row.cells()) + " |" for row in rows(results)]


def _same_path_rows(results: JsonDict) -> list[Row]:
    """Ours against a bare relay that reads the stream as the app does (the same SDK client,
    the SDK's SSE decoder), in the `baseline` column."""
    same = results.get("baseline_same")
    if not same:
        return []
    label = "… against a bare relay on the same SDK path"
    out: list[Row] = []
    for n in sorted(int(k) for k in same["levels"]):
        o = _get(results["ours"], "levels", n, "cpu", "target_s_per_1000_chunks")
        b = _get(same, "levels", n, "cpu", "target_s_per_1000_chunks")
        ok = o is not None and b is not None and o <= SAME_PATH_CPU_TARGET * b
        target = f"≤ {SAME_PATH_CPU_TARGET:g}× that relay"
        out.append(Row(f"{label}, {n:,} conversations", o, b, target, ok, 3))
        o = _get(results["ours"], "levels", n, "cpu_steady", "target_s_per_1000_chunks")
        b = _get(same, "levels", n, "cpu_steady", "target_s_per_1000_chunks")
        out.append(Row("… … steady window only (reply start-ups left out)", o, b, digits=3))
    ttfc = results["config"]["ttfc_level"]
    for q in ("p50", "p99"):
        o = _get(results["ours"], "levels", ttfc, "first_chunk", "added_ms", q)
        b = _get(same, "levels", ttfc, "first_chunk", "added_ms", q)
        ok = o is not None and b is not None and o <= b
        row = f"time to first chunk over the model's own {q}, {label[2:]}, {ttfc:,} conv. (ms)"
        out.append(Row(row, o, b, "≤ that relay", ok))
    return out


def markdown(results: JsonDict) -> str:
    cfg, meta = results["config"], results["meta"]
    sharing = [
        f"| {name} | {n:,} | "
        + " | ".join(_num(_get(level, "cpu", key), 2) for key in SHARE_KEYS)
        + " |"
        for name in ("ours", "baseline")
        for n, level in sorted(
            ((int(k), v) for k, v in results[name]["levels"].items()), key=lambda kv: kv[0]
        )
    ]
    ramp = [
        f"| {name} | {step['conversations']:,} | {_num(step['latency_ms']['p99'], 1)} | "
        f"{step['achieved_concurrency']:,} | {step['errors']} | "
        f"{'pass' if step['passed'] else 'fail'} |"
        for name in ("ours", "baseline")
        for step in results[name]["ramp"]
    ]
    return "\n".join(
        [
            "# Gatehouse benchmarks",
            "",
            f"Run {meta['date']} at {meta['commit']} on {meta['cpu']} ({meta['cores']} cores), "
            f"Python {meta['python']}; load average {meta['loadavg_start']} at the start, "
            f"{meta['loadavg_end']} at the end. Took {meta['duration_min']:.1f} min"
            + (
                f", after waiting {meta['waited_for_quiet_s']:.0f} s for a quieter machine."
                if meta.get("waited_for_quiet_s")
                else "."
            ),
            "",
            *table(results),
            "",
            "## What was measured",
            "",
            f"- The model server (`tests/model_server.py`, own process) streams replies of "
            f"{cfg['deltas']} text deltas of {cfg['min_bytes']}-{cfg['max_bytes']} bytes, "
            f"{cfg['gap_ms']:g} ms apart (~{1000 / cfg['gap_ms']:.0f} deltas/s per conversation); "
            "each delta starts with its send time (`time.time_ns()`), the client subtracts it "
            "from its receive time: *added latency* = model send → client receive, loopback.",
            "- Each conversation asks for one reply (the single conversation: two in a row); "
            "the asks spread at random over half a reply, so every conversation streams at "
            "once in the second half. Latency percentiles are over that *steady window* "
            "(the last first chunk → the first last chunk); `latency_all_chunks_ms` in "
            "results.json has every chunk. A level that has not finished 15 s after its "
            "schedule is cut (`timeout` errors): the relay is saturated.",
            f"- *ours*: `python -m gatehouse serve` with LOG_LEVEL={cfg['log_level']} "
            "(info logs one line per connection and per tool call, not per chunk); SQLite in a "
            "temporary folder. *baseline*: `bench/baseline.py`, the bare SDK's "
            "`messages.stream` forwarded by a bare `websockets` server, same event loop (uvloop).",
            "- Clients: one process, asyncio on uvloop, `websockets`; like browsers they offer "
            "permessage-deflate, which both relays "
            + ("accept" if cfg.get("server_compression") else "decline (the app's default)")
            + "; chunks are found by string search, not JSON parsing.",
            "- CPU is read from /proc/<pid>/stat of the relay process alone: the CPU of the "
            "streaming phase over every chunk it relayed (reply start-ups included). A "
            "saturated relay spends less per chunk (more events per loop turn, per read), so "
            "the ratio that counts is taken where neither is saturated.",
            "- Idle memory: RSS (/proc/<pid>/statm) after − before opening the sockets, "
            "over the number of sockets, in a fresh process.",
            "- Errors count every `error` frame and non-ok `assistant_message_completed` (a "
            "failed reply gives both) and each level cut short.",
            f"- The ramp adds conversations until p99 ≥ {RAMP_P99_MS:g} ms, an error, or fewer "
            "conversations streaming at once than asked (a failing step is tried twice).",
            "",
            "## How the 2 cores were shared (cores busy, averaged over each level)",
            "",
            "| relay | conversations | " + " | ".join(SHARE_KEYS.values()) + " |",
            "|---|---:|" + "---:|" * len(SHARE_KEYS),
            *sharing,
            "",
            "`other processes` is every other program on the machine during the level "
            "(/proc/stat busy time minus ours): the machine was not reserved for the run"
            + (
                f"; the bench ran at nice {meta['nice']} so that they disturbed it less."
                if meta.get("nice")
                else "."
            ),
            "",
            "## Ramp",
            "",
            "| relay | conversations | p99 (ms) | streaming at once | errors | result |",
            "|---|---:|---:|---:|---:|---|",
            *ramp,
            "",
            *scale_out_markdown(results.get("scale_out")),
            "Run it: `make bench` (or `cd backend && ../.venv/bin/python -m bench.run --help`).",
            "",
        ]
    )


def scale_out_markdown(section: JsonDict | None) -> list[str]:
    if not section or "error" in section:
        return []
    cfg = section["config"]
    steps: list[str] = []
    for name, label in (("workers1", "1 worker"), ("workers2", "2 workers")):
        each: list[JsonDict] = _get(section, name, "steps") or []
        for step in each:
            shares: list[float] = step.get("worker_cpu_s", [])
            steps.append(
                f"| {label} | {step['conversations']:,} | {_num(step['latency_ms']['p99'], 1)} | "
                f"{step['achieved_concurrency']:,} | {step['errors']} | "
                f"{' / '.join(f'{v:.1f}' for v in shares) or '—'} | "
                f"{'pass' if step['passed'] else 'fail'} |"
            )
    fail: JsonDict = section.get("failover") or {}
    follow: JsonDict = section.get("follow") or {}
    return [
        "## Scale-out (issue 17)",
        "",
        "- Real PostgreSQL and Redis servers from Debian, started for the section "
        "(tests/postgres.py, tests/redis_server.py); the workers share them and one "
        f"workspace, TURN_LEASE_MS={cfg['lease_ms']:,}.",
        "- Streams held: the ramp above (same model replies, same clients, same rule: "
        f"p99 < {RAMP_P99_MS:g} ms, no error, all streaming at once; a failing step is tried "
        "twice) against `gatehouse serve` (1 worker) and `gatehouse serve --workers 2`, both "
        "on PostgreSQL + Redis. With 2 workers the kernel hands each socket to either worker; "
        "the table gives each worker's CPU seconds over the step (how evenly they shared it).",
        f"- CPU per chunk: the same {cfg['cpu_level']:,}-conversation level on one process "
        "(SQLite, no Redis: the default) and on `serve --workers 2`, whose CPU is its "
        "supervisor's and its workers' together (/proc of the process tree); each reply's "
        "frames go through its owner's Redis Stream. The PostgreSQL and Redis servers' CPU "
        "is read the same way, over the level.",
        f"- Frames lost or duplicated: two single-worker processes A and B on two ports (any "
        f"worker may receive any socket: a proxy's choice, made here by the client); "
        f"{follow.get('conversations', 0):,} conversations owned by A streaming a reply, each "
        "with a second tab opened on B (`session_id`, `last_seq`), every other owner socket "
        "dropped after half the reply and resumed on B with its `last_seq`. Every numbered "
        "frame each socket got must rise by one from where it stood (per-connection frames "
        "that repeat the socket's seq, `session_created`, `history`, an error to that socket "
        "alone, are left out). The row also fails when a socket never got its reply's end "
        "(within two replies' time + 30 s: *stalled*, the frames it lacks not counted), when a "
        "reply ended otherwise than ok, lacks some of the model's deltas (each carries its "
        "send time), or when a tab's text differs from its owner socket's: "
        f"{follow.get('sockets_stalled', 0):,} stalled, "
        f"{follow.get('replies_not_ok', 0):,} not ok, "
        f"{follow.get('replies_not_whole', 0):,} not whole, "
        f"{follow.get('tab_text_differs', 0):,} tabs differing, "
        f"{follow.get('errors', 0):,} errors (samples in results.json).",
        f"- SIGKILL → approvals: {fail.get('conversations', 0):,} conversations on A whose "
        "turns wait for the approval of a scripted create_file; A is SIGKILLed; each client "
        "comes back on B (`session_id`, `last_seq`, as a browser whose socket dropped) and "
        "sends its approval, again on each re-asked `tool_request` or "
        f"{fail.get('retry_ms', 0):g} ms after a refusal (`owner_unreachable` while the dead "
        "worker's lease runs, `unknown_tool_call` before B took the turn over), until a "
        "`tool_decided`/`tool_started`/`tool_chunk`/`tool_finished` of that call arrives: "
        "SIGKILL → that frame, per conversation (a socket attached to B before the takeover is "
        "sent nothing when it happens, so the client has to ask; each refusal costs B Redis "
        "round trips, part of the figure). "
        f"{fail.get('accepted', 0):,} taken, {fail.get('completed_ok', 0):,} replies completed "
        f"ok, {fail.get('refusals', 0):,} refusals on the way, "
        f"{fail.get('errors', 0):,} errors.",
        "",
        "| workers | conversations | p99 (ms) | streaming at once | errors | "
        "CPU s per worker | result |",
        "|---|---:|---:|---:|---:|---|---|",
        *steps,
        "",
    ]


SHARE_KEYS = {
    "target_cores": "relay",
    "model_server_cores": "model server",
    "load_generator_cores": "load generator",
    "other_processes_cores": "other processes",
}


def write(results: JsonDict, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (directory / "results.md").write_text(markdown(results))
    if directory.resolve() == DEFAULT_DIR:
        update_readme(results, README)
    if importlib.util.find_spec("matplotlib") is None:
        log.warning("matplotlib is not installed: no latency.png (pip install matplotlib)")
        return
    latency_plot(results, directory / "latency.png", (P99_TARGET_MS, RAMP_P99_MS))


def update_readme(results: JsonDict, readme: Path) -> None:
    """Put the latest table between the README's markers, so it never shows an older run."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        log.warning("%s has no bench-table markers: table not copied", readme)
        return
    meta = results["meta"]
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    block = [
        README_START,
        f"Latest run: {meta['date'][:10]}, at {meta['commit']}, {meta['cores']} cores "
        f"(load average {meta['loadavg_start']} at the start).",
        "",
        *table(results),
        "",
        README_END,
    ]
    readme.write_text(head + "\n".join(block) + tail)


def main() -> None:
    """`python -m bench.report [DIR]`: render results.md and latency.png again from results.json."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    write(json.loads((directory / "results.json").read_text()), directory)


if __name__ == "__main__":
    main()
