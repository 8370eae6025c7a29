"""The command line:

    transpile MODEL --to TARGET -o OUT [--check] ...   convert (MODEL: .onnx, or .ir.json from --to ir)
    transpile inspect MODEL [--json]                   what is inside, and what each target refuses
    transpile ops [--to TARGET] [--markdown]           the support matrix, from the op tables

Exit status: 0 fine, 1 --check mismatch, 2 bad input, 3 unsupported ops (all listed), 70 a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from . import __version__, targets
from .errors import TranspileError, UnsupportedModel

SUBCOMMANDS = ("inspect", "ops")


def _add_fix_options(p: argparse.ArgumentParser) -> None:
    """Options that change what is converted (shared by convert and inspect)."""
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=D0,D1,...",
        help="pin an input's shape (symbolic dims become these sizes) before shape inference; repeatable",
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="a Python file registering lowerings (custom ops) on the op tables; repeatable "
        "(installed plugins in the entry-point group 'transpiler.plugins' load by themselves)",
    )
    p.add_argument(
        "--override",
        metavar="FIX.json",
        help="per-node fixes keyed by ONNX node name: attributes, input constants, lower_as (see README)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile",
        description="Turn an ONNX model into readable source code for another framework, weights beside it. "
        "Also: 'transpile inspect MODEL' (what converts where) and 'transpile ops' (the support matrix).",
        epilog="example: transpile model.onnx --to pytorch -o out/net.py --check",
    )
    p.add_argument("model", help="the ONNX model file (.onnx; external data beside it is read), or a .ir.json")
    p.add_argument("--to", required=True, choices=targets.names(), help="the target framework ('ir': the canonical IR as JSON)")
    p.add_argument("-o", "--output", required=True, help="the file to write, e.g. out/net.py (weights go beside it)")
    p.add_argument(
        "--check",
        action="store_true",
        help="run onnxruntime and the generated code on seeded random inputs, print the max abs/rel "
        "difference per output, exit 1 beyond rtol=1e-3, atol=1e-4 (ncnn --fp16: rtol=1e-2, atol=1e-4 + "
        "1e-2 of each output's largest value; the tolerance used is printed)",
    )
    p.add_argument("--class-name", help="name of the generated class (default: from the model file name)")
    _add_fix_options(p)
    v = p.add_mutually_exclusive_group()
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    v.add_argument("-v", "--verbose", action="store_true", help="print each stage with its time, and what was pinned or overridden")
    t = p.add_argument_group("target-specific options")
    t.add_argument(
        "--keras-layout",
        choices=["keras", "onnx"],
        help="keras: 'keras' (default) feeds and returns image-like tensors channels-last; "
        "'onnx' keeps every input and output in the ONNX layout",
    )
    t.add_argument("--fp16", action="store_true", default=None, help="ncnn: store weights as fp16 in net.bin")
    t.add_argument(
        "--ncnn-embed",
        action="store_true",
        default=None,
        help="ncnn: also write net.mem.h, which embeds param and weights in the C++ binary",
    )
    p.add_argument("--version", action="version", version=f"transpile {__version__}")
    return p


def build_inspect_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile inspect",
        description="Show a model's inputs/outputs, opset, parameter count and op histogram, and for each "
        "target which nodes it would refuse and why (the real pipeline runs; nothing is written).",
    )
    p.add_argument("model", help="the ONNX model file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--to", action="append", choices=targets.names(), help="only these targets (repeatable)")
    _add_fix_options(p)
    return p


def build_ops_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile ops",
        description="The ops each target lowers directly, read from its op table.",
        epilog="docs/ops.md is `transpile ops --markdown > docs/ops.md`",
    )
    p.add_argument("--to", choices=targets.names(), help="list one target's ops")
    p.add_argument("--markdown", action="store_true", help="a Markdown table (docs/ops.md)")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE.py", help="load a plugin first; repeatable")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands: dict[str, Callable[[list[str]], int]] = {"inspect": _inspect, "ops": _ops}
    if argv and argv[0] in SUBCOMMANDS:
        return _guarded(lambda: commands[argv[0]](argv[1:]))
    args = build_parser().parse_args(argv)
    return _guarded(lambda: _convert(args))


def _guarded(run: Callable[[], int]) -> int:
    """Every failure is one line on stderr and an exit status."""
    try:
        return run()
    except UnsupportedModel as e:
        print(f"transpile: error: {e}", file=sys.stderr)
        return 3
    except TranspileError as e:
        print(f"transpile: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("transpile: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as e:  # a bug of ours: still one line, with what to report
        print(f"transpile: internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}", file=sys.stderr)
        return 70


def _input_shapes(items: list[str]) -> dict[str, list[int]]:
    from .overrides import parse_input_shape

    shapes: dict[str, list[int]] = {}
    for text in items:
        name, dims = parse_input_shape(text)
        if name in shapes:
            raise TranspileError(f"--input-shape {name}: given twice")
        shapes[name] = dims
    return shapes


def _convert(args: argparse.Namespace) -> int:
    from .api import convert
    from .progress import Progress

    progress = Progress.for_cli(quiet=args.quiet, verbose=args.verbose)
    options = {"keras_layout": args.keras_layout, "fp16": args.fp16, "ncnn_embed": args.ncnn_embed}
    try:
        result = convert(
            args.model, to=args.to, out=args.output, check=args.check, class_name=args.class_name, options=options,
            input_shapes=_input_shapes(args.input_shape), overrides=args.override, plugins=args.plugin,
            progress=progress,
        )
    finally:
        progress.done()
    report = result.report
    if report is not None and not args.quiet:
        for w in report.warnings:
            print(f"transpile: warning: {w}", file=sys.stderr)
        if args.verbose:
            for n in report.notes:
                print(f"transpile: {n}", file=sys.stderr)
            print(f"transpile: {report.nodes} IR nodes, {report.timings.get('total', 0.0):.2f} s", file=sys.stderr)
    if not args.quiet:
        for path in result.paths:
            print(f"wrote {path}")
    if result.check is not None:
        if not args.quiet or not result.check.ok:
            print(f"check against onnxruntime ({result.check.tolerance_text()}):")
            for line in result.check.lines():
                print(line)
        if not result.check.ok:
            print("transpile: error: the generated model does not match onnxruntime", file=sys.stderr)
            return 1
    return 0


def _inspect(argv: list[str]) -> int:
    from .report import inspect

    args = build_inspect_parser().parse_args(argv)
    result = inspect(
        args.model, args.to, input_shapes=_input_shapes(args.input_shape), overrides=args.override,
        plugins=args.plugin,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.text())
    return 0


def _ops(argv: list[str]) -> int:
    from .plugins import load_plugins
    from .report import support_matrix

    args = build_ops_parser().parse_args(argv)
    load_plugins(args.plugin)
    matrix = support_matrix(args.to)
    if args.markdown:
        sys.stdout.write(matrix.markdown())
    elif args.to:
        if args.to in matrix.unavailable:
            raise TranspileError(f"target {args.to} is unavailable: {matrix.unavailable[args.to]}")
        print(matrix.target_text(args.to))
    else:
        print(matrix.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
