"""Shape and data movement: Reshape, Flatten, Transpose, Concat, Split, Slice, Squeeze, Unsqueeze,
Gather, Expand, Tile, Pad, DepthToSpace/SpaceToDepth. Ops whose meaning depends on the ONNX axis
order read their input in the ONNX layout; Concat, Split and Slice remap their axes instead."""

from __future__ import annotations

import numpy as np

from ..context import FLOATS, Ctx, Unpack, call, lit
from ..layout import between
from . import TABLE
from ._util import axis_of, common_perm, const_ints, keras_axis, operand, reshape_target


@TABLE.op("Reshape")
def reshape(ctx: Ctx) -> str:
    target = ctx.gen.reshape_target(ctx.node)
    if target is None:
        raise ctx.refuse("the target shape is not known at conversion time")
    return f"ops.reshape({ctx.x(0)}, {lit(target)})"


@TABLE.op("Flatten")
def flatten(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    if out is None:
        raise ctx.refuse("the output shape is unknown")
    return f"ops.reshape({ctx.x(0)}, {lit(reshape_target(ctx, out))})"


@TABLE.op("Squeeze")
def squeeze(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    if ctx.has(1):
        axes = tuple(axis_of(ctx, a, rank) for a in const_ints(ctx, 1, "axes"))
    else:
        shape = ctx.shape(0)
        assert shape is not None
        if not all(isinstance(d, int) for d in shape):
            raise ctx.refuse("Squeeze without axes needs a static shape")
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    if not axes:
        return ctx.x(0)
    perm = ctx.perm(0)
    if perm is not None:
        kept = [p for p in perm if p not in axes]
        # the kept axes in their Keras order, renumbered
        order = sorted(kept)
        new_perm = tuple(order.index(p) for p in kept)
        ctx.set_perm(0, new_perm)
        kaxes = tuple(sorted(perm.index(a) for a in axes))
        return f"ops.squeeze({ctx.x(0, perm)}, axis={lit(kaxes)})"
    return f"ops.squeeze({ctx.x(0)}, axis={lit(axes)})"


@TABLE.op("Unsqueeze")
def unsqueeze(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    if out is None:
        raise ctx.refuse("the output rank is unknown")
    axes = sorted(axis_of(ctx, a, len(out)) for a in const_ints(ctx, 1, "axes"))
    x = ctx.x(0)
    for a in axes:
        x = f"ops.expand_dims({x}, {a})"
    return x


@TABLE.op("Transpose")
def transpose(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    perm = tuple(int(p) for p in ctx.attr("perm", list(range(rank))[::-1]))
    have = ctx.perm(0)
    # the Keras tensor is onnx.T(have); the result is onnx.T(perm): transpose by have^-1[perm]
    r = between(have, perm, rank)
    x = ctx.x(0, have)
    return x if r is None else f"ops.transpose({x}, {lit(r)})"


@TABLE.op("Concat")
def concat(ctx: Ctx) -> str:
    idxs = [i for i in range(ctx.n_in) if ctx.has(i)]
    rank = ctx.out_shape(0)
    if rank is None:
        raise ctx.refuse("the output rank is unknown")
    perm = common_perm(ctx, idxs)
    xs = [operand(ctx, i, perm) if ctx.const(i) is None else _full_const(ctx, i, perm) for i in idxs]
    ctx.set_perm(0, perm)
    axis = keras_axis(ctx, ctx.attr("axis"), len(rank), perm)
    return f"ops.concatenate([{', '.join(xs)}], axis={axis})"


def _full_const(ctx: Ctx, i: int, perm: tuple[int, ...] | None) -> str:
    c = ctx.const(i)
    assert c is not None
    if perm is not None:
        c = c.transpose(perm)
    return ctx.constant(c, hint=ctx.value(i).name)


@TABLE.op("Split")
def split(ctx: Ctx) -> Unpack:
    rank = ctx.need_rank(0)
    shape = ctx.shape(0)
    assert shape is not None
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    size = shape[axis]
    if not isinstance(size, int):
        raise ctx.refuse("the split axis must have a static size")
    n = ctx.n_out
    if ctx.has(1):
        sizes = const_ints(ctx, 1, "split")
    else:
        parts = ctx.attr("num_outputs", n)
        chunk = -(-size // parts)
        sizes = [min(chunk, size - k * chunk) for k in range(parts)]
    cuts = list(np.cumsum(sizes)[:-1])
    perm = ctx.perm(0)
    for j in range(n):
        ctx.set_perm(j, perm)
    kaxis = keras_axis(ctx, axis, rank, perm)
    return Unpack(f"ops.split({ctx.x(0, perm)}, {lit([int(c) for c in cuts])}, axis={kaxis})", len(sizes))


@TABLE.op("Slice")
def slice_(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    shape = ctx.shape(0)
    assert shape is not None
    starts = const_ints(ctx, 1, "starts")
    ends = const_ints(ctx, 2, "ends")
    axes = const_ints(ctx, 3, "axes") if ctx.has(3) else list(range(len(starts)))
    steps = const_ints(ctx, 4, "steps") if ctx.has(4) else [1] * len(starts)
    perm = ctx.perm(0)
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    kshape = [shape[p] for p in perm] if perm is not None else list(shape)
    begin = [0] * rank
    size = list(kshape)
    takes = []
    for a, s, e, st in zip(axes, starts, ends, steps):
        a = axis_of(ctx, a, rank)
        dim = shape[a]
        if not isinstance(dim, int):
            raise ctx.refuse("Slice along a dimension of unknown size")
        if st == 0:
            raise ctx.refuse("step 0")
        idx = np.arange(dim)[slice(s, e, st)]
        ka = perm.index(a) if perm is not None else a
        if st == 1 and idx.size:
            begin[ka], size[ka] = int(idx[0]), int(idx.size)
        else:
            takes.append((ka, idx))
    expr = x
    if begin != [0] * rank or size != kshape:
        if not all(isinstance(d, int) for d in size):
            raise ctx.refuse("Slice of a tensor with dimensions of unknown size")
        expr = f"ops.slice({x}, {lit(tuple(begin))}, {lit(tuple(size))})"
    for ka, idx in takes:
        expr = f"ops.take({expr}, {ctx.constant(idx.astype(np.int64), 'index')}, axis={ka})"
    return expr


@TABLE.op("Gather")
def gather(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    shape = ctx.shape(0)
    assert shape is not None
    axis = axis_of(ctx, ctx.attr("axis", 0), rank)
    dim = shape[axis]
    data = ctx.const(0)
    idx = ctx.const(1)
    if idx is not None:
        if not isinstance(dim, int):
            raise ctx.refuse("constant indices into a dimension of unknown size")
        idx = np.where(idx < 0, idx + dim, idx).astype(np.int64)
        if idx.ndim == 0:
            return f"ops.take({ctx.x(0)}, {int(idx)}, axis={axis})"
        return f"ops.take({ctx.x(0)}, {ctx.constant(idx, 'index')}, axis={axis})"
    if not isinstance(dim, int):
        raise ctx.refuse("indices into a dimension of unknown size")
    ids = f"ops.mod({ctx.x(1)}, {dim})"  # ONNX allows negative indices counted from the end
    if data is not None and data.ndim == 2 and axis == 0 and ctx.elem(0) in FLOATS:
        layer = ctx.layer(call("layers.Embedding", lit(int(data.shape[0])), lit(int(data.shape[1]))), {"embeddings": data})
        return f"{layer}({ids})"
    return f"ops.take({ctx.x(0)}, {ids}, axis={axis})"


@TABLE.op("Expand")
def expand(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    in_shape = ctx.shape(0)
    target = ctx.const(1)
    if target is not None and in_shape is not None and all(isinstance(d, int) for d in in_shape):
        out = tuple(int(d) for d in np.broadcast_shapes(tuple(in_shape), tuple(int(t) for t in target.reshape(-1))))
    if out is None or not all(isinstance(d, int) for d in out):
        raise ctx.refuse("Expand needs a static output shape")
    if in_shape is not None and tuple(in_shape) == tuple(out):
        perm = ctx.perm(0)
        ctx.set_perm(0, perm)
        return ctx.x(0, perm)
    return f"ops.broadcast_to({ctx.x(0)}, {lit(tuple(out))})"


@TABLE.op("Tile")
def tile(ctx: Ctx) -> str:
    reps = const_ints(ctx, 1, "repeats")
    return f"ops.tile({ctx.x(0)}, {lit(reps)})"


@TABLE.op("Pad")
def pad(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    pads = const_ints(ctx, 1, "pads")
    axes = [axis_of(ctx, a, rank) for a in const_ints(ctx, 3, "axes")] if ctx.has(3) else list(range(rank))
    n = len(axes)
    width = [[0, 0] for _ in range(rank)]
    for k, a in enumerate(axes):
        width[a] = [pads[k], pads[k + n]]
    if any(p < 0 for w in width for p in w):
        raise ctx.refuse("negative pads (cropping)")
    mode = ctx.attr("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    perm = ctx.perm(0)
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    if perm is not None:
        width = [width[p] for p in perm]
    kw = ""
    if mode == "constant":
        value = ctx.scalar(2) if ctx.has(2) else None
        if ctx.has(2) and value is None:
            # a pad value computed at run time: pad, then fill where the pad mask says so
            w = lit([tuple(v) for v in width])
            mask = f"ops.pad(ops.ones_like({x}, dtype='bool'), {w})"
            return f"ops.where({mask}, ops.pad({x}, {w}), ops.cast({ctx.x(2)}, {lit(ctx.dtype(ctx.elem(0)))}))"
        if value not in (None, "0", "0.0", "False"):
            kw = f", constant_values={value}"
    elif mode in ("reflect", "edge"):
        kw = f", mode={lit('reflect' if mode == 'reflect' else 'edge')}"
    elif mode == "wrap":
        raise ctx.refuse("wrap padding (keras.ops.pad has no wrap mode on every backend)")
    else:
        raise ctx.refuse(f"pad mode {mode!r}")
    return f"ops.pad({x}, {lit([tuple(w) for w in width])}{kw})"


@TABLE.op("DepthToSpace", "SpaceToDepth")
def depth_space(ctx: Ctx) -> str:
    shape = ctx.static_shape(0)
    if len(shape) != 4:
        raise ctx.refuse("a rank-4 input is required")
    b = int(ctx.attr("blocksize"))
    n, c, h, w = shape
    x = ctx.x(0)
    mode = ctx.attr("mode", "DCR")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("DCR", "CRD"):
        raise ctx.refuse(f"mode {mode!r}")
    if ctx.node.op_type == "DepthToSpace":
        if mode == "DCR":
            t = f"ops.reshape({x}, {lit((n, b, b, c // (b * b), h, w))})"
            t = f"ops.transpose({t}, (0, 3, 4, 1, 5, 2))"
        else:
            t = f"ops.reshape({x}, {lit((n, c // (b * b), b, b, h, w))})"
            t = f"ops.transpose({t}, (0, 1, 4, 2, 5, 3))"
        return f"ops.reshape({t}, {lit((n, c // (b * b), h * b, w * b))})"
    t = f"ops.reshape({x}, {lit((n, c, h // b, b, w // b, b))})"
    t = f"ops.transpose({t}, {(0, 3, 5, 1, 2, 4) if mode == 'DCR' else (0, 1, 3, 5, 2, 4)})"
    return f"ops.reshape({t}, {lit((n, c * b * b, h // b, w // b))})"


_ = FLOATS
