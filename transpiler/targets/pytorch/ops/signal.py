"""Signal processing: DFT and STFT through torch.fft / torch.stft, the window functions, and the
mel filter bank. ONNX carries complex numbers as a trailing dimension of size 2 (real, imaginary;
size 1 for a real signal); generated code turns that into a complex tensor and back."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from ._util import norm_axis


def _int_arg(ctx: Ctx, i: int) -> str:
    """A scalar integer input as a Python int: a literal when constant."""
    c = ctx.const(i)
    return lit(int(c.reshape(-1)[0])) if c is not None else f"int({ctx.x(i)})"


def _float_arg(ctx: Ctx, i: int) -> str:
    c = ctx.const(i)
    return lit(float(c.reshape(-1)[0])) if c is not None else f"float({ctx.x(i)})"


def _signal(ctx: Ctx, i: int) -> tuple[str, bool]:
    """(code of input i as a real or complex tensor without the trailing dim, whether complex)."""
    shape = ctx.shape(i)
    last = shape[-1] if shape else None
    x = ctx.x(i)
    if last == 1:
        return f"{x}.squeeze(-1)", False
    if last == 2:
        return f"torch.complex({x}[..., 0], {x}[..., 1])", True
    raise UnsupportedOp("the trailing (real, imaginary) dimension must be statically 1 or 2")


@TABLE.op("DFT")
def dft(ctx: Ctx) -> str:
    rank = ctx.need_rank(0)
    signal, is_complex = _signal(ctx, 0)
    inverse, onesided = bool(ctx.attr("inverse", 0)), bool(ctx.attr("onesided", 0))
    # the axis counts the trailing real/imaginary dim; the complex tensor has the same leading dims
    axis = ctx.const(2) if ctx.has(2) else -2
    if axis is None:
        dim: str = f"int({ctx.x(2)}) % {rank}"
    else:
        p = norm_axis(int(axis), rank)
        if p == rank - 1:
            raise UnsupportedOp("the DFT axis cannot be the real/imaginary dimension")
        dim = lit(p - (rank - 1) if p == rank - 2 else p)
    kwargs = {"n": Code(_int_arg(ctx, 1))} if ctx.has(1) else {}
    kwargs["dim"] = Code(dim)
    if inverse:
        if onesided:  # a one-sided spectrum back to a real signal
            return f"{call('torch.fft.irfft', signal, **kwargs)}.unsqueeze(-1)"
        return f"torch.view_as_real({call('torch.fft.ifft', signal, **kwargs)})"
    if onesided and not is_complex:
        return f"torch.view_as_real({call('torch.fft.rfft', signal, **kwargs)})"
    spectrum = call("torch.fft.fft", signal, **kwargs)
    if onesided:  # a complex signal has no symmetric spectrum: keep the first n // 2 + 1 bins
        s = ctx.tmp("spectrum")
        ctx.stmt(f"{s} = {spectrum}")
        spectrum = f"{s}.narrow({dim}, 0, {s}.shape[{dim}] // 2 + 1)"
    return f"torch.view_as_real({spectrum})"


@TABLE.op("STFT")
def stft(ctx: Ctx) -> str:
    signal, is_complex = _signal(ctx, 0)
    onesided = bool(ctx.attr("onesided", 1))
    window = ctx.x(2) if ctx.has(2) else None
    if ctx.has(3):
        n_fft = _int_arg(ctx, 3)
    elif window is not None:
        wshape = ctx.shape(2)
        n_fft = lit(wshape[0]) if wshape and isinstance(wshape[0], int) else f"{window}.shape[0]"
    else:
        shape = ctx.shape(0)
        n_fft = lit(shape[1]) if shape and isinstance(shape[1], int) else f"{ctx.x(0)}.shape[1]"
    if window is None:  # ONNX's default is a rectangular window; say so instead of a warning
        elem = ctx.elem(0)
        window = call("torch.ones", n_fft, **({"dtype": Code(ctx.dtype(elem))} if elem != ir.FLOAT else {}))
    kwargs = {
        "hop_length": Code(_int_arg(ctx, 1)),
        "window": Code(window),
        "center": False,
        "onesided": onesided and not is_complex,
        "return_complex": True,
    }
    if kwargs["onesided"]:
        del kwargs["onesided"]  # torch's default for a real signal
    spec = call("torch.stft", signal, n_fft, **kwargs)
    if onesided and is_complex:
        s = ctx.tmp("spectrum")
        ctx.stmt(f"{s} = {spec}")
        bins = lit(int(n_fft) // 2 + 1) if n_fft.isdigit() else f"{n_fft} // 2 + 1"
        spec = f"{s}[:, :{bins}]"
    # torch gives [batch, bins, frames]; ONNX wants [batch, frames, bins, 2]
    return f"torch.view_as_real({spec}.transpose(1, 2))"


def _window(ctx: Ctx, fn: str, *extra: str) -> str:
    periodic = bool(ctx.attr("periodic", 1))
    elem = int(ctx.attr("output_datatype", ir.FLOAT))
    args = [_int_arg(ctx, 0)]
    if extra:
        args += [lit(periodic), *extra]
    elif not periodic:
        args.append("periodic=False")
    if elem != ir.FLOAT:
        args.append(f"dtype={ctx.dtype(elem)}")
    return f"{fn}({', '.join(args)})"


@TABLE.op("HannWindow")
def hann_window(ctx: Ctx) -> str:
    return _window(ctx, "torch.hann_window")


@TABLE.op("HammingWindow")
def hamming_window(ctx: Ctx) -> str:
    # ONNX uses alpha = 25/46, beta = 21/46 (torch's defaults are 0.54 / 0.46)
    return _window(ctx, "torch.hamming_window", "25 / 46", "21 / 46")


@TABLE.op("BlackmanWindow")
def blackman_window(ctx: Ctx) -> str:
    return _window(ctx, "torch.blackman_window")


@TABLE.op("MelWeightMatrix")
def mel_weight_matrix(ctx: Ctx) -> str:
    elem = int(ctx.attr("output_datatype", ir.FLOAT))
    fn = ctx.helper("mel_weight_matrix")
    args = [_int_arg(ctx, 0), _int_arg(ctx, 1), _int_arg(ctx, 2), _float_arg(ctx, 3), _float_arg(ctx, 4)]
    return call(fn, *args, **({"dtype": Code(ctx.dtype(elem))} if elem != ir.FLOAT else {}))
