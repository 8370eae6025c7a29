"""docs/ops.md is the output of `transpile ops --markdown`, and the README shows every feature."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "python -m transpiler ops --markdown > docs/ops.md"


def test_ops_md_is_current() -> None:
    proc = subprocess.run([sys.executable, "-m", "transpiler", "ops", "--markdown"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    current = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")
    assert proc.stdout == current, f"docs/ops.md is out of date: regenerate it with `{REGENERATE}` and review the diff"


def test_ops_lists_a_target(capsys) -> None:
    from transpiler import cli

    assert cli.main(["ops", "--to", "pytorch"]) == 0
    from transpiler.targets import get

    lines = capsys.readouterr().out.splitlines()
    assert "Conv" in lines and "Relu" in lines and "transpiler::Linear" in lines
    assert lines == [f"{d}::{o}" if d else o for d, o in get("pytorch").table.keys()]


def test_readme_shows_each_feature() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for example in ("transpile inspect", "--json", "transpile ops", "--markdown", "transpiler.convert(",
                    "transpiler.inspect(", "--input-shape", "--plugin", "transpiler.plugins", "--override",
                    "--to ir", ".ir.json", "--quiet", "--verbose", "examples/make_examples.py"):
        assert example in readme, f"README.md does not show {example}"
