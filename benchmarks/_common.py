"""What the benchmark scripts share: where models come from, running a child process while
measuring its wall time and peak RSS, medians, machine load, and printing a small table.

Nothing here is imported by the package or the tests' assertions; the scripts are run by hand
(see benchmarks/README.md) and print figures, never assert on time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRANSPILER_SHARED", ROOT.parent / "shared"))
# Filled zoo models are shared with the tests' cache (same key), so neither fills twice.
TEST_CACHE = Path(os.environ.get("TRANSPILER_CACHE", Path.home() / ".cache" / "transpiler-tests"))
BENCH_CACHE = Path(os.environ.get("TRANSPILER_BENCH_CACHE", Path.home() / ".cache" / "transpiler-bench"))
BIN = Path(sys.executable).parent  # the benchmark venv's scripts (transpile, pnnx)


def zoo_manifest() -> list[dict]:
    path = SHARED / "zoo" / "manifest.json"
    return json.loads(path.read_text())["models"] if path.is_file() else []


def filled_model(name: str) -> Path:
    """The zoo model with weights restored (fill_weights.py, seed 0), cached by content hash
    exactly as tests/conftest.py does."""
    struct = SHARED / "zoo" / f"{name}.struct.onnx"
    tool = SHARED / "zoo" / "fill_weights.py"
    if not struct.is_file():
        raise SystemExit(f"no zoo model {name!r} under {SHARED / 'zoo'}")
    key = hashlib.sha256(struct.read_bytes() + tool.read_bytes()).hexdigest()[:16]
    out = TEST_CACHE / "zoo" / f"{name}-{key}.onnx"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run(
            [sys.executable, str(tool), "fill", str(struct), str(tmp), "--seed", "0"],
            check=True, cwd=SHARED, capture_output=True,
        )
        os.replace(tmp, out)
    return out


@dataclass
class Run:
    ok: bool
    wall: float  # seconds
    rss: int  # peak resident set size of the child, bytes
    why: str = ""


GNU_TIME = Path("/usr/bin/time")


def run_child(argv: list[str], cwd: Path | None = None, timeout: float = 1800, env: dict | None = None) -> Run:
    """Run `argv`, returning its wall time and its own peak RSS.

    The peak is measured by GNU time (`/usr/bin/time -f %M`): a process forked from this Python
    would report this process's RSS at fork time as its own peak (Linux carries the pre-exec
    high-water mark over exec), so the tool must be started by a small program. Without GNU time
    the RSS of os.wait4 is used and may be too high by this process's size."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        full = [str(GNU_TIME), "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME.exists() else argv
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run(False, time.perf_counter() - t0, 0, f"timed out after {timeout:.0f} s")
        wall = time.perf_counter() - t0
        rss_text = rss_file.read().strip().splitlines()
    try:
        rss = int(rss_text[-1]) * 1024  # kilobytes
    except (IndexError, ValueError):
        rss = 0
    text = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        lines = [ln for ln in text.splitlines() if not ln.startswith("Command exited with non-zero status")]
        last = " ".join(lines[-1].split()) if lines else ""
        return Run(False, wall, rss, f"exit {proc.returncode}: {last[:110]}")
    return Run(True, wall, rss, text)


def median_runs(runs: list[Run]) -> Run:
    ok = [r for r in runs if r.ok]
    if not ok:
        return runs[-1]
    return Run(True, statistics.median(r.wall for r in ok), max(r.rss for r in ok), ok[-1].why)


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"(1/5/15 min; other jobs share these cores), python {sys.version.split()[0]}"
    )


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def weight_bytes(model_path: Path) -> int:
    """Bytes of every initializer and Constant tensor, external data included, without loading it."""
    import onnx
    from onnx import numpy_helper  # noqa: F401  (keeps onnx's helpers importable for the dtype map)

    model = onnx.load(str(model_path), load_external_data=False)
    total = 0

    def tensor_bytes(t: onnx.TensorProto) -> int:
        n = 1
        for d in t.dims:
            n *= int(d)
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        return n * itemsize

    graphs = [model.graph]
    while graphs:
        g = graphs.pop()
        total += sum(tensor_bytes(t) for t in g.initializer)
        for node in g.node:
            for a in node.attribute:
                if a.type == onnx.AttributeProto.TENSOR:
                    total += tensor_bytes(a.t)
                elif a.type == onnx.AttributeProto.GRAPH:
                    graphs.append(a.g)
                elif a.type == onnx.AttributeProto.GRAPHS:
                    graphs.extend(a.graphs)
    return total


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 10e6 else f"{n / 1e6:.2f} MB"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    sys.stdout.flush()
