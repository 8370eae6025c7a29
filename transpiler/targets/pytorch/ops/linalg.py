"""Linear algebra beyond matrix products: Einsum, Det, Trilu."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx, call, lit
from . import TABLE

# PyTorch lacks most kernels for these unsigned types; masking keeps bits, so Trilu runs on the
# signed type of the same width.
SIGNED_VIEW = {ir.UINT16: "torch.int16", ir.UINT32: "torch.int32", ir.UINT64: "torch.int64"}


@TABLE.op("Einsum")
def einsum(ctx: Ctx) -> str:
    equation = ctx.attr("equation")
    if isinstance(equation, bytes):
        equation = equation.decode()
    if not isinstance(equation, str):
        raise UnsupportedOp("Einsum without an equation")
    xs = [ctx.x(i) for i in range(ctx.n_in)]
    elem = ctx.out_elem(0)
    if elem in (ir.UINT16, ir.UINT32):
        # values fit int64 exactly; products and sums wrap back modulo 2**n on the cast
        xs = [f"{x}.to(torch.int64)" for x in xs]
        return f"{call('torch.einsum', lit(equation), *xs)}.to({ctx.dtype(elem)})"
    if elem == ir.UINT64:  # two's complement products and sums give the same bits
        xs = [f"{x}.view(torch.int64)" for x in xs]
        return f"{call('torch.einsum', lit(equation), *xs)}.view(torch.uint64)"
    return call("torch.einsum", lit(equation), *xs)


@TABLE.op("Det")
def det(ctx: Ctx) -> str:
    elem = ctx.elem(0)
    if elem in (ir.FLOAT16, ir.BFLOAT16):  # no half-precision LU in PyTorch: float32 inside
        return f"torch.linalg.det({ctx.x(0)}.float()).to({ctx.dtype(elem)})"
    return call("torch.linalg.det", ctx.x(0))


@TABLE.op("Trilu")
def trilu(ctx: Ctx) -> str:
    fn = "torch.triu" if ctx.attr("upper", 1) else "torch.tril"
    args = []
    if ctx.has(1):
        k = ctx.const(1)
        if k is None:
            args.append(f"int({ctx.x(1)})")
        elif int(k.reshape(-1)[0]) != 0:
            args.append(lit(int(k.reshape(-1)[0])))
    elem = ctx.elem(0)
    if elem in SIGNED_VIEW:
        x = f"{ctx.x(0)}.view({SIGNED_VIEW[elem]})"
        return f"{call(fn, x, *args)}.view({ctx.dtype(elem)})"
    return call(fn, ctx.x(0), *args)
