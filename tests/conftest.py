"""Shared fixtures: where ../shared is, filled zoo models (cached), and the per-suite summaries."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRANSPILER_SHARED", ROOT.parent / "shared"))
CACHE = Path(os.environ.get("TRANSPILER_CACHE", Path.home() / ".cache" / "transpiler-tests"))


def shared_or_skip() -> Path:
    """../shared, or: fail under CI=true, skip (reported as skipped) elsewhere."""
    if (SHARED / "zoo" / "manifest.json").is_file():
        return SHARED
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the shared folder is missing at {SHARED}")
    pytest.skip(f"shared folder not found at {SHARED}")


def zoo_manifest() -> list[dict]:
    path = SHARED / "zoo" / "manifest.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())["models"]


def filled_model(name: str) -> Path:
    """The zoo model with weights restored (fill_weights.py, seed 0), cached by content hash."""
    shared = shared_or_skip()
    struct = shared / "zoo" / f"{name}.struct.onnx"
    tool = shared / "zoo" / "fill_weights.py"
    key = hashlib.sha256(struct.read_bytes() + tool.read_bytes()).hexdigest()[:16]
    out = CACHE / "zoo" / f"{name}-{key}.onnx"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run(
            [sys.executable, str(tool), "fill", str(struct), str(tmp), "--seed", "0"],
            check=True, cwd=shared, capture_output=True,
        )
        os.replace(tmp, out)
    return out


# -- per-suite summaries ----------------------------------------------------------------------
_results: dict[str, list[tuple[str, str, bool, str]]] = defaultdict(list)


def pytest_runtest_logreport(report):  # collects results from xdist workers too
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    props = dict(report.user_properties)
    if "suite" in props:
        _results[props["suite"]].append(
            (props.get("case", report.nodeid), props.get("op", "?"), bool(props.get("ok")), props.get("why", ""))
        )


def pytest_terminal_summary(terminalreporter):
    for suite, rows in sorted(_results.items()):
        passed = sum(row[2] for row in rows)
        failed = len(rows) - passed
        tr = terminalreporter
        tr.write_sep("=", f"{suite}")
        per_op: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for _, op, ok, _ in rows:
            per_op[op][0 if ok else 1] += 1
        if len(per_op) > 1:
            width = max(len(op) for op in per_op)
            for op, (p, f) in sorted(per_op.items()):
                mark = "" if not f else "   <- failing"
                tr.write_line(f"  {op:<{width}}  pass {p:>4}  fail {f:>4}{mark}")
        pct = 100.0 * passed / max(len(rows), 1)
        tr.write_line(f"{suite}: passed {passed}, failed {failed} of {len(rows)} ({pct:.1f}%)")
        report_dir = ROOT / "build"
        report_dir.mkdir(exist_ok=True)
        with open(report_dir / f"{suite.replace(' ', '_')}.tsv", "w") as f:
            for case, op, ok, why in sorted(rows):
                f.write(f"{case}\t{op}\t{'pass' if ok else 'fail'}\t{why}\n")
