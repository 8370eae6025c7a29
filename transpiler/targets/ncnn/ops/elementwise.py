"""Element-wise ops: BinaryOp (numpy broadcasting), UnaryOp, Cast, Where, Expand, boolean logic.

ncnn's BinaryOp aligns operands of different ranks its own way (a 2-d operand of a 4-d one goes
to the *outer* axes), so both operands are always given the output's rank first (a free reshape
adding leading 1s, numpy's rule); with equal ranks ncnn broadcasts any size-1 axis like numpy.
A constant scalar becomes BinaryOp's scalar form (1=1 2=value; the reversed ops RSUB/RDIV/RPOW
when the scalar is the left operand).

Integers and booleans are carried as float32 values (exact below 2^24; booleans are 0 / 1), so
And is a product, Or a maximum, Not 1 - x; Cast to bool is sign(|x|), to an integer type trunc.

Pow by a constant integer is repeated multiplication (exact for every base); any other Pow uses
ncnn's pow, exp(y * log(x)), which agrees with ONNX for x >= 0 — for x < 0 and a non-integer y
ONNX gives NaN, ncnn an unspecified value.
"""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder
from ..shapes import aligned, broadcast, ncnn_shape
from . import TABLE

ADD, SUB, MUL, DIV, MAX, MIN, POW, RSUB, RDIV, RPOW = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
REVERSED = {SUB: RSUB, DIV: RDIV, POW: RPOW, ADD: ADD, MUL: MUL, MAX: MAX, MIN: MIN}
BINARY = {"Add": ADD, "Sub": SUB, "Mul": MUL, "Div": DIV, "Pow": POW, "Max": MAX, "Min": MIN, "And": MUL, "Or": MAX}

# UnaryOp op_type codes (ncnn src/layer/unaryop.h)
ABS, NEG, FLOOR, CEIL, SQUARE, SQRT, RSQRT, EXP, LOG, SIN, COS, TAN, ASIN, ACOS, ATAN, RECIPROCAL, TANH = range(17)
LOG10, ROUND, TRUNC, SIGN = 17, 18, 19, 20
UNARY = {
    "Abs": ABS, "Neg": NEG, "Floor": FLOOR, "Ceil": CEIL, "Sqrt": SQRT, "Exp": EXP, "Log": LOG, "Sin": SIN,
    "Cos": COS, "Tan": TAN, "Asin": ASIN, "Acos": ACOS, "Atan": ATAN, "Reciprocal": RECIPROCAL, "Sign": SIGN,
}


def _scalar(v: ir.Value | None) -> float | None:
    if v is None or v.const is None or v.const.size != 1 or v.const.dtype.kind not in "fiub":
        return None
    return float(v.const.reshape(()))


def binary_op(b: Builder, node: ir.Node, op: int, x: ir.Value, y: ir.Value, out: ir.Value | None) -> None:
    sx, sy = b.shape(x), b.shape(y)
    out_shape = broadcast(sx, sy)
    nout = ncnn_shape(out_shape)
    cy, cx = _scalar(y), _scalar(x)
    if cy is not None and tuple(sx) == out_shape and np.isfinite(cy):
        blob = b.layer1("BinaryOp", [b.view(x, nout)], nout, {0: op, 1: 1, 2: cy})
    elif cx is not None and tuple(sy) == out_shape and np.isfinite(cx):
        blob = b.layer1("BinaryOp", [b.view(y, nout)], nout, {0: REVERSED[op], 1: 1, 2: cx})
    else:
        blob = b.layer1("BinaryOp", [b.view(x, aligned(sx, out_shape)), b.view(y, aligned(sy, out_shape))], nout, {0: op})
    b.bind(out, blob, out_shape)


@TABLE.op(*BINARY)
def binary(b: Builder, node: ir.Node) -> None:
    if node.op_type in ("Max", "Min"):
        variadic(b, node, BINARY[node.op_type])
        return
    x, y = node.input(0), node.input(1)
    if node.op_type == "Pow" and x.elem in ir.FLOAT_TYPES and _integer_scalar(y) is not None:
        power(b, x, _integer_scalar(y), node.outputs[0])
        return
    if node.op_type in ("Add", "Sub", "Mul", "Div", "Pow") and any(
        v.elem not in ir.FLOAT_TYPES for v in (x, y, node.outputs[0])
    ):
        if node.op_type in ("Div", "Pow"):
            raise UnsupportedOp("integer division / power: ncnn computes in float")
        if node.outputs[0].elem not in ir.INT_TYPES:
            raise UnsupportedOp("mixed element types")
    binary_op(b, node, BINARY[node.op_type], x, y, node.outputs[0])


def _integer_scalar(v: ir.Value | None) -> int | None:
    c = _scalar(v)
    if c is None or not np.isfinite(c) or c != int(c) or abs(c) >= 2**24:
        return None
    return int(c)


def power(b: Builder, x: ir.Value, e: int, out: ir.Value | None) -> None:
    """x ** e for an integer e by repeated squaring (UnaryOp SQUARE, BinaryOp MUL), 1 / x**-e for
    e < 0. ncnn's own pow is exp(y * log(x)), which is wrong for negative x (ONNX gives (-2)**3 = -8)."""
    shape = b.shape(x)
    n = b.nshape(x)
    if e == 0:  # ONNX: x ** 0 == 1 for every x, NaN included
        b.bind(out, b.const_blob(np.ones(n, np.float32), n, "ones"), shape)
        return
    base, result, k = b.blob(x), None, abs(e)
    while True:
        if k & 1:
            result = base if result is None else b.layer1("BinaryOp", [result, base], n, {0: MUL}, hint="pow_mul")
        k >>= 1
        if not k:
            break
        base = b.layer1("UnaryOp", [base], n, {0: SQUARE}, hint="pow_square")
    if e < 0:
        result = b.layer1("BinaryOp", [result], n, {0: RDIV, 1: 1, 2: 1.0}, hint="pow_reciprocal")
    b.bind(out, result, shape)


@TABLE.op("Sum")
def variadic_sum(b: Builder, node: ir.Node) -> None:
    variadic(b, node, ADD)


def variadic(b: Builder, node: ir.Node, op: int) -> None:
    """Sum / Max / Min of any number of inputs: a chain of BinaryOps, left to right as ONNX
    (and onnxruntime) accumulates them."""
    ins = [v for v in node.inputs if v is not None]
    if not ins:
        raise UnsupportedOp("no inputs")
    acc = ins[0]
    if len(ins) == 1:
        b.alias(node.outputs[0], acc, b.shape(acc))
        return
    for k, v in enumerate(ins[1:], start=2):
        last = k == len(ins)
        out = node.outputs[0] if last else ir.Value(f"{node.name}_{k}", acc.elem, broadcast(b.shape(acc), b.shape(v)))
        binary_op(b, node, op, acc, v, out)
        acc = out


def unary_layer(b: Builder, v: ir.Value, code: int, hint: str | None = None) -> str:
    n = b.nshape(v)
    return b.layer1("UnaryOp", [b.blob(v)], n, {0: code}, hint=hint)


@TABLE.op(*UNARY)
def unary(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    if x.elem not in ir.FLOAT_TYPES and node.op_type not in ("Abs", "Neg", "Sign"):
        raise UnsupportedOp("on integers")
    b.bind(node.outputs[0], unary_layer(b, x, UNARY[node.op_type]), b.shape(x))


@TABLE.op("Identity")
def identity(b: Builder, node: ir.Node) -> None:
    b.alias(node.outputs[0], node.input(0), b.shape(node.input(0)))


@TABLE.op("Not")
def logical_not(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    n = b.nshape(x)
    b.bind(node.outputs[0], b.layer1("BinaryOp", [b.blob(x)], n, {0: RSUB, 1: 1, 2: 1.0}), b.shape(x))


@TABLE.op("Cast")
def cast(b: Builder, node: ir.Node) -> None:
    x, out = node.input(0), node.outputs[0]
    src, dst = x.elem, int(node.attr("to"))
    shape = b.shape(x)
    if id(x) in b.int32_inputs:
        raise UnsupportedOp("internal: int32 input cast")
    if dst == ir.BOOL:
        if src == ir.BOOL:
            b.alias(out, x, shape)
            return
        if src not in ir.INT_TYPES:
            raise UnsupportedOp("float -> bool (NaN is true in ONNX; sign(|x|) is not)")
        blob = b.layer1("UnaryOp", [unary_layer(b, x, ABS)], ncnn_shape(shape), {0: SIGN})
        b.bind(out, blob, shape)
        return
    if dst in ir.FLOAT_TYPES:
        if dst not in (ir.FLOAT,) and src in ir.FLOAT_TYPES and src != dst:
            raise UnsupportedOp(f"float cast to element type {dst}: ncnn computes in float32 only")
        b.alias(out, x, shape)
        return
    if dst in ir.INT_TYPES:
        if src in ir.INT_TYPES or src == ir.BOOL:
            b.alias(out, x, shape)  # integers are already float32 values; narrowing of values < 2^24 is exact
            return
        if src in ir.FLOAT_TYPES:
            b.bind(out, unary_layer(b, x, TRUNC), shape)
            return
    raise UnsupportedOp(f"cast from element type {src} to {dst}")


@TABLE.op("Where")
def where(b: Builder, node: ir.Node) -> None:
    """cond * a + (1 - cond) * b, exact for a cond of 0 / 1 and finite constant branches."""
    cond, a, c = node.inputs[:3]
    for v in (a, c):
        if v.const is None:
            raise UnsupportedOp("a branch that is not a constant (cond*a + (1-cond)*b is exact only for finite values)")
        if not np.all(np.isfinite(v.const.astype(np.float64))):
            raise UnsupportedOp("an infinite or NaN branch (0 * inf is NaN)")
    out_shape = broadcast(b.shape(cond), b.shape(a), b.shape(c))
    nout = ncnn_shape(out_shape)
    ca, cc = _scalar(a), _scalar(c)
    cond_blob = b.view(cond, aligned(b.shape(cond), out_shape))
    ncond = aligned(b.shape(cond), out_shape)
    if ca is not None and cc is not None:
        # cond * (a - b) + b is exact for cond in {0, 1} only when a - b is exact: use both products
        t1 = b.layer1("BinaryOp", [cond_blob], ncond, {0: MUL, 1: 1, 2: ca}, hint=f"{node.name}_a")
        inv = b.layer1("BinaryOp", [cond_blob], ncond, {0: RSUB, 1: 1, 2: 1.0}, hint=f"{node.name}_not")
        t2 = b.layer1("BinaryOp", [inv], ncond, {0: MUL, 1: 1, 2: cc}, hint=f"{node.name}_b")
        blob = b.layer1("BinaryOp", [t1, t2], ncond, {0: ADD})
        if ncond != nout:
            zeros_shape = nout
            zero = b.const_blob(np.zeros(zeros_shape, np.float32), zeros_shape, f"{node.name}_expand")
            blob = b.layer1("BinaryOp", [blob, zero], nout, {0: ADD})
        b.bind(node.outputs[0], blob, out_shape)
        return
    na, nc = aligned(b.shape(a), out_shape), aligned(b.shape(c), out_shape)
    t1 = b.layer1("BinaryOp", [cond_blob, b.view(a, na)], nout, {0: MUL}, hint=f"{node.name}_a")
    inv = b.layer1("BinaryOp", [cond_blob], ncond, {0: RSUB, 1: 1, 2: 1.0}, hint=f"{node.name}_not")
    t2 = b.layer1("BinaryOp", [inv, b.view(c, nc)], nout, {0: MUL}, hint=f"{node.name}_b")
    b.bind(node.outputs[0], b.layer1("BinaryOp", [t1, t2], nout, {0: ADD}), out_shape)


@TABLE.op("Expand")
def expand(b: Builder, node: ir.Node) -> None:
    """x + zeros(shape): numpy broadcasting to the target shape (adding 0 keeps every value)."""
    x, s = node.input(0), node.input(1)
    if s is None or s.const is None:
        raise UnsupportedOp("the target shape is not a constant")
    out_shape = broadcast(b.shape(x), tuple(int(d) for d in s.const.reshape(-1)))
    if out_shape == tuple(b.shape(x)):
        b.alias(node.outputs[0], x, out_shape)
        return
    nout = ncnn_shape(out_shape)
    zero = b.const_blob(np.zeros(nout, np.float32), nout, f"{node.name}_zeros")
    blob = b.layer1("BinaryOp", [b.view(x, aligned(b.shape(x), out_shape)), zero], nout, {0: ADD})
    b.bind(node.outputs[0], blob, out_shape)
