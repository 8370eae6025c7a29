"""Build the example models and regenerate their converted outputs for every target.

    python examples/make_examples.py            # models (if missing) + every target's outputs
    python examples/make_examples.py --models   # rebuild the .onnx models only

Outputs go to `examples/<target>/<model>.*` (or `examples/<target>/<model>/` when a target writes
files not named after the model, e.g. ncnn's CMake project); a model a target cannot convert gets
`<model>.refused.txt` with the reasons instead, so a new lowering shows up as a diff. Targets
whose package does not import yet are skipped with a note. `tests/test_examples_all.py`
regenerates everything into a temporary folder and fails on any byte difference.

The models are small on purpose (committed to the repo) and built from a seeded generator, so the
files are the same on every machine:
- tiny_mlp.onnx        Gemm/Relu/erf-GELU/Softmax (exported from PyTorch; not rebuilt here)
- small_cnn.onnx       Conv/BatchNorm/Relu/MaxPool, GlobalAveragePool, Flatten, Gemm
- tiny_attention.onnx  LayerNorm, two-head self-attention (MatMul/Reshape/Transpose/Softmax),
                       an erf-GELU MLP, residual adds
- plugins/custom_op.onnx  a custom-domain op (com.example::ScaledTanh), converted to PyTorch
                       with the plugin examples/plugins/scaled_tanh.py
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
OPSET = 17


@dataclass(frozen=True)
class Example:
    model: str  # path under examples/
    targets: tuple[str, ...] | None = None  # None: every target
    plugins: tuple[str, ...] = ()
    out_dir: str = ""  # outputs go to examples/<out_dir>/<target>/


EXAMPLES = (
    Example("tiny_mlp.onnx"),
    Example("small_cnn.onnx"),
    Example("tiny_attention.onnx"),
    Example("plugins/custom_op.onnx", targets=("pytorch",), plugins=("plugins/scaled_tanh.py",), out_dir="plugins"),
)


# -- the models ----------------------------------------------------------------------------------
def _w(rng: np.random.Generator, name: str, *shape: int, scale: float = 0.3) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def _model(nodes, name, inputs, outputs, inits, extra_opsets=()) -> onnx.ModelProto:  # type: ignore[no-untyped-def]
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    opsets = [helper.make_opsetid("", OPSET), *[helper.make_opsetid(d, v) for d, v in extra_opsets]]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8, producer_name="examples/make_examples.py")
    onnx.checker.check_model(model)
    return model


def small_cnn() -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    inits = []
    nodes = []
    x = "input"
    for i, (cin, cout) in enumerate([(3, 8), (8, 16)], start=1):
        p = f"features.conv{i}"
        b = f"features.bn{i}"
        inits += [
            _w(rng, f"{p}.weight", cout, cin, 3, 3), _w(rng, f"{p}.bias", cout, scale=0.1),
            numpy_helper.from_array(rng.uniform(0.5, 1.5, cout).astype(np.float32), f"{b}.weight"),
            _w(rng, f"{b}.bias", cout, scale=0.1), _w(rng, f"{b}.running_mean", cout, scale=0.1),
            numpy_helper.from_array(rng.uniform(0.5, 1.5, cout).astype(np.float32), f"{b}.running_var"),
        ]
        nodes += [
            helper.make_node("Conv", [x, f"{p}.weight", f"{p}.bias"], [f"/{p}/Conv_output_0"], name=f"/{p}/Conv",
                             kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization",
                             [f"/{p}/Conv_output_0", f"{b}.weight", f"{b}.bias", f"{b}.running_mean", f"{b}.running_var"],
                             [f"/{b}/BatchNormalization_output_0"], name=f"/{b}/BatchNormalization", epsilon=1e-5,
                             momentum=0.9),
            helper.make_node("Relu", [f"/{b}/BatchNormalization_output_0"], [f"/features/relu{i}/Relu_output_0"],
                             name=f"/features/relu{i}/Relu"),
        ]
        x = f"/features/relu{i}/Relu_output_0"
        if i == 1:
            nodes.append(helper.make_node("MaxPool", [x], ["/features/pool/MaxPool_output_0"], name="/features/pool/MaxPool",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = "/features/pool/MaxPool_output_0"
    inits += [_w(rng, "classifier.weight", 10, 16), _w(rng, "classifier.bias", 10, scale=0.1)]
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["/pool/GlobalAveragePool_output_0"], name="/pool/GlobalAveragePool"),
        helper.make_node("Flatten", ["/pool/GlobalAveragePool_output_0"], ["/Flatten_output_0"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["/Flatten_output_0", "classifier.weight", "classifier.bias"], ["logits"],
                         name="/classifier/Gemm", transB=1),
    ]
    return _model(
        nodes, "small_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )


def tiny_attention() -> onnx.ModelProto:
    """One pre-norm transformer block: x + attn(ln1(x)), then + mlp(ln2(.)); 2 heads of 8."""
    rng = np.random.default_rng(2)
    seq, dim, heads = 6, 16, 2
    hd = dim // heads
    inits = [
        numpy_helper.from_array(rng.uniform(0.5, 1.5, dim).astype(np.float32), "ln1.weight"),
        _w(rng, "ln1.bias", dim, scale=0.1),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, dim).astype(np.float32), "ln2.weight"),
        _w(rng, "ln2.bias", dim, scale=0.1),
        numpy_helper.from_array(np.array([1, seq, heads, hd], dtype=np.int64), "/attn/heads_shape"),
        numpy_helper.from_array(np.array([1, seq, dim], dtype=np.int64), "/attn/merge_shape"),
        numpy_helper.from_array(np.array(1.0 / np.sqrt(hd), dtype=np.float32), "/attn/scale"),
        numpy_helper.from_array(np.array(np.sqrt(2.0), dtype=np.float32), "/mlp/sqrt2"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "/mlp/one"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "/mlp/half"),
    ]
    for name, (i, o) in [("attn.q", (dim, dim)), ("attn.k", (dim, dim)), ("attn.v", (dim, dim)), ("attn.proj", (dim, dim)),
                         ("mlp.fc1", (dim, 2 * dim)), ("mlp.fc2", (2 * dim, dim))]:
        inits += [_w(rng, f"{name}.weight", i, o, scale=1 / np.sqrt(i)), _w(rng, f"{name}.bias", o, scale=0.1)]

    def n(op, ins, outs, name, **kw):  # type: ignore[no-untyped-def]
        return helper.make_node(op, ins, outs, name=name, **kw)

    def linear(x: str, p: str) -> list:
        return [n("MatMul", [x, f"{p}.weight"], [f"/{p}/MatMul_output_0"], f"/{p}/MatMul"),
                n("Add", [f"/{p}/MatMul_output_0", f"{p}.bias"], [f"/{p}/Add_output_0"], f"/{p}/Add")]

    nodes = [n("LayerNormalization", ["input", "ln1.weight", "ln1.bias"], ["/ln1/out"], "/ln1/LayerNormalization",
               axis=-1, epsilon=1e-5)]
    for p in ("q", "k", "v"):
        nodes += linear("/ln1/out", f"attn.{p}")
        nodes += [
            n("Reshape", [f"/attn.{p}/Add_output_0", "/attn/heads_shape"], [f"/attn/{p}_heads"], f"/attn/{p}/Reshape"),
            n("Transpose", [f"/attn/{p}_heads"], [f"/attn/{p}_t"], f"/attn/{p}/Transpose",
              perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3]),
        ]
    nodes += [
        n("MatMul", ["/attn/q_t", "/attn/k_t"], ["/attn/scores"], "/attn/scores/MatMul"),
        n("Mul", ["/attn/scores", "/attn/scale"], ["/attn/scaled"], "/attn/scale/Mul"),
        n("Softmax", ["/attn/scaled"], ["/attn/probs"], "/attn/Softmax", axis=-1),
        n("MatMul", ["/attn/probs", "/attn/v_t"], ["/attn/ctx"], "/attn/ctx/MatMul"),
        n("Transpose", ["/attn/ctx"], ["/attn/ctx_t"], "/attn/ctx/Transpose", perm=[0, 2, 1, 3]),
        n("Reshape", ["/attn/ctx_t", "/attn/merge_shape"], ["/attn/merged"], "/attn/merge/Reshape"),
    ]
    nodes += linear("/attn/merged", "attn.proj")
    nodes += [
        n("Add", ["input", "/attn.proj/Add_output_0"], ["/res1"], "/res1/Add"),
        n("LayerNormalization", ["/res1", "ln2.weight", "ln2.bias"], ["/ln2/out"], "/ln2/LayerNormalization",
          axis=-1, epsilon=1e-5),
    ]
    nodes += linear("/ln2/out", "mlp.fc1")
    h = "/mlp.fc1/Add_output_0"
    nodes += [  # GELU as exporters write it: x * 0.5 * (1 + erf(x / sqrt(2)))
        n("Div", [h, "/mlp/sqrt2"], ["/mlp/gelu/div"], "/mlp/gelu/Div"),
        n("Erf", ["/mlp/gelu/div"], ["/mlp/gelu/erf"], "/mlp/gelu/Erf"),
        n("Add", ["/mlp/gelu/erf", "/mlp/one"], ["/mlp/gelu/add"], "/mlp/gelu/Add"),
        n("Mul", [h, "/mlp/gelu/add"], ["/mlp/gelu/mul"], "/mlp/gelu/Mul"),
        n("Mul", ["/mlp/gelu/mul", "/mlp/half"], ["/mlp/gelu/out"], "/mlp/gelu/Mul_1"),
    ]
    nodes += linear("/mlp/gelu/out", "mlp.fc2")
    nodes.append(n("Add", ["/res1", "/mlp.fc2/Add_output_0"], ["output"], "/res2/Add"))
    return _model(
        nodes, "tiny_attention",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, seq, dim])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, seq, dim])],
        inits,
    )


def custom_op() -> onnx.ModelProto:
    """Gemm -> com.example::ScaledTanh -> Gemm: a model only a plugin can convert."""
    rng = np.random.default_rng(3)
    inits = [_w(rng, "fc1.weight", 8, 4), _w(rng, "fc1.bias", 8, scale=0.1),
             _w(rng, "fc2.weight", 3, 8), _w(rng, "fc2.bias", 3, scale=0.1)]
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["/fc1/Gemm_output_0"], name="/fc1/Gemm", transB=1),
        helper.make_node("ScaledTanh", ["/fc1/Gemm_output_0"], ["/act/ScaledTanh_output_0"], name="/act/ScaledTanh",
                         domain="com.example", alpha=1.7159, beta=0.6666667),
        helper.make_node("Gemm", ["/act/ScaledTanh_output_0", "fc2.weight", "fc2.bias"], ["output"], name="/fc2/Gemm",
                         transB=1),
    ]
    return _model(
        nodes, "custom_op",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 3])],
        inits, extra_opsets=[("com.example", 1)],
    )


BUILDERS = {"small_cnn.onnx": small_cnn, "tiny_attention.onnx": tiny_attention, "plugins/custom_op.onnx": custom_op}


def build_models(root: Path = HERE) -> list[Path]:
    written = []
    for rel, build in BUILDERS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build().SerializeToString(deterministic=True))
        written.append(path)
    return written


# -- the outputs ---------------------------------------------------------------------------------
def available_targets() -> tuple[list[str], dict[str, str]]:
    """Targets whose package imports, and why the others do not."""
    from transpiler import targets

    ok, missing = [], {}
    for name in targets.names():
        try:
            targets.get(name)
            ok.append(name)
        except Exception as e:
            missing[name] = f"{type(e).__name__}: {e}"
    return ok, missing


def generate_outputs(dest: Path, models: Path = HERE, changed: list[Path] | None = None) -> list[Path]:
    """Convert every example for every available target into `dest` (laid out like examples/);
    returns every output file, relative to `dest` (those whose bytes changed are appended to
    `changed`)."""
    from transpiler import convert, targets
    from transpiler.errors import TranspileError

    names, _ = available_targets()
    written: list[Path] = []
    for ex in EXAMPLES:
        stem = Path(ex.model).name.removesuffix(".onnx")
        for name in names:
            if ex.targets is not None and name not in ex.targets:
                continue
            suffix = getattr(targets.get(name), "default_suffix", ".out")
            base = dest / ex.out_dir / name
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / f"{stem}{suffix}"
                try:
                    result = convert(models / ex.model, to=name, out=out, strict=False,
                                     plugins=[models / p for p in ex.plugins])
                    refusals = [str(r) for r in result.report.refusals] if result.report else []
                    problem = f"{len(refusals)} node(s) cannot be converted to {name}:\n" + "".join(
                        f"  {r}\n" for r in refusals) if refusals else ""
                except TranspileError as e:
                    problem = f"error: {e}\n"
                if problem:
                    files = [Path(tmp) / f"{stem}.refused.txt"]
                    files[0].write_text(problem, encoding="utf-8")
                else:
                    files = sorted(p for p in Path(tmp).rglob("*") if p.is_file())
                # flat when every file is named after the model, else a folder per model
                flat = all(p.name.startswith(stem + ".") for p in files)
                target_dir = base if flat else base / stem
                for p in files:
                    rel = p.relative_to(tmp)
                    final = target_dir / rel
                    final.parent.mkdir(parents=True, exist_ok=True)
                    if not final.exists() or final.read_bytes() != p.read_bytes():  # touch only what changed
                        shutil.copyfile(p, final)
                        if changed is not None:
                            changed.append(final.relative_to(dest))
                    written.append(final.relative_to(dest))
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", action="store_true", help="rebuild the example .onnx models only")
    args = p.parse_args(argv)
    if args.models:
        for path in build_models():
            print(f"wrote {path.relative_to(HERE.parent)}")
        return 0
    if not all((HERE / rel).exists() for rel in BUILDERS):
        build_models()
    _, missing = available_targets()
    for name, why in missing.items():
        print(f"skipped target {name}: {why}", file=sys.stderr)
    changed: list[Path] = []
    everything = generate_outputs(HERE, changed=changed)
    for rel in changed:
        print(f"wrote examples/{rel}")
    print(f"{len(everything)} output files, {len(changed)} changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
