"""The benchmark scripts run (their --smoke mode, on tiny models: no timing is asserted), and
`transpiler.weights.split_onnx`, the zero-copy weight reader, gives back exactly what protobuf
parsing gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from transpiler.weights import map_external, split_onnx

from .conftest import CACHE, ROOT, SHARED, filled_model, shared_or_skip

BENCH = ROOT / "benchmarks"


def run_script(name: str, *args: str, tmp_path: Path) -> str:
    env = dict(os.environ, TRANSPILER_BENCH_CACHE=str(tmp_path / "bench"), TRANSPILER_CACHE=str(CACHE),
               TRANSPILER_SHARED=str(SHARED))
    proc = subprocess.run(
        [sys.executable, str(BENCH / name), "--smoke", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def test_bench_conversion_smoke(tmp_path: Path) -> None:
    shared_or_skip()
    filled_model("tiny_mlp")
    out = run_script("bench_conversion.py", "--targets", "pytorch", "--anchors", "", tmp_path=tmp_path)
    assert "stress200" in out and "tiny_mlp" in out and "I/O floor" in out
    assert "\nbars" in out and "PASS" in out


def test_bench_large_model_smoke(tmp_path: Path) -> None:
    out = run_script("bench_large_model.py", tmp_path=tmp_path)
    assert "pytorch" in out and "RSS bar" in out and "FAIL:" not in out


def test_bench_inference_smoke(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    shared_or_skip()
    filled_model("resnet18")
    out = run_script("bench_inference.py", "--eager-models", "resnet18", "--compile-models", "", tmp_path=tmp_path)
    assert "resnet18" in out and "reference" in out and "generated" in out


def _model_with_weights(tmp: Path) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    arrays = {
        "big.f32": rng.standard_normal((64, 300)).astype(np.float32),
        "big.i64": rng.integers(-5, 5, (9000,)).astype(np.int64),
        "big.f16": rng.standard_normal((40000,)).astype(np.float16),
        "small": rng.standard_normal((3,)).astype(np.float32),
        "big.bool": rng.integers(0, 2, (70000,)).astype(bool),
    }
    inits = [numpy_helper.from_array(a, n) for n, a in arrays.items()]
    nodes = [helper.make_node("Identity", [n], [n + ".out"], name=f"id_{i}") for i, n in enumerate(arrays)]
    graph = helper.make_graph(nodes, "g", [], [helper.make_tensor_value_info(n + ".out", t.data_type, None)
                                               for n, t in zip(arrays, inits)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp / "m.onnx"
    onnx.save(model, str(path))
    return path, arrays


def test_split_onnx_matches_protobuf(tmp_path: Path) -> None:
    path, arrays = _model_with_weights(tmp_path)
    split = split_onnx(path, threshold=1024)
    assert split is not None
    light, moved, offsets = split
    assert sorted(moved) == sorted(offsets) == ["big.bool", "big.f16", "big.f32", "big.i64"]
    data = path.read_bytes()
    for name, arr in moved.items():
        assert arr.dtype == arrays[name].dtype and arr.shape == arrays[name].shape
        assert np.array_equal(arr, arrays[name]) and not arr.flags.writeable
        assert data[offsets[name]:offsets[name] + arr.nbytes] == arrays[name].tobytes()
    full = onnx.load(str(path))
    for t in full.graph.initializer:
        if t.name in moved:
            t.ClearField("raw_data")
    assert full.SerializeToString() == light  # everything else byte for byte


def test_split_onnx_never_disagrees_with_protobuf_on_truncated_files(tmp_path: Path) -> None:
    """Cut anywhere: split_onnx either declines (None) or returns what protobuf parses."""
    path, _ = _model_with_weights(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "bad.onnx"
    for cut in sorted({1, 2, 7, 40, len(data) // 3, len(data) // 2, len(data) - 3, len(data) - 1}):
        bad.write_bytes(data[:cut])
        result = split_onnx(bad, threshold=1024)
        if result is None:
            continue
        light, moved, _ = result
        expected = onnx.ModelProto.FromString(data[:cut])  # split accepted it: protobuf must too
        got = onnx.ModelProto.FromString(light)
        for t in got.graph.initializer:
            if t.name in moved:
                t.raw_data = moved[t.name].tobytes()
        assert got.SerializeToString() == expected.SerializeToString(), cut


def test_map_external(tmp_path: Path) -> None:
    arr = np.arange(5000, dtype=np.float32).reshape(50, 100)
    blob = tmp_path / "w.bin"
    blob.write_bytes(b"\0" * 128 + arr.tobytes())
    got = map_external(blob, 128, arr.nbytes, TensorProto.FLOAT, [50, 100])
    assert got is not None and np.array_equal(got, arr)
    assert map_external(blob, 128, arr.nbytes + 4, TensorProto.FLOAT, [50, 100]) is None  # length disagrees
    assert map_external(blob, 256, None, TensorProto.FLOAT, [50, 100]) is None  # runs past the end
    assert map_external(blob, 0, None, TensorProto.INT4, [10]) is None  # packed type: read the usual way


# -- render.format_python is black, byte for byte -------------------------------------------------
_ATOMS = ["x", "self.fc1(x)", "y[0]", "1", "0.5", "1e-05", "None", "w.T", "torch.cat([a, b], dim=1)", "f()", "z[-1]",
          "x.reshape(1, -1)", "m[1, 2]", "(a + b)", "'s'", "x[1:]", "x ** 2", "-x", "~m", "not a", "f(*args)",
          "f(a,)", "[a, b,]", "{1: 2}", "lambda: 1", "a if b else c", "1E5", "0x1F", "f(a=-1, b=[1])", "x[::2]"]
_OPS = [" + ", " - ", " * ", " / ", " @ ", " // ", " % ", " == ", "+", "*", " & ", " < "]


def _random_statement(rng: np.random.Generator) -> str:
    def expr(depth: int) -> str:
        if depth > 2 or rng.random() < 0.4:
            return str(rng.choice(_ATOMS))
        kind = rng.integers(0, 4)
        if kind == 0:
            return expr(depth + 1) + str(rng.choice(_OPS)) + expr(depth + 1)
        if kind == 1:
            args = [expr(depth + 1) for _ in range(rng.integers(0, 4))]
            if rng.random() < 0.3:
                args.append(f"k={expr(depth + 1)}")
            return f"self.layer_{rng.integers(0, 9)}(" + ", ".join(args) + ")"
        if kind == 2:
            return f"{expr(depth + 1)}[{expr(depth + 1)}]"
        return "[" + ", ".join(expr(depth + 1) for _ in range(rng.integers(1, 30))) + "]"

    kind = rng.integers(0, 10)
    if kind == 0:
        return f"return {expr(0)}"
    if kind == 1:
        return f"x {rng.choice(['+=', '-=', '*='])} {expr(0)}"
    if kind == 2:
        return f"a, b = {expr(0)}, {expr(0)}"
    if kind == 3:
        return f"# comment {rng.integers(0, 9)}"
    if kind == 4:
        return ""
    return f"v_{rng.integers(0, 99)} = {expr(0)}"


def test_format_python_is_black() -> None:
    black = pytest.importorskip("black")
    from transpiler.render import format_python

    rng = np.random.default_rng(7)
    for case in range(10):
        body = [_random_statement(rng) for _ in range(rng.integers(1, 40))]
        inner = "\n".join(("        " + s) if s else "" for s in body)
        source = (
            '"""doc"""\nimport torch\nx = 1\ny = x+1\n\n\n\nclass A:\n    """Doc."""\n    z = 3\n'
            f"    def f(self, x):\n{inner}\n        def inner(q):\n            q = q + 1\n            return q\n"
            f"{inner}\n        return x\n    @property\n    def g(self):\n        pass\n"
            f"def h():\n    k = [a for a in b]\n{inner.replace('        ', '    ')}\nq = h()\n"
        )
        try:
            expected = black.format_str(source, mode=black.Mode(line_length=100))
        except black.InvalidInput:
            continue
        assert format_python(source, 100) == expected, source


def test_write_safetensors_streams_strided_and_mapped_arrays(tmp_path: Path) -> None:
    import io

    from safetensors.numpy import load

    from transpiler import weights

    rng = np.random.default_rng(3)
    base = rng.standard_normal((300, 70)).astype(np.float32)
    blob = tmp_path / "w.bin"
    blob.write_bytes(base.tobytes())
    mapped = weights.map_external(blob, 0, base.nbytes, TensorProto.FLOAT, [300, 70])
    tensors = {
        "t": base.T, "mapped_t": mapped.T, "mapped": mapped, "every_other": base[::2, ::3],
        "big_endian": base.astype(">f4"), "scalar": np.array(2.5, np.float64), "empty": np.zeros((0, 4), np.int8),
    }
    saved = weights.WRITE_CHUNK
    weights.WRITE_CHUNK = 1000  # many blocks
    try:
        buf = io.BytesIO()
        weights.write_safetensors(buf, tensors)
    finally:
        weights.WRITE_CHUNK = saved
    back = load(buf.getvalue())
    for name, arr in tensors.items():
        assert back[name].shape == arr.shape and np.array_equal(back[name], arr.astype(arr.dtype.newbyteorder("<"))), name


# -- the frontend reads large weights as memory maps ----------------------------------------------
def _mlp_with_external_data(tmp: Path, marker: str | None = None) -> tuple[Path, dict[str, np.ndarray]]:
    """A 2-layer MLP: w1 inline in the .onnx, w2 and b2 in `w.bin` (b2 without a length: to the end)."""
    rng = np.random.default_rng(5)
    arrays = {"w1": rng.standard_normal((64, 300)).astype(np.float32),
              "w2": rng.standard_normal((300, 100)).astype(np.float32),
              "b2": rng.standard_normal((100,)).astype(np.float32)}
    (tmp / "w.bin").write_bytes(b"\0" * 7 + arrays["w2"].tobytes() + arrays["b2"].tobytes())
    inits = [numpy_helper.from_array(arrays["w1"], "w1")]
    for name, offset, length in (("w2", 7, arrays["w2"].nbytes), ("b2", 7 + arrays["w2"].nbytes, None)):
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(arrays[name].shape))
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "w.bin"), ("offset", str(offset)), ("length", str(length))):
            if value != "None":
                t.external_data.add(key=key, value=value)
        if marker is not None:
            t.external_data.add(key="transpiler.mapped", value=marker)
        inits.append(t)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["m"]), helper.make_node("Add", ["m", "b2"], ["y"])]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 100])], inits)
    path = tmp / "mlp.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path, arrays


def test_read_model_maps_large_weights(tmp_path: Path) -> None:
    from transpiler import weights
    from transpiler.frontends.onnx import read_model, to_ir
    from transpiler.verify import run_onnxruntime, seeded_inputs

    path, arrays = _mlp_with_external_data(tmp_path)
    proto, info = read_model(path)
    mapped = sorted(t.name for t in proto.graph.initializer if weights.is_mapped(t))
    assert mapped == ["w1", "w2"]  # b2 (400 bytes) is small: read into the message as before
    assert proto.ByteSize() < 2000  # no weight bytes in the message
    import hashlib

    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    graph = to_ir(proto)
    consts = {v.name: v.const for v in graph.initializers}
    for name, arr in arrays.items():
        assert np.array_equal(consts[name], arr), name
    assert not consts["w1"].flags.writeable and not consts["w2"].flags.writeable  # views of the files
    # onnxruntime reads the mapped weights from the files: same outputs as from the whole model
    inputs = seeded_inputs(proto)
    want = run_onnxruntime(onnx.load(str(path)), inputs)
    got = run_onnxruntime(proto, inputs)
    assert np.array_equal(want[0], got[0])


def test_model_files_cannot_claim_mapped_tensors(tmp_path: Path) -> None:
    """The marker's value is drawn per process: a file carrying the key is validated like any
    other external data (here an absolute location: refused)."""
    from transpiler.errors import InvalidModel
    from transpiler.frontends.onnx import read_model

    path, _ = _mlp_with_external_data(tmp_path, marker="1")
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = str(tmp_path / "w.bin")
    onnx.save(model, str(path))
    with pytest.raises(InvalidModel, match="outside the model's folder"):
        read_model(path)


def test_a_weight_file_changed_after_reading_is_not_read(tmp_path: Path) -> None:
    from transpiler.errors import InvalidModel
    from transpiler.frontends.onnx import read_model, to_ir

    path, _ = _mlp_with_external_data(tmp_path)
    proto, _ = read_model(path)
    data = tmp_path / "w.bin"
    data.write_bytes(data.read_bytes()[::-1])  # same size, other bytes, a new modification time
    os.utime(data, ns=(1, 1))
    with pytest.raises(InvalidModel, match="changed"):
        to_ir(proto)
