#!/usr/bin/env python
"""Differential fuzzing, long run: random ONNX graphs (tests/fuzz_graphs.py) through each target,
compared with onnxruntime. Prints progress and the final counts; failing graphs are minimised and
saved as .onnx (inputs beside it as .npz) under --save, to be turned into regression tests.

    python tools/fuzz_long.py --count 10000 [--seed 1] [--targets pytorch,ncnn] [--jobs 2]

Graphs run in worker subprocesses (blocks of --block seeds), so a native crash in a target's
runtime is reported as "crash" for that graph and the run goes on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz_graphs import check_case, generate, minimise, run_isolated  # noqa: E402

FAILING = ("mismatch", "error", "crash")


def save_minimised(seed: int, target: str, kind: str, folder: Path) -> str:
    """Minimise a failing graph (in this process; not for crashes) and save it; returns a note."""
    import numpy as np
    import onnx

    case = generate(seed)
    if kind != "crash":
        def still_fails(c) -> bool:
            with tempfile.TemporaryDirectory() as d:
                return check_case(c, target, d).kind == kind

        case = minimise(case, target, still_fails)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{target}_seed{seed}"
    onnx.save(case.model, f"{stem}.onnx")
    np.savez(f"{stem}.npz", *case.inputs)
    return f"{stem}.onnx ({' -> '.join(case.ops)})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=10000, help="graphs per target")
    p.add_argument("--seed", type=int, default=1, help="first seed (graph k uses seed + k)")
    p.add_argument("--targets", default="pytorch", help="comma-separated target names")
    p.add_argument("--jobs", type=int, default=1, help="worker processes at a time")
    p.add_argument("--block", type=int, default=250, help="graphs per worker process")
    p.add_argument("--save", default=str(ROOT / "build" / "fuzz_failures"), help="where failing graphs go")
    args = p.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    blocks = [(t, s, min(args.block, args.seed + args.count - s))
              for t in targets for s in range(args.seed, args.seed + args.count, args.block)]
    counts: dict[str, Counter] = {t: Counter() for t in targets}
    failures: list[tuple[str, dict]] = []
    start, done = time.monotonic(), 0
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_isolated, *b): b for b in blocks}
        for fut in as_completed(futures):
            target = futures[fut][0]
            for r in fut.result():
                counts[target][r["kind"]] += 1
                if r["kind"] in FAILING:
                    failures.append((target, r))
                    print(f"FAIL {target} {r['case']}: {r['kind']}: {r['detail'][:500]}", flush=True)
            done += futures[fut][2]
            print(f"... {done}/{args.count * len(targets)} graphs in {time.monotonic() - start:.0f} s", flush=True)
    for target, r in failures:
        try:
            print(f"  saved {save_minimised(r['seed'], target, r['kind'], Path(args.save))}", flush=True)
        except Exception as e:  # keep reporting the others
            print(f"  could not save seed {r['seed']}: {type(e).__name__}: {e}", flush=True)
    for target, c in counts.items():
        print(f"{target}: {sum(c.values())} graphs: ok {c['ok']}, refused {c['refused']}, mismatch {c['mismatch']}, "
              f"error {c['error']}, crash {c['crash']}")
    print(f"{sum(sum(c.values()) for c in counts.values())} graphs in {time.monotonic() - start:.0f} s; "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
