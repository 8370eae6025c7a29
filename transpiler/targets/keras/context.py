"""The API a Keras lowering sees: the node's inputs as code (in the layout it asks for), its
constants and attributes, and ways to declare what it owns (a Keras layer with its weights, a
stored constant, a statement).

A lowering returns the code of its result: an expression (one output), a list of expressions (one
per output), or `Unpack(expr, n)` for an expression that yields n values. By default a result is in
the ONNX layout; `ctx.set_perm(j, perm)` declares that output j is kept transposed (see layout.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import ir
from ...errors import UnsupportedOp
from .layout import Perm, norm

if TYPE_CHECKING:
    from .codegen import Codegen

# ONNX element types no Keras backend has travel in a wider dtype that holds each of their values
# exactly (ops/cast.py rounds to them explicitly); the generated file lists such inputs / outputs.
WIDE_DTYPES = {
    ir.FLOAT8E4M3FN: "float32", ir.FLOAT8E4M3FNUZ: "float32", ir.FLOAT8E5M2: "float32",
    ir.FLOAT8E5M2FNUZ: "float32", ir.FLOAT4E2M1: "float32", ir.FLOAT8E8M0: "float32",
    ir.UINT4: "uint8", ir.INT4: "int8", ir.UINT2: "uint8", ir.INT2: "int8",
}
WIDE_NAMES = {
    ir.FLOAT8E4M3FN: "float8e4m3fn", ir.FLOAT8E4M3FNUZ: "float8e4m3fnuz", ir.FLOAT8E5M2: "float8e5m2",
    ir.FLOAT8E5M2FNUZ: "float8e5m2fnuz", ir.FLOAT4E2M1: "float4e2m1", ir.FLOAT8E8M0: "float8e8m0",
    ir.UINT4: "uint4", ir.INT4: "int4", ir.UINT2: "uint2", ir.INT2: "int2",
}
KERAS_DTYPES = {
    ir.FLOAT: "float32", ir.DOUBLE: "float64", ir.FLOAT16: "float16", ir.BFLOAT16: "bfloat16",
    ir.INT64: "int64", ir.INT32: "int32", ir.INT16: "int16", ir.INT8: "int8", ir.UINT8: "uint8",
    ir.UINT16: "uint16", ir.UINT32: "uint32", ir.UINT64: "uint64", ir.BOOL: "bool", **WIDE_DTYPES,
}


def wide_lines(inputs: list[ir.Value], outputs: list[ir.Value]) -> list[str]:
    """Module-level constants naming the inputs / outputs (by position) held wide, or none."""
    if not any(v.elem in WIDE_DTYPES for v in [*inputs, *outputs]):
        return []
    held = [{i: WIDE_NAMES[v.elem] for i, v in enumerate(vs) if v.elem in WIDE_DTYPES} for vs in (inputs, outputs)]
    return [
        "# Inputs / outputs (by position) whose ONNX element type no Keras backend has, held in a wider",
        "# dtype holding each of their values exactly (float8 / float4 in float32, 2- / 4-bit integers",
        "# in int8 / uint8): hand such inputs over widened; such outputs narrow back without rounding.",
        f"WIDE_INPUTS = {held[0]!r}",
        f"WIDE_OUTPUTS = {held[1]!r}",
    ]
FLOATS = frozenset({ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16})
INLINE_MAX = 16  # constants up to this many elements are written as literals in the code


@dataclass
class Unpack:
    """An expression that evaluates to a sequence of `n` values, one per node output."""

    expr: str
    n: int


class Code(str):
    """A string that is already code (for keyword arguments of `call`)."""


def lit(v: Any) -> str:
    """Python source for a literal value. Strings go through repr(), so nothing can escape."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return repr(None if v is None else bool(v))
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return 'float("nan")'
        if math.isinf(f):
            return 'float("inf")' if f > 0 else 'float("-inf")'
        if isinstance(v, float) and float(np.float32(f)) == f:
            return repr(float(str(np.float32(f))))  # ONNX float attributes: their shortest float32 spelling
        return repr(f)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, tuple):
        items = [lit(x) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(lit(x) for x in v) + "]"
    if isinstance(v, np.ndarray):
        return lit(v.tolist()) if v.ndim else lit(v.item())
    raise TypeError(f"no literal for {type(v).__name__}")


def call(fn: str, *args: str, **kwargs: Any) -> str:
    """`fn(a, b, k=lit(v))`; positional args are code, keyword values are literals
    (pass `Code("...")` to give a keyword an expression)."""
    parts = list(args) + [f"{k}={v if isinstance(v, Code) else lit(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


def c_order(arr: np.ndarray) -> np.ndarray:
    """`arr` in C order with its shape kept (np.ascontiguousarray makes a 0-d array 1-d)."""
    return np.asarray(arr, order="C")


def np_literal(arr: np.ndarray) -> str:
    """`np.array(<values>, dtype="<dtype>")` for a small numeric array."""
    return f"np.array({lit(arr)}, dtype={lit(arr.dtype.name)})"


class Ctx:
    """Per-node view handed to a lowering."""

    def __init__(self, gen: Codegen, node: ir.Node) -> None:
        self.gen = gen
        self.node = node
        self.out_perms: dict[int, Perm] = {}

    # -- inputs ---------------------------------------------------------------------------
    def has(self, i: int) -> bool:
        return self.node.input(i) is not None

    def value(self, i: int) -> ir.Value:
        v = self.node.input(i)
        if v is None:
            raise UnsupportedOp(f"input {i} is required")
        return v

    def x(self, i: int, perm: Perm = None) -> str:
        """Code for input i in layout `perm` (default: the ONNX layout)."""
        return self.gen.code_in(self.value(i), norm(perm))

    def perm(self, i: int) -> Perm:
        """The layout input i is held in now (None: ONNX layout; constants: None)."""
        return self.gen.perm_of(self.value(i))

    def const(self, i: int) -> np.ndarray | None:
        v = self.node.input(i)
        return None if v is None else v.const

    def need_const(self, i: int, what: str) -> np.ndarray:
        c = self.const(i)
        if c is None:
            raise UnsupportedOp(f"{what} (input {i}) must be a constant")
        return c

    def scalar(self, i: int) -> str | None:
        """A Python literal when input i is a one-element constant whose rank broadcasting
        cannot change (rank 0, or not above the other operands'), else None."""
        c = self.const(i)
        if c is None or c.size != 1 or c.dtype == object:
            return None
        others = [v.rank for j, v in enumerate(self.node.inputs) if j != i and v is not None]
        if c.ndim == 0 or (others and all(r is not None and r >= c.ndim for r in others)):
            return lit(c.reshape(()).item())
        return None

    def shape(self, i: int) -> tuple[ir.Dim, ...] | None:
        v = self.node.input(i)
        return None if v is None else v.shape

    def rank(self, i: int) -> int | None:
        v = self.node.input(i)
        return None if v is None else v.rank

    def need_rank(self, i: int) -> int:
        r = self.rank(i)
        if r is None:
            raise UnsupportedOp(f"the rank of input {i} is unknown")
        return r

    def static_shape(self, i: int) -> tuple[int, ...]:
        s = self.value(i).static_shape
        if s is None:
            raise UnsupportedOp(f"the shape of input {i} must be static")
        return s

    def elem(self, i: int) -> int:
        v = self.node.input(i)
        return 0 if v is None else v.elem

    def out_elem(self, j: int = 0) -> int:
        v = self.node.output(j)
        return 0 if v is None else v.elem

    def out_shape(self, j: int = 0) -> tuple[ir.Dim, ...] | None:
        v = self.node.output(j)
        return None if v is None else v.shape

    def out_static(self, j: int = 0) -> tuple[int, ...]:
        v = self.node.output(j)
        s = None if v is None else v.static_shape
        if s is None:
            raise UnsupportedOp(f"the shape of output {j} must be static")
        return s

    def has_out(self, j: int) -> bool:
        return self.node.output(j) is not None

    def attr(self, key: str, default: Any = None) -> Any:
        return self.node.attrs.get(key, default)

    @property
    def n_in(self) -> int:
        return len(self.node.inputs)

    @property
    def n_out(self) -> int:
        return len(self.node.outputs)

    # -- what the lowering declares ------------------------------------------------------
    def set_perm(self, j: int, perm: Perm) -> None:
        """Output j is held in layout `perm`."""
        self.out_perms[j] = norm(perm)

    def dtype(self, elem: int) -> str:
        if elem not in KERAS_DTYPES:
            raise UnsupportedOp(f"element type {elem} has no Keras dtype")
        return KERAS_DTYPES[elem]

    def layer(self, ctor: str, weights: dict[str, np.ndarray] | None = None, hint: str | None = None) -> str:
        """`ctor` is the layer's constructor call `layers.X(args)`; the codegen adds a unique
        `name=` and records `weights` (variable name -> array) under `<layer name>/<variable>`."""
        return self.gen.add_layer(self.node, ctor, weights or {}, hint)

    def pad_hint(self) -> str:
        """A name for a padding layer placed before this node's own layer."""
        from .codegen import _layer_hint

        return _layer_hint(self.node) + "_pad"

    def constant(self, arr: np.ndarray, hint: str = "const", elem: int = 0) -> str:
        """Code for a tensor the lowering computed: a literal when small, else a stored weight."""
        return self.gen.constant_code(c_order(arr), hint, elem)

    def tmp(self, hint: str = "t") -> str:
        return self.gen.locals.fresh(hint)

    def stmt(self, line: str) -> None:
        self.gen.emit(line)

    def assign(self, hint: str, expr: str) -> str:
        """Emit `<fresh name> = expr` and return the name (for expressions used more than once)."""
        name = self.tmp(hint)
        self.stmt(f"{name} = {expr}")
        return name

    def is_symbolic(self, i: int) -> bool:
        """Whether input i's code is a KerasTensor (reaches a model input), not a concrete tensor."""
        v = self.node.input(i)
        return v is not None and id(v) in self.gen.symbolic

    def subgraph(
        self,
        graph: ir.Graph,
        args: list[tuple[str, bool]],
        consts: dict[int, np.ndarray] | None = None,
        types: list[tuple[int, tuple[ir.Dim, ...] | None]] | None = None,
    ) -> list[tuple[str, bool]]:
        """Lower one copy of a subgraph inline (see Codegen.lower_subgraph): its inputs bound to
        (code, is KerasTensor) pairs; returns the same pairs for its outputs."""
        return self.gen.lower_subgraph(graph, args, consts, types)

    def subgraph_types(self) -> list[tuple[int, tuple[ir.Dim, ...] | None]]:
        """(element type, shape) of the outputs of the subgraph copy lowered last."""
        return list(self.gen.subgraph_types)

    def set_out_type(self, j: int, elem: int, shape: tuple[ir.Dim, ...] | None) -> None:
        """Output j has this type (for outputs shape inference left open, e.g. of an expansion)."""
        v = self.node.output(j)
        if v is not None:
            self.gen.set_type(v, elem, shape)

    def refuse(self, reason: str) -> UnsupportedOp:
        return UnsupportedOp(reason)
