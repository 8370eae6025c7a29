"""Attention-family ops: Attention, FlexAttention, RotaryEmbedding, LinearAttention, SwiGLU,
CausalConvWithState.

Attention becomes `F.scaled_dot_product_attention` when that is exactly the ONNX computation
(SDPA scales Q and K by sqrt(scale) each, repeats KV heads the way ONNX does for GQA, and zeroes
fully-masked rows, as ONNX requires). Otherwise (the QK-matmul debug output, softcap, a separate
softmax precision, or float16/bfloat16 inputs, which ONNX rounds after every step) it is written
out as the matmul / mask / softmax / matmul it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE

LOW_PRECISION = (ir.FLOAT16, ir.BFLOAT16)
NP_FLOAT = {ir.FLOAT: np.float32, ir.DOUBLE: np.float64, ir.FLOAT16: np.float16}


def _dim(shape: tuple[ir.Dim, ...] | None, axis: int) -> int | None:
    """A static dimension, or None when it is symbolic or unknown."""
    if shape is None or not -len(shape) <= axis < len(shape):
        return None
    d = shape[axis]
    return d if isinstance(d, int) else None


def _round_to(value: float, elem: int) -> float:
    """`value` as the nearest number of element type `elem` (ONNX casts the scale to T1)."""
    if elem == ir.BFLOAT16:
        import ml_dtypes

        return float(np.asarray(value).astype(ml_dtypes.bfloat16).astype(np.float64))
    return float(np.asarray(value).astype(NP_FLOAT.get(elem, np.float64)))


@dataclass
class _Mask:
    """The combined attention mask: `code` is a bool tensor (True = attend) or a float bias."""

    code: str | None = None
    is_bool: bool = True
    may_empty_rows: bool = False  # some query row may have no key at all (ONNX: zero output)
    sdpa_causal: bool = False  # exactly `is_causal=True` of SDPA, with no tensor built
    rank: int | None = None


@TABLE.op("Attention")
def attention(ctx: Ctx) -> list[str | None]:
    rank = ctx.need_rank(0)
    if rank not in (3, 4) or ctx.rank(1) not in (None, rank) or ctx.rank(2) not in (None, rank):
        raise UnsupportedOp("Q, K and V must all be 3-D or all be 4-D")
    elem = ctx.elem(0)
    if elem not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16):
        raise UnsupportedOp(f"element type {elem} is not supported")
    if ctx.has(4) != ctx.has(5):
        raise UnsupportedOp("past_key and past_value must be given together")
    if ctx.has(4) and ctx.n_in > 6 and ctx.has(6):
        raise UnsupportedOp("nonpad_kv_seqlen cannot be combined with past_key / past_value")
    softcap = float(ctx.attr("softcap", 0.0) or 0.0)
    mode = int(ctx.attr("qk_matmul_output_mode", 0))
    precision = ctx.attr("softmax_precision")
    if precision is not None and precision not in (ir.FLOAT, ir.FLOAT16, ir.DOUBLE, ir.BFLOAT16):
        raise UnsupportedOp(f"softmax_precision {precision} is not a float type")
    if precision == elem:
        precision = None
    want_qk = ctx.n_out > 3 and ctx.has_out(3)
    if want_qk and mode not in (0, 1, 2, 3):
        raise UnsupportedOp(f"qk_matmul_output_mode {mode} is not defined")

    q, k, v, hq, hkv = _heads(ctx, rank)
    if hq is not None and hkv is not None and hq != hkv and hq % hkv:
        raise UnsupportedOp(f"{hq} query heads cannot share {hkv} key/value heads")
    k, v = _kv_cache(ctx, k, v)
    q_len = _dim(ctx.shape(0), -2 if rank == 4 else 1)
    kv_len = _dim(ctx.shape(1), -2 if rank == 4 else 1)
    past_len = _dim(ctx.shape(4), -2) if ctx.has(4) else 0
    total = kv_len + past_len if kv_len is not None and past_len is not None else None
    L = lit(q_len) if q_len is not None else f"{q}.shape[-2]"
    S = lit(total) if total is not None else f"{k}.shape[-2]"
    mask = _mask(ctx, q, k, L, S, total)

    low = elem in LOW_PRECISION
    if not (want_qk or softcap > 0 or precision is not None or low):
        y = _sdpa(ctx, q, k, v, hq, hkv, mask)
        return [_merge_heads(rank, y), *_present(ctx, k, v), None]

    if mask.sdpa_causal:
        allowed = ctx.tmp("allowed")
        ctx.stmt(f"{allowed} = torch.ones({L}, {S}, dtype=torch.bool, device={q}.device).tril()")
        mask = _Mask(allowed, True)
    # Written out. GQA: query head h reads key/value head h // (hq / hkv), as repeat_interleave gives.
    if hq is None or hkv is None or hq != hkv:
        reps = lit(hq // hkv) if hq is not None and hkv is not None else f"{q}.shape[1] // {k}.shape[1]"
        kk, vv = f"{k}.repeat_interleave({reps}, dim=1)", f"{v}.repeat_interleave({reps}, dim=1)"
    else:
        kk, vv = k, v
    scores = ctx.tmp("scores")
    head = _dim(ctx.shape(0), -1)
    if rank == 3 and head is not None and hq:
        head = head // hq
    scale = ctx.attr("scale")
    if low:
        # ONNX multiplies Q and K each by sqrt(scale), rounded to T1, and rounds every step in T1
        if scale is None and head is None:
            s = f"{q}.shape[-1] ** -0.25"
        else:
            s = lit(_round_to(math.sqrt(scale if scale is not None else 1.0 / math.sqrt(head)), elem))
        ctx.stmt(f"{scores} = ({q} * {s}) @ ({kk}.transpose(-2, -1) * {s})")
    else:
        if scale is None:
            scale_code = lit(1.0 / math.sqrt(head)) if head is not None else f"{q}.shape[-1] ** -0.5"
        else:
            scale_code = lit(float(scale))
        ctx.stmt(f"{scores} = {q} @ {kk}.transpose(-2, -1) * {scale_code}")
    qk_out: str | None = None
    if want_qk and mode == 0:
        qk_out = _bind_out(ctx, 3, scores)
    if softcap > 0:
        ctx.stmt(f"{scores} = {lit(softcap)} * torch.tanh({scores} / {lit(softcap)})")
    if want_qk and mode == 1:
        qk_out = _bind_out(ctx, 3, scores)
    if mask.code is not None:
        if mask.is_bool:
            ctx.stmt(f'{scores} = {scores}.masked_fill(~{mask.code}, float("-inf"))')
        else:
            ctx.stmt(f"{scores} = {scores} + {mask.code}")
    if want_qk and mode == 2:
        qk_out = _bind_out(ctx, 3, scores)
    sm_elem = precision if precision is not None else elem
    src = f"{scores}.to({ctx.dtype(precision)})" if precision is not None else scores
    attn = ctx.tmp("attn")
    if sm_elem in LOW_PRECISION:
        # softmax step by step, each rounded in the low-precision type as ONNX computes it
        ctx.stmt(f"{attn} = torch.exp({src} - {src}.amax(dim=-1, keepdim=True))")
        ctx.stmt(f"{attn} = {attn} / {attn}.sum(dim=-1, keepdim=True)")
    else:
        ctx.stmt(f"{attn} = F.softmax({src}, dim=-1)")
    if mask.may_empty_rows:
        # a query row with no key to attend gives zeros, not NaN
        if mask.is_bool:
            empty = f"~{mask.code}.any(dim=-1, keepdim=True)"
        else:
            empty = f'{mask.code}.amax(dim=-1, keepdim=True) == float("-inf")'
        ctx.stmt(f"{attn} = {attn}.masked_fill({empty}, 0.0)")
    if precision is not None:
        ctx.stmt(f"{attn} = {attn}.to({ctx.dtype(elem)})")
    if want_qk and mode == 3:
        qk_out = _bind_out(ctx, 3, attn)
    y = f"{attn} @ {vv}"
    return [_merge_heads(rank, y), *_present(ctx, k, v), qk_out]


def _heads(ctx: Ctx, rank: int) -> tuple[str, str, str, int | None, int | None]:
    """Q, K, V as (batch, heads, seq, head_size) and the static head counts (None if unknown)."""
    hq_attr, hkv_attr = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    if rank == 4:
        hq, hkv = _dim(ctx.shape(0), 1), _dim(ctx.shape(1), 1)
        for attr, actual in ((hq_attr, hq), (hkv_attr, hkv)):
            if attr is not None and attr != actual:
                raise UnsupportedOp("q_num_heads / kv_num_heads are only for 3-D inputs")
        return ctx.x(0), ctx.x(1), ctx.x(2), hq, hkv
    if not hq_attr or not hkv_attr:
        raise UnsupportedOp("3-D inputs need q_num_heads and kv_num_heads")
    names = []
    for i, (hint, heads) in enumerate((("q", hq_attr), ("k", hkv_attr), ("v", hkv_attr))):
        t = ctx.tmp(hint)
        # (batch, seq, heads * size) -> (batch, heads, seq, size)
        ctx.stmt(f"{t} = {ctx.x(i)}.unflatten(-1, ({lit(int(heads))}, -1)).transpose(1, 2)")
        names.append(t)
    return names[0], names[1], names[2], int(hq_attr), int(hkv_attr)


def _bind_out(ctx: Ctx, j: int, code: str) -> str:
    """Emit `<output j> = code` now (the code is reassigned later) and return the output's name."""
    name = ctx.gen.bind(ctx.node.output(j))  # type: ignore[arg-type]
    ctx.stmt(f"{name} = {code}")
    return name


def _kv_cache(ctx: Ctx, k: str, v: str) -> tuple[str, str]:
    """Append K and V to the past cache; the results are the present_key / present_value outputs."""
    if not ctx.has(4):
        return k, v
    out = []
    for j, (past, new, hint) in enumerate(((4, k, "present_key"), (5, v, "present_value")), start=1):
        name = ctx.gen.bind(ctx.node.output(j)) if ctx.has_out(j) else ctx.tmp(hint)  # type: ignore[arg-type]
        ctx.stmt(f"{name} = torch.cat([{ctx.x(past)}, {new}], dim=2)")
        out.append(name)
    return out[0], out[1]


def _present(ctx: Ctx, k: str, v: str) -> list[str | None]:
    return [k if ctx.n_out > 1 and ctx.has_out(1) else None, v if ctx.n_out > 2 and ctx.has_out(2) else None]


def _merge_heads(rank: int, y: str) -> str:
    """(batch, heads, seq, size) back to the input layout."""
    if rank == 4:
        return y
    return f"({y}).transpose(1, 2).flatten(2)" if " @ " in y else f"{y}.transpose(1, 2).flatten(2)"


def _mask(ctx: Ctx, q: str, k: str, L: str, S: str, total: int | None) -> _Mask:
    """ONNX's attention bias: attn_mask (padded to the key length), is_causal and the sliding
    window aligned to the query's absolute position, and the key padding of nonpad_kv_seqlen."""
    causal = bool(ctx.attr("is_causal", 0))
    left, right = int(ctx.attr("left_window_size", -1)), int(ctx.attr("right_window_size", -1))
    if left < -1 or right < -1:
        raise UnsupportedOp("window sizes must be -1 or nonnegative")
    window = left >= 0 or right >= 0
    nonpad = ctx.x(6) if ctx.n_in > 6 and ctx.has(6) else None
    user = _user_mask(ctx, k, total) if ctx.has(3) else None
    user_bool = ctx.elem(3) == ir.BOOL if user is not None else True

    if not (causal or window or nonpad):
        if user is None:
            return _Mask()
        return _Mask(user, user_bool, may_empty_rows=True, rank=ctx.rank(3))
    if causal and not window and nonpad is None and user is None and not ctx.has(4):
        return _Mask(sdpa_causal=True, code=None)

    dev = f"device={q}.device"
    allowed = ctx.tmp("allowed")
    if causal and not window and nonpad is None:
        # key j is visible to query i iff j <= i + (number of cached keys before the block)
        diag = _past_len(ctx) if ctx.has(4) else ""
        if diag:
            ctx.stmt("# causal, offset by the cached keys")
        ctx.stmt(f"{allowed} = torch.ones({L}, {S}, dtype=torch.bool, {dev}).tril({diag})")
        empty = False
    else:
        pos, key = ctx.tmp("pos"), ctx.tmp("key")
        ctx.stmt("# which keys each query may attend, by the query's absolute position")
        if nonpad is not None:
            # external cache: the query block ends at each sample's last valid key
            ctx.stmt(f"{pos} = torch.arange({L}, {dev})[:, None] + ({nonpad} - {L}).view(-1, 1, 1, 1)")
        elif ctx.has(4):
            ctx.stmt(f"{pos} = torch.arange({L}, {dev})[:, None] + {_past_len(ctx)}")
        else:
            ctx.stmt(f"{pos} = torch.arange({L}, {dev})[:, None]")
        ctx.stmt(f"{key} = torch.arange({S}, {dev})")
        terms = []
        if causal:
            terms.append(f"({key} <= {pos})")
        if left >= 0:
            terms.append(f"({key} >= {pos} - {left})")
        if right >= 0:
            terms.append(f"({key} <= {pos} + {right})")
        if nonpad is not None:
            terms.append(f"({key} < {nonpad}.view(-1, 1, 1, 1))")
        ctx.stmt(f"{allowed} = {' & '.join(terms)}")
        empty = True
    if user is None:
        return _Mask(allowed, True, may_empty_rows=empty)
    if user_bool:
        ctx.stmt(f"{allowed} = {user} & {allowed}")
        return _Mask(allowed, True, may_empty_rows=True)
    bias = ctx.tmp("bias")
    ctx.stmt(f'{bias} = torch.where({allowed}, {user}, float("-inf"))')
    return _Mask(bias, False, may_empty_rows=True)


def _past_len(ctx: Ctx) -> str:
    n = _dim(ctx.shape(4), -2)
    return lit(n) if n is not None else f"{ctx.x(4)}.shape[-2]"


def _user_mask(ctx: Ctx, k: str, total: int | None) -> str:
    """attn_mask as given, padded to the key length (masked out), in Q's type if it is a float mask."""
    m = ctx.x(3)
    if not ctx.elem(3):
        raise UnsupportedOp("the element type of attn_mask is unknown")
    is_bool = ctx.elem(3) == ir.BOOL
    if not is_bool and ctx.elem(3) != ctx.elem(0):
        m = f"{m}.to({ctx.dtype(ctx.elem(0))})"
    fill = False if is_bool else float("-inf")
    last = _dim(ctx.shape(3), -1)
    if last is not None and total is not None:
        if last > total:
            raise UnsupportedOp("attn_mask is longer than the key sequence")
        if last == total:
            return m
        amount = lit(total - last)
    else:
        amount = f"{k}.shape[-2] - {ctx.x(3)}.shape[-1]"
    padded = ctx.tmp("mask")
    ctx.stmt(f"{padded} = F.pad({m}, (0, {amount}), value={lit(fill)})")
    return padded


def _sdpa(ctx: Ctx, q: str, k: str, v: str, hq: int | None, hkv: int | None, mask: _Mask) -> str:
    kwargs: dict = {}
    if mask.code is not None:
        # SDPA wants at least (query, key) dimensions; a 1-D (key,) mask broadcasts the same way
        kwargs["attn_mask"] = Code(f"{mask.code}.unsqueeze(0)" if mask.rank == 1 else mask.code)
    if mask.sdpa_causal:
        kwargs["is_causal"] = True
    if ctx.attr("scale") is not None:
        kwargs["scale"] = float(ctx.attr("scale"))
    if hq is None or hkv is None or hq != hkv:
        kwargs["enable_gqa"] = True
    return call("F.scaled_dot_product_attention", q, k, v, **kwargs)


@TABLE.op("RotaryEmbedding")
def rotary_embedding(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    if rank not in (3, 4):
        raise UnsupportedOp("the input must be 3-D or 4-D")
    interleaved = bool(ctx.attr("interleaved", 0))
    rot_dim = int(ctx.attr("rotary_embedding_dim", 0) or 0)
    half = _dim(ctx.shape(1), -1)
    if rot_dim and half is not None and 2 * half != rot_dim:
        raise UnsupportedOp("rotary_embedding_dim does not match the cos/sin cache")
    fn = ctx.helper("rotary_embedding")
    # 4-D input is (batch, heads, seq, head_size); 3-D is (batch, seq, heads * head_size)
    head_axis = 1 if rank == 4 else 2
    angles = []
    for i, hint in ((1, "cos"), (2, "sin")):
        src = f"{ctx.x(i)}[{ctx.x(3)}]" if ctx.n_in > 3 and ctx.has(3) else ctx.x(i)
        t = ctx.tmp(hint)
        ctx.stmt(f"{t} = {src}.unsqueeze({head_axis})")  # (batch, seq, rot / 2) with a head axis
        angles.append(t)
    kwargs = {"interleaved": True} if interleaved else {}
    if rank == 4:
        return call(fn, ctx.x(0), *angles, **kwargs)
    heads = ctx.attr("num_heads")
    if not heads:
        raise UnsupportedOp("a 3-D input needs num_heads")
    x = f"{ctx.x(0)}.unflatten(-1, ({lit(int(heads))}, -1))"
    return f"{call(fn, x, *angles, **kwargs)}.flatten(2)"


@TABLE.op("SwiGLU")
def swiglu(ctx: Ctx) -> str:
    a, b = ctx.x(0), ctx.x(1)
    alpha = float(ctx.attr("alpha", 1.0))
    if alpha == 1.0:
        return f"F.silu({a}) * {b}"
    return f"{a} * torch.sigmoid({lit(alpha)} * {a}) * {b}"


@TABLE.op("CausalConvWithState")
def causal_conv_with_state(ctx: Ctx) -> list[str | None]:
    """A depthwise Conv1d over the cached past positions followed by the new ones."""
    activation = ctx.attr("activation", "none")
    if activation not in ("none", "silu", "swish"):
        raise UnsupportedOp(f"activation {activation!r} is not defined")
    if ctx.need_rank(0) != 3:
        raise UnsupportedOp("the input must be 3-D")
    w = ctx.const(1)
    wshape = w.shape if w is not None else ctx.shape(1)
    ksize = _dim(wshape, -1)
    channels = _dim(wshape, 0)
    x = ctx.x(0)
    padded = ctx.tmp("padded")
    if ctx.n_in > 3 and ctx.has(3):
        ctx.stmt(f"{padded} = torch.cat([{ctx.x(3)}, {x}], dim=2)")
    elif ksize is None:
        ctx.stmt(f"{padded} = F.pad({x}, ({ctx.x(1)}.shape[-1] - 1, 0))")  # no past: zeros
    elif ksize > 1:
        ctx.stmt(f"{padded} = F.pad({x}, ({ksize - 1}, 0))")
    else:
        padded = x
    has_bias = ctx.n_in > 2 and ctx.has(2)
    bias = ctx.const(2) if has_bias else None
    if w is not None and channels is not None and ksize is not None and (not has_bias or bias is not None):
        params = {"weight": w}
        kwargs: dict = {"groups": channels}
        if bias is not None:
            params["bias"] = bias
        else:
            kwargs["bias"] = False
        if ctx.elem(0) != ir.FLOAT:
            kwargs["dtype"] = Code(ctx.dtype(ctx.elem(0)))
        m = ctx.module(call("nn.Conv1d", lit(channels), lit(channels), lit(ksize), **kwargs), params, hint="conv")
        y = f"{m}({padded})"
    else:
        groups = lit(channels) if channels is not None else f"{x}.shape[1]"
        y = call("F.conv1d", padded, ctx.x(1), ctx.x(2) if has_bias else "None", groups=Code(groups))
    if activation != "none":
        y = f"F.silu({y})"
    # the last k - 1 positions are the state for the next call
    if ksize is None:
        state = f"{padded}[:, :, {padded}.shape[2] - ({ctx.x(1)}.shape[-1] - 1):]"
    else:
        state = f"{padded}[:, :, -{ksize - 1}:]" if ksize > 1 else f"{padded}[:, :, :0]"
    return [y, state if ctx.has_out(1) else None]


@TABLE.op("LinearAttention")
def linear_attention(ctx: Ctx) -> list[str | None]:
    rule = ctx.attr("update_rule", "gated_delta")
    if rule not in ("linear", "gated", "delta", "gated_delta"):
        raise UnsupportedOp(f"update_rule {rule!r} is not defined")
    gated, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    has_decay, has_beta = ctx.n_in > 4 and ctx.has(4), ctx.n_in > 5 and ctx.has(5)
    if gated != has_decay or delta != has_beta:
        raise UnsupportedOp(f"update_rule {rule!r} does not match the decay / beta inputs given")
    hq, hkv = ctx.attr("q_num_heads"), ctx.attr("kv_num_heads")
    if not hq or not hkv or hq % hkv:
        raise UnsupportedOp("q_num_heads must be a positive multiple of kv_num_heads")
    if any(ctx.rank(i) not in (None, 3) for i in range(3)):
        raise UnsupportedOp("query, key and value must be 3-D")
    elem = ctx.elem(0)
    # the recurrence runs in float32, as ONNX specifies, whatever the input type
    f32 = "" if elem == ir.FLOAT else ".float()"
    names = []
    for i, hint, heads in ((0, "q", hq), (1, "k", hkv), (2, "v", hkv)):
        t = ctx.tmp(hint)
        ctx.stmt(f"{t} = {ctx.x(i)}.unflatten(-1, ({lit(int(heads))}, -1)).transpose(1, 2){f32}")
        names.append(t)
    kwargs: dict = {}
    if ctx.n_in > 3 and ctx.has(3):
        state_f32 = "" if ctx.elem(3) == ir.FLOAT else ".float()"
        kwargs["state"] = Code(f"{ctx.x(3)}{state_f32}")
    if has_decay:  # per key dimension (batch, time, kv_heads * d_k) or per head (batch, time, kv_heads)
        g = ctx.tmp("g")
        ctx.stmt(f"{g} = {ctx.x(4)}.unflatten(-1, ({lit(int(hkv))}, -1)).transpose(1, 2){f32}")
        kwargs["decay"] = Code(g)
    if has_beta:  # (batch, time, kv_heads or 1)
        b = ctx.tmp("b")
        ctx.stmt(f"{b} = {ctx.x(5)}.transpose(1, 2).unsqueeze(-1){f32}")
        kwargs["beta"] = Code(b)
    scale = float(ctx.attr("scale", 0.0) or 0.0)
    if scale == 0.0:
        width = _dim(ctx.shape(0), -1)
        kwargs["scale"] = Code(lit(1.0 / math.sqrt(width // hq)) if width is not None else f"{names[0]}.shape[-1] ** -0.5")
    else:
        kwargs["scale"] = scale
    fn = ctx.helper("linear_attention")
    out, state = ctx.tmp("out"), ctx.tmp("state")
    ctx.stmt(f"{out}, {state} = {call(fn, *names, **kwargs)}")
    cast = "" if elem == ir.FLOAT else f".to({ctx.dtype(elem)})"
    state_elem = ctx.elem(3) if ctx.n_in > 3 and ctx.has(3) else elem
    state_cast = "" if state_elem == ir.FLOAT else f".to({ctx.dtype(state_elem)})"
    return [f"{out}.transpose(1, 2).flatten(2){cast}", f"{state}{state_cast}" if ctx.has_out(1) else None]


@TABLE.op("FlexAttention", domain="ai.onnx.preview")
def flex_attention(ctx: Ctx) -> str:
    """Attention whose scores and probabilities pass through the node's own subgraphs."""
    if any(ctx.rank(i) not in (None, 4) for i in range(3)):
        raise UnsupportedOp("Q, K and V must be 4-D")
    elem = ctx.elem(0)
    if elem not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16):
        raise UnsupportedOp(f"element type {elem} is not supported")
    precision = ctx.attr("softmax_precision")
    if precision is None:  # float32 unless the inputs are double
        precision = ir.DOUBLE if elem == ir.DOUBLE else ir.FLOAT
    if precision not in (ir.FLOAT, ir.FLOAT16, ir.DOUBLE, ir.BFLOAT16):
        raise UnsupportedOp(f"softmax_precision {precision} is not a float type")
    score_mod: ir.Graph | None = ctx.attr("score_mod")
    prob_mod: ir.Graph | None = ctx.attr("prob_mod")
    for g in (score_mod, prob_mod):
        if g is not None and (len(g.inputs) != 1 or len(g.outputs) != 1):
            raise UnsupportedOp("score_mod / prob_mod must have one input and one output")
    q, k, v = ctx.x(0), ctx.x(1), ctx.x(2)
    hq, hkv = _dim(ctx.shape(0), 1), _dim(ctx.shape(1), 1)
    if hq is not None and hkv is not None and hq != hkv and hq % hkv:
        raise UnsupportedOp(f"{hq} query heads cannot share {hkv} key/value heads")
    scale = ctx.attr("scale")
    if score_mod is None and prob_mod is None and elem == precision:
        kwargs: dict = {} if scale is None else {"scale": float(scale)}
        if hq is None or hkv is None or hq != hkv:
            kwargs["enable_gqa"] = True
        return call("F.scaled_dot_product_attention", q, k, v, **kwargs)

    if hq is None or hkv is None or hq != hkv:
        reps = lit(hq // hkv) if hq is not None and hkv is not None else f"{q}.shape[1] // {k}.shape[1]"
        k, v = f"{k}.repeat_interleave({reps}, dim=1)", f"{v}.repeat_interleave({reps}, dim=1)"
    head = _dim(ctx.shape(0), -1)
    scores = ctx.tmp("scores")
    if scale is None and head is None:
        ctx.stmt(f"{scores} = {q} @ {k}.transpose(-2, -1) * {q}.shape[-1] ** -0.5")
    elif elem in LOW_PRECISION:
        # ONNX multiplies Q and K each by sqrt(scale), rounded to the input type
        sq = float(np.sqrt(np.float32(scale if scale is not None else 1.0 / math.sqrt(head))))  # type: ignore[arg-type]
        s = lit(_round_to(sq, elem))
        ctx.stmt(f"{scores} = ({q} * {s}) @ ({k}.transpose(-2, -1) * {s})")
    else:
        s = lit(float(scale) if scale is not None else 1.0 / math.sqrt(head))  # type: ignore[arg-type]
        ctx.stmt(f"{scores} = {q} @ {k}.transpose(-2, -1) * {s}")
    if precision != elem:
        ctx.stmt(f"{scores} = {scores}.to({ctx.dtype(precision)})")
    scores = _inline(ctx, score_mod, scores)
    attn = ctx.tmp("attn")
    if precision in LOW_PRECISION:
        ctx.stmt(f"{attn} = torch.exp({scores} - {scores}.amax(dim=-1, keepdim=True))")
        ctx.stmt(f"{attn} = {attn} / {attn}.sum(dim=-1, keepdim=True)")
    else:
        ctx.stmt(f"{attn} = F.softmax({scores}, dim=-1)")
    attn = _inline(ctx, prob_mod, attn)
    if precision == elem:
        return f"{attn} @ {v}"
    # probabilities times V in the softmax precision, then back to the input type
    return f"({attn} @ {v}.to({ctx.dtype(precision)})).to({ctx.dtype(elem)})"


def _inline(ctx: Ctx, graph: ir.Graph | None, arg: str) -> str:
    """The statements of a one-input, one-output subgraph applied to `arg`; returns its result."""
    if graph is None:
        return arg
    lines, outs = ctx.gen.lower_subgraph(graph, [arg])
    if lines:
        ctx.stmt("\n".join(lines))
    if outs[0] == "None":
        raise UnsupportedOp("the modifier subgraph could not be lowered")
    return outs[0]
