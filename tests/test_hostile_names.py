"""Strings from the model never reach generated code unescaped: names drawn from hostile strings
still give code that parses, defines only the expected module-level names, and computes the
right numbers."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from transpiler import convert
from transpiler.verify import run_onnxruntime

torch = pytest.importorskip("torch")

HOSTILE = [
    'x"""; import os; os.system("echo pwned") #', "__import__('os').system('id')", "class", "self", "torch",
    "F", "nn", "load_model", "input", "def", "None", "a\nb", "a\\", "'", '"', "#", "*/", "/* */", "é∂ø",
    "аbc",  # Cyrillic a
    "1abc", "x" * 300, "_", "__init__", "forward", "training", "state_dict", "lambda", "os", "Path",
]
names = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=12))


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=9, max_size=9, unique=True), st.sampled_from(HOSTILE))
def test_hostile_names_give_safe_correct_code(picked: list[str], graph_name: str) -> None:
    x, w, h, r, s, y, n1, n2, n3 = picked
    weight = numpy_helper.from_array(np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3), w)
    nodes = [
        helper.make_node("MatMul", [x, w], [h], name=n1, doc_string=graph_name),
        helper.make_node("Relu", [h], [r], name=n2),
        helper.make_node("Add", [r, x], [s], name=n3),
        helper.make_node("Neg", [s], [y], name=n1 + "_neg"),
    ]
    graph = helper.make_graph(
        nodes, graph_name,
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [2, 3]), helper.make_tensor_value_info(r, TensorProto.FLOAT, [2, 3])],
        [weight], doc_string=graph_name,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    model.producer_name = graph_name
    onnx.checker.check_model(model)
    from transpiler.targets.pytorch.runner import run_generated

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net.py"
        convert(model, to="pytorch", out=out)
        tree = ast.parse(out.read_text())
        top = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                top.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                top.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the module docstring
            else:
                raise AssertionError(f"unexpected module-level statement: {ast.dump(node)[:80]}")
        classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        assert len(classes) == 1
        assert top - set(classes) <= {"os", "math", "Path", "torch", "F", "nn", "np", "load_file", "load_model"}
        inputs = [np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)]
        for ref, got in zip(run_onnxruntime(model, inputs), run_generated(out, inputs)):
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
