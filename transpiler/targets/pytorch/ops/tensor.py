"""Shape and data movement: reshape, transpose, concat, slice, split, pad, expand, and the ops that
build tensors from shapes (Shape, ConstantOfShape, Range, EyeLike) or reorder them (Unique,
ReverseSequence).

Parameter inputs (axes, starts, pads, split sizes, ...) become literals when they are constants and
`t.tolist()` (or `t[k]`) reads at run time otherwise."""

from __future__ import annotations

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, Unpack, call, lit
from . import TABLE
from ._util import int_list, norm_axis, torch_pad_arg

INT64_MAX = np.iinfo(np.int64).max
# |bound| at or above this means "to the end of the axis" (ONNX models use INT64_MAX / INT32_MAX)
HUGE = np.iinfo(np.int32).max


def _dim_code(ctx: Ctx, i: int, d: int) -> str:
    """Code for dimension d of input i: a literal when static, else `x.shape[d]`."""
    shape = ctx.shape(i)
    if shape is not None and d < len(shape) and isinstance(shape[d], int):
        return lit(shape[d])
    return f"{ctx.x(i)}.shape[{d}]"


def _static_dim(ctx: Ctx, i: int, d: int) -> int | None:
    shape = ctx.shape(i)
    if shape is not None and d < len(shape) and isinstance(shape[d], int):
        return shape[d]
    return None


def _list_code(ctx: Ctx, i: int) -> str:
    """Input i as a Python list: a literal for a constant, else `t.tolist()`."""
    c = ctx.const(i)
    return lit(int_list(c)) if c is not None else f"{ctx.x(i)}.tolist()"


def _length(ctx: Ctx, i: int) -> int | None:
    """The number of entries of the 1-D input i, when known."""
    c = ctx.const(i)
    if c is not None:
        return int(c.size)
    shape = ctx.shape(i)
    if shape is not None and len(shape) == 1 and isinstance(shape[0], int):
        return shape[0]
    return None


@TABLE.op("Reshape")
def reshape(ctx: Ctx) -> str:
    shape = ctx.const(1)
    if shape is None:
        if ctx.attr("allowzero", 0):
            return f"{ctx.x(0)}.reshape({ctx.x(1)}.tolist())"
        return call(ctx.helper("onnx_reshape"), ctx.x(0), ctx.x(1))
    dims = int_list(shape) or []
    out_static = ctx.out_shape(0)
    if out_static is not None and all(isinstance(d, int) for d in out_static) and ctx.shape(0) is not None and all(
        isinstance(d, int) for d in ctx.shape(0)  # type: ignore[union-attr]
    ):
        parts = [lit(int(d)) for d in out_static]
        if len(dims) == len(parts) and -1 in dims:
            parts[dims.index(-1)] = "-1"
    else:
        parts = []
        for k, d in enumerate(dims):
            if d == 0 and not ctx.attr("allowzero", 0):
                parts.append(_dim_code(ctx, 0, k))
            else:
                parts.append(lit(d))
    if len(parts) == 1:
        return f"{ctx.x(0)}.reshape({parts[0]})" if parts[0] != "-1" else f"{ctx.x(0)}.flatten()"
    return f"{ctx.x(0)}.reshape({', '.join(parts)})" if parts else f"{ctx.x(0)}.reshape(())"


@TABLE.op("Flatten")
def flatten(ctx: Ctx) -> str:
    x = ctx.x(0)
    axis = int(ctx.attr("axis", 1))
    rank = ctx.rank(0)
    if rank is None:
        # x.shape[:axis] reads the leading dimensions for a negative axis too
        return f"{x}.reshape(math.prod({x}.shape[:{axis}]), -1)"
    if not -rank <= axis <= rank:
        raise UnsupportedOp(f"axis {axis} is out of range for rank {rank}")
    axis = axis + rank if axis < 0 else axis
    if axis == 0:
        return f"{x}.reshape(1, -1)"
    if axis == rank:
        return f"{x}.reshape(-1, 1)"
    if axis == 1:
        return x if rank == 2 else f"{x}.flatten(1)"
    if axis == rank - 1:
        return f"{x}.flatten(0, {axis - 1})"
    return f"{x}.flatten({axis}).flatten(0, {axis - 1})"


@TABLE.op("Transpose")
def transpose(ctx: Ctx) -> str:
    x = ctx.x(0)
    perm = ctx.attr("perm")
    rank = ctx.rank(0)
    if perm is None:
        if rank is None:
            return f"{x}.permute(*reversed(range({x}.dim())))"
        perm = list(range(rank))[::-1]
    perm = [int(p) for p in perm]
    if perm == list(range(len(perm))):
        return x
    moved = [k for k, p in enumerate(perm) if p != k]
    if len(moved) == 2:  # a swap of two axes reads better as transpose
        a, b = moved
        n = len(perm)
        if b == n - 1 and a == n - 2 and n > 3:  # the attention idiom k.transpose(-2, -1)
            return f"{x}.transpose(-2, -1)"
        return f"{x}.t()" if n == 2 else f"{x}.transpose({a}, {b})"
    return f"{x}.permute({', '.join(str(p) for p in perm)})"


@TABLE.op("Concat")
def concat(ctx: Ctx) -> str:
    xs = [ctx.x(i) for i in range(ctx.n_in) if ctx.has(i)]
    axis = ctx.attr("axis")
    return call("torch.cat", f"[{', '.join(xs)}]", dim=axis) if axis else f"torch.cat([{', '.join(xs)}])"


@TABLE.op("Slice")
def slice_(ctx: Ctx) -> str:
    index = _slice_index(ctx)
    if index is None:
        return _slice_helper(ctx)
    x, parts = index
    while parts and parts[-1] == ":":
        parts.pop()
    return f"{x}[{', '.join(parts)}]" if parts else x


def _slice_index(ctx: Ctx) -> tuple[str, list[str]] | None:
    """(tensor code, Python index parts) when the slice can be written as `x[a:b, ...]`, else None."""
    rank = ctx.rank(0)
    n = _length(ctx, 1)
    axes_c = ctx.const(3) if ctx.has(3) else None
    steps_c = ctx.const(4) if ctx.has(4) else None
    if rank is None or n is None or (ctx.has(3) and axes_c is None) or (ctx.has(4) and steps_c is None):
        return None
    axes = [norm_axis(a, rank) for a in int_list(axes_c)] if axes_c is not None else list(range(n))
    steps = int_list(steps_c) if steps_c is not None else [1] * n
    starts_c, ends_c = int_list(ctx.const(1)), int_list(ctx.const(2))
    if 0 in steps:
        raise UnsupportedOp("slice step 0")
    parts = [":"] * rank
    flips = []
    for k, (a, st) in enumerate(zip(axes, steps)):
        dim = _static_dim(ctx, 0, a)
        if st > 0:
            start = _bound(ctx, 1, k, starts_c, dim, is_start=True)
            stop = _bound(ctx, 2, k, ends_c, dim, is_start=False)
            parts[a] = f"{start}:{stop}" + (f":{st}" if st != 1 else "")
            continue
        if starts_c is None or ends_c is None or dim is None:
            return None  # a backward walk over an unknown range needs the helper
        # clamp as ONNX does, then express as a forward slice of the flipped axis
        s, e = starts_c[k], ends_c[k]
        s = min(max(s + dim if s < 0 else s, 0), dim - 1)
        e = min(max(e + dim if e < 0 else e, -1), dim - 1)
        flips.append(a)
        fs, fe = dim - 1 - s, dim - 1 - e
        parts[a] = f"{fs or ''}:{fe if fe < dim else ''}" + (f":{-st}" if st != -1 else "")
    x = ctx.x(0)
    if flips:
        x = f"{x}.flip({', '.join(str(a) for a in flips)})"
    return x, parts


def _bound(ctx: Ctx, i: int, k: int, values: list[int] | None, dim: int | None, is_start: bool) -> str:
    """One bound of a forward slice: a literal (empty when it is the axis' own end) or `t[k]`."""
    if values is None:
        return f"{ctx.x(i)}[{k}]"
    v = values[k]
    if is_start:
        return "" if v == 0 or v <= -HUGE else str(v)
    if v >= HUGE or (dim is not None and v >= dim):
        return ""
    return "0" if v <= -HUGE else str(v)


def _slice_helper(ctx: Ctx) -> str:
    args = [ctx.x(0), _list_code(ctx, 1), _list_code(ctx, 2)]
    if ctx.has(3):
        args.append(_list_code(ctx, 3))
    if ctx.has(4):
        args += ["None"] * (4 - len(args)) + [_list_code(ctx, 4)]
    return call(ctx.helper("onnx_slice"), *args)


@TABLE.op("Split")
def split(ctx: Ctx) -> str | Unpack:
    rank = ctx.rank(0)
    axis = int(ctx.attr("axis", 0))
    if rank is not None:
        axis = norm_axis(axis, rank)
    n = ctx.n_out
    if n == 1:
        return ctx.x(0)
    kwargs = {"dim": axis} if axis else {}
    x = ctx.x(0)
    if ctx.has(1):
        sizes = ctx.const(1)
        if sizes is None:
            return Unpack(call("torch.split", x, f"{ctx.x(1)}.tolist()", **kwargs), n)
        sections = int_list(sizes) or []
    else:
        dim = _static_dim(ctx, 0, axis) if rank is not None else None
        if dim is None:
            # ONNX gives every part ceil(dim / n) entries but the last, as torch.chunk does
            return Unpack(call("torch.chunk", x, lit(n), **kwargs), n)
        chunk = -(-dim // (ctx.attr("num_outputs") or n))
        sections = [min(chunk, dim - k * chunk) for k in range(n)]
    if sections and sections[0] > 0 and all(s == sections[0] for s in sections):
        # the sizes add up to the axis, so equal parts are exactly what an int split size gives
        return Unpack(call("torch.split", x, lit(sections[0]), **kwargs), n)
    return Unpack(call("torch.split", x, lit(sections), **kwargs), n)


@TABLE.op("Squeeze")
def squeeze(ctx: Ctx) -> str:
    x = ctx.x(0)
    if not ctx.has(1):
        return f"{x}.squeeze()"
    axes = ctx.const(1)
    if axes is None:
        return f"{x}.squeeze(tuple({ctx.x(1)}.tolist()))"
    rank = ctx.rank(0)
    dims = int_list(axes) or []
    if rank is not None:
        dims = sorted(norm_axis(a, rank) for a in dims)
    if not dims:
        return x
    return f"{x}.squeeze({dims[0]})" if len(dims) == 1 else f"{x}.squeeze({lit(tuple(dims))})"


@TABLE.op("Unsqueeze")
def unsqueeze(ctx: Ctx) -> str:
    axes = ctx.const(1)
    rank = ctx.rank(0)
    if axes is None:
        return call(ctx.helper("onnx_unsqueeze"), ctx.x(0), f"{ctx.x(1)}.tolist()")
    dims = int_list(axes) or []
    if rank is not None:
        dims = [norm_axis(a, rank + len(dims)) for a in dims]
    elif any(a < 0 for a in dims):
        return call(ctx.helper("onnx_unsqueeze"), ctx.x(0), lit(dims))
    expr = ctx.x(0)
    for a in sorted(dims):  # ascending, so each axis is already an output position
        expr = f"{expr}.unsqueeze({a})"
    return expr


@TABLE.op("Expand")
def expand(ctx: Ctx) -> str:
    out = ctx.out_shape(0)
    if out is not None and all(isinstance(d, int) for d in out):
        if ctx.shape(0) is not None and tuple(ctx.shape(0)) == tuple(out):  # type: ignore[arg-type]
            return ctx.x(0)
        return f"{ctx.x(0)}.expand({', '.join(str(d) for d in out)})" if out else ctx.x(0)
    return call("torch.broadcast_to", ctx.x(0), f"torch.broadcast_shapes({ctx.x(0)}.shape, tuple({ctx.x(1)}.tolist()))")


@TABLE.op("Shape")
def shape_(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    start, end = ctx.attr("start", 0), ctx.attr("end", rank)
    sl = "" if (start == 0 and end >= rank) else f"[{start or ''}:{end if end < rank else ''}]"
    return f"torch.tensor({ctx.x(0)}.shape{sl}, dtype=torch.int64)"


@TABLE.op("Size")
def size_(ctx: Ctx) -> str:
    return f"torch.tensor({ctx.x(0)}.numel(), dtype=torch.int64)"


@TABLE.op("ConstantOfShape")
def constant_of_shape(ctx: Ctx) -> str:
    value = ctx.attr("value")
    v = np.zeros((1,), np.float32) if value is None else value
    elem = ctx.out_elem(0) or ir.FLOAT
    fill = v.reshape(-1)[0].item()
    shape = ctx.const(0)
    if shape is not None:
        dims = int_list(shape) or []
        size = ", ".join(lit(d) for d in dims) if dims else "()"
    else:
        size = f"{ctx.x(0)}.tolist()"
    dtype = {} if elem == ir.FLOAT else {"dtype": Code(ctx.dtype(elem))}
    if fill == 0 and not (isinstance(fill, float) and np.signbit(fill)):
        return call("torch.zeros", size, **dtype)
    if fill == 1:
        return call("torch.ones", size, **dtype)
    if shape is not None and size != "()":
        size = f"({size},)" if len(dims) == 1 else f"({size})"
    return call("torch.full", size, lit(fill), dtype=Code(ctx.dtype(elem)))


@TABLE.op("Tile")
def tile(ctx: Ctx) -> str:
    reps = ctx.const(1)
    if reps is None:
        return f"{ctx.x(0)}.repeat({ctx.x(1)}.tolist())"
    if not int_list(reps):  # a 0-d input: nothing to repeat (Tensor.repeat() needs an argument)
        return ctx.x(0)
    return f"{ctx.x(0)}.repeat({', '.join(str(r) for r in int_list(reps))})"


@TABLE.op("DepthToSpace", "SpaceToDepth")
def depth_space(ctx: Ctx) -> str:
    """Block moves between channels and space (4-D), as the spec's reshape / transpose / reshape."""
    if ctx.need_rank(0) != 4:
        raise UnsupportedOp("only 4-D inputs are defined")
    b = int(ctx.attr("blocksize"))
    x = ctx.x(0)
    n, c, h, w = (_dim_code(ctx, 0, d) for d in range(4))
    crd = ctx.attr("mode", "DCR") == "CRD"
    if ctx.node.op_type == "SpaceToDepth":
        if crd:
            return call("F.pixel_unshuffle", x, lit(b))
        split = f"{x}.reshape({n}, {c}, {h} // {b}, {b}, {w} // {b}, {b})"
        return f"{split}.permute(0, 3, 5, 1, 2, 4).reshape({n}, {c} * {b * b}, {h} // {b}, {w} // {b})"
    if crd:
        return call("F.pixel_shuffle", x, lit(b))
    split = f"{x}.reshape({n}, {b}, {b}, {c} // {b * b}, {h}, {w})"
    return f"{split}.permute(0, 3, 4, 1, 5, 2).reshape({n}, {c} // {b * b}, {h} * {b}, {w} * {b})"


@TABLE.op("Range")
def range_(ctx: Ctx) -> str:
    elem = ctx.out_elem(0)
    args = [ctx.scalar_or_x(i) for i in range(3)]
    args = [a if not (a.startswith("self.") or a.isidentifier()) else f"{a}.item()" for a in args]
    return call("torch.arange", *args, dtype=Code(ctx.dtype(elem)))


# ONNX Pad mode -> F.pad mode, for the modes F.pad has natively
PAD_MODES = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@TABLE.op("Pad")
def pad(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode not in ("constant", *PAD_MODES):
        raise UnsupportedOp(f"pad mode {mode!r}")
    value = _pad_value(ctx) if mode == "constant" else None
    widths = _pad_widths(ctx)
    if widths is None:  # pads or axes known only at run time
        kwargs: dict = {}
        if mode != "constant":
            kwargs["mode"] = mode
        if value not in (None, "0", "0.0", "False"):
            kwargs["value"] = Code(value)
        args = [ctx.x(0), _list_code(ctx, 1)]
        if ctx.has(3):
            args.append(_list_code(ctx, 3))
        return call(ctx.helper("onnx_pad"), *args, **kwargs)
    torch_pads = torch_pad_arg(widths)
    while torch_pads[-2:] == [0, 0]:  # leading axes without padding need no entry
        torch_pads = torch_pads[:-2]
    if not torch_pads:
        return ctx.x(0)
    if mode == "constant":
        if value in ("0", "0.0", "False"):
            return call("F.pad", ctx.x(0), lit(torch_pads))
        return call("F.pad", ctx.x(0), lit(torch_pads), value=Code(value or "0"))
    if _native_pad_ok(ctx, mode, widths, len(torch_pads) // 2):
        return call("F.pad", ctx.x(0), lit(torch_pads), mode=PAD_MODES[mode])
    return call(ctx.helper("onnx_pad"), ctx.x(0), lit(widths), mode=mode)


def _pad_value(ctx: Ctx) -> str:
    if not ctx.has(2):
        return "0"
    c = ctx.const(2)
    if c is not None:
        return lit(c.reshape(-1)[0].item()) if c.size else "0"
    return f"{ctx.x(2)}.item()"


def _pad_widths(ctx: Ctx) -> list[int] | None:
    """ONNX pads expanded to every axis ([b1..bn, e1..en]) when pads and axes are constants."""
    pads = ctx.const(1)
    rank = ctx.rank(0)
    if pads is None or rank is None:
        return None
    p = int_list(pads) or []
    if ctx.has(3):
        axes_c = ctx.const(3)
        if axes_c is None:
            return None
        axes = [norm_axis(a, rank) for a in int_list(axes_c)]
    else:
        axes = list(range(rank))
    if len(p) != 2 * len(axes):
        raise UnsupportedOp(f"{len(p)} pads for {len(axes)} axes")
    widths = [0] * (2 * rank)
    for k, a in enumerate(axes):
        widths[a], widths[rank + a] = p[k], p[len(axes) + k]
    return widths


def _native_pad_ok(ctx: Ctx, mode: str, widths: list[int], n_padded: int) -> bool:
    """F.pad's reflect/replicate/circular pad the last 1-3 axes of a tensor with one or two more
    axes, without negative widths, a reflection no wider than the axis, or bool data."""
    rank = ctx.need_rank(0)
    if n_padded > 3 or rank not in (n_padded + 1, n_padded + 2) or ctx.elem(0) == ir.BOOL:
        return False
    if any(w < 0 for w in widths):
        return False
    for a in range(rank - n_padded, rank):
        dim = _static_dim(ctx, 0, a)
        widest = max(widths[a], widths[rank + a])
        if mode == "reflect" and (dim is None or widest >= dim):
            return False
        if mode == "wrap" and (dim is None or widest > dim):
            return False
    return True


@TABLE.op("CenterCropPad")
def center_crop_pad(ctx: Ctx) -> str:
    rank = ctx.rank(0)
    target = ctx.const(1)
    axes_attr = ctx.attr("axes")
    shape = ctx.shape(0)
    if target is not None and rank is not None and shape is not None and all(isinstance(d, int) for d in shape):
        axes = [norm_axis(a, rank) for a in axes_attr] if axes_attr is not None else list(range(rank))
        return _center_crop_pad_static(ctx, [int(d) for d in shape], axes, int_list(target) or [])  # type: ignore[arg-type]
    args = [ctx.x(0), _list_code(ctx, 1)]
    if axes_attr is not None:
        args.append(lit([int(a) for a in axes_attr]))
    return call(ctx.helper("center_crop_pad"), *args)


def _center_crop_pad_static(ctx: Ctx, shape: list[int], axes: list[int], target: list[int]) -> str:
    """Static shapes: a centred slice for the axes that shrink, then F.pad for those that grow."""
    parts = [":"] * len(shape)
    widths = [0] * (2 * len(shape))
    for a, t in zip(axes, target):
        size = shape[a]
        if t < size:
            start = (size - t) // 2
            parts[a] = f"{start or ''}:{start + t}"
        elif t > size:
            widths[a] = (t - size) // 2
            widths[len(shape) + a] = t - size - widths[a]
    expr = ctx.x(0)
    while parts and parts[-1] == ":":
        parts.pop()
    if parts:
        expr = f"{expr}[{', '.join(parts)}]"
    torch_pads = torch_pad_arg(widths)
    while torch_pads[-2:] == [0, 0]:
        torch_pads = torch_pads[:-2]
    return call("F.pad", expr, lit(torch_pads)) if torch_pads else expr


@TABLE.op("EyeLike")
def eye_like(ctx: Ctx) -> str:
    if ctx.need_rank(0) != 2:
        raise UnsupportedOp("EyeLike needs a 2-D input")
    rows, cols = _dim_code(ctx, 0, 0), _dim_code(ctx, 0, 1)
    elem = ctx.out_elem(0) or ctx.elem(0) or ir.FLOAT
    dtype = {} if elem == ir.FLOAT else {"dtype": Code(ctx.dtype(elem))}
    k = int(ctx.attr("k", 0))
    if k == 0:
        return call("torch.eye", rows, *([cols] if cols != rows else []), **dtype)
    # ones on diagonal k only: keep what is both on-or-above and on-or-below it
    return f"{call('torch.ones', rows, cols, **dtype)}.triu({k}).tril({k})"


@TABLE.op("Unique")
def unique(ctx: Ctx) -> str | Unpack:
    axis = ctx.attr("axis")
    if axis is not None and ctx.rank(0) is not None:
        axis = norm_axis(int(axis), ctx.need_rank(0))
    sort = bool(ctx.attr("sorted", 1))
    only_values = not any(ctx.has_out(j) for j in range(1, ctx.n_out))
    if only_values and sort:
        return call("torch.unique", ctx.x(0), **({"dim": axis} if axis is not None else {}))
    kwargs: dict = {}
    if axis is not None:
        kwargs["axis"] = int(axis)
    if not sort:
        kwargs["sort"] = False
    return Unpack(call(ctx.helper("onnx_unique"), ctx.x(0), **kwargs), 4)


@TABLE.op("ReverseSequence")
def reverse_sequence(ctx: Ctx) -> str:
    rank = ctx.rank(0)
    time_axis, batch_axis = int(ctx.attr("time_axis", 0)), int(ctx.attr("batch_axis", 1))
    if rank is not None:
        time_axis, batch_axis = norm_axis(time_axis, rank), norm_axis(batch_axis, rank)
    return call(ctx.helper("reverse_sequence"), ctx.x(0), ctx.x(1), time_axis=time_axis, batch_axis=batch_axis)
