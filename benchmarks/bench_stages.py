"""Where a conversion spends its time and memory: the stages of `transpiler.convert` run one by
one in this process (read, to IR, passes, target build, write), with wall time, resident memory
after each stage and the peak so far. `--profile N` adds cProfile's N most expensive functions
(by own time), which is what the optimisation notes in the report come from.

    python benchmarks/bench_stages.py vgg11_bn                    # a zoo model by name
    python benchmarks/bench_stages.py path/to/model.onnx --to ncnn --profile 25
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import filled_model, machine_line, mb, print_table, weight_bytes  # noqa: E402


def rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stages(model: Path, to: str, out: Path) -> list[list[str]]:
    from transpiler import targets
    from transpiler.atomic import write_all
    from transpiler.frontends.onnx import read_model, to_ir
    from transpiler.passes import eliminate_dead_code, run_passes
    from transpiler.targets.base import BuildOptions

    target = targets.get(to)
    rows: list[list[str]] = []
    state: dict[str, object] = {}

    def step(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        fn()
        rows.append([name, f"{time.perf_counter() - t0:.3f} s", mb(rss_now()), mb(rss_peak())])

    rows.append(["(start, imports done)", "-", mb(rss_now()), mb(rss_peak())])
    step("read_model", lambda: state.update(zip(("proto", "info"), read_model(model))))
    step("to_ir", lambda: state.update(graph=to_ir(state["proto"], keep=lambda d, o: (d, o) in target.table)))
    step("default passes", lambda: run_passes(state["graph"]))
    step("target passes + dce",
         lambda: run_passes(state["graph"], (*getattr(target, "passes", ()), eliminate_dead_code)))
    step("target.build", lambda: state.update(files=target.build(state["graph"], state["info"], out, BuildOptions())))
    step("write_all", lambda: write_all(state["files"]))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a zoo model name or an .onnx path")
    p.add_argument("--to", default="pytorch")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's top N functions")
    p.add_argument("--profile-out", metavar="FILE", help="also save the raw cProfile stats (for pstats / snakeviz)")
    args = p.parse_args()
    path = Path(args.model) if args.model.endswith(".onnx") else filled_model(args.model)
    import transpiler.api  # noqa: F401  (imports are not a stage)

    print(machine_line())
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "net.py"
        prof = cProfile.Profile() if args.profile else None
        if prof:
            prof.enable()
        rows = stages(path, args.to, out)
        if prof:
            prof.disable()
    print_table(
        f"stages of converting {path.name} to {args.to} (weights {mb(weight_bytes(path))})",
        ["stage", "time", "RSS after", "peak RSS so far"], rows,
    )
    if prof and args.profile_out:
        prof.dump_stats(args.profile_out)
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.profile)
        print("\n" + "\n".join(line for line in buf.getvalue().splitlines() if line.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
