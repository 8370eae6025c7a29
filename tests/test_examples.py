"""Golden records: the generated files in examples/ are regenerated and must match byte for byte,
so every change to the generated code shows up as a reviewable diff. After an intended change:
`transpile examples/tiny_mlp.onnx --to pytorch -o examples/pytorch/tiny_mlp.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from transpiler import convert

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [("tiny_mlp.onnx", "pytorch", "pytorch/tiny_mlp.py", [".py", ".safetensors"])]


@pytest.mark.parametrize("model, target, out, suffixes", EXAMPLES)
def test_example_is_current(model: str, target: str, out: str, suffixes: list[str], tmp_path: Path) -> None:
    fresh = tmp_path / Path(out).name
    convert(ROOT / "examples" / model, to=target, out=fresh)
    golden = ROOT / "examples" / out
    for suffix in suffixes:
        a, b = fresh.with_suffix(suffix), golden.with_suffix(suffix)
        assert b.exists(), f"{b} is missing: regenerate the examples"
        assert a.read_bytes() == b.read_bytes(), f"{b.name} is out of date: regenerate it and review the diff"
