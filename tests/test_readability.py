"""Readability of the generated PyTorch code (issue 6), measured on every zoo model.

Per model: lines of code, classes, nn.Module attributes (submodules of the built model), the
longest `forward`, ruff findings, and for exports that kept the parameter names (the dynamo
exports) the share of state_dict keys equal to an ONNX initializer name. The figures are printed
(run with `-s` or see build/readability.tsv) and the bars of the issue are asserted.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import onnx
import pytest

from transpiler import convert

from .conftest import filled_model, zoo_manifest

torch = pytest.importorskip("torch")

MODELS = {m["name"]: m for m in zoo_manifest()}
NAMES = sorted(MODELS) or ["(shared folder missing)"]
SUITE = "readability"
COLUMNS = ("lines", "classes", "modules", "longest_forward", "ruff", "key_share")


@lru_cache(maxsize=None)
def _out_dir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="transpiler-readability-"))


@lru_cache(maxsize=None)
def generated(name: str) -> Path:
    """Each zoo model converted once per test process."""
    out = _out_dir() / name / "net.py"
    convert(filled_model(name), to="pytorch", out=out)
    return out


def measure(name: str) -> dict:
    path = generated(name)
    source = path.read_text()
    tree = ast.parse(source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    forwards = {
        c.name: max((f.end_lineno - f.lineno + 1 for f in c.body if isinstance(f, ast.FunctionDef) and f.name == "forward"), default=0)
        for c in classes
    }
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W", "--ignore", "E501",
         "--output-format", "concise", str(path)],
        capture_output=True, text=True,
    )
    findings = [line for line in lint.stdout.splitlines() if line.startswith(str(path))]
    spec = importlib.util.spec_from_file_location(f"generated_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = classes[-1].name
    model = getattr(module, main)()
    uses = Counter(type(m).__name__ for m in model.modules())
    keys = list(model.state_dict())
    share = None
    if MODELS[name].get("exporter") == "dynamo":
        graph = onnx.load(str(filled_model(name)), load_external_data=False).graph
        initializers = {t.name for t in graph.initializer}
        share = sum(k in initializers for k in keys) / max(len(keys), 1)
    return {
        "lines": len(source.splitlines()),
        "classes": len(classes),
        "modules": len(list(model.modules())) - 1,
        "longest_forward": max(forwards.values(), default=0),
        "main_forward": forwards.get(main, 0),
        "ruff": len(findings),
        "ruff_text": lint.stdout,
        "key_share": share,
        "block_uses": {c.name: uses[c.name] for c in classes[:-1]},
    }


def _row(name: str, m: dict) -> str:
    share = "-" if m["key_share"] is None else f"{100 * m['key_share']:.1f}%"
    return (f"{name:<28} lines {m['lines']:>5}  classes {m['classes']:>2}  modules {m['modules']:>4}  "
            f"longest forward {m['longest_forward']:>4}  ruff {m['ruff']}  keys {share:>6}  blocks {m['block_uses']}")


def _resnet18_dynamo_bars(m: dict) -> None:
    uses = sorted(m["block_uses"].values())
    assert uses in ([8], [3, 5]), f"residual blocks are not instances of generated classes: {m['block_uses']}"
    assert m["main_forward"] <= 15, f"top-level forward has {m['main_forward']} lines"
    assert m["lines"] <= 150, f"generated file has {m['lines']} lines"
    assert m["key_share"] is not None and m["key_share"] >= 0.95, f"state_dict keys equal to ONNX names: {m['key_share']}"


def _vit_tiny_bars(m: dict) -> None:
    assert 12 in m["block_uses"].values(), f"no encoder-block class used 12 times: {m['block_uses']}"


# the issue's bars for particular zoo models (every model: 0 ruff findings)
BARS = {"resnet18_dynamo": _resnet18_dynamo_bars, "vit_tiny_patch16_224": _vit_tiny_bars}


@pytest.mark.parametrize("name", NAMES)
def test_readability(name: str, record_property) -> None:
    record_property("suite", SUITE)
    record_property("case", name)
    record_property("ok", False)
    if name not in MODELS:
        pytest.skip("shared folder missing")
    m = measure(name)
    row = _row(name, m)
    print("\n" + row)
    record_property("why", row)
    assert m["ruff"] == 0, f"ruff findings in the generated code:\n{m['ruff_text']}"
    if name in BARS:
        BARS[name](m)
    record_property("ok", True)


def test_bars_are_measured() -> None:
    """The models the bars name are in the zoo (a renamed zoo model must not silently drop a bar)."""
    if not MODELS:
        pytest.skip("shared folder missing")
    assert set(BARS) <= set(MODELS)


# -- small built models: each re-fusion and the block/tree rebuild, checked against onnxruntime --
def _model(nodes, inputs, outputs, inits, opset: int = 17) -> onnx.ModelProto:  # type: ignore[no-untyped-def]
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def _convert_and_compare(model: onnx.ModelProto, tmp_path: Path, inputs: list) -> str:  # type: ignore[type-arg]
    import numpy as np

    from transpiler.targets.pytorch.runner import run_generated
    from transpiler.verify import run_onnxruntime

    out = tmp_path / "net.py"
    convert(model, to="pytorch", out=out)
    expected = run_onnxruntime(model, inputs)
    got = run_generated(out, inputs)
    for ref, res in zip(expected, got):
        np.testing.assert_allclose(res, ref, rtol=1e-5, atol=1e-6)
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E,F,W", "--ignore", "E501", str(out)],
        capture_output=True, text=True,
    )
    assert lint.returncode == 0, lint.stdout
    return out.read_text()


def test_silu_and_hardswish_are_fused(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Sigmoid", ["x"], ["s"]),
        helper.make_node("Mul", ["x", "s"], ["a"]),
        helper.make_node("HardSigmoid", ["a"], ["h"], alpha=1 / 6, beta=0.5),
        helper.make_node("Mul", ["h", "a"], ["b"]),
        helper.make_node("Sigmoid", ["b"], ["g"]),  # a gate on another tensor stays as it is
        helper.make_node("Mul", ["g", "x"], ["y"]),
    ]
    vi = helper.make_tensor_value_info
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [2, 5])], [vi("y", TensorProto.FLOAT, [2, 5])], [])
    code = _convert_and_compare(model, tmp_path / "m", [np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)])
    assert "F.silu(" in code and "F.hardswish(" in code
    assert "torch.sigmoid(" in code  # the gate


def test_attention_is_fused_into_sdpa(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    b, h, n, d = 1, 2, 5, 4
    c = np.array(d ** -0.25, dtype=np.float32)
    inits = [numpy_helper.from_array(c, "c"), numpy_helper.from_array(np.array([b * h, n, d], dtype=np.int64), "s3"),
             numpy_helper.from_array(np.array([b, h, d, n], dtype=np.int64), "s4")]
    nodes = [
        helper.make_node("Reshape", ["k", "s3"], ["k3"]),
        helper.make_node("Transpose", ["k3"], ["k3t"], perm=[0, 2, 1]),
        helper.make_node("Reshape", ["k3t", "s4"], ["kt"]),
        helper.make_node("Mul", ["q", "c"], ["qs"]),
        helper.make_node("Mul", ["kt", "c"], ["ks"]),
        helper.make_node("MatMul", ["qs", "ks"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["y"]),
    ]
    vi = helper.make_tensor_value_info
    ins = [vi(x, TensorProto.FLOAT, [b, h, n, d]) for x in "qkv"]
    model = _model(nodes, ins, [vi("y", TensorProto.FLOAT, [b, h, n, d])], inits)
    rng = np.random.default_rng(0)
    code = _convert_and_compare(model, tmp_path / "m", [rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in "qkv"])
    assert "F.scaled_dot_product_attention(" in code and "softmax" not in code


def test_repeated_blocks_share_a_class_and_keep_parameter_names(tmp_path: Path) -> None:
    """Three residual blocks named like a PyTorch export (`layers.i.fc.weight`): one class, the
    state_dict keys equal the initializer names, and the top-level forward calls the Sequential."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits, nodes, x = [], [], "x"
    for i in range(3):
        w = f"layers.{i}.fc.weight"
        inits.append(numpy_helper.from_array(rng.standard_normal((6, 6)).astype(np.float32), w))
        inits.append(numpy_helper.from_array(rng.standard_normal(6).astype(np.float32), f"layers.{i}.fc.bias"))
        nodes += [
            helper.make_node("Gemm", [x, w, f"layers.{i}.fc.bias"], [f"h{i}"], transB=1),
            helper.make_node("Relu", [f"h{i}"], [f"r{i}"]),
            helper.make_node("Add", [f"r{i}", x], [f"o{i}"]),
        ]
        x = f"o{i}"
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    vi = helper.make_tensor_value_info
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [2, 6])], [vi("y", TensorProto.FLOAT, [2, 6])], inits)
    code = _convert_and_compare(model, tmp_path / "m", [rng.standard_normal((2, 6)).astype(np.float32)])
    tree = ast.parse(code)
    assert len([n for n in tree.body if isinstance(n, ast.ClassDef)]) == 2, code
    assert "self.layers(" in code, code
    from safetensors.numpy import load_file

    keys = set(load_file(str(tmp_path / "m" / "net.safetensors")))
    assert keys == {t.name for t in inits}


def test_layer_norm_is_fused(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two"),
        numpy_helper.from_array(np.array(1e-5, dtype=np.float32), "eps"),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "ln.weight"),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "ln.bias"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["mean"]),
        helper.make_node("Sub", ["x", "mean"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["d2"]),
        helper.make_node("ReduceMean", ["d2", "axes"], ["var"]),
        helper.make_node("Add", ["var", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["sd"]),
        helper.make_node("Div", ["d", "sd"], ["n"]),
        helper.make_node("Mul", ["n", "ln.weight"], ["m"]),
        helper.make_node("Add", ["m", "ln.bias"], ["y"]),
    ]
    vi = helper.make_tensor_value_info
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [2, 3, 8])], [vi("y", TensorProto.FLOAT, [2, 3, 8])], inits, opset=18)
    code = _convert_and_compare(model, tmp_path / "m", [rng.standard_normal((2, 3, 8)).astype(np.float32)])
    assert "nn.LayerNorm(8" in code and "torch.sqrt" not in code and "torch.mean" not in code, code


def test_channel_shuffle_and_flatten_are_fused(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(np.array([1, 2, 3, 4, 4], dtype=np.int64), "split"),
        numpy_helper.from_array(np.array([1, 6, 4, 4], dtype=np.int64), "back"),
        numpy_helper.from_array(np.array([1, 96], dtype=np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("Reshape", ["x", "split"], ["s"]),
        helper.make_node("Transpose", ["s"], ["t"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "back"], ["shuffled"]),
        helper.make_node("Relu", ["shuffled"], ["r"]),
        helper.make_node("Reshape", ["r", "flat"], ["y"]),
    ]
    vi = helper.make_tensor_value_info
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [1, 6, 4, 4])], [vi("y", TensorProto.FLOAT, [1, 96])], inits)
    code = _convert_and_compare(model, tmp_path / "m", [np.random.default_rng(0).standard_normal((1, 6, 4, 4)).astype(np.float32)])
    assert "F.channel_shuffle(" in code and ".flatten(1)" in code and "reshape" not in code, code
