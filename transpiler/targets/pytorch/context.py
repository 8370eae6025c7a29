"""The API a PyTorch lowering sees: the node's inputs as code, its constants and attributes, and
ways to declare what it owns (an `nn.*` module with its weights, a helper function, a statement).

A lowering returns the code of its result: an expression (one output), a list of expressions
(one per output), or `Unpack(expr, n)` for an expression that yields an n-tuple.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import ir
from ...errors import UnsupportedOp

if TYPE_CHECKING:
    from .codegen import Codegen

TORCH_DTYPES = {
    ir.FLOAT: "torch.float32", ir.DOUBLE: "torch.float64", ir.FLOAT16: "torch.float16",
    ir.BFLOAT16: "torch.bfloat16", ir.INT64: "torch.int64", ir.INT32: "torch.int32",
    ir.INT16: "torch.int16", ir.INT8: "torch.int8", ir.UINT8: "torch.uint8", ir.BOOL: "torch.bool",
    ir.UINT16: "torch.uint16", ir.UINT32: "torch.uint32", ir.UINT64: "torch.uint64",
    ir.FLOAT8E4M3FN: "torch.float8_e4m3fn", ir.FLOAT8E5M2: "torch.float8_e5m2",
    ir.FLOAT8E4M3FNUZ: "torch.float8_e4m3fnuz", ir.FLOAT8E5M2FNUZ: "torch.float8_e5m2fnuz",
    ir.COMPLEX64: "torch.complex64", ir.COMPLEX128: "torch.complex128",
    # types PyTorch lacks, carried exactly one value per element (see ops/cast.py and runner.py)
    ir.INT4: "torch.int8", ir.INT2: "torch.int8", ir.UINT4: "torch.uint8", ir.UINT2: "torch.uint8",
    ir.FLOAT4E2M1: "torch.float32",
}


@dataclass
class Unpack:
    """An expression that evaluates to a tuple of `n` values, one per node output."""

    expr: str
    n: int


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


class Code(str):
    """A string that is already code (for keyword arguments of `call`)."""


class Ctx:
    """Per-node view handed to a lowering."""

    def __init__(self, gen: Codegen, node: ir.Node) -> None:
        self.gen = gen
        self.node = node

    # -- inputs ---------------------------------------------------------------------------
    def has(self, i: int) -> bool:
        return self.node.input(i) is not None

    def value(self, i: int) -> ir.Value:
        v = self.node.input(i)
        if v is None:
            raise UnsupportedOp(f"input {i} is required")
        return v

    def x(self, i: int) -> str:
        """Code for input i as a tensor (a local, or `self.<name>` for a constant)."""
        return self.gen.value_code(self.value(i))

    def const(self, i: int) -> np.ndarray | None:
        v = self.node.input(i)
        return None if v is None else v.const

    def need_const(self, i: int, what: str) -> np.ndarray:
        c = self.const(i)
        if c is None:
            raise UnsupportedOp(f"{what} (input {i}) must be a constant")
        return c

    def scalar_or_x(self, i: int, other_rank: int | None = None) -> str:
        """A Python literal when input i is a one-element constant that broadcasting cannot
        change the rank of, else the tensor code."""
        c = self.const(i)
        if c is not None and c.size == 1 and c.dtype != object and (
            c.ndim == 0 or (other_rank is not None and other_rank >= c.ndim)
        ):
            return lit(c.reshape(()).item())
        return self.x(i)

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

    def elem(self, i: int) -> int:
        v = self.node.input(i)
        return 0 if v is None else v.elem

    def out_elem(self, j: int = 0) -> int:
        v = self.node.output(j)
        return 0 if v is None else v.elem

    def out_shape(self, j: int = 0) -> tuple[ir.Dim, ...] | None:
        v = self.node.output(j)
        return None if v is None else v.shape

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
    def dtype(self, elem: int) -> str:
        if elem not in TORCH_DTYPES:
            raise UnsupportedOp(f"element type {elem} has no PyTorch dtype")
        return TORCH_DTYPES[elem]

    def module(self, ctor: str, params: dict[str, np.ndarray] | None = None, hint: str | None = None) -> str:
        """Declare `self.<name> = <ctor>` owning `params` (state_dict suffix -> array)."""
        return self.gen.add_module(self.node, ctor, params or {}, hint)

    def weight(self, arr: np.ndarray, hint: str) -> str:
        """Declare a tensor the lowering computed (a table, a reordered weight) as a parameter or
        buffer of the module, saved with the weights; returns its code."""
        return self.gen.add_weight(np.ascontiguousarray(arr), hint)

    def helper(self, name: str) -> str:
        """Include helper function `name` (templates/pytorch/helpers/<name>.py) and return it."""
        return self.gen.use_helper(name)

    def tmp(self, hint: str = "t") -> str:
        return self.gen.locals.fresh(hint)

    def out_name(self, j: int) -> str:
        """The local name of output j, for a lowering that assigns it in its own statement
        (the codegen then does not assign it again)."""
        v = self.node.output(j)
        if v is None:
            raise UnsupportedOp(f"output {j} is absent")
        return self.gen.names.get(id(v)) or self.gen.bind(v)

    def stmt(self, line: str) -> None:
        self.gen.emit(line)

    def refuse(self, reason: str) -> UnsupportedOp:
        return UnsupportedOp(reason)
