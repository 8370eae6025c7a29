"""Normalisation layers: BatchNormalization, LayerNormalization, RMSNormalization,
GroupNormalization, InstanceNormalization, LRN, MeanVarianceNormalization, LpNormalization."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import norm_axis


def _f32(v: float) -> float:
    """The shortest literal of a float32 attribute (0.8999999761581421 -> 0.9)."""
    return float(str(np.float32(v)))


def _eps_kwargs(eps: float, default: float | None = 1e-5) -> dict:
    return {} if default is not None and np.float32(eps) == np.float32(default) else {"eps": _f32(eps)}


def _dims(dims: list[int]) -> int | tuple[int, ...]:
    return dims[0] if len(dims) == 1 else tuple(dims)


def _static(shape: tuple[ir.Dim, ...] | None) -> tuple[int, ...] | None:
    if shape is None or not all(isinstance(d, int) for d in shape):
        return None
    return tuple(int(d) for d in shape)  # type: ignore[arg-type]


def _fit(arr: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """`arr` broadcast to exactly `shape` (dropping leading ones), or None when it cannot be."""
    if arr is None:
        return None
    while arr.ndim > len(shape) and arr.shape[0] == 1:
        arr = arr[0]
    try:
        return np.broadcast_to(arr, shape).copy()
    except ValueError:
        return None


def _float32(ctx: Ctx, *params: np.ndarray | None) -> bool:
    """nn.* layers hold float32 weights: use one only for a float32 input and float32 weights."""
    return ctx.elem(0) == ir.FLOAT and all(p is None or p.dtype == np.float32 for p in params)


def _has_shape(ctx: Ctx, i: int, shape: tuple[int, ...]) -> bool:
    return ctx.has(i) and _static(ctx.shape(i)) == shape


# -- BatchNormalization -------------------------------------------------------------------

@TABLE.op("BatchNormalization")
def batch_norm(ctx: Ctx) -> str | list[str | None]:
    if ctx.attr("_non_spatial"):
        raise UnsupportedOp("non-spatial BatchNormalization is not supported")
    eps, momentum = ctx.attr("epsilon", 1e-5), ctx.attr("momentum", 0.9)
    rank = ctx.need_rank(0)
    if ctx.attr("training_mode", 0):
        return _batch_norm_training(ctx, rank, eps, momentum)
    if any(ctx.has_out(j) for j in range(1, ctx.n_out)):
        raise UnsupportedOp("BatchNormalization's statistics outputs exist only in training mode")
    consts = [ctx.const(i) for i in range(1, 5)]
    if all(c is not None for c in consts) and 2 <= rank <= 5 and _float32(ctx, *consts):
        scale, bias, mean, var = consts
        dims = {2: 1, 3: 1, 4: 2, 5: 3}[rank]
        kwargs: dict = _eps_kwargs(eps)
        torch_momentum = round(1.0 - momentum, 6)  # PyTorch weighs the new statistic, ONNX the old
        if torch_momentum != 0.1:
            kwargs["momentum"] = torch_momentum
        params = {
            "weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
            "num_batches_tracked": np.array(0, dtype=np.int64),
        }
        m = ctx.module(call(f"nn.BatchNorm{dims}d", lit(int(scale.shape[0])), **kwargs), params)
        return f"{m}({ctx.x(0)})"
    return call("F.batch_norm", ctx.x(0), ctx.x(3), ctx.x(4), ctx.x(1), ctx.x(2), **_eps_kwargs(eps))


def _batch_norm_training(ctx: Ctx, rank: int, eps: float, momentum: float) -> str | list[str | None]:
    """ONNX training mode: normalise with the batch statistics; the running statistics are
    updated with the biased batch variance (PyTorch's modules use the unbiased one)."""
    x, scale, bias = ctx.x(0), ctx.x(1), ctx.x(2)
    if not (ctx.has_out(1) or ctx.has_out(2)):
        return call("F.batch_norm", x, "None", "None", scale, bias, training=True, **_eps_kwargs(eps))
    mean, var = ctx.tmp("batch_mean"), ctx.tmp("batch_var")
    dims = _dims([0, *range(2, rank)])
    ctx.stmt(f"{var}, {mean} = {call('torch.var_mean', x, dim=dims, correction=0)}")
    y = call("F.batch_norm", x, mean, var, scale, bias, **_eps_kwargs(eps))
    m, keep = _f32(momentum), _f32(1.0 - _f32(momentum))
    running_mean = f"{ctx.x(3)} * {lit(m)} + {mean} * {lit(keep)}"
    running_var = f"{ctx.x(4)} * {lit(m)} + {var} * {lit(keep)}"
    return [y, running_mean if ctx.has_out(1) else None, running_var if ctx.has_out(2) else None]


# -- LayerNormalization / RMSNormalization ------------------------------------------------

def _normalized_shape(ctx: Ctx, axis: int) -> tuple[str, tuple[int, ...] | None]:
    """The normalised shape as code (a literal when static, else read from the input) and value."""
    shape = ctx.shape(0)
    ns = _static(shape[axis:]) if shape is not None else None
    if ns is not None:
        return lit(ns), ns
    return f"{ctx.x(0)}.shape[{axis - ctx.need_rank(0)}:]", None


@TABLE.op("LayerNormalization")
def layer_norm(ctx: Ctx) -> str | list[str | None]:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    eps = ctx.attr("epsilon", 1e-5)
    if ctx.has_out(1) or ctx.has_out(2):
        return _layer_norm_stats(ctx, rank, axis, eps)
    ns_code, ns = _normalized_shape(ctx, axis)
    x = ctx.x(0)
    kwargs = _eps_kwargs(eps)
    if ns is not None:
        scale = _fit(ctx.const(1), ns)
        bias = _fit(ctx.const(2), ns) if ctx.has(2) else None
        if scale is not None and (not ctx.has(2) or bias is not None) and _float32(ctx, scale, bias):
            params = {"weight": scale}
            if bias is not None:
                params["bias"] = bias
            else:
                kwargs["bias"] = False
            m = ctx.module(call("nn.LayerNorm", lit(ns[0]) if len(ns) == 1 else ns_code, **kwargs), params)
            return f"{m}({x})"
        if _has_shape(ctx, 1, ns) and (not ctx.has(2) or _has_shape(ctx, 2, ns)):
            return call("F.layer_norm", x, ns_code, ctx.x(1), ctx.x(2) if ctx.has(2) else "None", **kwargs)
    # Scale / bias only broadcast to the normalised shape: apply them after normalising.
    y = f"{call('F.layer_norm', x, ns_code, **kwargs)} * {ctx.x(1)}"
    return f"{y} + {ctx.x(2)}" if ctx.has(2) else y


def _stash(ctx: Ctx, x: str) -> tuple[str, bool]:
    """x in the stash type (stage one's precision); whether a cast was needed."""
    stash = ctx.attr("stash_type", ir.FLOAT)
    if stash == ctx.elem(0):
        return x, False
    xs = ctx.tmp(f"{x.split('.')[-1]}_f")
    ctx.stmt(f"{xs} = {x}.float()" if stash == ir.FLOAT else f"{xs} = {x}.to({ctx.dtype(stash)})")
    return xs, True


def _layer_norm_stats(ctx: Ctx, rank: int, axis: int, eps: float) -> list[str | None]:
    """LayerNormalization with its Mean / InvStdDev outputs, written out."""
    xs, cast = _stash(ctx, ctx.x(0))
    mean = ctx.out_name(1) if ctx.has_out(1) else ctx.tmp("mean")
    inv_std = ctx.out_name(2) if ctx.has_out(2) else ctx.tmp("inv_std")
    var = ctx.tmp("var")
    dims = _dims(list(range(axis - rank, 0)))
    ctx.stmt(f"{var}, {mean} = {call('torch.var_mean', xs, dim=dims, correction=0, keepdim=True)}")
    ctx.stmt(f"{inv_std} = torch.rsqrt({var} + {lit(_f32(eps))})")
    y = f"({xs} - {mean}) * {inv_std}"
    if cast:
        y = f"({y}).to({ctx.dtype(ctx.elem(0))})"
    y = f"{y} * {ctx.x(1)}"
    if ctx.has(2):
        y = f"{y} + {ctx.x(2)}"
    return [y, mean, inv_std]


@TABLE.op("RMSNormalization")
def rms_norm(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    eps = ctx.attr("epsilon", 1e-5)
    ns_code, ns = _normalized_shape(ctx, axis)
    x = ctx.x(0)
    kwargs = {"eps": _f32(eps)}  # nn.RMSNorm's default eps is the dtype's machine epsilon, not ONNX's
    same_type = ctx.elem(1) == ctx.elem(0)
    if ns is not None and same_type:
        scale = _fit(ctx.const(1), ns)
        if scale is not None and _float32(ctx, scale):
            m = ctx.module(call("nn.RMSNorm", lit(ns[0]) if len(ns) == 1 else ns_code, **kwargs), {"weight": scale})
            return f"{m}({x})"
        if _has_shape(ctx, 1, ns):
            return call("F.rms_norm", x, ns_code, ctx.x(1), **kwargs)
    y = call("F.rms_norm", x, ns_code, **kwargs)
    if not same_type:  # Y takes the scale's type
        y = f"{y}.to({ctx.dtype(ctx.elem(1))})"
    return f"{y} * {ctx.x(1)}"


# -- GroupNormalization / InstanceNormalization ------------------------------------------

@TABLE.op("GroupNormalization")
def group_norm(ctx: Ctx) -> str:
    groups = int(ctx.attr("num_groups"))
    eps = ctx.attr("epsilon", 1e-5)
    x = ctx.x(0)
    shape = ctx.shape(0)
    channels = shape[1] if shape is not None and len(shape) > 1 and isinstance(shape[1], int) else None
    if channels is not None and channels != groups and _static(ctx.shape(1)) == (groups,):
        raise UnsupportedOp("opset 18's per-group scale and bias")  # the checker refuses it anyway
    scale, bias = ctx.const(1), ctx.const(2)
    per_channel = scale is not None and bias is not None and scale.shape == bias.shape == (channels,)
    if channels is not None and per_channel and _float32(ctx, scale, bias):
        m = ctx.module(call("nn.GroupNorm", lit(groups), lit(channels), **_eps_kwargs(eps)),
                       {"weight": scale, "bias": bias})
        return f"{m}({x})"
    return call("F.group_norm", x, lit(groups), ctx.x(1), ctx.x(2), **_eps_kwargs(eps))


@TABLE.op("InstanceNormalization")
def instance_norm(ctx: Ctx) -> str:
    eps = ctx.attr("epsilon", 1e-5)
    rank = ctx.need_rank(0)
    x = ctx.x(0)
    scale, bias = ctx.const(1), ctx.const(2)
    shape = ctx.shape(0)
    if shape is not None and all(d == 1 for d in shape[2:]):
        # one spatial element, which PyTorch's instance norm refuses: each element is its own mean,
        # so the result is 0 * scale + bias (x - x keeps NaN / inf where the input has them)
        view = ", ".join(["1", "-1"] + ["1"] * (rank - 2))
        return f"({x} - {x}) * {ctx.x(1)}.reshape({view}) + {ctx.x(2)}.reshape({view})"
    if scale is not None and bias is not None and 3 <= rank <= 5 and scale.ndim == 1 and _float32(ctx, scale, bias):
        m = ctx.module(
            call(f"nn.InstanceNorm{rank - 2}d", lit(int(scale.shape[0])), affine=True, **_eps_kwargs(eps)),
            {"weight": scale, "bias": bias},
        )
        return f"{m}({x})"
    return call("F.instance_norm", x, weight=Code(ctx.x(1)), bias=Code(ctx.x(2)), **_eps_kwargs(eps))


# -- LRN, MeanVarianceNormalization, LpNormalization -------------------------------------

@TABLE.op("LRN")
def lrn(ctx: Ctx) -> str:
    if ctx.need_rank(0) < 3:
        raise UnsupportedOp("LRN needs an input of rank 3 or more")
    size = int(ctx.attr("size"))
    kwargs: dict = {}
    for onnx_name, torch_name, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75), ("bias", "k", 1.0)):
        v = ctx.attr(onnx_name, default)
        if np.float32(v) != np.float32(default):
            kwargs[torch_name] = _f32(v)
    x = ctx.x(0)
    if size % 2:
        return call("F.local_response_norm", x, lit(size), **kwargs)
    # With an even size ONNX's window reaches one channel further up, PyTorch's one further
    # down: normalising the channels in reverse order mirrors the window.
    return f"{call('F.local_response_norm', f'{x}.flip(1)', lit(size), **kwargs)}.flip(1)"


@TABLE.op("MeanVarianceNormalization")
def mean_variance_norm(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axes = [norm_axis(a, rank) for a in ctx.attr("axes", [0, 2, 3])]
    x = ctx.x(0)
    mean, var = ctx.tmp("mean"), ctx.tmp("var")
    dims = _dims(axes)
    ctx.stmt(f"{var}, {mean} = {call('torch.var_mean', x, dim=dims, correction=0, keepdim=True)}")
    return f"({x} - {mean}) / ({var}.sqrt() + 1e-09)"  # ONNX's function adds 1e-9 to the deviation


@TABLE.op("LpNormalization")
def lp_norm(ctx: Ctx) -> str:
    p = int(ctx.attr("p", 2))
    if p not in (1, 2):
        raise UnsupportedOp(f"LpNormalization with p={p}")
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank) - rank
    x = ctx.x(0)
    norm = ctx.tmp("norm")
    kwargs = {"ord": p} if p != 2 else {}
    ctx.stmt(f"{norm} = {call('torch.linalg.vector_norm', x, **kwargs, dim=axis, keepdim=True)}")
    # ONNX defines 0 / 0 as 0 here (F.normalize would clamp small norms instead).
    return f"torch.where({norm} == 0, 0, {x} / {norm})"
