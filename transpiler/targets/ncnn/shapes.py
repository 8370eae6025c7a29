"""ONNX shapes -> ncnn shapes.

ncnn has no batch axis: a blob is 1-4 dims (w; h,w; c,h,w; c,d,h,w — written here as numpy shapes,
outermost first). An ONNX tensor of shape S is held as ncnn shape `ncnn_shape(S)`: S without its
leading axis when that axis is 1 (the batch of a batch-1 model) and the rank is at least 2, else S
itself; a scalar is a 1-element 1-D blob. The element order is the same (row-major), so an ONNX
array only needs a reshape, never a transpose, to become the ncnn blob.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import UnsupportedOp

MAX_DIMS = 4


def drops_batch(shape: Sequence[int]) -> bool:
    return len(shape) >= 2 and shape[0] == 1


def ncnn_shape(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    if any(d <= 0 for d in shape):
        raise UnsupportedOp(f"a tensor of shape {list(shape)} is empty; ncnn has no empty blobs")
    if not shape:
        return (1,)
    out = shape[1:] if drops_batch(shape) else shape
    while len(out) > MAX_DIMS and 1 in out:  # size-1 axes cost nothing to drop
        i = out.index(1)
        out = out[:i] + out[i + 1:]
    if len(out) > MAX_DIMS:
        raise UnsupportedOp(
            f"a tensor of shape {list(shape)} has {len(out)} dims besides a batch of 1; ncnn blobs hold at most {MAX_DIMS}"
        )
    return out


def aligned(in_shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """The ncnn shape of an operand broadcast (numpy rules) against an output of `out_shape`,
    with as many axes as the output's ncnn shape (leading 1s added, the batch axis dropped the
    way the output drops it)."""
    out_n = ncnn_shape(out_shape)
    r = len(out_shape)
    if r == 0:
        return (1,)
    padded = (1,) * (r - len(in_shape)) + tuple(int(d) for d in in_shape)
    return padded[r - len(out_n):]


def ncnn_axis(shape: Sequence[int], axis: int) -> int | None:
    """The ncnn axis of ONNX `axis` of a tensor of `shape` (None: the dropped batch axis)."""
    r = len(shape)
    axis = axis + r if axis < 0 else axis
    if not 0 <= axis < max(r, 1):
        raise UnsupportedOp(f"axis {axis} out of range for rank {r}")
    return axis_map(shape)[axis]


def axis_map(shape: Sequence[int]) -> list[int | None]:
    """ncnn axis of each ONNX axis of `shape` (None: an axis ncnn_shape dropped)."""
    keep = list(range(len(shape)))
    if drops_batch(shape):
        keep = keep[1:]
    while len(keep) > MAX_DIMS and any(shape[i] == 1 for i in keep):
        keep.remove(next(i for i in keep if shape[i] == 1))
    return [keep.index(i) if i in keep else None for i in range(len(shape))]


def broadcast(*shapes: Sequence[int]) -> tuple[int, ...]:
    r = max(len(s) for s in shapes)
    out = []
    for i in range(r):
        dims = {s[i - (r - len(s))] for s in shapes if i - (r - len(s)) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise UnsupportedOp(f"shapes {[list(s) for s in shapes]} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)
