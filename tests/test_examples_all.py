"""Golden records for every example model and every target: `examples/make_examples.py`
regenerates them into a temporary folder and every file must match the committed one byte for
byte (and no committed output may be left over). After an intended change, run
`python examples/make_examples.py` and review the diff."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from transpiler import plugins

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HINT = "run `python examples/make_examples.py` and review the diff"


def _script():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_examples"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_example_models_are_built_by_the_script(tmp_path: Path) -> None:
    script = _script()
    for path in script.build_models(tmp_path):
        rel = path.relative_to(tmp_path)
        assert (EXAMPLES / rel).read_bytes() == path.read_bytes(), f"examples/{rel} differs from its builder: {HINT}"


def test_every_output_is_current(tmp_path: Path) -> None:
    script = _script()
    with plugins.isolated():
        fresh = script.generate_outputs(tmp_path)
    assert fresh, "no outputs were generated"
    problems = []
    for rel in fresh:
        committed = EXAMPLES / rel
        if not committed.exists():
            problems.append(f"missing: examples/{rel}")
        elif committed.read_bytes() != (tmp_path / rel).read_bytes():
            problems.append(f"out of date: examples/{rel}")
    # a committed output the script no longer writes (a model now converts, or was renamed)
    names, _ = script.available_targets()
    stems = {Path(ex.model).name.removesuffix(".onnx") for ex in script.EXAMPLES}
    for ex in script.EXAMPLES:
        for target in names:
            folder = EXAMPLES / ex.out_dir / target
            if not folder.is_dir():
                continue
            for p in folder.rglob("*"):
                rel = p.relative_to(EXAMPLES)
                first = p.relative_to(folder).parts[0]
                stem = first if p.is_file() and len(p.relative_to(folder).parts) > 1 else first.split(".")[0]
                if p.is_file() and stem in stems and rel not in fresh and f"stale: examples/{rel}" not in problems:
                    problems.append(f"stale: examples/{rel}")
    if problems:
        pytest.fail(f"{len(problems)} example file(s) differ ({HINT}):\n" + "\n".join(problems))
