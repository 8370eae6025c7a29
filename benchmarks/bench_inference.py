"""Question 2: how fast is the generated PyTorch code?

Part A, eager CPU inference (torch.no_grad, `--threads` fixed): the generated module vs
onnx2torch's GraphModule vs a hand-written plain-torch definition (benchmarks/_references.py) of
resnet18 (zoo weights) and a small ViT (exported here), same weights and inputs. Each round times
every implementation once (order rotated), ratios are taken within a round, and the table shows
medians over rounds.

Part B, torch.compile: every zoo model onnxruntime runs is converted, compiled (inductor, CPU)
and run in its own child process; does it run, does it match eager, and its speed-up.

    python benchmarks/bench_inference.py                      # both parts, every zoo model
    python benchmarks/bench_inference.py --compile-models resnet18,tiny_mlp --rounds 7
    python benchmarks/bench_inference.py --smoke
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_CACHE, filled_model, machine_line, print_table, verdict, zoo_manifest  # noqa: E402

RTOL, ATOL = 1e-3, 1e-4


def generated_module(onnx_path: Path, out_dir: Path):  # type: ignore[no-untyped-def]
    from transpiler import convert
    from transpiler.targets.pytorch.runner import import_generated

    out = out_dir / "net.py"
    convert(onnx_path, to="pytorch", out=out)
    return import_generated(out).load_model().eval()


def with_onnx2torch(impls: dict, onnx_path: Path) -> dict:
    """`impls` plus onnx2torch's GraphModule, placed second, when onnx2torch is installed."""
    try:
        from _anchor_onnx2torch import convert

        model = convert(str(onnx_path)).eval()
    except ImportError:
        print("note: onnx2torch is not installed here; its column is left out")
        return impls
    return {"generated": impls["generated"], "onnx2torch": model, **impls}


def per_call(fn, x, iters: int) -> float:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(iters):
            fn(x)
        return (time.perf_counter() - t0) / iters


def first(out):  # type: ignore[no-untyped-def]
    return out[0] if isinstance(out, (tuple, list)) else out


def eager_case(label: str, impls: dict, x, rounds: int, iters: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        outs = {k: first(m(x)) for k, m in impls.items()}  # also the warm-up
        for m in impls.values():
            m(x)
    ref = outs["reference"]
    diffs = {k: float((o - ref).abs().max()) for k, o in outs.items()}
    times: dict[str, list[float]] = {k: [] for k in impls}
    ratios: dict[str, list[float]] = {k: [] for k in impls}
    names = list(impls)
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        this = {k: per_call(impls[k], x, iters) for k in order}
        for k, t in this.items():
            times[k].append(t)
        for k in names:
            ratios[k].append(this["generated"] / this[k])
    rows = []
    for k in names:
        t = statistics.median(times[k])
        min_ratio = min(times["generated"]) / min(times[k])
        rows.append([label, k, f"{t * 1e3:.2f} ms", f"{statistics.median(ratios[k]):.3f}", f"{min_ratio:.3f}",
                     f"{diffs[k]:.1e}"])
    bar_ref = statistics.median(ratios["reference"]) <= 1.05
    bar_o2t = statistics.median(ratios["onnx2torch"]) <= 0.8 if "onnx2torch" in ratios else None
    rows.append([label, "bars", f"gen/reference <= 1.05: {verdict(bar_ref)}",
                 f"gen/onnx2torch <= 0.8: {verdict(bar_o2t)}", "", ""])
    return rows


def part_a(args: argparse.Namespace) -> None:
    import torch

    from _references import export_vit

    torch.manual_seed(0)
    work = BENCH_CACHE / "inference"
    work.mkdir(parents=True, exist_ok=True)
    x = torch.randn(args.batch, 3, 224, 224)
    rows: list[list[str]] = []

    if "resnet18" in args.eager_models:
        r18 = filled_model("resnet18")
        impls = resnet18_impls(r18, work)
        rows += eager_case("resnet18", impls, x, args.rounds, args.iters)
        if args.small_image:  # per-call overhead shows once the convolutions are cheap
            small = torch.randn(args.batch, 3, args.small_image, args.small_image)
            rows += eager_case(f"resnet18 @{args.small_image}px", impls, small, args.rounds, args.iters * 10)
    if "vit" in args.eager_models:
        vit_path = work / "vit_small.onnx"
        ref_vit = export_vit(str(vit_path))
        impls = with_onnx2torch({"generated": generated_module(vit_path, work / "vit_small"), "reference": ref_vit},
                                vit_path)
        rows += eager_case("vit (ViT-Ti/16)", impls, x, args.rounds, args.iters)
    print_table(
        f"eager CPU inference, batch {args.batch}, torch.set_num_threads({args.threads}), medians of "
        f"{args.rounds} rounds x {args.iters} calls;\n'gen/this': generated time / this time in the same round "
        "(median over rounds); 'fastest': ratio of the fastest rounds (least disturbed by other jobs)",
        ["model", "implementation", "time/call", "gen/this", "gen/this (fastest)", "max|diff| vs ref"], rows,
    )


def resnet18_impls(r18: Path, work: Path) -> dict:
    from _references import ResNet18, load_resnet18_from_onnx

    import copy

    import torch

    generated = generated_module(r18, work / "resnet18")
    impls = with_onnx2torch({
        "generated": generated,
        "reference": load_resnet18_from_onnx(ResNet18(), str(r18)),
    }, r18)
    # the one lever found for the onnx2torch bar: the same module in channels_last memory format
    # (session 3, quiet machine: 0.92x onnx2torch, not 0.8x; not applied to the generated code)
    impls["generated, channels_last"] = copy.deepcopy(generated).to(memory_format=torch.channels_last)
    return impls


def compile_one(name: str, iters: int) -> dict:
    """Child process: convert zoo model `name`, run eager and torch.compile'd, report as JSON."""
    import numpy as np
    import onnx
    import torch

    from transpiler.targets.pytorch.runner import to_torch
    from transpiler.verify import run_onnxruntime

    entry = next(m for m in zoo_manifest() if m["name"] == name)
    path = filled_model(name)
    rng = np.random.default_rng(1234)
    inputs = []
    for spec in entry["inputs"]:
        dtype = np.dtype(spec["dtype"])
        if np.issubdtype(dtype, np.floating):
            inputs.append(rng.standard_normal(spec["shape"]).astype(dtype))
        else:
            inputs.append(rng.integers(spec["low"], spec["high"], spec["shape"]).astype(dtype))
    try:
        run_onnxruntime(onnx.load(str(path)), inputs)
    except Exception as e:
        return {"name": name, "ort": False, "why": f"onnxruntime: {type(e).__name__}"}
    model = generated_module(path, BENCH_CACHE / "compile" / name)
    xs = [to_torch(a) for a in inputs]

    def flat(out):  # type: ignore[no-untyped-def]
        return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, torch.Tensor)]

    with torch.no_grad():
        eager = flat(model(*xs))
        compiled = torch.compile(model)
        t0 = time.perf_counter()
        try:
            got = flat(compiled(*xs))
        except Exception as e:
            return {"name": name, "ort": True, "works": False, "why": " ".join(f"{type(e).__name__}: {e}".split())[:120]}
        compile_s = time.perf_counter() - t0
        same = len(got) == len(eager) and all(
            g.shape == e.shape and torch.allclose(g.float(), e.float(), rtol=RTOL, atol=ATOL) for g, e in zip(got, eager)
        )
        te, tc = [], []
        for _ in range(3):
            te.append(per_call(lambda a: model(*a), xs, iters))
            tc.append(per_call(lambda a: compiled(*a), xs, iters))
    return {"name": name, "ort": True, "works": True, "same": same, "compile_s": compile_s,
            "eager_ms": statistics.median(te) * 1e3, "compiled_ms": statistics.median(tc) * 1e3}


def part_b(args: argparse.Namespace) -> None:
    names = [n for n in args.compile_models.split(",") if n] if args.compile_models != "all" else [
        m["name"] for m in zoo_manifest()
    ]
    rows = []
    all_ok = True
    for name in names:
        cmd = [sys.executable, __file__, "--compile-one", name, "--threads", str(args.threads),
               "--iters", str(args.compile_iters)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.compile_timeout)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            res = json.loads(lines[-1]) if lines else {
                "name": name, "ort": True, "works": False,
                "why": f"exit {proc.returncode}: " + " ".join((proc.stderr.strip().splitlines() or [""])[-1].split())[:110],
            }
        except subprocess.TimeoutExpired:
            res = {"name": name, "ort": True, "works": False, "why": f"timed out after {args.compile_timeout} s"}
        if not res.get("ort"):
            rows.append([name, "n/a (onnxruntime does not run it)", "", "", "", "", res.get("why", "")])
            continue
        ok = bool(res.get("works")) and bool(res.get("same"))
        all_ok &= ok
        if res.get("works"):
            rows.append([name, verdict(ok), "yes" if res["same"] else "NO", f"{res['compile_s']:.1f} s",
                         f"{res['eager_ms']:.2f} ms", f"{res['compiled_ms']:.2f} ms",
                         f"{res['eager_ms'] / res['compiled_ms']:.2f}x"])
        else:
            rows.append([name, "FAIL", "-", "-", "-", "-", res.get("why", "")])
        print(f"  compiled {name}: {rows[-1][1]}", flush=True)
    print_table(
        f"torch.compile (inductor, CPU, {args.threads} thread(s)) of the generated module; speed-up = eager / compiled",
        ["model", "works", "matches eager", "compile time", "eager", "compiled", "speed-up"], rows,
    )
    print(f"bar: torch.compile works on every zoo model onnxruntime runs: {verdict(all_ok)}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: the cores are shared)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--small-image", type=int, default=32,
                   help="also time resnet18 on this image size, where per-call overhead matters (0: no)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--iters", type=int, default=3, help="calls per timing")
    p.add_argument("--eager-models", default="resnet18,vit", help="part A: resnet18 and/or vit ('' for none)")
    p.add_argument("--compile-models", default=None, help="zoo models for torch.compile ('all' (default), a list, '' for none)")
    p.add_argument("--compile-iters", type=int, default=5)
    p.add_argument("--compile-timeout", type=float, default=900)
    p.add_argument("--smoke", action="store_true", help="one round of one call, torch.compile on tiny_mlp only")
    p.add_argument("--compile-one", help=argparse.SUPPRESS)
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.compile_one:
        print(json.dumps(compile_one(args.compile_one, args.iters)))
        return 0
    if args.smoke:
        args.rounds, args.iters, args.compile_iters = 1, 1, 1
        args.compile_models = "tiny_mlp" if args.compile_models is None else args.compile_models
    elif args.compile_models is None:
        args.compile_models = "all"
    print(machine_line())
    if args.eager_models:
        part_a(args)
    if args.compile_models:
        part_b(args)
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
