"""Shape and data movement: Reshape, Flatten, Transpose, Concat, Split, Slice, Squeeze, Unsqueeze,
Gather, Expand, Tile, Pad, CenterCropPad, DepthToSpace/SpaceToDepth. Ops whose meaning depends on
the ONNX axis order read their input in the ONNX layout; Concat, Split and Slice remap their axes
instead. Parameters given at run time (Slice's starts, Pad's pads, ...) are used at run time: the
output's static shape fixes the sizes, the values say where to read."""

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


def _reshape_to_output(ctx: Ctx, why: str) -> str:
    """Squeeze / Unsqueeze keep the order of the elements: with axes known only at run time, the
    result is the input reshaped to the output shape the model states."""
    out = ctx.out_shape(0)
    if out is None:
        raise ctx.refuse(f"{why}, and the output shape is unknown")
    return f"ops.reshape({ctx.x(0)}, {lit(reshape_target(ctx, out))})"


@TABLE.op("Squeeze")
def squeeze(ctx: Ctx) -> str:
    if ctx.has(1) and ctx.const(1) is None:
        return _reshape_to_output(ctx, "the axes are computed at run time")
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
    if ctx.const(1) is None:
        return _reshape_to_output(ctx, "the axes are computed at run time")
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
    if ctx.has(1) and ctx.const(1) is None:
        sizes = _sizes_from_outputs(ctx, axis, size)
    elif ctx.has(1):
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


def _sizes_from_outputs(ctx: Ctx, axis: int, size: int) -> list[int]:
    """Split sizes computed at run time: each output's static size along the axis is its part."""
    sizes = []
    for j in range(ctx.n_out):
        shape = ctx.out_shape(j) if ctx.has_out(j) else None
        if shape is None or len(shape) <= axis or not isinstance(shape[axis], int):
            raise ctx.refuse("split sizes computed at run time need every output's size along the axis")
        sizes.append(int(shape[axis]))
    if sum(sizes) != size:
        raise ctx.refuse("the outputs' sizes do not add up to the input's")
    return sizes


@TABLE.op("Slice")
def slice_(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    shape = ctx.shape(0)
    assert shape is not None
    if any(ctx.has(i) and ctx.const(i) is None for i in range(1, 5)):
        return _slice_at_run_time(ctx, rank)
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


def _const_axes(ctx: Ctx, i: int, n: int, rank: int) -> list[int] | None:
    """The axes input i as non-negative ints (absent: the first n axes); None when it is computed
    at run time."""
    if ctx.has(i) and ctx.const(i) is None:
        return None
    axes = [axis_of(ctx, a, rank) for a in const_ints(ctx, i, "axes")] if ctx.has(i) else list(range(n))
    if len(set(axes)) != len(axes) or len(axes) != n:
        raise ctx.refuse("the axes repeat, or do not match the parameters in number")
    return axes


class _PerAxis:
    """Spreads per-axis parameters (one entry per listed axis, like Slice's starts or Pad's pads)
    over all `rank` axes as (rank,) int64 vectors, for axes known now or only at run time."""

    def __init__(self, ctx: Ctx, axes_input: int, n: int, rank: int) -> None:
        self.ctx, self.rank = ctx, rank
        self.axes = _const_axes(ctx, axes_input, n, rank)
        self.hits: str | None = None
        if self.axes is None:
            # (n, rank) bools: entry k applies to axis d
            axes = ctx.assign("axes", f"ops.cast({ctx.x(axes_input)}, 'int64')")
            axes = f"ops.where(ops.less({axes}, 0), ops.add({axes}, {rank}), {axes})"
            self.hits = ctx.assign("axis_hits", f"ops.equal(ops.expand_dims({axes}, 1), ops.arange({rank}, dtype='int64'))")

    def touched(self) -> list[int]:
        """The axes the parameters may change."""
        return list(range(self.rank)) if self.axes is None else sorted(self.axes)

    def spread(self, values: str, default: int) -> str:
        """The (rank,) vector holding values[k] at the axis entry k names, `default` elsewhere."""
        v = f"ops.cast({values}, 'int64')"
        if self.axes is None:
            picked = f"ops.sum(ops.where({self.hits}, ops.expand_dims({v}, 1), 0), axis=0)"
            return f"ops.where(ops.any({self.hits}, axis=0), {picked}, {default})"
        if self.axes == list(range(self.rank)):
            return v
        order = [self.axes.index(d) if d in self.axes else 0 for d in range(self.rank)]
        taken = f"ops.take({v}, {lit(order)})"
        if len(self.axes) == self.rank:
            return taken
        listed = self.ctx.constant(np.array([d in self.axes for d in range(self.rank)]), "listed")
        return f"ops.where({listed}, {taken}, {default})"


def _slice_at_run_time(ctx: Ctx, rank: int) -> str:
    """Slice with starts/ends/axes/steps computed at run time. The output's static shape fixes how
    many elements each axis keeps; where they start (and their stride) comes from the run-time
    values, clamped as ONNX does."""
    dims = ctx.constant(np.array(ctx.static_shape(0), np.int64), "dims")
    out = ctx.out_static(0)
    n = ctx.static_shape(1)[0] if ctx.static_shape(1) else 0
    axes = _PerAxis(ctx, 3, n, rank)
    start = ctx.assign("start", axes.spread(ctx.x(1), 0))
    start = f"ops.where(ops.less({start}, 0), ops.add({start}, {dims}), {start})"
    steps = ctx.const(4) if ctx.has(4) else np.ones(n, np.int64)
    if steps is not None and np.any(steps == 0):
        raise ctx.refuse("step 0")
    if steps is not None and np.all(steps == 1):
        # unit steps: one slice; ONNX clamps a start into [0, dim]
        start = ctx.assign("start", f"ops.minimum(ops.maximum({start}, 0), {dims})")
        return f"ops.slice({ctx.x(0)}, {start}, {lit(tuple(out))})"
    step = ctx.assign("step", axes.spread(ctx.x(4), 1))
    # a negative step clamps its start into [0, dim - 1]
    high = f"ops.where(ops.greater({step}, 0), {dims}, ops.subtract({dims}, 1))"
    start = ctx.assign("start", f"ops.minimum(ops.maximum({start}, 0), {high})")
    expr = ctx.x(0)
    for d in axes.touched():
        idx = f"ops.add(ops.take({start}, {d}), ops.multiply(ops.arange({out[d]}, dtype='int64'), ops.take({step}, {d})))"
        expr = ctx.assign("sliced", f"ops.take({expr}, {idx}, axis={d})")
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
    if ctx.const(1) is None:
        # repeats computed at run time: the static shapes fix them (out = in * repeats)
        src, out = ctx.static_shape(0), ctx.out_static(0)
        if len(src) != len(out) or any(i and o % i for i, o in zip(src, out)):
            raise ctx.refuse("the output shape is not a multiple of the input shape")
        reps = [o // i if i else 1 for i, o in zip(src, out)]
        return f"ops.tile({ctx.x(0)}, {lit(reps)})"
    reps = const_ints(ctx, 1, "repeats")
    return f"ops.tile({ctx.x(0)}, {lit(reps)})"


PAD_MODES = ("constant", "reflect", "edge", "wrap")


@TABLE.op("Pad")
def pad(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    mode = ctx.attr("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode not in PAD_MODES:
        raise ctx.refuse(f"pad mode {mode!r}")
    if ctx.const(1) is None or (ctx.has(3) and ctx.const(3) is None):
        return _pad_at_run_time(ctx, rank, mode)
    pads = const_ints(ctx, 1, "pads")
    axes = _const_axes(ctx, 3, len(pads) // 2, rank)
    assert axes is not None
    n = len(axes)
    width = [[0, 0] for _ in range(rank)]
    for k, a in enumerate(axes):
        width[a] = [pads[k], pads[k + n]]
    perm = ctx.perm(0)
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    if perm is not None:
        width = [width[p] for p in perm]
    if mode != "constant":
        # the source index of every output position, from numpy's own pad of the index range
        # (ONNX's reference is np.pad); negative pads crop first, as onnxruntime does
        shape = ctx.static_shape(0)
        kshape = [shape[p] for p in perm] if perm is not None else list(shape)
        for ka, (lo, hi) in enumerate(width):
            if lo or hi:
                idx = _pad_index(ctx, kshape[ka], lo, hi, mode)
                x = f"ops.take({x}, {ctx.constant(idx, 'pad_index')}, axis={ka})"
        return x
    if any(p < 0 for w in width for p in w):
        # negative pads crop: a slice first, then the padding that remains
        kshape = ctx.static_shape(0) if perm is None else tuple(ctx.static_shape(0)[p] for p in perm)
        begin = [max(-lo, 0) for lo, _ in width]
        size = [d - max(-lo, 0) - max(-hi, 0) for d, (lo, hi) in zip(kshape, width)]
        x = ctx.assign("cropped", f"ops.slice({x}, {lit(tuple(begin))}, {lit(tuple(size))})")
        width = [[max(lo, 0), max(hi, 0)] for lo, hi in width]
    w = lit([tuple(v) for v in width])
    value = ctx.scalar(2) if ctx.has(2) else None
    if ctx.has(2) and value is None:
        # a pad value computed at run time: pad, then fill where the pad mask says so
        mask = f"ops.pad(ops.ones_like({x}, dtype='bool'), {w})"
        return f"ops.where({mask}, ops.pad({x}, {w}), ops.cast({ctx.x(2)}, {lit(ctx.dtype(ctx.elem(0)))}))"
    kw = f", constant_values={value}" if value not in (None, "0", "0.0", "False") else ""
    return f"ops.pad({x}, {w}{kw})"


@TABLE.op("CenterCropPad")
def center_crop_pad(ctx: Ctx) -> str:
    """The output's static shape is the `shape` input's value (ONNX requires it), so the crop and
    the padding of each axis are known now: centred, the odd element at the end."""
    dims = ctx.static_shape(0)
    out = ctx.out_static(0)
    if len(dims) != len(out):
        raise ctx.refuse("the output rank differs from the input's")
    perm = ctx.perm(0)
    x = ctx.x(0, perm)
    ctx.set_perm(0, perm)
    order = perm if perm is not None else tuple(range(len(dims)))
    kin, kout = [dims[p] for p in order], [out[p] for p in order]
    if any(m < d for d, m in zip(kin, kout)):
        begin = tuple((d - m) // 2 if m < d else 0 for d, m in zip(kin, kout))
        x = f"ops.slice({x}, {lit(begin)}, {lit(tuple(min(d, m) for d, m in zip(kin, kout)))})"
    if any(m > d for d, m in zip(kin, kout)):
        width = [((m - d) // 2, m - d - (m - d) // 2) if m > d else (0, 0) for d, m in zip(kin, kout)]
        x = f"ops.pad({x}, {lit(width)})"
    return x


def _pad_index(ctx: Ctx, size: int, lo: int, hi: int, mode: str) -> np.ndarray:
    kept = np.arange(size, dtype=np.int64)[max(-lo, 0): size - max(-hi, 0)]
    if kept.size == 0 and (lo > 0 or hi > 0):
        raise ctx.refuse(f"{mode} padding of an empty axis")
    return np.pad(kept, (max(lo, 0), max(hi, 0)), mode=mode)


def _pad_at_run_time(ctx: Ctx, rank: int, mode: str) -> str:
    """Pad with pads (or axes) computed at run time. The output's static shape fixes each axis's
    length; the run-time pads say where the input lands in it: each axis becomes a gather whose
    indices are computed from them (constant mode masks the positions outside the input)."""
    dims = ctx.static_shape(0)
    out = ctx.out_static(0)
    n = ctx.static_shape(1)[0] // 2 if ctx.static_shape(1) else 0
    axes = _PerAxis(ctx, 3, n, rank)
    pads = ctx.x(1)
    before = ctx.assign("pad_before", axes.spread(f"ops.slice({pads}, [0], [{n}])", 0))
    after = ctx.assign("pad_after", axes.spread(f"ops.slice({pads}, [{n}], [{n}])", 0)) if mode != "constant" else ""
    dtype = lit(ctx.dtype(ctx.elem(0)))
    value = None
    if mode == "constant":
        s = ctx.scalar(2) if ctx.has(2) else None
        value = f"ops.cast({s if s is not None else ctx.x(2) if ctx.has(2) else 0}, {dtype})"
        if ctx.has(2) and s is None:
            value = ctx.assign("pad_value", f"ops.reshape({value}, ())")
    x = ctx.x(0)
    for d in axes.touched():
        pos = f"ops.arange({out[d]}, dtype='int64')"
        if mode == "constant":
            j = ctx.assign("src", f"ops.subtract({pos}, ops.take({before}, {d}))")
            inside = f"ops.logical_and(ops.greater_equal({j}, 0), ops.less({j}, {dims[d]}))"
            shape = [1] * rank
            shape[d] = out[d]
            taken = f"ops.take({x}, ops.clip({j}, 0, {max(dims[d] - 1, 0)}), axis={d})"
            x = ctx.assign("padded", f"ops.where(ops.reshape({inside}, {lit(tuple(shape))}), {taken}, {value})")
            continue
        # negative pads crop first (onnxruntime's order): the kept run is [lo, lo + length)
        lo = ctx.assign("crop", f"ops.maximum(ops.negative(ops.take({before}, {d})), 0)")
        length = ctx.assign(
            "length", f"ops.subtract(ops.subtract({dims[d]}, {lo}), ops.maximum(ops.negative(ops.take({after}, {d})), 0))"
        )
        j = ctx.assign("src", f"ops.subtract({pos}, ops.maximum(ops.take({before}, {d}), 0))")
        if mode == "edge":
            k = f"ops.minimum(ops.maximum({j}, 0), ops.subtract({length}, 1))"
        elif mode == "wrap":
            k = f"ops.mod({j}, {length})"
        else:  # reflect: period 2 * (length - 1), mirrored in its second half (numpy's rule)
            period = ctx.assign("period", f"ops.maximum(ops.multiply(ops.subtract({length}, 1), 2), 1)")
            m = ctx.assign("src", f"ops.mod({j}, {period})")
            k = f"ops.where(ops.less({m}, {length}), {m}, ops.subtract({period}, {m}))"
        x = ctx.assign("padded", f"ops.take({x}, ops.add({k}, {lo}), axis={d})")
    return x


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
