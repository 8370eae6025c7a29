"""Rewrite the Keras known-failure lists from a run of every node case on every backend.

    KERAS_ALL_BACKENDS=1 python -m pytest -n 2 tests/test_keras_conformance.py
    python tools/keras_known_failures.py

reads the per-backend tables that run leaves in build/ and writes
tests/conformance/keras_known_failures.txt (cases failing on all three backends, with the jax
reason) and keras_<backend>_known_failures.txt (cases failing on that backend only).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")
OUT = ROOT / "tests" / "conformance"

COMMON_HEADER = """\
# Node cases the Keras target fails today on every backend, with the reason (as seen on jax).
# keras_<backend>_known_failures.txt adds what fails on one or two backends only.
# Regenerate: KERAS_ALL_BACKENDS=1 python -m pytest -n 2 tests/test_keras_conformance.py
#             python tools/keras_known_failures.py
"""
BACKEND_HEADER = """\
# Node cases the Keras target fails on the {b} backend but not on every backend, with the reason.
# Regenerate with tools/keras_known_failures.py (see keras_known_failures.txt).
"""


def _table(backend: str) -> dict[str, str | None]:
    """case -> None when it passed, else why it failed."""
    path = ROOT / "build" / f"onnx_node_cases_through_keras_({backend}).tsv"
    rows: dict[str, str | None] = {}
    with open(path, newline="") as f:
        for case, _op, ok, *why in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows[case] = None if ok == "pass" else (why[0] if why else "failed")
    return rows


def _line(case: str, why: str) -> str:
    why = " ".join(why.split())[:160]
    return f"{case}  # {why}\n"


def main() -> int:
    tables = {b: _table(b) for b in BACKENDS}
    sizes = {b: len(t) for b, t in tables.items()}
    if len(set(sizes.values())) != 1:
        print(f"the tables cover different case sets {sizes}: run with KERAS_ALL_BACKENDS=1", file=sys.stderr)
        return 2
    cases = sorted(tables["jax"])
    common = [c for c in cases if all(tables[b][c] is not None for b in BACKENDS)]
    (OUT / "keras_known_failures.txt").write_text(
        COMMON_HEADER + "".join(_line(c, tables["jax"][c] or "") for c in common))
    for b in BACKENDS:
        only = [c for c in cases if tables[b][c] is not None and c not in common]
        (OUT / f"keras_{b}_known_failures.txt").write_text(
            BACKEND_HEADER.format(b=b) + "".join(_line(c, tables[b][c] or "") for c in only))
    for b in BACKENDS:
        passed = sum(v is None for v in tables[b].values())
        print(f"{b}: passed {passed}, failed {len(cases) - passed} of {len(cases)} ({100 * passed / len(cases):.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
