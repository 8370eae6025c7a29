"""Per-tensor layout tracking (nobuco's approach).

Every value carries a permutation `perm`: the Keras tensor is the ONNX tensor transposed by it
(`keras = onnx.transpose(perm)`), `None` meaning the ONNX layout itself. Layout-sensitive layers
(Conv, pooling, BatchNormalization) want channels-last; ops that do not care about the order of
axes pass the layout through (with their axis attributes remapped), and ops that really depend on
the ONNX order ask for the ONNX layout, which costs one transpose at that point.
"""

from __future__ import annotations

Perm = tuple[int, ...] | None


def channels_last(rank: int) -> tuple[int, ...]:
    """NC... -> N...C, e.g. (0, 2, 3, 1) for rank 4."""
    return (0, *range(2, rank), 1)


def is_identity(perm: Perm) -> bool:
    return perm is None or perm == tuple(range(len(perm)))


def norm(perm: Perm) -> Perm:
    return None if is_identity(perm) else perm


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


def to_keras_axis(axis: int, perm: Perm) -> int:
    """The Keras axis holding ONNX axis `axis` (non-negative)."""
    return axis if perm is None else perm.index(axis)


def between(src: Perm, dst: Perm, rank: int) -> tuple[int, ...] | None:
    """The transpose taking a tensor in layout `src` to layout `dst` (None when no-op).

    keras_src = onnx.T(src), keras_dst = onnx.T(dst) => keras_dst = keras_src.T(r) with
    r[i] = src^-1[dst[i]]."""
    s = src or tuple(range(rank))
    d = dst or tuple(range(rank))
    inv = inverse(s)
    r = tuple(inv[a] for a in d)
    return None if r == tuple(range(rank)) else r
