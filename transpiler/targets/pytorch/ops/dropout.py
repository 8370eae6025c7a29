"""Dropout: an nn.Dropout module in inference graphs (so model.train() still drops), F.dropout
or the explicit mask when the graph itself asks for training mode."""

from __future__ import annotations

import numpy as np

from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE


@TABLE.op("Dropout")
def dropout(ctx: Ctx) -> str | Unpack | list[str | None]:
    x = ctx.x(0)
    ratio = ctx.const(1) if ctx.has(1) else np.float32(0.5)
    training = ctx.const(2) if ctx.has(2) else np.bool_(False)
    all_kept = f"torch.ones_like({x}, dtype=torch.bool)"
    mask = all_kept if ctx.has_out(1) else None
    if ratio is not None and float(ratio) == 0.0:
        return [x, mask]
    if training is not None and not bool(training):
        # Inference: the identity (and a mask of all True) while the model is in eval mode.
        if ratio is None:
            return [x, mask]
        p = float(str(np.float32(ratio)))
        m = ctx.module(call("nn.Dropout", *([] if p == 0.5 else [lit(p)])))
        return [f"{m}({x})", mask]
    p_code = lit(float(str(np.float32(ratio)))) if ratio is not None else f"float({ctx.x(1)})"
    train = "True" if training is not None else f"bool({ctx.x(2)})"
    if not ctx.has_out(1):
        return call("F.dropout", x, p_code, training=Code(train))
    args = [x, p_code] if train == "True" else [x, p_code, train]
    return Unpack(call(ctx.helper("onnx_dropout"), *args), 2)
