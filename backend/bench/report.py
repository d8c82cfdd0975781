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
            "Run it: `make bench` (or `cd backend && ../.venv/bin/python -m bench.run --help`).",
            "",
        ]
    )


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
