"""Sliding windows: fitting ONNX's padding and rounding into Caffe's, one spatial axis at a time.

Caffe pads symmetrically (one `pad` per axis) and rounds differently per layer:
- Convolution: out = floor((H + 2p - dk) / s) + 1
- Pooling:     out = ceil((H + 2p - k) / s) + 1, minus one if the last window would start in the
  right padding (p > 0 and (out - 1) * s >= H + p)
ONNX pads each side separately (`pads` begin/end) and pooling rounds down unless ceil_mode.

The fit: pick the symmetric pad p >= the ONNX begin pad such that Caffe's windows start where
ONNX's do, only shifted by a whole number of strides: window j of ONNX starts at -pb + j*s, window
i of Caffe at -p + i*s, so ONNX's window j is Caffe's window j + (p - pb)/s. When Caffe produces
more windows than ONNX (ceil rounding, or a larger pad), the extra ones are cut off afterwards
(a Slice along that axis). Anything else is refused. Which windows are equal in value is the
caller's business (max pooling ignores padding, averages need the divisor check in pool.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UnsupportedOp


@dataclass(frozen=True)
class AxisFit:
    pad: int  # Caffe's symmetric pad
    offset: int  # the first Caffe window that ONNX keeps
    caffe_out: int  # how many windows Caffe computes
    onnx_out: int  # how many ONNX keeps (from offset on)

    @property
    def needs_crop(self) -> bool:
        return self.offset != 0 or self.caffe_out != self.onnx_out


def conv_out(size: int, k_eff: int, s: int, p: int) -> int:
    return (size + 2 * p - k_eff) // s + 1


def pool_out(size: int, k: int, s: int, p: int) -> int:
    out = -(-(size + 2 * p - k) // s) + 1
    if p > 0 and (out - 1) * s >= size + p:
        out -= 1
    return out


def fit_axis(size: int, k_eff: int, s: int, pb: int, pe: int, onnx_out: int, pooling: bool, axis: str) -> AxisFit:
    """The symmetric Caffe pad (and crop) that reproduces ONNX's windows on one axis."""
    out_fn = pool_out if pooling else conv_out
    if pooling and max(pb, pe) >= k_eff:
        raise UnsupportedOp(f"{axis}: a pad ({max(pb, pe)}) as large as the window ({k_eff}) has no Caffe equivalent")
    # smallest pad first: fewer cropped windows; p - pb must be a multiple of the stride
    for p in range(pb, max(pb, pe) + s + 1):
        if (p - pb) % s:
            continue
        offset = (p - pb) // s
        got = out_fn(size, k_eff, s, p)
        if got >= offset + onnx_out and (not pooling or p < k_eff):
            return AxisFit(p, offset, got, onnx_out)
    raise UnsupportedOp(
        f"{axis}: ONNX pads ({pb}, {pe}) with stride {s} on size {size} give {onnx_out} outputs; no symmetric "
        f"Caffe pad reproduces those windows"
    )
