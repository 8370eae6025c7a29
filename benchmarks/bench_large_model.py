"""Question 3: does a model whose weights exceed 2 GB (external data, `model.onnx.data`) convert,
and with what peak memory?

A GPT-like stack of transformer blocks (pre-LayerNorm, multi-head attention with a symbolic
sequence length, erf-GELU MLP) is synthesized once into the cache, its weights written tensor by
tensor straight into the external data file (never all in memory). The conversion runs as a
child process; its peak RSS is compared with the bar, 1.3 x the weight bytes + 200 MB, which only
a converter that streams the weights (never holds them twice) can meet.

    python benchmarks/bench_large_model.py                  # ~2.3 GB of weights, pytorch
    python benchmarks/bench_large_model.py --targets pytorch,ncnn --repeats 3
    python benchmarks/bench_large_model.py --smoke          # ~20 MB, seconds
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BENCH_CACHE,
    machine_line,
    mb,
    median_runs,
    print_table,
    verdict,
    weight_bytes,
)
from bench_conversion import available_targets, run_tool  # noqa: E402

RSS_SLACK = 200e6


def make_transformer(path: Path, dim: int, blocks: int, heads: int, seed: int = 0) -> Path:
    """Write the model (opset 17) and its external data beside it, if not there yet."""
    if path.exists():
        return path
    import onnx
    from onnx import TensorProto, helper

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    data_name = path.name + ".data"
    data_path = path.with_name(data_name + ".tmp")
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    offset = 0
    fdata = open(data_path, "wb")

    def weight(name: str, shape: tuple[int, ...], scale: float, mean: float = 0.0) -> str:
        nonlocal offset
        arr = rng.standard_normal(shape, dtype=np.float32)
        arr *= scale
        arr += mean
        raw = arr.tobytes()
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(len(raw)))):
            t.external_data.add(key=key, value=value)
        fdata.write(raw)
        offset += len(raw)
        pad = -offset % 4096  # page-aligned tensors, as onnx's own writer does for memory mapping
        fdata.write(b"\0" * pad)
        offset += pad
        inits.append(t)
        return name

    def const(name: str, values: list[int] | float) -> str:
        arr = np.array(values, dtype=np.int64 if isinstance(values, list) else np.float32)
        inits.append(onnx.numpy_helper.from_array(arr, name))
        return name

    counter = [0]

    def node(op: str, inputs: list[str], scope: str, n_out: int = 1, **attrs) -> list[str]:
        counter[0] += 1
        outs = [f"{scope}/{op}_{counter[0]}_output_{i}" for i in range(n_out)]
        nodes.append(helper.make_node(op, inputs, outs, name=f"{scope}/{op}_{counter[0]}", **attrs))
        return outs

    head_dim = dim // heads
    split_heads = const("shape_split_heads", [0, 0, heads, head_dim])
    merge_heads = const("shape_merge_heads", [0, 0, dim])
    scale = const("attn_scale", float(head_dim) ** -0.5)
    sqrt2, one, half = const("sqrt2", 2.0 ** 0.5), const("one", 1.0), const("half", 0.5)
    x = "hidden"
    for i in range(blocks):
        s, p = f"/h.{i}", f"h.{i}"
        ln = node("LayerNormalization", [x, weight(f"{p}.ln_1.weight", (dim,), 0.1, 1.0),
                                         weight(f"{p}.ln_1.bias", (dim,), 0.02)], f"{s}/ln_1", axis=-1)[0]
        qkv = []
        for part in ("q", "k", "v"):
            h = node("MatMul", [ln, weight(f"{p}.attn.{part}.weight", (dim, dim), dim ** -0.5)], f"{s}/attn/{part}")[0]
            h = node("Add", [h, weight(f"{p}.attn.{part}.bias", (dim,), 0.02)], f"{s}/attn/{part}")[0]
            h = node("Reshape", [h, split_heads], f"{s}/attn/{part}")[0]
            perm = [0, 2, 3, 1] if part == "k" else [0, 2, 1, 3]
            qkv.append(node("Transpose", [h], f"{s}/attn/{part}", perm=perm)[0])
        scores = node("MatMul", [qkv[0], qkv[1]], f"{s}/attn")[0]
        scores = node("Mul", [scores, scale], f"{s}/attn")[0]
        probs = node("Softmax", [scores], f"{s}/attn", axis=-1)[0]
        ctx = node("MatMul", [probs, qkv[2]], f"{s}/attn")[0]
        ctx = node("Transpose", [ctx], f"{s}/attn", perm=[0, 2, 1, 3])[0]
        ctx = node("Reshape", [ctx, merge_heads], f"{s}/attn")[0]
        h = node("MatMul", [ctx, weight(f"{p}.attn.proj.weight", (dim, dim), dim ** -0.5)], f"{s}/attn/proj")[0]
        h = node("Add", [h, weight(f"{p}.attn.proj.bias", (dim,), 0.02)], f"{s}/attn/proj")[0]
        x = node("Add", [x, h], s)[0]
        ln = node("LayerNormalization", [x, weight(f"{p}.ln_2.weight", (dim,), 0.1, 1.0),
                                         weight(f"{p}.ln_2.bias", (dim,), 0.02)], f"{s}/ln_2", axis=-1)[0]
        h = node("MatMul", [ln, weight(f"{p}.mlp.fc.weight", (dim, 4 * dim), dim ** -0.5)], f"{s}/mlp/fc")[0]
        h = node("Add", [h, weight(f"{p}.mlp.fc.bias", (4 * dim,), 0.02)], f"{s}/mlp/fc")[0]
        g = node("Div", [h, sqrt2], f"{s}/mlp/gelu")[0]
        g = node("Erf", [g], f"{s}/mlp/gelu")[0]
        g = node("Add", [g, one], f"{s}/mlp/gelu")[0]
        g = node("Mul", [h, g], f"{s}/mlp/gelu")[0]
        g = node("Mul", [g, half], f"{s}/mlp/gelu")[0]
        h = node("MatMul", [g, weight(f"{p}.mlp.proj.weight", (4 * dim, dim), (4 * dim) ** -0.5)], f"{s}/mlp/proj")[0]
        h = node("Add", [h, weight(f"{p}.mlp.proj.bias", (dim,), 0.02)], f"{s}/mlp/proj")[0]
        x = node("Add", [x, h], s)[0]
    x = node("LayerNormalization", [x, weight("ln_f.weight", (dim,), 0.1, 1.0), weight("ln_f.bias", (dim,), 0.02)],
             "/ln_f", axis=-1)[0]
    fdata.close()
    graph = helper.make_graph(
        nodes, "synthetic_transformer",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", dim])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "seq", dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="transpiler-bench")
    model.ir_version = 8
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(model.SerializeToString())
    data_path.replace(path.with_name(data_name))
    tmp.replace(path)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", default="pytorch", help="comma-separated targets")
    p.add_argument("--dim", type=int, default=2048)
    p.add_argument("--blocks", type=int, default=11, help="blocks of 12 dim^2 weights each (11 x 2048: 2.2 GB)")
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="dim 256, 2 blocks")
    args = p.parse_args()
    if args.smoke:
        args.dim, args.blocks, args.heads = 256, 2, 4
    print(machine_line())
    folder = BENCH_CACHE / "large" / f"gpt_d{args.dim}_b{args.blocks}_h{args.heads}"
    folder.mkdir(parents=True, exist_ok=True)
    model = make_transformer(folder / "model.onnx", args.dim, args.blocks, args.heads)
    wb = weight_bytes(model)
    data = model.with_name(model.name + ".data")
    print(f"model: {model} ({mb(model.stat().st_size)} graph + {mb(data.stat().st_size)} external data; "
          f"weights {mb(wb)})")
    rows = []
    targets = available_targets([t for t in args.targets.split(",") if t])
    work = BENCH_CACHE / "work-large"
    for tool in ["floor", *targets]:
        runs = []
        for _ in range(args.repeats):
            runs.append(run_tool(tool, model, work / tool, wb))
            if not runs[-1].ok:
                break
        run = median_runs(runs)
        limit = 1.3 * wb + RSS_SLACK
        if not run.ok:
            refused = run.why.startswith("exit 3:")  # the target lists ops it cannot convert
            what = "skipped, the target refuses the model" if refused else "FAIL"
            rows.append(["I/O floor" if tool == "floor" else tool, "-", "-", "-", f"{what}: {run.why}"])
            continue
        rows.append([
            "I/O floor" if tool == "floor" else tool, f"{run.wall:.1f} s", mb(run.rss),
            f"{run.rss / wb:.2f}x", "" if tool == "floor" else f"{verdict(run.rss <= limit)} (<= {mb(limit)})",
        ])
    shutil.rmtree(work, ignore_errors=True)
    print_table(
        f"converting a {mb(wb)} external-data transformer (median of {args.repeats}); "
        "bar: peak RSS <= 1.3 x weights + 200 MB",
        ["tool", "time", "peak RSS", "RSS / weights", "RSS bar"], rows,
    )
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
