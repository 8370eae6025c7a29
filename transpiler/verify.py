"""Numerical verification: the same seeded inputs through onnxruntime and the generated artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from .errors import TranspileError

RTOL, ATOL = 1e-3, 1e-4


@dataclass
class OutputDiff:
    name: str
    max_abs: float
    max_rel: float
    ok: bool
    note: str = ""


@dataclass
class CheckReport:
    outputs: list[OutputDiff] = field(default_factory=list)
    rtol: float = RTOL
    atol: float = ATOL
    # part of atol that scales with each output's largest |value| (see `compare`)
    atol_of_peak: float = 0.0

    def tolerance_text(self) -> str:
        peak = f" + {self.atol_of_peak:g} * max|output|" if self.atol_of_peak else ""
        return f"rtol={self.rtol:g}, atol={self.atol:g}{peak}"

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs)

    def lines(self) -> list[str]:
        out = []
        for o in self.outputs:
            status = "ok" if o.ok else "MISMATCH"
            extra = f" ({o.note})" if o.note else ""
            out.append(f"  {o.name}: max abs diff {o.max_abs:.3g}, max rel diff {o.max_rel:.3g} - {status}{extra}")
        return out


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def _is_float(dtype: np.dtype) -> bool:
    """numpy floats and ml_dtypes' (bfloat16, float8_*, float4_*), which numpy sees as void."""
    return dtype.kind == "f" or dtype.name == "bfloat16" or dtype.name.startswith(("float8", "float4"))


def seeded_inputs(
    model: onnx.ModelProto,
    seed: int = 1234,
    int_ranges: dict[str, tuple[int, int]] | None = None,
    dim_value: int = 1,
) -> list[np.ndarray]:
    """numpy default_rng(seed): floats standard normal, ints in [low, high) (default [0, 2)),
    bools uniform; in graph-input order; symbolic dims set to `dim_value`."""
    rng = np.random.default_rng(seed)
    out = []
    for vi in graph_inputs(model):
        tt = vi.type.tensor_type
        if vi.type.WhichOneof("value") != "tensor_type":
            raise TranspileError(f"input {vi.name!r}: only tensor inputs can be generated for --check")
        shape = tuple(d.dim_value if d.HasField("dim_value") else dim_value for d in tt.shape.dim)
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if _is_float(dtype):
            arr = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.bool_:
            arr = rng.integers(0, 2, shape).astype(np.bool_)
        elif np.issubdtype(dtype, np.integer) or dtype.name in ("int4", "uint4", "int2", "uint2"):
            low, high = (int_ranges or {}).get(vi.name, (0, 2))
            arr = rng.integers(low, high, shape).astype(dtype)
        else:
            raise TranspileError(f"input {vi.name!r}: cannot generate inputs of type {dtype}")
        out.append(arr)
    return out


def run_onnxruntime(model: onnx.ModelProto, inputs: list[np.ndarray]) -> list[np.ndarray]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise TranspileError("--check needs onnxruntime (pip install onnxruntime)") from None
    opts = ort.SessionOptions()
    # the reference must be the graph as written: onnxruntime 1.32's graph rewrites mis-handle some
    # patterns (a Transpose before MatMul with a 1-D right operand is dropped; found by fuzzing)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    sess = _session_reading_files(model, opts, ort)
    if sess is None:  # (a copy with the weights inline only when some are mapped)
        sess = ort.InferenceSession(_with_weights_inline(model).SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    try:
        outs = sess.run(None, dict(zip(names, inputs)))
    except Exception as e:  # e.g. float8 / bfloat16 tensors, which its Python API cannot exchange
        raise TranspileError(f"--check: onnxruntime could not run the model: {' '.join(str(e).split())[:200]}") from None
    # onnxruntime hands float8 outputs over as their bytes (uint8): view them as the declared type
    declared = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    for k, o in enumerate(sess.get_outputs()):
        dtype = helper.tensor_dtype_to_np_dtype(declared.get(o.name, 0)) if declared.get(o.name) else None
        if dtype is not None and dtype.kind == "V" and outs[k].dtype.itemsize == dtype.itemsize:
            outs[k] = outs[k].view(dtype)
    return outs


def _session_reading_files(model: onnx.ModelProto, opts: Any, ort: Any) -> Any:
    """A session for a model whose large weights the frontend left in their files (mapped
    tensors, `weights.mark_mapped`): onnxruntime is given the model without them and reads (maps)
    them from the files itself, as external data relative to their common folder, so no copy of
    the weights is serialised. None when the model has none, or onnxruntime declines it."""
    import os

    from .weights import is_mapped, mapped_array

    mapped = [t for t in model.graph.initializer if is_mapped(t)]
    if not mapped:
        return None
    if any(mapped_array(t) is None for t in mapped):
        raise TranspileError("the model's weights can no longer be read: its file changed after it was read")
    spots = {t.name: {e.key: e.value for e in t.external_data} for t in mapped}
    folder = os.path.commonpath([os.path.dirname(s["location"]) for s in spots.values()])
    light = onnx.ModelProto()
    light.CopyFrom(model)
    for t in light.graph.initializer:
        if t.name in spots:
            spot = spots[t.name]
            del t.external_data[:]
            for key in ("location", "offset", "length"):  # the keys onnxruntime knows, relative to `folder`
                value = os.path.relpath(spot[key], folder) if key == "location" else spot[key]
                t.external_data.add(key=key, value=value)
    opts.add_session_config_entry("session.model_external_initializers_file_folder_path", folder)
    try:
        return ort.InferenceSession(light.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception:  # an onnxruntime without that setting: hand it the bytes instead
        return None


def _with_weights_inline(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model`, or when it has mapped tensors a copy with their bytes inside it."""
    from .weights import is_mapped, mapped_array

    if not any(is_mapped(t) for t in model.graph.initializer):
        return model
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for t in copy.graph.initializer:
        if is_mapped(t):
            arr = mapped_array(t)
            if arr is None:
                raise TranspileError(f"tensor {t.name!r}: its bytes can no longer be read (the model's file changed)")
            del t.external_data[:]
            t.data_location = onnx.TensorProto.DEFAULT
            t.raw_data = arr.tobytes()
    return copy


def compare(
    name: str, ref: Any, got: Any, rtol: float = RTOL, atol: float = ATOL, atol_of_peak: float = 0.0
) -> OutputDiff:
    """Elementwise |got - ref| <= atol + rtol * |ref|. `atol_of_peak` adds that fraction of the
    output's largest finite |ref| to atol: rounding weights (fp16 storage) gives errors that grow
    with the output's scale, so near-zero elements of a large-valued output need that headroom."""
    ref, got = np.asarray(ref), np.asarray(got)
    if ref.shape != got.shape:
        return OutputDiff(name, float("inf"), float("inf"), False, f"shape {got.shape} != {ref.shape}")
    if ref.size == 0:
        return OutputDiff(name, 0.0, 0.0, True)
    if _is_float(ref.dtype) or _is_float(got.dtype) or "c" in (ref.dtype.kind, got.dtype.kind):
        r, g = ref.astype(np.float64), got.astype(np.float64)
        both_nan = np.isnan(r) & np.isnan(g)
        same_inf = np.isinf(r) & (r == g)
        diff = np.where(both_nan | same_inf, 0.0, np.abs(r - g))
        diff = np.nan_to_num(diff, nan=np.inf)
        rel = diff / np.maximum(np.abs(r), np.finfo(np.float32).tiny)
        finite = np.abs(r[np.isfinite(r)])
        atol = atol + atol_of_peak * (float(finite.max()) if finite.size else 0.0)
        ok = bool(np.all(diff <= atol + rtol * np.abs(np.nan_to_num(r))))
        return OutputDiff(name, float(diff.max()), float(rel.max()), ok)
    equal = np.array_equal(ref, got)
    diff = 0.0 if equal else float(np.max(np.abs(ref.astype(np.float64) - got.astype(np.float64))))
    return OutputDiff(name, diff, 0.0 if equal else float("inf"), equal, "" if equal else "integer/bool values differ")


def check(
    model: onnx.ModelProto,
    run_target,
    rtol: float = RTOL,
    atol: float = ATOL,
    seed: int = 1234,
    atol_of_peak: float = 0.0,
) -> CheckReport:
    """Compare onnxruntime with `run_target(inputs) -> outputs` on seeded inputs."""
    inputs = seeded_inputs(model, seed)
    ref = run_onnxruntime(model, inputs)
    got = run_target(inputs)
    report = CheckReport(rtol=rtol, atol=atol, atol_of_peak=atol_of_peak)
    names = [o.name for o in model.graph.output]
    if len(got) != len(ref):
        report.outputs.append(OutputDiff("(outputs)", float("inf"), float("inf"), False, f"{len(got)} outputs, expected {len(ref)}"))
        return report
    for n, r, g in zip(names, ref, got):
        report.outputs.append(compare(n, r, g, rtol, atol, atol_of_peak))
    return report
