"""Shapes and index arithmetic: Shape, Size, ConstantOfShape, Range, EyeLike, Trilu, TopK, OneHot,
CenterCropPad, Det, Einsum, Dropout (inference), LRN, LpNormalization (gathers and scatters are
in gather.py / scatter.py).

Parameters given at run time (Range's bounds, TopK's K, OneHot's depth, Trilu's k, ...): the
generated model has static shapes, so what a parameter does to the output shape is read off the
static output shape, and everything else is computed from its run-time value."""

from __future__ import annotations

import numpy as np

from .... import ir
from ..context import FLOATS, Ctx, lit
from . import TABLE
from ._util import axis_of, const_ints
from .gather import as_int64


def _const_output(ctx: Ctx, arr: np.ndarray) -> str:
    """A result known at conversion time, as a tensor (a model output the codegen attaches to the graph)."""
    return f"ops.convert_to_tensor({ctx.constant(arr, 'const')})"


@TABLE.op("Shape")
def shape(ctx: Ctx) -> str:
    shape = ctx.shape(0)
    if shape is None:
        raise ctx.refuse("the rank of input 0 is unknown")
    dims = shape[slice(ctx.attr("start", 0), ctx.attr("end", None))]
    if not all(isinstance(d, int) for d in dims):
        raise ctx.refuse("the shape of input 0 must be static")  # (over the sliced dims)
    return _const_output(ctx, np.array(dims, dtype=np.int64))


@TABLE.op("Size")
def size(ctx: Ctx) -> str:
    return _const_output(ctx, np.array(int(np.prod(ctx.static_shape(0))), dtype=np.int64))


@TABLE.op("ConstantOfShape")
def constant_of_shape(ctx: Ctx) -> str:
    if ctx.const(0) is not None:
        dims = tuple(const_ints(ctx, 0, "shape"))
    else:
        dims = ctx.out_static(0)  # a shape given at run time: the model's static output shape is it
    value = ctx.attr("value")
    arr = np.zeros(1, dtype=np.float32) if value is None else np.asarray(value).reshape(-1)
    return f"ops.full({lit(dims)}, {lit(arr[0].item())}, dtype={lit(arr.dtype.name)})"


@TABLE.op("Range")
def range_(ctx: Ctx) -> str:
    consts = [ctx.const(i) for i in range(3)]
    if all(c is not None for c in consts):
        start, limit, delta = consts
        n = max(int(np.ceil((limit.item() - start.item()) / delta.item())), 0)
        arr = (start + np.arange(n, dtype=start.dtype) * delta).astype(start.dtype)
        return _const_output(ctx, arr)
    # bounds given at run time: the static output length is the element count; entry i is
    # start + i * delta, as ONNX defines it
    n = _pinned_length(ctx)
    if n is None:
        raise ctx.refuse("the output length depends on values given at run time")
    dtype = lit(ctx.dtype(ctx.out_elem(0)))
    start = ctx.scalar(0) or ctx.x(0)
    delta = ctx.scalar(2) or ctx.x(2)
    return f"ops.add({start}, ops.multiply(ops.arange({n}, dtype={dtype}), {delta}))"


# ops that keep the shape of their one tensor operand when every other operand is a scalar
SHAPE_KEEPING = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Neg", "Abs", "Cast", "Identity", "Cos", "Sin",
    "Tan", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Floor", "Ceil", "Round", "Relu", "Reciprocal",
})


def _pinned_length(ctx: Ctx) -> int | None:
    """The length of this node's 1-D output: its static shape, else that of a descendant reached
    through shape-keeping ops whose other operands are scalars or of the same (symbolic) shape
    (a window function: Range -> Mul -> Cos -> ... -> an output of static shape)."""
    v = ctx.node.output(0)
    seen: set[int] = set()
    todo = [v] if v is not None else []
    while todo:
        v = todo.pop()
        if v.static_shape is not None and len(v.static_shape) == 1:
            return v.static_shape[0]
        for node in ctx.gen.readers.get(id(v), []):
            others = [u for u in node.inputs if u is not None and u is not v]
            out = node.output(0)
            if (
                node.domain == "" and node.op_type in SHAPE_KEEPING and out is not None and id(out) not in seen
                and all(u.rank == 0 or _same_size(u, v) for u in others)
            ):
                seen.add(id(out))
                todo.append(out)
    return None


def _same_size(u: ir.Value, v: ir.Value) -> bool:
    """Shapes equal by name: the same symbolic dims (ONNX shape inference gives equal sizes one name)."""
    return u.shape == v.shape and u.shape is not None and all(isinstance(d, str) for d in u.shape)


@TABLE.op("EyeLike")
def eye_like(ctx: Ctx) -> str:
    n, m = ctx.static_shape(0)
    dtype = ctx.dtype(ctx.attr("dtype", ctx.elem(0)))
    return f"ops.eye({n}, {m}, k={int(ctx.attr('k', 0))}, dtype={lit(dtype)})"


@TABLE.op("Trilu")
def trilu(ctx: Ctx) -> str:
    fn = "ops.triu" if ctx.attr("upper", 1) else "ops.tril"
    if not ctx.has(1) or ctx.const(1) is not None:
        k = int(ctx.const(1).reshape(())) if ctx.has(1) else 0
        return f"{fn}({ctx.x(0)}, k={k})"
    # k given at run time: keep the entries whose diagonal offset (column - row) is on k's side
    shape = ctx.static_shape(0)
    if len(shape) < 2:
        raise ctx.refuse("Trilu of a tensor of rank below 2")
    n, m = shape[-2:]
    if n == 0 or m == 0:
        return ctx.x(0)  # nothing to mask
    rows = ctx.constant(np.arange(n, dtype=np.int64).reshape(n, 1), "rows")
    cols = ctx.constant(np.arange(m, dtype=np.int64), "cols")
    cmp = "ops.greater_equal" if ctx.attr("upper", 1) else "ops.less_equal"
    keep = f"{cmp}(ops.subtract({cols}, {rows}), {as_int64(ctx, 1)})"
    x = ctx.x(0)
    return f"ops.where({keep}, {x}, ops.zeros_like({x}))"


@TABLE.op("TopK")
def topk(ctx: Ctx) -> list[str]:
    """A stable argsort, cut at k: ONNX wants equal values in index order, which `ops.top_k`
    does not promise on every backend (torch)."""
    rank = ctx.need_rank(0)
    axis = axis_of(ctx, ctx.attr("axis", -1), rank)
    if ctx.const(1) is not None:
        k = int(ctx.const(1).reshape(-1)[0])
    else:
        k = ctx.out_static(0)[axis]  # K given at run time: the static output shape holds it
    if not ctx.attr("sorted", 1):
        raise ctx.refuse("sorted=0")
    x = ctx.x(0)
    if axis != rank - 1:
        x = ctx.assign("moved", f"ops.moveaxis({x}, {axis}, -1)")
    key = x
    if ctx.attr("largest", 1):
        # the largest first: sort an order-reversing map that keeps ties tied (negation for
        # floats, bitwise NOT for integers, where -x overflows at the minimum)
        key = f"{'ops.negative' if ctx.elem(0) in FLOATS else 'ops.bitwise_invert'}({x})"
    order = ctx.assign("order", f"ops.argsort({key}, axis=-1)[..., :{k}]")
    v, i = f"ops.take_along_axis({x}, {order}, axis=-1)", f"ops.cast({order}, 'int64')"
    if axis != rank - 1:
        v, i = f"ops.moveaxis({v}, -1, {axis})", f"ops.moveaxis({i}, -1, {axis})"
    return [v, i]


@TABLE.op("OneHot")
def one_hot(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    if out is None:
        raise ctx.refuse("the output rank is unknown")
    axis = axis_of(ctx, ctx.attr("axis", -1), len(out))
    if ctx.const(1) is not None:
        depth = int(ctx.const(1).reshape(-1)[0])
    else:
        depth = out[axis]  # depth given at run time: the static output shape holds it
        if not isinstance(depth, int):
            raise ctx.refuse("depth given at run time with an output of unknown size")
    idx = as_int64(ctx, 0)  # ONNX casts the indices to integers first
    idx = ctx.assign("idx", f"ops.expand_dims({idx}, {axis})")
    # negative indices count from the end; out-of-range ones match no position (all off)
    idx = f"ops.where(ops.less({idx}, 0), {idx} + {depth}, {idx})"
    positions = np.arange(depth, dtype=np.int64).reshape([depth if j == axis else 1 for j in range(len(out))])
    hot = f"ops.equal({idx}, {ctx.constant(positions, 'positions')})"
    values = ctx.const(2)
    if values is not None:
        dtype = lit(ctx.dtype(ctx.elem(2)))
        off, on = (lit(v.item()) for v in values.reshape(-1)[:2])
        return f"ops.where({hot}, ops.cast({on}, {dtype}), ops.cast({off}, {dtype}))"
    v = ctx.x(2)
    return f"ops.where({hot}, {v}[1], {v}[0])"


@TABLE.op("CenterCropPad")
def center_crop_pad(ctx: Ctx) -> str:
    """A centred slice along the axes that shrink, then zero padding along those that grow. The
    target sizes come from the static output shape (they are the `shape` input's values)."""
    shape, out = ctx.static_shape(0), ctx.out_static(0)
    if len(shape) != len(out):
        raise ctx.refuse("the output rank differs from the input's")
    begin = [max(d - t, 0) // 2 for d, t in zip(shape, out)]
    size = [min(d, t) for d, t in zip(shape, out)]
    pads = [((t - d) // 2, t - d - (t - d) // 2) if t > d else (0, 0) for d, t in zip(shape, out)]
    x = ctx.x(0)
    if tuple(size) != shape:
        x = f"ops.slice({x}, {lit(tuple(begin))}, {lit(tuple(size))})"
    if any(p != (0, 0) for p in pads):
        x = f"ops.pad({x}, {lit(pads)})"
    return x


@TABLE.op("Det")
def det(ctx: Ctx) -> str:
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("Det of integers")
    return f"ops.det({ctx.x(0)})"


@TABLE.op("Einsum")
def einsum(ctx: Ctx) -> str:
    eq = ctx.attr("equation")
    if isinstance(eq, bytes):
        eq = eq.decode()
    if ctx.elem(0) not in FLOATS:
        raise ctx.refuse("integer Einsum")
    eq = eq.replace(" ", "")
    xs = ", ".join(ctx.x(i) for i in range(ctx.n_in))
    return f"ops.einsum({lit(eq)}, {xs})"


@TABLE.op("Dropout")
def dropout(ctx: Ctx) -> list[str]:
    if ctx.has(2):
        mode = ctx.const(2)
        if mode is None or bool(mode.reshape(())):
            raise ctx.refuse("Dropout in training mode (random)")
    perm = ctx.perm(0)
    ctx.set_perm(0, perm)
    x = ctx.x(0, perm)
    outs = [x]
    if ctx.n_out > 1 and ctx.has_out(1):
        outs.append(f"ops.ones_like({x}, dtype='bool')")
        ctx.set_perm(1, perm)
    return outs


@TABLE.op("LRN")
def lrn(ctx: Ctx) -> str:
    from ..layout import channels_last

    rank = ctx.need_rank(0)
    size = int(ctx.attr("size"))
    alpha, beta, bias = ctx.attr("alpha", 1e-4), ctx.attr("beta", 0.75), ctx.attr("bias", 1.0)
    cl = channels_last(rank)
    x = ctx.x(0, cl)
    ctx.set_perm(0, cl)
    lo, hi = (size - 1) // 2, size // 2
    sq = ctx.assign("sq", f"ops.pad(ops.square({x}), {lit([(0, 0)] * (rank - 1) + [(lo, hi)])})")
    c = ctx.static_shape(0)[1]
    total = " + ".join(f"{sq}[..., {k}:{k + c}]" for k in range(size))
    return f"{x} / ops.power({lit(float(bias))} + {lit(float(alpha) / size)} * ({total}), {lit(float(beta))})"
