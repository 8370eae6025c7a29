"""Gemm / MatMul / transpiler::Linear with a constant weight -> InnerProduct (a 2-d input is
ncnn's "gemm mode": one output row per input row); MatMul of two computed tensors -> MatMul
(batched, size-1 batch axes broadcast)."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..builder import Builder, float_data
from ..net import Weight
from ..shapes import ncnn_shape
from . import TABLE
from .elementwise import ADD, MUL, binary_op


def inner_product(b: Builder, x: ir.Value, weight: np.ndarray, bias: np.ndarray | None, out: ir.Value | None) -> None:
    """out = x @ weight.T + bias over x's last axis; weight is (N, K)."""
    shape = b.shape(x)
    n_out, k = weight.shape
    if not shape or shape[-1] != k:
        raise UnsupportedOp(f"input shape {list(shape)} does not end in {k}")
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    view = (rows, k) if rows > 1 else (k,)
    params = {0: int(n_out), 1: int(bias is not None), 2: int(weight.size)}
    weights = [Weight(float_data(np.ascontiguousarray(weight), "the weight"), flagged=True)]
    if bias is not None:
        weights.append(Weight(float_data(bias.reshape(-1), "the bias"), flagged=False))
    blob = b.layer1("InnerProduct", [b.view(x, view)], (rows, n_out) if rows > 1 else (n_out,), params, weights)
    b.bind(out, blob, (*shape[:-1], n_out))


def _bias_vector(c: np.ndarray, n: int, m: int) -> np.ndarray | None:
    """C as a bias over the N outputs, when it broadcasts that way."""
    if c.size == 1:
        return np.full(n, float(c.reshape(())), dtype=np.float32)
    if c.shape in ((n,), (1, n)) or (m == 1 and c.shape == (n,)):
        return c.reshape(-1)
    return None


@TABLE.op("Gemm")
def gemm(b: Builder, node: ir.Node) -> None:
    a, bm, c = node.input(0), node.input(1), node.input(2)
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    trans_a, trans_b = int(node.attr("transA", 0)), int(node.attr("transB", 0))
    sa = b.shape(a)
    if len(sa) != 2:
        raise UnsupportedOp(f"A of rank {len(sa)}")
    if bm.const is None:
        raise UnsupportedOp("B is not a constant")
    m = sa[1] if trans_a else sa[0]
    if trans_a and m != 1:
        raise UnsupportedOp("transA with more than one row")
    w = bm.const if trans_b else bm.const.T
    if alpha != 1.0:
        w = w * np.float32(alpha)
    n = w.shape[0]
    bias = None
    post_c = None
    if c is not None:
        if c.const is not None and _bias_vector(c.const, n, m) is not None:
            bias = _bias_vector(c.const, n, m).astype(np.float32) * np.float32(beta)
        else:
            post_c = c
    if trans_a:
        # A^T of a (K, 1) matrix is the same elements as a (1, K) row
        x_shape = (1, sa[0])
        tmp = ir.Value(f"{node.name}_rowA", a.elem, x_shape)
        b.alias(tmp, a, x_shape)
        a = tmp
    out = node.outputs[0]
    if post_c is None:
        inner_product(b, a, w, bias, out)
        return
    mid = ir.Value(f"{node.name}_ab", out.elem, (m, n))
    inner_product(b, a, w, bias, mid)
    if beta != 1.0:
        scaled = ir.Value(f"{node.name}_c", out.elem, b.shape(post_c))
        binary_op(b, node, MUL, post_c, ir.Value("beta", ir.FLOAT, (), const=np.array(beta, np.float32)), scaled)
        post_c = scaled
    binary_op(b, node, ADD, mid, post_c, out)


@TABLE.op("Linear", domain="transpiler")
def linear(b: Builder, node: ir.Node) -> None:
    x, w, bias = node.inputs[:3]
    inner_product(b, x, w.const.T, bias.const.reshape(-1) if bias is not None else None, node.outputs[0])


@TABLE.op("MatMul")
def matmul(b: Builder, node: ir.Node) -> None:
    x, y = node.input(0), node.input(1)
    if any(v.elem not in ir.FLOAT_TYPES for v in (x, y)):
        raise UnsupportedOp("integer matmul")
    sy = b.shape(y)
    if y.const is not None and y.const.ndim == 2:
        inner_product(b, x, y.const.T, None, node.outputs[0])
        return
    sx = b.shape(x)
    if len(sx) < 2 or len(sy) < 2:
        raise UnsupportedOp("a 1-d operand of a matmul of two computed tensors")
    if sx[-1] != sy[-2]:
        raise UnsupportedOp(f"shapes {list(sx)} and {list(sy)} do not multiply")
    from ..shapes import broadcast

    batch = broadcast(sx[:-2], sy[:-2])
    out_shape = (*batch, sx[-2], sy[-1])
    r = len(out_shape)
    px = (1,) * (r - len(sx)) + tuple(sx)
    py = (1,) * (r - len(sy)) + tuple(sy)
    nout = ncnn_shape(out_shape)
    drop = r - len(nout) if len(nout) >= 2 else 0
    vx, vy, vout = px[drop:], py[drop:], out_shape[drop:]
    if len(vout) > 4:
        raise UnsupportedOp(f"a {len(vout)}-d matmul")
    blob = b.layer1("MatMul", [b.view(x, vx), b.view(y, vy)], vout)
    b.bind(node.outputs[0], blob, out_shape)
