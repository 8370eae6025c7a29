"""Pooling: MaxPool, AveragePool, LpPool, global pooling, MaxUnpool.

`F.max_pool*` / `F.avg_pool*` / `F.lp_pool*` are emitted when they compute exactly what ONNX
specifies; dilated averages, asymmetric padding that PyTorch's divisor or ceil-mode rule would
treat differently, and the like go through the `onnx_pool` helper.
"""

from __future__ import annotations

from ....errors import UnsupportedOp
from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE
from ._util import compact, int_list, is_float, spatial_pads, torch_pad_arg


def _pool_common(ctx: Ctx) -> tuple[int, list[int], list[int], list[int], list[int]]:
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        raise UnsupportedOp("kernel_shape is required")
    n = len(kernel)
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D pooling has no PyTorch function")
    strides = list(ctx.attr("strides") or [1] * n)
    dil = list(ctx.attr("dilations") or [1] * n)
    pads = spatial_pads(ctx, kernel, strides, dil)
    shape = ctx.shape(0)
    for i in range(n):
        size = shape[2 + i] if shape is not None and len(shape) == n + 2 else None
        if isinstance(size, int) and size + pads[i] + pads[n + i] < (kernel[i] - 1) * dil[i] + 1:
            # the spec's formula gives no output there, ONNX shape inference and onnxruntime one
            raise UnsupportedOp(f"the pooling window is larger than the padded input on spatial axis {i}")
    return n, list(kernel), strides, dil, pads


def _onnx_out(size: int, k: int, s: int, d: int, pb: int, pe: int, ceil: bool) -> int:
    """ONNX's output length of one pooled axis."""
    room = size + pb + pe - ((k - 1) * d + 1)
    out = (-(-room // s) if ceil else room // s) + 1
    if ceil and (out - 1) * s >= size + pb:
        out -= 1
    return out


def _ceil_matches(ctx: Ctx, kernel: list[int], strides: list[int], dil: list[int], pads: list[int],
                  padding: list[int]) -> bool:
    """With ceil_mode, does PyTorch (input padded by pads - padding, then `padding` each side)
    produce ONNX's output length on every axis? Needs static spatial dimensions."""
    shape = ctx.shape(0)
    n = len(kernel)
    if shape is None or not all(isinstance(d, int) for d in shape[2:]):
        return False
    for i in range(n):
        size = int(shape[2 + i])  # type: ignore[arg-type]
        want = _onnx_out(size, kernel[i], strides[i], dil[i], pads[i], pads[n + i], True)
        p = padding[i]
        padded = size + pads[i] + pads[n + i] - 2 * p
        got = _onnx_out(padded, kernel[i], strides[i], dil[i], p, p, True)  # PyTorch's rule
        if got != want:
            return False
    return True


def _helper(ctx: Ctx, kind: str, kernel: list[int], strides: list[int], pads: list[int], dil: list[int],
            **extra: object) -> str:
    kwargs: dict = {}
    if any(s != 1 for s in strides):
        kwargs["strides"] = strides
    if any(pads):
        kwargs["pads"] = pads
    if any(d != 1 for d in dil):
        kwargs["dilations"] = dil
    kwargs.update({k: v for k, v in extra.items() if v})
    return call(ctx.helper("onnx_pool"), ctx.x(0), lit(kind), lit(kernel), **kwargs)


@TABLE.op("MaxPool")
def max_pool(ctx: Ctx) -> str | Unpack:
    n, kernel, strides, dil, pads = _pool_common(ctx)
    ceil = bool(ctx.attr("ceil_mode", 0))
    order = int(ctx.attr("storage_order", 0))
    want_idx = ctx.has_out(1)
    begins, ends = pads[:n], pads[n:]
    # PyTorch pads symmetrically, at most half the (dilated) window; anything else is padded
    # explicitly with -inf first, which shifts the indices and may change the ceil-mode rule.
    symmetric = begins == ends and all(2 * p <= k for p, k in zip(begins, kernel))
    padding = begins if symmetric else [0] * n
    if (
        not symmetric and (want_idx or not is_float(ctx.elem(0)) or ceil and not _ceil_matches(ctx, kernel, strides, dil, pads, padding))
        or n == 1 and not want_idx and not is_float(ctx.elem(0))  # F.max_pool1d has no integer kernel
        or _empty(ctx, kernel, strides, dil, pads, ceil)
    ):
        return _max_helper(ctx, kernel, strides, pads, dil, ceil, order, want_idx)
    x = ctx.x(0)
    if not symmetric:
        padded = ctx.tmp("padded")
        ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)), value=float('-inf'))}")
        x = padded
    kwargs: dict = {"stride": compact(strides)}
    if any(padding):
        kwargs["padding"] = compact(padding)
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    if ceil:
        kwargs["ceil_mode"] = True
    if not want_idx:
        return call(f"F.max_pool{n}d", x, lit(compact(kernel)), **kwargs)
    y, idx = ctx.tmp("pooled"), ctx.tmp("indices")
    ctx.stmt(f"{y}, {idx} = {call(f'F.max_pool{n}d', x, lit(compact(kernel)), **kwargs, return_indices=True)}")
    # PyTorch counts within each (batch, channel) plane; ONNX across the whole flattened input.
    conv = call(ctx.helper("onnx_flat_indices"), idx, f"{ctx.x(0)}.shape", **({"column_major": True} if order else {}))
    return [y, conv]


def _empty(ctx: Ctx, kernel: list[int], strides: list[int], dil: list[int], pads: list[int], ceil: bool) -> bool:
    """Whether some output axis is statically empty (PyTorch's pooling functions refuse that)."""
    shape = ctx.shape(0)
    n = len(kernel)
    if shape is None:
        return False
    return any(
        isinstance(shape[2 + i], int)
        and _onnx_out(int(shape[2 + i]), kernel[i], strides[i], dil[i], pads[i], pads[n + i], ceil) <= 0  # type: ignore[arg-type]
        for i in range(n)
    )


def _max_helper(ctx: Ctx, kernel: list[int], strides: list[int], pads: list[int], dil: list[int], ceil: bool,
                order: int, want_idx: bool) -> str | Unpack:
    expr = _helper(ctx, "max", kernel, strides, pads, dil, ceil_mode=ceil, storage_order=order,
                   return_indices=want_idx)
    return Unpack(expr, 2) if want_idx else expr


@TABLE.op("AveragePool")
def avg_pool(ctx: Ctx) -> str:
    n, kernel, strides, dil, pads = _pool_common(ctx)
    ceil = bool(ctx.attr("ceil_mode", 0))
    include_pad = bool(ctx.attr("count_include_pad", 0))
    begins, ends = pads[:n], pads[n:]
    general = _helper(ctx, "avg", kernel, strides, pads, dil, ceil_mode=ceil, count_include_pad=include_pad)
    if compact(dil) != 1 or _empty(ctx, kernel, strides, dil, pads, ceil):
        return general  # PyTorch's average pooling has no dilation
    kwargs: dict = {"stride": compact(strides)}
    if ceil:
        kwargs["ceil_mode"] = True
    if begins == ends and all(2 * p <= k for p, k in zip(begins, kernel)):
        x = ctx.x(0)
        if any(begins):
            kwargs["padding"] = compact(begins)
            if not include_pad:
                kwargs["count_include_pad"] = False
    else:
        # explicit zero padding counts in the divisor: exact only for count_include_pad=1
        if not include_pad or ceil and not _ceil_matches(ctx, kernel, strides, dil, pads, [0] * n):
            return general
        x = ctx.tmp("padded")
        ctx.stmt(f"{x} = {call('F.pad', ctx.x(0), lit(torch_pad_arg(pads)))}")
    return call(f"F.avg_pool{n}d", x, lit(compact(kernel)), **kwargs)


@TABLE.op("LpPool")
def lp_pool(ctx: Ctx) -> str:
    n, kernel, strides, dil, pads = _pool_common(ctx)
    ceil = bool(ctx.attr("ceil_mode", 0))
    p = ctx.attr("p", 2)
    if p <= 0:
        raise UnsupportedOp(f"LpPool with p={p}")
    general = _helper(ctx, "lp", kernel, strides, pads, dil, ceil_mode=ceil, p=p)
    # F.lp_pool*d sums x ** p over the window as avg_pool * window size: exact without dilation,
    # and in ceil mode only when no window hangs over the end (its divisor would shrink).
    if compact(dil) != 1 or ceil and not _ceil_matches_floor(ctx, kernel, strides, pads) or _empty(
        ctx, kernel, strides, dil, pads, ceil
    ):
        return general
    x = ctx.x(0)
    if p % 2:
        x = f"{x}.abs()"  # ONNX sums |x| ** p
    if any(pads):
        padded = ctx.tmp("padded")
        ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)))}")
        x = padded
    kwargs: dict = {}
    if list(strides) != list(kernel):
        kwargs["stride"] = compact(strides)
    return call(f"F.lp_pool{n}d", x, lit(p), kernel_size=compact(kernel), **kwargs)


def _ceil_matches_floor(ctx: Ctx, kernel: list[int], strides: list[int], pads: list[int]) -> bool:
    """Whether ceil_mode changes nothing: every output window fits the padded input."""
    shape = ctx.shape(0)
    n = len(kernel)
    if shape is None or not all(isinstance(d, int) for d in shape[2:]):
        return False
    for i in range(n):
        size = int(shape[2 + i])  # type: ignore[arg-type]
        if _onnx_out(size, kernel[i], strides[i], 1, pads[i], pads[n + i], True) != _onnx_out(
            size, kernel[i], strides[i], 1, pads[i], pads[n + i], False
        ):
            return False
    return True


@TABLE.op("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
def global_pool(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    dims = tuple(range(2, rank))
    if ctx.node.op_type == "GlobalAveragePool":
        return call("torch.mean", ctx.x(0), dim=dims, keepdim=True)
    if ctx.node.op_type == "GlobalMaxPool":
        return call("torch.amax", ctx.x(0), dim=dims, keepdim=True)
    p = ctx.attr("p", 2)
    return call("torch.linalg.vector_norm", ctx.x(0), lit(float(p)), dim=dims, keepdim=True)


@TABLE.op("MaxUnpool")
def max_unpool(ctx: Ctx) -> str:
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        raise UnsupportedOp("kernel_shape is required")
    n = len(kernel)
    strides = list(ctx.attr("strides") or [1] * n)
    pads = list(ctx.attr("pads") or [0] * (2 * n))
    kwargs: dict = {}
    if any(s != 1 for s in strides):
        kwargs["strides"] = strides
    if any(pads):
        kwargs["pads"] = pads
    if ctx.has(2):
        c = ctx.const(2)
        kwargs["output_shape"] = int_list(c) if c is not None else Code(f"{ctx.x(2)}.tolist()")
    return call(ctx.helper("onnx_max_unpool"), ctx.x(0), ctx.x(1), lit(list(kernel)), **kwargs)
