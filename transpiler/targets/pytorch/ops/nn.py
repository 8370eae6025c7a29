"""Layers: convolution, linear, normalisation, pooling, softmax, recurrent, resize."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE
from ._util import compact, norm_axis, spatial_pads, torch_pad_arg


def _pad_input(ctx: Ctx, x: str, pads: list[int], value: float | None = None) -> tuple[str, int | tuple[int, ...]]:
    """(input code, symmetric padding): asymmetric pads become an explicit F.pad first."""
    n = len(pads) // 2
    begins, ends = pads[:n], pads[n:]
    if begins == ends:
        return x, compact(begins)
    args = {"value": value} if value not in (None, 0.0) else {}
    padded = ctx.tmp("padded")
    ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)), **args)}")
    return padded, 0


@TABLE.op("Conv")
def conv(ctx: Ctx) -> str:
    w = ctx.value(1)
    if w.shape is None:
        raise UnsupportedOp("the weight's shape is unknown")
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D convolution has no PyTorch layer")
    kernel = ctx.attr("kernel_shape") or list(w.shape[2:])
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    group = ctx.attr("group", 1)
    pads = spatial_pads(ctx, kernel, strides, dil)
    x, padding = _pad_input(ctx, ctx.x(0), pads)
    kwargs: dict = {}
    if compact(strides) != 1:
        kwargs["stride"] = compact(strides)
    if padding != 0:
        kwargs["padding"] = padding
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    if group != 1:
        kwargs["groups"] = group
    wc, bc = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if wc is not None and (not ctx.has(2) or bc is not None) and all(isinstance(d, int) for d in w.shape):
        out_ch, in_ch = int(w.shape[0]), int(w.shape[1]) * group
        params = {"weight": wc}
        if bc is not None:
            params["bias"] = bc
        else:
            kwargs["bias"] = False
        m = ctx.module(call(f"nn.Conv{n}d", lit(in_ch), lit(out_ch), lit(compact(kernel)), **kwargs), params)
        return f"{m}({x})"
    b = ctx.x(2) if ctx.has(2) else "None"
    return call(f"F.conv{n}d", x, ctx.x(1), b, **kwargs)


@TABLE.op("ConvTranspose")
def conv_transpose(ctx: Ctx) -> str:
    w = ctx.value(1)
    if w.shape is None or not all(isinstance(d, int) for d in w.shape):
        raise UnsupportedOp("the weight's shape must be static")
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D transposed convolution has no PyTorch layer")
    group = ctx.attr("group", 1)
    kernel = ctx.attr("kernel_shape") or list(w.shape[2:])
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    out_pad = ctx.attr("output_padding") or [0] * n
    pads = ctx.attr("pads") or [0] * (2 * n)
    auto = ctx.attr("auto_pad", "NOTSET")
    out_shape = ctx.attr("output_shape")
    in_shape = ctx.shape(0)
    if out_shape is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        if in_shape is None or not all(isinstance(d, int) for d in in_shape[2:]):
            raise UnsupportedOp("output_shape / SAME padding needs static spatial dimensions")
        sizes = [int(d) for d in in_shape[2:]]  # type: ignore[arg-type]
        if out_shape is None:
            out_shape = [sizes[i] * strides[i] for i in range(n)]
        out_shape = list(out_shape)[-n:]
        begins, ends = [], []
        for i in range(n):
            total = strides[i] * (sizes[i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - out_shape[i]
            if total < 0:
                out_pad = list(out_pad)
                out_pad[i] += -total
                total = 0
            small, big = total // 2, total - total // 2
            if auto == "SAME_LOWER":
                begins.append(big)
                ends.append(small)
            else:
                begins.append(small)
                ends.append(big)
        pads = begins + ends
    elif auto == "VALID":
        pads = [0] * (2 * n)
    begins, ends = list(pads[:n]), list(pads[n:])
    # PyTorch pads symmetrically; extra padding at the end is cropped afterwards.
    sym = [min(b, e) for b, e in zip(begins, ends)]
    crop_b = [b - s for b, s in zip(begins, sym)]
    crop_e = [e - s for e, s in zip(ends, sym)]
    kwargs: dict = {}
    if compact(strides) != 1:
        kwargs["stride"] = compact(strides)
    if compact(sym) != 0:
        kwargs["padding"] = compact(sym)
    if compact(out_pad) != 0:
        kwargs["output_padding"] = compact(out_pad)
    if group != 1:
        kwargs["groups"] = group
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    wc, bc = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if wc is not None and (not ctx.has(2) or bc is not None):
        params = {"weight": wc}
        if bc is not None:
            params["bias"] = bc
        else:
            kwargs["bias"] = False
        in_ch, out_ch = int(w.shape[0]), int(w.shape[1]) * group
        m = ctx.module(call(f"nn.ConvTranspose{n}d", lit(in_ch), lit(out_ch), lit(compact(kernel)), **kwargs), params)
        y = f"{m}({ctx.x(0)})"
    else:
        b = ctx.x(2) if ctx.has(2) else "None"
        y = call(f"F.conv_transpose{n}d", ctx.x(0), ctx.x(1), b, **kwargs)
    if any(crop_b) or any(crop_e):
        idx = ", ".join([":", ":"] + [f"{b}:{(-e) if e else ''}" for b, e in zip(crop_b, crop_e)])
        y = f"{y}[{idx}]"
    return y


@TABLE.op("Gemm")
def gemm(ctx: Ctx) -> str:
    alpha, beta = ctx.attr("alpha", 1.0), ctx.attr("beta", 1.0)
    ta, tb = ctx.attr("transA", 0), ctx.attr("transB", 0)
    b, c = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    if b is not None and not ta and alpha == 1.0 and b.ndim == 2:
        weight = b if tb else b.T
        out_f, in_f = weight.shape
        bias = None
        if ctx.has(2):
            if c is None or beta != 1.0 or c.size not in (1, out_f) or (c.ndim == 2 and c.shape[0] != 1):
                bias = "x"
            else:
                bias = np.broadcast_to(c.reshape(-1), (out_f,)).astype(c.dtype)
        if not isinstance(bias, str):
            params = {"weight": weight}
            if bias is not None:
                params["bias"] = bias
            kwargs = {} if bias is not None else {"bias": False}
            m = ctx.module(call("nn.Linear", lit(in_f), lit(out_f), **kwargs), params)
            return f"{m}({ctx.x(0)})"
    a = ctx.x(0) + (".t()" if ta else "")
    bb = ctx.x(1) + (".t()" if tb else "")
    expr = f"{a} @ {bb}"
    if alpha != 1.0:
        expr = f"{lit(alpha)} * ({expr})"
    if ctx.has(2):
        cc = ctx.x(2)
        expr = f"{expr} + {cc}" if beta == 1.0 else f"{expr} + {lit(beta)} * {cc}"
    return expr


@TABLE.op("MatMul")
def matmul(ctx: Ctx) -> str:
    b = ctx.const(1)
    if b is not None and b.ndim == 2 and ctx.elem(0) in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16):
        in_f, out_f = b.shape
        m = ctx.module(call("nn.Linear", lit(int(in_f)), lit(int(out_f)), bias=False), {"weight": b.T})
        return f"{m}({ctx.x(0)})"
    return f"{ctx.x(0)} @ {ctx.x(1)}"


@TABLE.op("BatchNormalization")
def batch_norm(ctx: Ctx) -> str:
    if ctx.attr("training_mode", 0) or ctx.attr("_non_spatial"):
        raise UnsupportedOp("training-mode / non-spatial BatchNormalization is not supported")
    if any(ctx.has_out(j) for j in range(1, ctx.n_out)):
        raise UnsupportedOp("BatchNormalization's running-statistics outputs are not supported")
    eps, momentum = ctx.attr("epsilon", 1e-5), ctx.attr("momentum", 0.9)
    rank = ctx.need_rank(0)
    consts = [ctx.const(i) for i in range(1, 5)]
    if all(c is not None for c in consts) and 2 <= rank <= 5:
        scale, bias, mean, var = consts
        dims = {2: 1, 3: 1, 4: 2, 5: 3}[rank]
        kwargs: dict = {}
        if np.float32(eps) != np.float32(1e-5):
            kwargs["eps"] = eps
        torch_momentum = round(1.0 - momentum, 6)
        if torch_momentum != 0.1:
            kwargs["momentum"] = torch_momentum
        params = {
            "weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
            "num_batches_tracked": np.array(0, dtype=np.int64),
        }
        m = ctx.module(call(f"nn.BatchNorm{dims}d", lit(int(scale.shape[0])), **kwargs), params)
        return f"{m}({ctx.x(0)})"
    return call("F.batch_norm", ctx.x(0), ctx.x(3), ctx.x(4), ctx.x(1), ctx.x(2), eps=eps)


@TABLE.op("LayerNormalization")
def layer_norm(ctx: Ctx) -> str:
    if any(ctx.has_out(j) for j in range(1, ctx.n_out)):
        raise UnsupportedOp("LayerNormalization's Mean / InvStdDev outputs are not supported")
    rank = ctx.need_rank(0)
    axis = norm_axis(ctx.attr("axis", -1), rank)
    shape = ctx.shape(0)
    norm_shape = shape[axis:] if shape is not None else None
    if norm_shape is None or not all(isinstance(d, int) for d in norm_shape):
        raise UnsupportedOp("the normalised dimensions must be static")
    eps = ctx.attr("epsilon", 1e-5)
    kwargs: dict = {}
    if np.float32(eps) != np.float32(1e-5):
        kwargs["eps"] = eps
    scale, bias = ctx.const(1), ctx.const(2) if ctx.has(2) else None
    ns = tuple(int(d) for d in norm_shape)  # type: ignore[arg-type]
    if scale is not None and (not ctx.has(2) or bias is not None):
        params = {"weight": np.broadcast_to(scale, ns).copy()}
        if bias is not None:
            params["bias"] = np.broadcast_to(bias, ns).copy()
        else:
            kwargs["bias"] = False
        arg = lit(ns[0]) if len(ns) == 1 else lit(ns)
        m = ctx.module(call("nn.LayerNorm", arg, **kwargs), params)
        return f"{m}({ctx.x(0)})"
    w = f"{ctx.x(1)}.expand({lit(ns)})"
    b = f"{ctx.x(2)}.expand({lit(ns)})" if ctx.has(2) else "None"
    return call("F.layer_norm", ctx.x(0), lit(ns), w, b, eps=eps)


def _pool_common(ctx: Ctx) -> tuple[int, list[int], list[int], list[int], list[int]]:
    kernel = ctx.attr("kernel_shape")
    if kernel is None:
        raise UnsupportedOp("kernel_shape is required")
    n = len(kernel)
    if n not in (1, 2, 3):
        raise UnsupportedOp(f"{n}-D pooling has no PyTorch function")
    strides = ctx.attr("strides") or [1] * n
    dil = ctx.attr("dilations") or [1] * n
    pads = spatial_pads(ctx, kernel, strides, dil)
    return n, list(kernel), list(strides), list(dil), pads


@TABLE.op("MaxPool")
def max_pool(ctx: Ctx) -> str:
    if ctx.has_out(1):
        raise UnsupportedOp("MaxPool's Indices output is not supported")
    n, kernel, strides, dil, pads = _pool_common(ctx)
    x, padding = _pad_input(ctx, ctx.x(0), pads, value=float("-inf"))
    if isinstance(padding, tuple) or padding:
        p = padding if isinstance(padding, tuple) else (padding,) * n
        if any(2 * pi > ki for pi, ki in zip(p, kernel)):
            padded = ctx.tmp("padded")
            ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(list(p) * 2)), value=float('-inf'))}")
            x, padding = padded, 0
    kwargs: dict = {}
    kwargs["stride"] = compact(strides)
    if padding != 0:
        kwargs["padding"] = padding
    if compact(dil) != 1:
        kwargs["dilation"] = compact(dil)
    if ctx.attr("ceil_mode", 0):
        kwargs["ceil_mode"] = True
    return call(f"F.max_pool{n}d", x, lit(compact(kernel)), **kwargs)


@TABLE.op("AveragePool")
def avg_pool(ctx: Ctx) -> str:
    n, kernel, strides, dil, pads = _pool_common(ctx)
    if compact(dil) != 1:
        raise UnsupportedOp("dilated average pooling has no PyTorch function")
    include_pad = bool(ctx.attr("count_include_pad", 0))
    begins, ends = pads[:n], pads[n:]
    if begins != ends or any(2 * p > k for p, k in zip(begins, kernel)):
        if not include_pad and any(pads):
            raise UnsupportedOp("asymmetric padding with count_include_pad=0 is not supported")
        x, padding = _pad_input(ctx, ctx.x(0), pads)
        if padding != 0:
            padded = ctx.tmp("padded")
            ctx.stmt(f"{padded} = {call('F.pad', x, lit(torch_pad_arg(pads)))}")
            x, padding = padded, 0
    else:
        x, padding = ctx.x(0), compact(begins)
    kwargs: dict = {"stride": compact(strides)}
    if padding != 0:
        kwargs["padding"] = padding
    if ctx.attr("ceil_mode", 0):
        kwargs["ceil_mode"] = True
    if padding != 0 and not include_pad:
        kwargs["count_include_pad"] = False
    if n == 1 and "count_include_pad" not in kwargs and "ceil_mode" not in kwargs:
        pass
    return call(f"F.avg_pool{n}d", x, lit(compact(kernel)), **kwargs)


@TABLE.op("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    dims = tuple(range(2, rank))
    if ctx.node.op_type == "GlobalAveragePool":
        return call("torch.mean", ctx.x(0), dim=dims, keepdim=True)
    return call("torch.amax", ctx.x(0), dim=dims, keepdim=True)


@TABLE.op("Softmax", "LogSoftmax")
def softmax(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    axis = ctx.attr("axis", -1)
    axis = -1 if norm_axis(axis, rank) == rank - 1 else axis
    fn = "F.softmax" if ctx.node.op_type == "Softmax" else "F.log_softmax"
    return call(fn, ctx.x(0), dim=axis)


@TABLE.op("LSTM")
def lstm(ctx: Ctx) -> str | Unpack:
    """nn.LSTM with ONNX's gate order (i, o, f, c) reordered to PyTorch's (i, f, g, o)."""
    if ctx.attr("activations") not in (None, ["Sigmoid", "Tanh", "Tanh"] * 2, ["Sigmoid", "Tanh", "Tanh"]):
        raise UnsupportedOp("non-default activations have no nn.LSTM equivalent")
    if ctx.attr("clip") is not None or ctx.attr("input_forget", 0):
        raise UnsupportedOp("clip / input_forget have no nn.LSTM equivalent")
    w, r = ctx.const(1), ctx.const(2)
    b = ctx.const(3) if ctx.has(3) else None
    if w is None or r is None or (ctx.has(3) and b is None):
        raise UnsupportedOp("W, R and B must be constants")
    if ctx.has(4):
        raise UnsupportedOp("sequence_lens is not supported")
    if ctx.has(7) and ctx.const(7) is not None and np.any(ctx.const(7)):
        raise UnsupportedOp("peephole connections have no nn.LSTM equivalent")
    direction = ctx.attr("direction", "forward")
    dirs, hidden4, in_size = w.shape
    hidden = hidden4 // 4
    order = np.concatenate([np.arange(0, hidden), np.arange(2 * hidden, 3 * hidden),
                            np.arange(3 * hidden, 4 * hidden), np.arange(hidden, 2 * hidden)])
    if b is None:
        b = np.zeros((dirs, 8 * hidden), dtype=w.dtype)
    params = {}
    for d in range(dirs):
        suffix = "_reverse" if d == 1 else ""
        params[f"weight_ih_l0{suffix}"] = w[d][order]
        params[f"weight_hh_l0{suffix}"] = r[d][order]
        params[f"bias_ih_l0{suffix}"] = b[d][: 4 * hidden][order]
        params[f"bias_hh_l0{suffix}"] = b[d][4 * hidden:][order]
    layout = ctx.attr("layout", 0)
    kwargs: dict = {}
    if layout:
        kwargs["batch_first"] = True
    if direction == "bidirectional":
        kwargs["bidirectional"] = True
    m = ctx.module(call("nn.LSTM", lit(int(in_size)), lit(int(hidden)), **kwargs), params)
    x = ctx.x(0)
    seq_dim = 1 if layout else 0
    if direction == "reverse":
        x = f"{x}.flip({seq_dim})"
    state = ""
    if ctx.has(5) or ctx.has(6):
        batch_dim = 0 if layout else 1
        h0 = ctx.x(5) if ctx.has(5) else None
        c0 = ctx.x(6) if ctx.has(6) else None
        if h0 is None or c0 is None:
            raise UnsupportedOp("initial_h and initial_c must be given together")
        if layout:
            h0, c0 = f"{h0}.transpose(0, 1)", f"{c0}.transpose(0, 1)"
        state = f", ({h0}, {c0})"
        del batch_dim
    y, h, c = ctx.tmp("y"), ctx.tmp("h"), ctx.tmp("c")
    ctx.stmt(f"{y}, ({h}, {c}) = {m}({x}{state})")
    if direction == "reverse":
        ctx.stmt(f"{y} = {y}.flip({seq_dim})")
    outs: list[str | None] = [None, None, None]
    if ctx.has_out(0):
        if layout:  # (batch, seq, dirs*H) -> (batch, seq, dirs, H)
            outs[0] = f"{y}.unflatten(2, ({dirs}, {hidden}))"
        else:  # (seq, batch, dirs*H) -> (seq, dirs, batch, H)
            outs[0] = f"{y}.unflatten(2, ({dirs}, {hidden})).transpose(1, 2)"
    if ctx.has_out(1):
        outs[1] = f"{h}.transpose(0, 1)" if layout else h
    if ctx.has_out(2):
        outs[2] = f"{c}.transpose(0, 1)" if layout else c
    return outs


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "nearest")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    rank = ctx.need_rank(0)
    if rank not in (3, 4, 5):
        raise UnsupportedOp("only 1-D to 3-D spatial resizing is supported")
    if ctx.attr("antialias", 0) or ctx.attr("axes") is not None:
        raise UnsupportedOp("antialias / axes are not supported")
    scales = ctx.const(2) if ctx.has(2) else None
    sizes = ctx.const(3) if ctx.has(3) else None
    kwargs: dict = {}
    if sizes is not None and sizes.size:
        kwargs["size"] = tuple(int(s) for s in sizes[2:])
        if [int(s) for s in sizes[:2]] != [d for d in (ctx.shape(0) or [None, None])[:2]]:
            raise UnsupportedOp("resizing the batch or channel axis is not supported")
    elif scales is not None and scales.size:
        if float(scales[0]) != 1.0 or float(scales[1]) != 1.0:
            raise UnsupportedOp("resizing the batch or channel axis is not supported")
        kwargs["scale_factor"] = tuple(float(s) for s in scales[2:])
    else:
        raise UnsupportedOp("scales or sizes must be constants")
    if mode == "nearest":
        if ctm != "asymmetric" or ctx.attr("nearest_mode", "round_prefer_floor") != "floor":
            raise UnsupportedOp(f"nearest resizing with {ctm} / {ctx.attr('nearest_mode')} is not supported yet")
        kwargs["mode"] = "nearest"
    elif mode == "linear":
        if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            raise UnsupportedOp(f"linear resizing with {ctm} coordinates is not supported yet")
        kwargs["mode"] = {3: "linear", 4: "bilinear", 5: "trilinear"}[rank]
        kwargs["align_corners"] = ctm == "align_corners"
    else:
        raise UnsupportedOp(f"{mode} resizing is not supported yet")
    if "size" in kwargs and len(set(kwargs["size"])) == 1:
        kwargs["size"] = kwargs["size"][0]
    if "scale_factor" in kwargs and len(set(kwargs["scale_factor"])) == 1:
        kwargs["scale_factor"] = kwargs["scale_factor"][0]
    return call("F.interpolate", ctx.x(0), **kwargs)


del Code
