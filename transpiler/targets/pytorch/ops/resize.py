"""Resize (and Upsample, canonicalised to Resize).

`F.interpolate` is emitted when it computes exactly what ONNX specifies for the node's attributes
and (constant) scales or sizes; every other combination goes through the `onnx_resize` helper,
which follows the ONNX reference implementation axis by axis.
"""

from __future__ import annotations

import math

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import compact, is_float

_MODES = ("nearest", "linear", "cubic")
_CTMS = (
    "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
    "tf_crop_and_resize", "tf_half_pixel_for_nn",
)
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _nonempty_const(ctx: Ctx, i: int) -> tuple[bool, np.ndarray | None]:
    """(present, constant value): an empty constant counts as absent."""
    if not ctx.has(i):
        return False, None
    c = ctx.const(i)
    if c is not None and c.size == 0:
        return False, None
    return True, c


@TABLE.op("Resize")
def resize(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "nearest")
    ctm = ctx.attr("coordinate_transformation_mode", "half_pixel")
    nearest_mode = ctx.attr("nearest_mode", "round_prefer_floor")
    policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
    if mode not in _MODES:
        raise UnsupportedOp(f"unknown resize mode {mode!r}")
    if ctm not in _CTMS:
        raise UnsupportedOp(f"unknown coordinate_transformation_mode {ctm!r}")
    if mode == "nearest" and nearest_mode not in _NEAREST_MODES:
        raise UnsupportedOp(f"unknown nearest_mode {nearest_mode!r}")
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise UnsupportedOp(f"unknown keep_aspect_ratio_policy {policy!r}")
    if mode == "nearest" and ctx.attr("antialias", 0):
        raise UnsupportedOp("antialias is not defined for nearest resizing")
    rank = ctx.need_rank(0)
    axes = ctx.attr("axes")
    axes = list(range(rank)) if axes is None else [int(a) % rank for a in axes]
    has_scales, scales = _nonempty_const(ctx, 2)
    has_sizes, sizes = _nonempty_const(ctx, 3)
    if not has_scales and not has_sizes:
        raise UnsupportedOp("Resize needs scales or sizes")
    fast = _as_interpolate(ctx, mode, ctm, nearest_mode, policy, axes, scales if has_scales else None,
                           sizes if has_sizes else None, has_sizes)
    if fast is not None:
        return fast
    if has_sizes and sizes is None and policy == "stretch" and ctx.attr("axes") is None:
        fast = _runtime_size_interpolate(ctx, mode, ctm)
        if fast is not None:
            return fast
    return _as_helper(ctx, mode, ctm, nearest_mode, policy, axes, has_scales, has_sizes)


def _as_helper(ctx: Ctx, mode: str, ctm: str, nearest_mode: str, policy: str, axes: list[int],
               has_scales: bool, has_sizes: bool) -> str:
    args = [ctx.x(0)]
    kwargs: dict = {}
    # ONNX uses sizes whenever they are given (non-empty) and scales otherwise.
    if has_sizes:
        c = ctx.const(3)
        kwargs["sizes"] = c.astype(np.int64).reshape(-1).tolist() if c is not None else Code(f"{ctx.x(3)}.tolist()")
    if has_scales and not (has_sizes and ctx.const(3) is not None):
        c = ctx.const(2)
        val = [float(v) for v in c.reshape(-1)] if c is not None else Code(f"{ctx.x(2)}.tolist()")
        if has_sizes:
            kwargs["scales"] = val  # a runtime sizes tensor may turn out empty
        else:
            args.append(lit(val) if not isinstance(val, Code) else val)
    if ctm == "tf_crop_and_resize":
        if not ctx.has(1):
            raise UnsupportedOp("tf_crop_and_resize needs roi")
        kwargs["roi"] = Code(ctx.x(1))
    if ctx.attr("axes") is not None and axes != list(range(ctx.need_rank(0))):
        kwargs["axes"] = axes
    if mode != "nearest":
        kwargs["mode"] = mode
    if ctm != "half_pixel":
        kwargs["coordinate_transformation_mode"] = ctm
    if mode == "nearest" and nearest_mode != "round_prefer_floor":
        kwargs["nearest_mode"] = nearest_mode
    if mode == "cubic" and float(ctx.attr("cubic_coeff_a", -0.75)) != -0.75:
        kwargs["cubic_coeff_a"] = float(ctx.attr("cubic_coeff_a"))
    if mode != "nearest" and ctx.attr("exclude_outside", 0):
        kwargs["exclude_outside"] = True
    if ctm == "tf_crop_and_resize" and float(ctx.attr("extrapolation_value", 0.0)) != 0.0:
        kwargs["extrapolation_value"] = float(ctx.attr("extrapolation_value"))
    if mode != "nearest" and ctx.attr("antialias", 0):
        kwargs["antialias"] = True
    if has_sizes and policy != "stretch":
        kwargs["keep_aspect_ratio_policy"] = policy
    return call(ctx.helper("onnx_resize"), *args, **kwargs)


# -- when F.interpolate is exact -----------------------------------------------------------------


def _onnx_axis_plan(in_shape: list[int], axes: list[int], scales: np.ndarray | None,
                    sizes: np.ndarray | None, policy: str) -> dict[int, tuple[float, int]]:
    """Per resized axis: (scale ONNX uses for coordinates, output length), as onnx_resize computes."""
    if sizes is not None:
        sz = [int(s) for s in sizes.reshape(-1)]
        scale = {a: sz[i] / in_shape[a] for i, a in enumerate(axes)}
        out = {a: sz[i] for i, a in enumerate(axes)}
        if policy != "stretch":
            s = (min if policy == "not_larger" else max)(scale.values())
            scale = {a: s for a in axes}
            out = {a: int(s * in_shape[a] + 0.5) for a in axes}
    else:
        assert scales is not None
        sc = [float(s) for s in scales.reshape(-1)]
        scale = {a: sc[i] for i, a in enumerate(axes)}
        out = {a: int(scale[a] * in_shape[a]) for a in axes}
    return {a: (scale[a], out[a]) for a in axes}


def _onnx_nearest_index(n_in: int, n_out: int, s: float, ctm: str, nearest_mode: str) -> np.ndarray | None:
    """Source index of each output position for ONNX nearest resizing (float64, as the helper)."""
    d = np.arange(n_out, dtype=np.float64)
    width = s * n_in
    if ctm == "align_corners":
        src = np.zeros_like(d) if width == 1 else d * (n_in - 1) / (width - 1)
    elif ctm == "asymmetric":
        src = d / s
    elif ctm == "pytorch_half_pixel":
        src = np.full_like(d, -0.5) if width == 1 else (d + 0.5) / s - 0.5
    elif ctm == "half_pixel":
        src = (d + 0.5) / s - 0.5
    elif ctm == "half_pixel_symmetric":
        src = n_in / 2 * (1 - n_out / width) + (d + 0.5) / s - 0.5
    elif ctm == "tf_half_pixel_for_nn":
        src = (d + 0.5) / s
    else:
        return None
    base = np.floor(src)
    exact = src == base
    ratio = np.where(exact, 1.0, src - base)
    shifted = src + 1  # the 2-sample window is located on src + 1, as onnx_resize does
    start = np.floor(shifted).astype(np.int64) - 2 + (shifted != np.floor(shifted))
    step = {
        "round_prefer_floor": ratio > 0.5, "round_prefer_ceil": ratio >= 0.5,
        "floor": np.zeros_like(exact), "ceil": np.ones_like(exact),
    }[nearest_mode]
    return np.clip(start + (step | exact), 0, n_in - 1)


def _torch_nearest_index(n_in: int, n_out: int, scale_factor: float | None, exact_mode: bool) -> np.ndarray:
    """Source index PyTorch's nearest / nearest-exact kernels pick (float32 arithmetic, as ATen),
    from 1 / scale_factor when given, else from in / out."""
    d = np.arange(n_out, dtype=np.float32)
    s = np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
    pos = (d + np.float32(0.5)) * s if exact_mode else d * s
    return np.minimum(np.floor(pos).astype(np.int64), n_in - 1)


def _as_interpolate(ctx: Ctx, mode: str, ctm: str, nearest_mode: str, policy: str, axes: list[int],
                    scales: np.ndarray | None, sizes: np.ndarray | None, has_sizes: bool) -> str | None:
    """`F.interpolate(...)` when it is exactly the ONNX computation, else None."""
    rank = ctx.need_rank(0)
    if rank not in (3, 4, 5) or not is_float(ctx.elem(0)) or ctx.attr("antialias", 0):
        return None
    if ctm in ("tf_crop_and_resize", "tf_half_pixel_for_nn"):
        return None
    if has_sizes and sizes is None or not has_sizes and scales is None:
        return None  # runtime scales / sizes
    shape = ctx.shape(0)
    if shape is None:
        return None
    spatial = list(range(2, rank))
    static = all(isinstance(shape[a], int) for a in spatial)  # a symbolic batch is fine
    if static:
        # (a symbolic batch or channel axis only matters if resized: rejected below)
        known = [d if isinstance(d, int) else -1 for d in shape]
        plan = _onnx_axis_plan(known, axes, scales, sizes, policy)
    elif sizes is None and scales is not None:
        # Symbolic dimensions: only the scale is known; check the batch and channel axes stay.
        sc = [float(s) for s in scales.reshape(-1)]
        plan = {a: (sc[i], -1) for i, a in enumerate(axes)}
    elif sizes is not None and policy == "stretch" and mode != "nearest":
        sz = [int(s) for s in sizes.reshape(-1)]
        plan = {a: (math.nan, sz[i]) for i, a in enumerate(axes)}
    else:
        return None
    for a in (0, 1):
        if a in plan:
            s, n = plan[a]
            if sizes is not None and (not isinstance(shape[a], int) or n != shape[a]):
                return None
            if sizes is None and s != 1.0:
                return None
    # The lengths F.interpolate gets: sizes give `size`, scales give `scale_factor`.
    by_size = sizes is not None
    in_sp = [shape[a] for a in spatial]
    if static:
        full = {a: plan.get(a, (1.0, int(shape[a]))) for a in spatial}  # type: ignore[arg-type]
        if any(full[a][1] <= 0 for a in spatial):
            return None  # F.interpolate refuses empty outputs
        if by_size:
            arg = tuple(full[a][1] for a in spatial)
        else:
            arg = tuple(full[a][0] for a in spatial)
            # F.interpolate's output length is floor(in * scale_factor), as ONNX's
            if any(math.floor(float(n) * f) != full[a][1] for n, f, a in zip(in_sp, arg, spatial)):  # type: ignore[arg-type]
                return None
    elif by_size:
        if any(a not in plan for a in spatial):
            return None  # an unresized symbolic axis would need its own length
        arg = tuple(plan[a][1] for a in spatial)
    else:
        arg = tuple(plan[a][0] if a in plan else 1.0 for a in spatial)
    kwargs: dict = {("size" if by_size else "scale_factor"): compact(arg) if by_size else _compact_f(arg)}

    if mode == "nearest":
        found = _nearest_equivalent(ctm, nearest_mode, static, shape, spatial, plan, by_size)
        if found is None:
            return None
        torch_mode, use_size = found
        if use_size and not by_size:
            kwargs = {"size": compact([full[a][1] for a in spatial])}
        if torch_mode != "nearest":
            kwargs["mode"] = torch_mode
        return call("F.interpolate", ctx.x(0), **kwargs)

    # linear / cubic: which ONNX coordinate modes are PyTorch's align_corners=False / True.
    if mode == "cubic" and (
        rank != 4 or float(ctx.attr("cubic_coeff_a", -0.75)) != -0.75 or ctx.attr("exclude_outside", 0)
    ):
        return None
    for a in spatial:
        if a not in plan:
            continue
        s, n_out = plan[a]
        if not static:
            if by_size:
                # ONNX's scale is n_out / n_in: its unrounded output length is n_out itself
                ok = ctm != "asymmetric" and (ctm != "pytorch_half_pixel" or n_out > 1)
            else:
                # half_pixel takes the scale as given, like scale_factor; the others need
                # floor(s * n) == s * n for every n (a whole-number scale) or no 1-pixel output.
                # A downscale could make an empty output, which F.interpolate refuses.
                ok = s >= 1 and (
                    ctm in ("half_pixel", "pytorch_half_pixel")
                    or ctm in ("align_corners", "half_pixel_symmetric") and float(s).is_integer()
                )
            if not ok:
                return None
            continue
        n_in = int(shape[a])  # type: ignore[arg-type]
        if math.isclose(s, 1.0) and n_out == n_in:
            continue  # ONNX leaves this axis alone, as does PyTorch at scale 1
        width = s * n_in
        if ctm == "asymmetric":
            return None
        if ctm == "pytorch_half_pixel" and n_out == 1 and n_in != 1:
            return None
        if ctm in ("align_corners", "half_pixel_symmetric") and not math.isclose(width, n_out, rel_tol=1e-9):
            return None
    kwargs["mode"] = {"linear": {3: "linear", 4: "bilinear", 5: "trilinear"}[rank], "cubic": "bicubic"}[mode]
    if ctm == "align_corners":
        kwargs["align_corners"] = True
    return call("F.interpolate", ctx.x(0), **kwargs)


def _compact_f(values: tuple) -> float | tuple[float, ...]:
    vals = tuple(float(v) for v in values)
    return vals[0] if all(v == vals[0] for v in vals) else vals


def _nearest_equivalent(ctm: str, nearest_mode: str, static: bool, shape: tuple[ir.Dim, ...],
                        spatial: list[int], plan: dict[int, tuple[float, int]], by_size: bool) -> tuple[str, bool] | None:
    """("nearest" or "nearest-exact", whether to pass `size`) when PyTorch picks the same source
    pixels as ONNX, else None. With `scale_factor`, some PyTorch kernels (1-D, 3-D) use 1 / scale
    and others (2-D, channels-last) in / out, so both must agree with ONNX."""
    if not static:
        # Unknown lengths: a power-of-two upscale is exact in float32, and then 1 / scale is
        # in / out, so floor(d / s) agrees; a whole-number upscale has no rounding ties.
        def pow2(s: float) -> bool:
            return s >= 1 and math.frexp(s)[0] == 0.5

        if all(pow2(plan[a][0]) for a in spatial if a in plan):
            if ctm == "asymmetric" and nearest_mode == "floor":
                return "nearest", False
            if ctm in ("half_pixel", "pytorch_half_pixel") and nearest_mode.startswith("round"):
                return "nearest", False
        return None
    for torch_mode in ("nearest", "nearest-exact"):
        exact_mode = torch_mode == "nearest-exact"
        # try the call as written first, then (for scales) the unambiguous `size` form
        for use_size in ((True,) if by_size else (False, True)):
            same = True
            for a in spatial:
                n_in = int(shape[a])  # type: ignore[arg-type]
                s, n_out = plan.get(a, (1.0, n_in))
                if a not in plan or (math.isclose(s, 1.0) and n_out == n_in):
                    want = np.arange(n_in)  # ONNX skips this axis
                else:
                    want = _onnx_nearest_index(n_in, n_out, s, ctm, nearest_mode)  # type: ignore[assignment]
                gots = [_torch_nearest_index(n_in, n_out, None, exact_mode)]
                if not use_size:
                    gots.append(_torch_nearest_index(n_in, n_out, s, exact_mode))
                    # some kernels shortcut these lengths whatever the scale
                    if not exact_mode and n_out in (n_in, 2 * n_in):
                        gots.append(np.arange(n_out) // (n_out // n_in))
                if want is None or any(g.shape != want.shape or not np.array_equal(want, g) for g in gots):
                    same = False
                    break
            if same:
                return torch_mode, use_size
    return None


def _leading_shape_of(v: ir.Value | None, x: ir.Value) -> bool:
    """Whether v is x's shape[:2] (Shape(x) sliced to [0, 2), as exporters build it)."""
    node = v.producer if v is not None else None
    if node is None:
        return False
    if node.op_type == "Shape":
        return node.input(0) is x and node.attrs.get("start", 0) == 0 and node.attrs.get("end") == 2
    if node.op_type != "Slice" or node.input(0) is None or node.input(0).producer is None:  # type: ignore[union-attr]
        return False
    shape_node = node.input(0).producer  # type: ignore[union-attr]
    if shape_node.op_type != "Shape" or shape_node.input(0) is not x or shape_node.attrs.get("start", 0) != 0:
        return False
    starts, ends, axes, steps = (node.input(i).const if node.input(i) is not None else None for i in range(1, 5))  # type: ignore[union-attr]
    if starts is None or ends is None or starts.size != 1 or ends.size != 1:
        return False
    if axes is None and node.input(3) is not None or steps is None and node.input(4) is not None:
        return False  # runtime axes / steps
    if axes is not None and int(axes.reshape(-1)[0]) != 0 or steps is not None and int(steps.reshape(-1)[0]) != 1:
        return False
    return int(starts.reshape(-1)[0]) == 0 and int(ends.reshape(-1)[0]) == 2


def _runtime_size_interpolate(ctx: Ctx, mode: str, ctm: str) -> str | None:
    """`F.interpolate(x, size=...)` for sizes computed at run time as concat(x.shape[:2], spatial):
    the pattern PyTorch's exporter writes for `F.interpolate(x, size=y.shape[2:])`. Only linear and
    cubic resizing qualify (their coordinates do not depend on float rounding of the scale)."""
    rank = ctx.need_rank(0)
    if mode == "nearest" or rank not in (3, 4, 5) or not is_float(ctx.elem(0)) or ctx.attr("antialias", 0):
        return None
    if ctm not in ("half_pixel", "align_corners"):
        return None  # pytorch_half_pixel differs for 1-pixel outputs, whose length is unknown here
    if mode == "cubic" and (
        rank != 4 or float(ctx.attr("cubic_coeff_a", -0.75)) != -0.75 or ctx.attr("exclude_outside", 0)
    ):
        return None
    cat = ctx.value(3).producer
    if cat is None or cat.op_type != "Concat" or len(cat.inputs) != 2 or cat.attrs.get("axis", 0) not in (0, -1):
        return None
    lead, rest = cat.inputs
    if rest is None or not _leading_shape_of(lead, ctx.value(0)):
        return None
    size = Code(f"{ctx.gen.value_code(rest)}.tolist()")
    kwargs: dict = {"size": size, "mode": {"linear": {3: "linear", 4: "bilinear", 5: "trilinear"}[rank], "cubic": "bicubic"}[mode]}
    if ctm == "align_corners":
        kwargs["align_corners"] = True
    return call("F.interpolate", ctx.x(0), **kwargs)
