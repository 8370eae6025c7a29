"""Shape ops: Reshape / Flatten / Squeeze / Unsqueeze (a Reshape layer, or nothing when the ncnn
shape does not change), Transpose -> Permute, Concat, Slice -> Crop, Split -> Slice, Gather.

Axes are mapped to ncnn's batch-less axes (see ../shapes.py). Transpose drops size-1 axes first
(moving them costs nothing), so a permutation of at most 4 real axes always has a Permute
order_type."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from ..shapes import axis_map, ncnn_axis, ncnn_shape
from . import TABLE

# Permute order_type by output axes listed innermost first (ncnn src/layer/permute.cpp)
_ORDERS = {
    2: ["w h", "h w"],
    3: ["w h c", "h w c", "w c h", "c w h", "h c w", "c h w"],
    4: [
        "w h d c", "h w d c", "w d h c", "d w h c", "h d w c", "d h w c", "w h c d", "h w c d", "w c h d",
        "c w h d", "h c w d", "c h w d", "w d c h", "d w c h", "w c d h", "c w d h", "d c w h", "c d w h",
        "h d c w", "d h c w", "h c d w", "c h d w", "d c h w", "c d h w",
    ],
}
_AXIS_NAMES = {2: "hw", 3: "chw", 4: "cdhw"}


def permute_order_type(perm: list[int]) -> int:
    names = _AXIS_NAMES[len(perm)]
    key = " ".join(names[p] for p in reversed(perm))
    return _ORDERS[len(perm)].index(key)


def _reshape_to(b: Builder, node: ir.Node, shape: tuple[int, ...]) -> None:
    x = node.input(0)
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(b.shape(x), dtype=np.int64)):
        raise UnsupportedOp(f"cannot reshape {list(b.shape(x))} to {list(shape)}")
    b.alias(node.outputs[0], x, shape)


@TABLE.op("Reshape")
def reshape(b: Builder, node: ir.Node) -> None:
    x, s = node.input(0), node.input(1)
    if s.const is None:
        raise UnsupportedOp("the target shape is not a constant")
    src = b.shape(x)
    target = [int(d) for d in s.const.reshape(-1)]
    allow_zero = int(node.attr("allowzero", 0))
    out = []
    for i, d in enumerate(target):
        out.append(src[i] if d == 0 and not allow_zero else d)
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1], dtype=np.int64))
        out[out.index(-1)] = int(np.prod(src, dtype=np.int64)) // max(known, 1)
    _reshape_to(b, node, tuple(out))


@TABLE.op("Flatten")
def flatten(b: Builder, node: ir.Node) -> None:
    shape = b.shape(node.input(0))
    axis = int(node.attr("axis", 1))
    axis = axis + len(shape) if axis < 0 else axis
    _reshape_to(b, node, (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64))))


@TABLE.op("Squeeze")
def squeeze(b: Builder, node: ir.Node) -> None:
    shape = b.shape(node.input(0))
    axes = node.input(1)
    if axes is None:
        out = tuple(d for d in shape if d != 1)
    else:
        if axes.const is None:
            raise UnsupportedOp("axes are not a constant")
        drop = {int(a) % len(shape) for a in axes.const.reshape(-1)}
        out = tuple(d for i, d in enumerate(shape) if i not in drop)
    _reshape_to(b, node, out)


@TABLE.op("Unsqueeze")
def unsqueeze(b: Builder, node: ir.Node) -> None:
    shape = list(b.shape(node.input(0)))
    axes = node.input(1)
    if axes is None or axes.const is None:
        raise UnsupportedOp("axes are not a constant")
    r = len(shape) + axes.const.size
    for a in sorted(int(a) % r for a in axes.const.reshape(-1)):
        shape.insert(a, 1)
    _reshape_to(b, node, tuple(shape))


@TABLE.op("Dropout")
def dropout(b: Builder, node: ir.Node) -> None:
    if len(node.outputs) > 1 and node.outputs[1] is not None and b.users.get(id(node.outputs[1])):
        raise UnsupportedOp("the mask output")
    training = node.input(2)
    if training is not None and (training.const is None or bool(training.const)):
        raise UnsupportedOp("training mode")
    b.alias(node.outputs[0], node.input(0), b.shape(node.input(0)))


@TABLE.op("Transpose")
def transpose(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    r = len(shape)
    perm = [int(p) for p in node.attr("perm", list(reversed(range(r))))]
    out_shape = tuple(shape[p] for p in perm)
    kept = [i for i in range(r) if shape[i] != 1]
    order = [p for p in perm if shape[p] != 1]
    if order == kept:
        b.alias(node.outputs[0], x, out_shape)
        return
    if len(kept) > 4:
        raise UnsupportedOp(f"a permutation of {len(kept)} axes (ncnn permutes at most 4)")
    squeezed = tuple(shape[i] for i in kept)
    q = [kept.index(p) for p in order]
    out_sq = tuple(squeezed[i] for i in q)
    blob = b.layer1("Permute", [b.view(x, squeezed)], out_sq, {0: permute_order_type(q)})
    b.bind(node.outputs[0], blob, out_shape)


@TABLE.op("Concat")
def concat(b: Builder, node: ir.Node) -> None:
    ins = [v for v in node.inputs if v is not None]
    shapes = [b.shape(v) for v in ins]
    r = len(shapes[0])
    axis = int(node.attr("axis")) % r
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    out_shape = tuple(out_shape)
    ins_nz = [(v, s) for v, s in zip(ins, shapes) if s[axis] > 0]
    if len(ins_nz) == 1:
        b.alias(node.outputs[0], ins_nz[0][0], out_shape)
        return
    # the output's kept axes (batch / size-1 axes ncnn_shape drops are size 1 in every input too,
    # unless they are the concatenation axis, which then has size > 1 and is kept)
    amap = axis_map(out_shape)
    if amap[axis] is None:
        raise UnsupportedOp("concatenation along the batch axis")
    keep = [i for i in range(r) if amap[i] is not None]
    views = [b.view(v, tuple(s[i] for i in keep)) for v, s in ins_nz]
    blob = b.layer1("Concat", views, ncnn_shape(out_shape), {0: amap[axis]})
    b.bind(node.outputs[0], blob, out_shape)


def crop(b: Builder, x: ir.Value, starts: dict[int, int], ends: dict[int, int], out: ir.Value | None, out_shape: tuple[int, ...]) -> None:
    """Crop the ONNX axes in `starts` (normalised, step 1) of x; binds out with out_shape."""
    shape = b.shape(x)
    full = tuple(ends.get(i, shape[i]) - starts.get(i, 0) for i in range(len(shape)))
    if full == tuple(shape):
        b.alias(out, x, out_shape)
        return
    amap = axis_map(shape)  # cropped axes have size > 1, so ncnn keeps them
    axes = sorted(i for i in starts if full[i] != shape[i])
    if any(amap[i] is None for i in axes):
        raise UnsupportedOp("internal: crop of an axis ncnn drops")
    params = {
        9: [starts[i] for i in axes],
        10: [ends[i] for i in axes],
        11: [amap[i] for i in axes],
    }
    out_n = tuple(full[i] for i in range(len(shape)) if amap[i] is not None)
    blob = b.layer1("Crop", [b.blob(x)], out_n, params)
    b.bind(out, blob, out_shape)


@TABLE.op("Slice")
def slice_(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    consts = [node.input(i) for i in range(1, 5)]
    if any(v is not None and v.const is None for v in consts):
        raise UnsupportedOp("starts/ends/axes/steps that are not constants")
    starts_v, ends_v = consts[0].const.reshape(-1), consts[1].const.reshape(-1)
    axes_v = consts[2].const.reshape(-1) if consts[2] is not None else np.arange(len(starts_v))
    steps_v = consts[3].const.reshape(-1) if consts[3] is not None else np.ones(len(starts_v), np.int64)
    starts, ends = {}, {}
    for s, e, a, st in zip(starts_v, ends_v, axes_v, steps_v):
        a = int(a) % len(shape)
        if int(st) != 1:
            raise UnsupportedOp(f"step {int(st)} (ncnn's Crop takes step 1 only)")
        dim = shape[a]
        s, e = int(s), int(e)
        s = min(max(s + dim if s < 0 else s, 0), dim)
        e = min(max(e + dim if e < 0 else e, 0), dim)
        if e <= s:
            raise UnsupportedOp("an empty slice")
        starts[a], ends[a] = s, e
    out_shape = tuple(ends.get(i, shape[i]) - starts.get(i, 0) for i in range(len(shape)))
    crop(b, x, starts, ends, node.outputs[0], out_shape)


@TABLE.op("Split")
def split(b: Builder, node: ir.Node) -> None:
    x = node.input(0)
    shape = b.shape(x)
    axis = int(node.attr("axis", 0)) % len(shape)
    outs = [v for v in node.outputs]
    if node.input(1) is not None:
        if node.input(1).const is None:
            raise UnsupportedOp("split sizes that are not a constant")
        sizes = [int(s) for s in node.input(1).const.reshape(-1)]
    else:
        n = len(outs)
        k = -(-shape[axis] // n)
        sizes = [k] * (n - 1) + [shape[axis] - k * (n - 1)]
    if sum(sizes) != shape[axis] or any(s <= 0 for s in sizes):
        raise UnsupportedOp(f"split sizes {sizes}")
    nax = ncnn_axis(shape, axis)
    if nax is None:
        raise UnsupportedOp("split along the batch axis")
    nin = ncnn_shape(shape)
    out_shapes = []
    for s in sizes:
        o = list(shape)
        o[axis] = s
        out_shapes.append(tuple(o))
    n_shapes = []
    for o in out_shapes:
        n = list(nin)
        n[nax] = o[axis]
        n_shapes.append(tuple(n))
    blobs = b.layer(
        "Slice", [b.blob(x)], n_shapes, {0: sizes, 1: nax},
        out_hints=[v.name if v is not None else f"{node.name}_unused" for v in outs],
    )
    for v, blob, o in zip(outs, blobs, out_shapes):
        b.bind(v, blob, o)


@TABLE.op("Gather")
def gather(b: Builder, node: ir.Node) -> None:
    data, idx = node.input(0), node.input(1)
    axis = int(node.attr("axis", 0))
    if data.const is not None:
        _embed(b, node, data.const, idx, axis)
        return
    if idx.const is None:
        raise UnsupportedOp("indices into a computed tensor that are not constants")
    shape = b.shape(data)
    axis %= len(shape)
    ind = idx.const.astype(np.int64).reshape(-1)
    dim = shape[axis]
    ind = np.where(ind < 0, ind + dim, ind)
    if np.any(ind < 0) or np.any(ind >= dim):
        raise UnsupportedOp("indices out of range")
    if ind.size == 0 or not np.array_equal(ind, np.arange(ind[0], ind[0] + ind.size)):
        raise UnsupportedOp("indices that are not one contiguous ascending range (ncnn has no general gather)")
    out_shape = tuple(shape[:axis]) + tuple(idx.const.shape) + tuple(shape[axis + 1:])
    start, end = int(ind[0]), int(ind[0]) + ind.size
    if ncnn_axis(shape, axis) is None and (start, end) != (0, dim):
        raise UnsupportedOp("internal: gather along the batch axis")
    crop(b, data, {axis: start}, {axis: end}, node.outputs[0], out_shape)


def _embed(b: Builder, node: ir.Node, table: np.ndarray, idx: ir.Value, axis: int) -> None:
    """A lookup in a constant (V, D) table by int32 indices fed straight from a graph input -> Embed.
    ncnn's Embed clamps indices to [0, V); the inputs are ids in [0, V) (negative ids wrap in ONNX
    and are not supported)."""
    if axis != 0 or table.ndim != 2:
        raise UnsupportedOp("a lookup in a constant table other than rows of a matrix")
    if id(idx) not in b.int32_inputs:
        raise UnsupportedOp("embedding indices must come straight from an integer graph input (ncnn's Embed reads int32)")
    v_count, dim = table.shape
    ishape = b.shape(idx)
    count = int(np.prod(ishape, dtype=np.int64))
    params = {0: int(dim), 1: int(v_count), 2: 0, 3: int(table.size)}
    blob = b.layer1(
        "Embed", [b.view(idx, (count,))], (count, dim), params, [Weight(float_data(table, "the table"), flagged=True)]
    )
    b.bind(node.outputs[0], blob, (*ishape, dim))
