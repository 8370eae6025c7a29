"""The Python API: `transpiler.convert(model, to="pytorch", out="net.py", check=False)`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import onnx

from . import targets
from .atomic import write_all
from .errors import TranspileError
from .frontends.onnx import read_model, to_ir
from .passes import eliminate_dead_code, run_passes
from .targets.base import BuildOptions
from .verify import CheckReport


@dataclass
class ConvertResult:
    paths: list[Path]
    check: CheckReport | None = None


def convert(
    model: str | os.PathLike[str] | onnx.ModelProto,
    to: str = "pytorch",
    out: str | os.PathLike[str] = "net.py",
    check: bool = False,
    class_name: str | None = None,
) -> ConvertResult:
    """Convert `model` (a path or a ModelProto) for target `to`, writing `out` and its weights.

    Nothing is written unless every node converts. With `check=True` the written artifact is run
    beside onnxruntime on seeded inputs and the per-output differences are returned.
    """
    if to not in targets.names():
        raise TranspileError(f"unknown target {to!r} (choose from {', '.join(targets.names())})")
    target = targets.get(to)
    out_path = Path(out)
    if out_path.exists() and out_path.is_dir():
        raise TranspileError(f"{out_path}: is a folder; give the output file name (e.g. {out_path / 'net.py'})")
    proto, info = read_model(model)
    graph = to_ir(proto, keep=lambda domain, op: (domain, op) in target.table)
    run_passes(graph)
    run_passes(graph, (*getattr(target, "passes", ()), eliminate_dead_code))
    files = target.build(graph, info, out_path, BuildOptions(class_name=class_name))
    paths = write_all(files)
    result = ConvertResult(paths=paths)
    if check:
        from .verify import check as run_check

        result.check = run_check(proto, lambda inputs: target.run(out_path, inputs))
    return result
