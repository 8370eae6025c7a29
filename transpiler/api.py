"""The Python API: `transpiler.convert(model, to="pytorch", out="net.py", check=False)`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from . import targets
from .atomic import write_all
from .errors import TranspileError
from .frontends.onnx import read_model, to_ir
from .passes import eliminate_dead_code, run_passes
from .targets.base import BuildOptions
from .verify import ATOL, RTOL, CheckReport


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
    options: dict[str, Any] | None = None,
) -> ConvertResult:
    """Convert `model` (a path or a ModelProto) for target `to`, writing `out` and its weights.

    Nothing is written unless every node converts. With `check=True` the written artifact is run
    beside onnxruntime on seeded inputs and the per-output differences are returned. `options`
    holds target-specific settings (keras: `keras_layout`; ncnn: `fp16`, `ncnn_embed`).
    """
    if to not in targets.names():
        raise TranspileError(f"unknown target {to!r} (choose from {', '.join(targets.names())})")
    target = targets.get(to)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    allowed = getattr(target, "option_keys", frozenset())
    stray = sorted(set(options) - set(allowed))
    if stray:
        flags = ", ".join("--" + k.replace("_", "-") for k in stray)
        raise TranspileError(f"{flags}: not an option of --to {to}")
    out_path = Path(out)
    if out_path.exists() and out_path.is_dir():
        raise TranspileError(f"{out_path}: is a folder; give the output file name (e.g. {out_path / 'net.py'})")
    proto, info = read_model(model)
    graph = to_ir(proto, keep=lambda domain, op: (domain, op) in target.table)
    run_passes(graph)
    run_passes(graph, (*getattr(target, "passes", ()), eliminate_dead_code))
    build_options = BuildOptions(class_name=class_name, extra=options)
    files = target.build(graph, info, out_path, build_options)
    paths = write_all(files)
    result = ConvertResult(paths=paths)
    if check:
        from .verify import check as run_check

        rtol, atol = target.tolerance(build_options) if hasattr(target, "tolerance") else (RTOL, ATOL)
        result.check = run_check(proto, lambda inputs: target.run(out_path, inputs), rtol=rtol, atol=atol)
    return result
