"""An example plugin: the custom op `com.example::ScaledTanh` (y = alpha * tanh(beta * x)).

    transpile examples/plugins/custom_op.onnx --to pytorch -o out/net.py --plugin examples/plugins/scaled_tanh.py

A plugin registers a lowering on a target's op table, exactly as the built-in lowerings do
(see transpiler/targets/pytorch/ops/ for many more): the PyTorch lowering gets a `Ctx` and returns
the expression of the node's result. `reference_op()` is the same op for ONNX's reference
evaluator (numpy), which the tests compare the generated module with.
"""

from __future__ import annotations

import numpy as np

from transpiler.errors import UnsupportedOp
from transpiler.plugins import table
from transpiler.targets.pytorch.context import Ctx, call, lit

DOMAIN = "com.example"


@table("pytorch").op("ScaledTanh", domain=DOMAIN)
def scaled_tanh(ctx: Ctx) -> str:
    if ctx.elem(0) not in (1, 10, 11, 16):  # float, float16, double, bfloat16
        raise UnsupportedOp("ScaledTanh of a non-float tensor")
    alpha, beta = ctx.attr("alpha", 1.0), ctx.attr("beta", 1.0)
    x = ctx.x(0) if beta == 1.0 else f"{f32(beta)} * {ctx.x(0)}"
    y = call("torch.tanh", x)
    return y if alpha == 1.0 else f"{f32(alpha)} * {y}"


def f32(v: float) -> str:
    """ONNX float attributes are float32: spell one as its shortest float32 literal (1.7159, not
    1.71589994430542), which is the same float32 value."""
    short = float(str(np.float32(v)))
    return lit(short if np.float32(short) == np.float32(v) else v)


def reference_op():  # type: ignore[no-untyped-def]
    """The op for `onnx.reference.ReferenceEvaluator(model, new_ops=[reference_op()])`."""
    from onnx.reference.op_run import OpRun

    class ScaledTanh(OpRun):
        op_domain = DOMAIN

        def _run(self, x, alpha=1.0, beta=1.0):  # type: ignore[no-untyped-def]
            a, b = np.float32(alpha), np.float32(beta)
            return ((a * np.tanh(b * x)).astype(x.dtype),)

    return ScaledTanh
