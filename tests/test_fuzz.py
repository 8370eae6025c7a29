"""Differential fuzzing: random small ONNX graphs (tests/fuzz_graphs.py), transpiled and run, must
match onnxruntime. CI runs a fixed number of graphs per target (300 for PyTorch; see COUNTS) from a
fixed seed, in chunks so that pytest-xdist spreads them; `tools/fuzz_long.py --count 10000` runs the same check longer.

Every target that imports is fuzzed with the same graphs (FUZZ_TARGETS=pytorch,ncnn narrows the
list); a graph a target refuses (UnsupportedModel, all refused nodes listed) is counted, not failed,
but PyTorch must accept nearly all of them. Minimised findings live in tests/regressions/.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from transpiler import targets

from .fuzz_graphs import run_isolated


# graphs per target in CI (FUZZ_COUNT=N sets every target's): the slow runtimes get fewer
COUNTS = {"pytorch": 300, "ncnn": 300, "caffe": 300, "ir": 100, "keras": 50}
DEFAULT_COUNT = 100
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
CHUNK = 25
TARGETS = [t for t in os.environ.get("FUZZ_TARGETS", ",".join(targets.names())).split(",") if t]
# the share of graphs PyTorch may refuse (every op the fuzzer draws has a PyTorch lowering)
MAX_PYTORCH_REFUSALS = 0.02


def target_or_skip(name: str):
    try:
        return targets.get(name)
    except ImportError as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"target {name!r} is registered but does not import: {e}")
        pytest.skip(f"target {name!r} does not import yet: {e}")


# Known failures in CI's graphs, by (target, seed), with the reason; they are reported, not
# failed, and an entry whose graph passes fails the test until it is removed.
KNOWN: dict[tuple[str, int], str] = {}


def count_for(target: str) -> int:
    if "FUZZ_COUNT" in os.environ:
        return int(os.environ["FUZZ_COUNT"])
    return COUNTS.get(target, DEFAULT_COUNT)


@pytest.mark.parametrize(
    "target, chunk", [(t, k) for t in TARGETS for k in range((count_for(t) + CHUNK - 1) // CHUNK)]
)
def test_fuzz_chunk(target: str, chunk: int, record_property) -> None:
    target_or_skip(target)
    record_property("suite", f"fuzz {target}")
    record_property("case", f"chunk {chunk}")
    record_property("ok", False)
    counts: Counter[str] = Counter()
    failures = []
    first, last = SEED + chunk * CHUNK, SEED + min((chunk + 1) * CHUNK, count_for(target))
    known = []
    for r in run_isolated(target, first, last - first):
        counts[r["kind"]] += 1
        reason = KNOWN.get((target, r["seed"]))
        if r["kind"] in ("mismatch", "error", "crash"):
            (known if reason else failures).append(f"{r['case']}\n    {r['kind']}: {r['detail']}")
        elif reason:
            failures.append(f"seed {r['seed']} passes now: remove it from KNOWN in {__file__}")
    record_property("why", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + (
        f"; known failures: {len(known)}" if known else ""))
    assert not failures, f"{len(failures)} of {sum(counts.values())} graphs failed:\n" + "\n".join(failures)
    if target == "pytorch":
        assert counts["refused"] <= MAX_PYTORCH_REFUSALS * sum(counts.values()) + 1, f"PyTorch refused {counts}"
    record_property("ok", True)
