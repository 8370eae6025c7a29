"""The Python API: `transpiler.convert(model, to="pytorch", out="net.py", check=False)` and
`transpiler.inspect(model)` (in `report.py`).

One pipeline serves both: read the source (an ONNX file or ModelProto, or a `.ir.json` written by
`--to ir`), apply the user's pins and fixes (`--input-shape`, `--override`), build the IR with the
target's op table deciding what stays whole, run the passes, and let the target lower it.
`convert` then writes the files; `inspect` only collects what each target refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from . import ir, targets
from .atomic import OutputFile, write_all
from .errors import Refusal, TranspileError, UnsupportedModel
from .frontends.onnx import ModelInfo, read_model, to_ir
from .passes import eliminate_dead_code, run_passes
from .progress import Progress
from .targets.base import BuildOptions, Target
from .verify import ATOL, RTOL, CheckReport

InputShapes = Mapping[str, Sequence[int]]


@dataclass
class Report:
    """What happened on the way, besides the files: refused nodes (when `strict=False`), warnings,
    notes on the user's pins and overrides, and seconds per stage."""

    target: str
    nodes: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class ConvertResult:
    paths: list[Path]
    check: CheckReport | None = None
    report: Report | None = None

    @property
    def ok(self) -> bool:
        """True when every node converted (and, if checked, every output matched)."""
        refused = self.report is not None and bool(self.report.refusals)
        return not refused and (self.check is None or self.check.ok)


@dataclass
class Source:
    """A model read once, ready to be lowered for any number of targets."""

    info: ModelInfo
    proto: onnx.ModelProto | None = None  # None when the source is a .ir.json
    ir_path: Path | None = None
    overrides: Any = None  # overrides.Overrides, applied to the IR per target
    notes: list[str] = field(default_factory=list)


def is_ir_json(model: Any) -> bool:
    return isinstance(model, (str, os.PathLike)) and str(model).endswith(".json")


def load_source(
    model: str | os.PathLike[str] | onnx.ModelProto,
    input_shapes: InputShapes | None = None,
    overrides: str | os.PathLike[str] | Mapping[str, Any] | None = None,
) -> Source:
    """Read and validate the model, then pin input shapes and apply overrides to a copy."""
    from . import overrides as ov

    if is_ir_json(model):
        from .frontends.ir_json import read_ir

        path = Path(model)  # type: ignore[arg-type]
        _, info = read_ir(path)  # validates the file once, up front
        if input_shapes or overrides:
            raise TranspileError(
                f"{path.name}: --input-shape and --override apply to ONNX models; convert from the .onnx instead"
            )
        return Source(info=info, ir_path=path)
    proto, info = read_model(model)
    source = Source(info=info, proto=proto)
    fixes = ov.load(overrides) if overrides is not None else None
    if input_shapes or (fixes and fixes.touches_proto):
        if proto is model:  # never change the caller's ModelProto
            proto = onnx.ModelProto()
            proto.CopyFrom(model)  # type: ignore[arg-type]
        if input_shapes:
            source.notes += ov.pin_input_shapes(proto, input_shapes)
        source.proto = proto
    if fixes is not None:
        # checks every node name; changes the (copied) model only for attribute/input fixes
        source.notes += fixes.apply_to_proto(source.proto)
    source.overrides = fixes
    return source


def get_target(to: str) -> Target:
    if to not in targets.names():
        raise TranspileError(f"unknown target {to!r} (choose from {', '.join(targets.names())})")
    return targets.get(to)


def build_options(target: Target, to: str, class_name: str | None, options: Mapping[str, Any] | None) -> BuildOptions:
    """The target's BuildOptions; refuses option keys the target does not declare."""
    opts = {k: v for k, v in (options or {}).items() if v is not None}
    allowed = getattr(target, "option_keys", frozenset())
    stray = sorted(set(opts) - set(allowed))
    if stray:
        flags = ", ".join("--" + k.replace("_", "-") for k in stray)
        raise TranspileError(f"{flags}: not an option of --to {to}")
    return BuildOptions(class_name=class_name, extra=opts)


def lower(
    source: Source, target: Target, out: Path, options: BuildOptions, progress: Progress | None = None,
    report: Report | None = None,
) -> tuple[ir.Graph, list[OutputFile]]:
    """IR for this target, passes, and the target's files (nothing written). Raises
    UnsupportedModel listing every refused node."""
    progress = progress or Progress.off()
    with progress.stage("reading the graph"):
        if source.proto is None:
            from .frontends.ir_json import read_ir

            graph, _ = read_ir(source.ir_path)  # type: ignore[arg-type]
        else:
            keep = _keep_fn(target, source.overrides)
            graph = to_ir(source.proto, keep=keep)
    if report is not None:
        report.nodes = ir.count_nodes(graph)
        progress.set_size(nodes=report.nodes)
    if source.overrides is not None:
        notes = source.overrides.apply_to_ir(graph, target)
        if report is not None:
            report.notes += notes
    with progress.stage("optimising"):
        run_passes(graph)
        run_passes(graph, (*getattr(target, "passes", ()), eliminate_dead_code))
    with progress.stage(f"lowering to {getattr(target, 'name', '?')}"):
        files = target.build(graph, source.info, out, options)
    return graph, files


def _keep_fn(target: Target, overrides: Any):  # type: ignore[no-untyped-def]
    """Which (domain, op) the frontend keeps whole: what the table lowers directly, plus the ops
    of nodes an override sends to another lowering (they must survive to be redirected)."""
    extra = overrides.kept_ops() if overrides is not None else frozenset()
    table = target.table
    return lambda domain, op: (domain, op) in table or (domain, op) in extra


def convert(
    model: str | os.PathLike[str] | onnx.ModelProto,
    to: str = "pytorch",
    out: str | os.PathLike[str] = "net.py",
    check: bool = False,
    class_name: str | None = None,
    options: dict[str, Any] | None = None,
    *,
    input_shapes: InputShapes | None = None,
    overrides: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    plugins: Sequence[str | os.PathLike[str]] = (),
    strict: bool = True,
    progress: Progress | None = None,
) -> ConvertResult:
    """Convert `model` (a path, a ModelProto, or a `.ir.json` from `--to ir`) for target `to`,
    writing `out` and its weights.

    Nothing is written unless every node converts: with `strict=True` (default) refused nodes
    raise `UnsupportedModel`; with `strict=False` they come back in `result.report.refusals` and
    `result.paths` is empty. With `check=True` the written artifact is run beside onnxruntime on
    seeded inputs and the per-output differences are in `result.check`. `options` holds
    target-specific settings (keras: `keras_layout`; ncnn: `fp16`, `ncnn_embed`);
    `input_shapes` pins symbolic input dims ({"x": [1, 3, 224, 224]}); `overrides` is a
    per-node fix file (or its dict, see `overrides.py`); `plugins` are Python files that register
    lowerings (entry points in group `transpiler.plugins` load automatically).
    """
    from .plugins import load_plugins

    progress = progress or Progress.off()
    loaded = load_plugins(plugins)
    target = get_target(to)
    build_opts = build_options(target, to, class_name, options)
    out_path = Path(out)
    if out_path.exists() and out_path.is_dir():
        raise TranspileError(f"{out_path}: is a folder; give the output file name (e.g. {out_path / 'net.py'})")
    if check and is_ir_json(model):
        raise TranspileError("--check compares with onnxruntime, which needs the ONNX model, not the IR")
    report = Report(target=to, notes=[f"plugin: {p}" for p in loaded])
    start = time.perf_counter()
    progress.set_size(file_bytes=_file_bytes(model))
    with progress.stage("reading the model"):
        source = load_source(model, input_shapes, overrides)
    if source.proto is not None:
        progress.set_size(nodes=_proto_nodes(source.proto.graph), weight_bytes=_weight_bytes(source.proto))
    report.notes += source.notes
    try:
        _, files = lower(source, target, out_path, build_opts, progress, report)
    except UnsupportedModel as e:
        if strict:
            raise
        report.refusals = list(e.refusals)
        return ConvertResult(paths=[], report=report)
    with progress.stage("writing"):
        paths = write_all(files)
    result = ConvertResult(paths=paths, report=report)
    if check:
        from .verify import check as run_check

        with progress.stage("checking against onnxruntime"):
            # (rtol, atol) or (rtol, atol, atol_of_peak): see verify.compare
            tol = tuple(target.tolerance(build_opts)) if hasattr(target, "tolerance") else (RTOL, ATOL)
            result.check = run_check(source.proto, lambda inputs: target.run(out_path, inputs), *tol[:2], atol_of_peak=tol[2] if len(tol) > 2 else 0.0)
    progress.done()
    report.timings = dict(progress.timings)
    report.timings["total"] = time.perf_counter() - start
    return result


def _file_bytes(model: Any) -> int:
    try:
        return os.path.getsize(model) if isinstance(model, (str, os.PathLike)) else 0
    except OSError:
        return 0


def _proto_nodes(graph: onnx.GraphProto) -> int:
    n = 0
    for node in graph.node:
        n += 1
        for a in node.attribute:
            for g in [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs):
                n += _proto_nodes(g)
    return n


def _weight_bytes(model: onnx.ModelProto) -> int:
    """Tensor bytes from dims and element size: reading `raw_data` would copy every weight."""
    from onnx import helper

    total = 0
    for t in model.graph.initializer:
        try:
            size = helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        except Exception:  # strings and other types without a fixed size: rare and small
            size = 4
        n = 1
        for d in t.dims:
            n *= d
        total += n * size
    return total
