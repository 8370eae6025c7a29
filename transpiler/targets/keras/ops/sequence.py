"""Optionals and sequences.

A Keras functional model has tensors only: a sequence or optional value (a model input or output
of that type, or one passed between nodes) is refused by the codegen. What remains is
OptionalGetElement on a plain tensor, which ONNX defines as the identity.
"""

from __future__ import annotations

from ..context import Ctx
from . import TABLE


@TABLE.op("OptionalGetElement")
def optional_get_element(ctx: Ctx) -> str:
    perm = ctx.perm(0)  # the identity keeps whatever layout the tensor is held in
    ctx.set_perm(0, perm)
    return ctx.x(0, perm)
