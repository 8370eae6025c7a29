"""`transpile inspect model.onnx` / `transpiler.inspect(model)`: what is in a model and what each
target would refuse, before converting anything.

For every target the real pipeline runs (frontend with that target's table, passes, lowering)
without writing a file, so the refusals are exactly those a conversion would report. A target
whose package cannot be imported is listed as unavailable, with the reason.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from . import targets
from .api import InputShapes, Source, build_options, load_source, lower
from .errors import Refusal, TranspileError, UnsupportedModel


@dataclass
class TensorInfo:
    name: str
    dtype: str
    shape: list[int | str | None] | None


@dataclass
class TargetVerdict:
    target: str
    status: str  # "ok" | "refused" | "error" | "unavailable"
    refusals: list[dict[str, str]] = field(default_factory=list)
    reason: str = ""


@dataclass
class Inspection:
    file_name: str
    opset: dict[str, int]
    producer: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    parameters: int
    parameter_bytes: int
    nodes: int
    ops: dict[str, int]  # "domain::Op" (or "Op") -> count, most frequent first
    targets: list[TargetVerdict]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        lines = [f"{self.file_name}  (producer {self.producer or '?'})"]
        lines.append("opset: " + ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in self.opset.items()))
        lines.append("inputs:")
        lines += [f"  {t.name}: {t.dtype} {_shape(t.shape)}" for t in self.inputs]
        lines.append("outputs:")
        lines += [f"  {t.name}: {t.dtype} {_shape(t.shape)}" for t in self.outputs]
        lines.append(f"parameters: {self.parameters:,} ({_size(self.parameter_bytes)})")
        lines.append(f"nodes: {self.nodes:,}")
        lines.append("ops:")
        width = max((len(k) for k in self.ops), default=0)
        lines += [f"  {op.ljust(width)}  {n}" for op, n in self.ops.items()]
        lines += [f"note: {n}" for n in self.notes]
        lines.append("targets:")
        for t in self.targets:
            if t.status == "ok":
                lines.append(f"  {t.target}: converts")
            elif t.status == "refused":
                lines.append(f"  {t.target}: {len(t.refusals)} node(s) refused")
                lines += [f"    {_refusal_text(r)}" for r in t.refusals]
            else:
                lines.append(f"  {t.target}: {t.status}: {t.reason}")
        return "\n".join(lines)


def inspect(
    model: str | os.PathLike[str] | onnx.ModelProto,
    targets_to_try: Sequence[str] | None = None,
    *,
    input_shapes: InputShapes | None = None,
    overrides: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    plugins: Sequence[str | os.PathLike[str]] = (),
) -> Inspection:
    """Describe the model and, per target, which nodes it would refuse and why (nothing written)."""
    from .plugins import load_plugins

    load_plugins(plugins)
    source = load_source(model, input_shapes, overrides)
    if source.proto is None:
        raise TranspileError("inspect reads ONNX models; convert the .ir.json to a target to see its refusals")
    proto = source.proto
    g = proto.graph
    inits = {t.name for t in g.initializer}
    params, nbytes = _parameters(proto)
    ops = Counter(_op_key(n) for n in _walk(g))
    result = Inspection(
        file_name=source.info.file_name,
        opset={("" if o.domain == "ai.onnx" else o.domain): o.version for o in sorted(proto.opset_import, key=lambda o: o.domain)},
        producer=" ".join(x for x in (proto.producer_name, proto.producer_version) if x),
        inputs=[_tensor_info(vi) for vi in g.input if vi.name not in inits],
        outputs=[_tensor_info(vi) for vi in g.output],
        parameters=params,
        parameter_bytes=nbytes,
        nodes=sum(ops.values()),
        ops=dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        targets=[],
        notes=list(source.notes),
    )
    names = list(targets_to_try) if targets_to_try is not None else targets.names()
    for name in names:
        verdict = _verdict(source, name, skip_interchange=targets_to_try is None)
        if verdict is not None:
            result.targets.append(verdict)
    return result


def _verdict(source: Source, name: str, skip_interchange: bool) -> TargetVerdict | None:
    if name not in targets.names():
        return TargetVerdict(name, "unavailable", reason="no such target")
    try:
        target = targets.get(name)
    except Exception as e:  # a target being written, or a missing optional dependency
        return TargetVerdict(name, "unavailable", reason=f"{type(e).__name__}: {_one_line(e)}")
    if getattr(target, "interchange", False) and skip_interchange:
        return None  # `--to ir` keeps every op; listing it would say nothing
    out = Path("inspect") / f"model{getattr(target, 'default_suffix', '.out')}"
    try:
        lower(source, target, out, build_options(target, name, None, None))
    except UnsupportedModel as e:
        return TargetVerdict(name, "refused", refusals=[
            {"op": r.op_type, "domain": r.domain, "node": r.node_name, "reason": r.reason} for r in e.refusals
        ])
    except TranspileError as e:
        return TargetVerdict(name, "error", reason=_one_line(e))
    except Exception as e:  # a bug in a target must not hide what the other targets say
        return TargetVerdict(name, "error", reason=f"internal error: {type(e).__name__}: {_one_line(e)}")
    return TargetVerdict(name, "ok")


def _walk(graph: onnx.GraphProto):  # type: ignore[no-untyped-def]
    for node in graph.node:
        yield node
        for a in node.attribute:
            for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs):
                yield from _walk(sub)


def _op_key(node: onnx.NodeProto) -> str:
    domain = "" if node.domain == "ai.onnx" else node.domain
    return f"{domain}::{node.op_type}" if domain else node.op_type


def _parameters(model: onnx.ModelProto) -> tuple[int, int]:
    count = nbytes = 0
    for t in model.graph.initializer:
        n = int(np.prod(list(t.dims), dtype=np.int64)) if t.dims else 1
        count += n
        try:
            nbytes += n * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        except Exception:
            nbytes += len(t.raw_data)
    return count, nbytes


def _tensor_info(vi: onnx.ValueInfoProto) -> TensorInfo:
    from .frontends.onnx import _type_of

    kind, elem, shape, _ = _type_of(vi.type if vi.HasField("type") else None)
    dtype = onnx.TensorProto.DataType.Name(elem).lower() if elem in onnx.TensorProto.DataType.values() else str(elem)
    if kind != "tensor":
        dtype = f"{kind}<{dtype}>"
    return TensorInfo(vi.name, dtype, None if shape is None else list(shape))


def _shape(shape: list[Any] | None) -> str:
    return "[?]" if shape is None else "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return ""


def _refusal_text(r: dict[str, str]) -> str:
    return str(Refusal(r["op"], r["node"], r["reason"], r["domain"]))


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300]


__all__ = ["Inspection", "TargetVerdict", "TensorInfo", "inspect"]


# -- the support matrix (`transpile ops`) -----------------------------------------------------------
@dataclass
class SupportMatrix:
    targets: list[str]  # available targets, in name order
    unavailable: dict[str, str]  # target -> why it cannot be imported
    ops: dict[tuple[str, str], set[str]]  # (domain, op) -> targets that lower it directly

    def rows(self) -> list[tuple[str, list[bool]]]:
        return [(_key_text(k), [t in self.ops[k] for t in self.targets]) for k in sorted(self.ops)]

    def counts(self) -> list[int]:
        return [sum(t in s for s in self.ops.values()) for t in self.targets]

    def text(self) -> str:
        rows = self.rows()
        width = max([len(r[0]) for r in rows] + [2])
        lines = ["op".ljust(width) + "  " + "  ".join(self.targets)]
        for op, marks in rows:
            cells = ["x".center(len(t)) if m else "-".center(len(t)) for t, m in zip(self.targets, marks)]
            lines.append(op.ljust(width) + "  " + "  ".join(cells))
        lines.append("total".ljust(width) + "  " + "  ".join(str(n).center(len(t)) for n, t in zip(self.counts(), self.targets)))
        lines += [f"{t}: unavailable ({why})" for t, why in self.unavailable.items()]
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [
            "# Supported ops",
            "",
            "Generated from the targets' op tables by `transpile ops --markdown > docs/ops.md`; do not edit by hand.",
            "",
            "An op listed here has a direct lowering. Ops ONNX defines as functions of other ops (e.g.",
            "`HardSwish`, `MeanVarianceNormalization`) also convert when a target lacks them, by expansion",
            "into their function body, and a lowering may still refuse particular attribute combinations",
            "(with the reason); `transpile inspect model.onnx` shows what a given model needs.",
            "",
            "| op | " + " | ".join(self.targets) + " |",
            "|---|" + "|".join(":-:" for _ in self.targets) + "|",
        ]
        for op, marks in self.rows():
            lines.append(f"| `{op}` | " + " | ".join("✓" if m else "" for m in marks) + " |")
        lines.append("| **total** | " + " | ".join(str(n) for n in self.counts()) + " |")
        if self.unavailable:
            lines.append("")
            lines += [f"- `{t}`: not available in this build ({why})" for t, why in self.unavailable.items()]
        return "\n".join(lines) + "\n"

    def target_text(self, target: str) -> str:
        return "\n".join(_key_text(k) for k in sorted(self.ops) if target in self.ops[k])


def support_matrix(only: str | None = None) -> SupportMatrix:
    """Which ops each (non-interchange) target lowers directly, read from the op tables."""
    names = [only] if only else targets.names()
    m = SupportMatrix(targets=[], unavailable={}, ops={})
    for name in names:
        if name not in targets.names():
            raise TranspileError(f"unknown target {name!r} (choose from {', '.join(targets.names())})")
        try:
            target = targets.get(name)
        except Exception as e:
            m.unavailable[name] = f"{type(e).__name__}: {_one_line(e)}"
            continue
        if getattr(target, "interchange", False) and not only:
            continue
        m.targets.append(name)
        for key in target.table.keys():
            m.ops.setdefault(key, set()).add(name)
    return m


def _key_text(key: tuple[str, str]) -> str:
    domain, op = key
    return f"{domain}::{op}" if domain else op
