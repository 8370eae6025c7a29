"""Question 1: how long does a conversion take, and how much memory, beside the anchors?

Each conversion runs as a child process (`transpile MODEL --to T -o OUT`, `pnnx MODEL ...`,
onnx2torch's `convert` + save), timed by wall clock, its peak RSS read from os.wait4. Runs of all
tools on one model are interleaved, so the ratios compare runs made under the same machine load;
the table shows medians of `--repeats` runs. The I/O floor is reading the .onnx once and writing
the weight bytes once.

    python benchmarks/bench_conversion.py                     # zoo + stress graphs, every target
    python benchmarks/bench_conversion.py --targets pytorch --models resnet18 --stress ''
    python benchmarks/bench_conversion.py --smoke             # tiny, seconds: checks the script runs
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BENCH_CACHE,
    BIN,
    Run,
    filled_model,
    fresh_dir,
    machine_line,
    mb,
    median_runs,
    print_table,
    run_child,
    verdict,
    weight_bytes,
)
from _stress import make_stress  # noqa: E402

HERE = Path(__file__).resolve().parent
SUFFIX = {"pytorch": ".py", "keras": ".py", "ncnn": ".param", "caffe": ".prototxt"}
RSS_SLACK = 200e6  # the bar: peak RSS <= 1.3 x weight bytes + 200 MB
PNNX_FASTER = {"vgg11_bn": 3.0, "alexnet": 3.0, "resnet18": 1.0}  # bar: pnnx time / ours >= this
FLOOR_FACTOR = {"vgg11_bn": 3.0}  # bar: ours <= this x the I/O floor


def available_targets(wanted: list[str]) -> list[str]:
    from transpiler import targets

    out = []
    for name in wanted:
        if name not in targets.names():
            print(f"note: target {name!r} is not in the registry; skipped")
            continue
        try:
            targets.get(name)
        except Exception as e:  # a target still being written
            print(f"note: target {name!r} does not import ({type(e).__name__}: {e}); skipped")
            continue
        out.append(name)
    return out


def tool_argv(tool: str, model: Path, work: Path, wbytes: int) -> tuple[list[str], Path]:
    """(argv, cwd) of one conversion; `tool` is 'floor', 'pnnx', 'onnx2torch' or a target name."""
    py = sys.executable
    if tool == "floor":
        return [py, str(HERE / "_io_floor.py"), str(model), str(work / "weights.bin"), str(wbytes)], work
    if tool == "pnnx":
        # pnnx writes <model>.pnnxsim.onnx beside its input: give it a link inside the work folder
        link = work / "model.onnx"
        if not link.exists():
            link.symlink_to(model)
            for extra in model.parent.glob(model.name + ".data*"):
                (work / extra.name.replace(model.name, "model.onnx")).symlink_to(extra)
        outs = ["pnnxparam=o.pnnx.param", "pnnxbin=o.pnnx.bin", "pnnxpy=o_pnnx.py", "pnnxonnx=o.pnnx.onnx",
                "ncnnparam=o.ncnn.param", "ncnnbin=o.ncnn.bin", "ncnnpy=o_ncnn.py"]
        return [str(BIN / "pnnx"), "model.onnx", *outs], work
    if tool == "onnx2torch":
        return [py, str(HERE / "_anchor_onnx2torch.py"), str(model), str(work / "o.pt")], work
    out = work / f"net{SUFFIX.get(tool, '.out')}"
    return [str(BIN / "transpile"), str(model), "--to", tool, "-o", str(out)], work


def run_tool(tool: str, model: Path, work: Path, wbytes: int) -> Run:
    fresh_dir(work)
    argv, cwd = tool_argv(tool, model, work, wbytes)
    run = run_child(argv, cwd=cwd)
    if run.ok and tool == "pnnx" and not (work / "o_pnnx.py").is_file():
        run = Run(False, run.wall, run.rss, "pnnx exited 0 but wrote no o_pnnx.py")
    return run


def bench_model(label: str, model: Path, tools: list[str], repeats: int, work: Path) -> dict[str, Run]:
    wbytes = weight_bytes(model)
    runs: dict[str, list[Run]] = {t: [] for t in tools}
    refused: dict[str, Run] = {}
    for r in range(repeats):
        for tool in tools:
            if tool in refused:
                continue
            run = run_tool(tool, model, work / tool, wbytes)
            if not run.ok and r == 0:
                refused[tool] = run  # refused or failed: say so once, do not retry
                continue
            runs[tool].append(run)
    shutil.rmtree(work, ignore_errors=True)
    out = {t: median_runs(rs) for t, rs in runs.items() if rs}
    out.update(refused)
    out["_weights"] = Run(True, 0.0, wbytes)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", default="pytorch,keras,ncnn,caffe", help="comma-separated targets (default: all)")
    p.add_argument("--models", default="tiny_mlp,resnet18,alexnet,vgg11_bn", help="zoo models, growing size")
    p.add_argument("--stress", default="1000,5000,10000", help="node counts of generated graphs ('' for none)")
    p.add_argument("--anchors", default="pnnx,onnx2torch", help="anchors to run beside ('' for none)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--smoke", action="store_true", help="tiny_mlp and a 200-node graph, one run each")
    args = p.parse_args()
    if args.smoke:
        args.models, args.stress, args.repeats = "tiny_mlp", "100,200", 1
    targets = available_targets([t for t in args.targets.split(",") if t])
    anchors = [a for a in args.anchors.split(",") if a]
    if "pnnx" in anchors and not (BIN / "pnnx").exists():
        print(f"note: pnnx is not installed in {BIN}; skipped")
        anchors.remove("pnnx")
    tools = ["floor", *targets, *anchors]
    work = BENCH_CACHE / "work"
    print(machine_line())
    print(f"medians of {args.repeats} runs per tool, tools interleaved run by run; RSS = max over runs")

    cases: list[tuple[str, Path]] = [(m, filled_model(m)) for m in args.models.split(",") if m]
    stress_sizes = [int(n) for n in args.stress.split(",") if n]
    cases += [(f"stress{n}", make_stress(n, BENCH_CACHE / "stress" / f"stress{n}.onnx")) for n in stress_sizes]

    results: dict[str, dict[str, Run]] = {}
    rows = []
    for label, model in cases:
        res = bench_model(label, model, tools, args.repeats, work)
        results[label] = res
        wb = res["_weights"].rss
        floor = res.get("floor")
        for tool in tools:
            run = res.get(tool)
            if run is None or tool == "floor":
                continue
            if not run.ok:
                rows.append([label, tool, "-", "-", "-", "-", "-", f"skipped: {run.why}"])
                continue
            vs_floor = f"{run.wall / floor.wall:.1f}x" if floor and floor.ok and floor.wall > 0 else "-"
            pn = res.get("pnnx")
            vs_pnnx = f"{pn.wall / run.wall:.2f}x" if tool in targets and pn and pn.ok else "-"
            rss_ok = run.rss <= 1.3 * wb + RSS_SLACK
            rows.append([
                label, tool, f"{run.wall:.2f} s", mb(run.rss), mb(wb), vs_floor, vs_pnnx,
                verdict(rss_ok) if tool in targets else "",
            ])
        if floor is not None and floor.ok:
            rows.append([label, "I/O floor", f"{floor.wall:.2f} s", mb(floor.rss), mb(wb), "1.0x", "-", ""])
    print_table(
        "conversion: wall time (median) and peak RSS; 'pnnx/this' > 1 means faster than pnnx",
        ["model", "tool", "time", "peak RSS", "weights", "vs floor", "pnnx/this", "RSS bar"],
        rows,
    )

    bars = []
    for target in targets:
        for label, need in PNNX_FASTER.items():
            res = results.get(label, {})
            ours, pn = res.get(target), res.get("pnnx")
            if ours and pn and ours.ok and pn.ok:
                ratio = pn.wall / ours.wall
                bars.append([target, f"{label}: pnnx time / ours >= {need:g}", f"{ratio:.2f}", verdict(ratio >= need)])
        for label, factor in FLOOR_FACTOR.items():
            res = results.get(label, {})
            ours, floor = res.get(target), res.get("floor")
            if ours and floor and ours.ok and floor.ok:
                ratio = ours.wall / floor.wall
                bars.append([target, f"{label}: time / I/O floor <= {factor:g}", f"{ratio:.2f}",
                             verdict(ratio <= factor)])
        for label, res in results.items():
            ours = res.get(target)
            if ours and ours.ok:
                wb = res["_weights"].rss
                bars.append([target, f"{label}: peak RSS <= 1.3 x weights + 200 MB",
                             f"{mb(ours.rss)} <= {mb(1.3 * wb + RSS_SLACK)}", verdict(ours.rss <= 1.3 * wb + RSS_SLACK)])
        if stress_sizes:
            lo, hi = min(stress_sizes), max(stress_sizes)
            a, b = results.get(f"stress{lo}", {}).get(target), results.get(f"stress{hi}", {}).get(target)
            if a and b and a.ok and b.ok and lo != hi:
                limit = 1.2 * hi / lo  # the bar: 10k nodes <= 12 x the time of 1k nodes
                ratio = b.wall / a.wall
                bars.append([target, f"stress{hi} time / stress{lo} time <= {limit:g}", f"{ratio:.2f}",
                             verdict(ratio <= limit)])
    print_table("bars", ["target", "bar", "measured", "verdict"], bars)
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
