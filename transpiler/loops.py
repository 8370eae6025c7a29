"""Facts about ONNX control-flow subgraphs that every target's If / Loop lowering asks."""

from __future__ import annotations

import numpy as np

from . import ir


def truth(c: np.ndarray) -> bool:
    """The value of a constant boolean condition (a scalar or a one-element tensor)."""
    return bool(np.asarray(c).reshape(-1)[0])


def cond_passes_through(body: ir.Graph) -> bool:
    """Whether a Loop body's condition output is its condition input (directly, via Identity, or
    a constant true): then only the initial condition decides whether the loop runs."""
    cond_in, cond_out = body.inputs[1], body.outputs[0]
    if cond_out is cond_in:
        return True
    if cond_out.const is not None:
        return truth(cond_out.const)
    p = cond_out.producer
    return p is not None and p.op_type == "Identity" and p.domain == "" and p.inputs[0] is cond_in
