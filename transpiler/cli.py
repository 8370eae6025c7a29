"""`transpile MODEL --to TARGET -o OUT [--check]`."""

from __future__ import annotations

import argparse
import sys

from . import __version__, targets
from .errors import TranspileError, UnsupportedModel


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transpile",
        description="Turn an ONNX model into readable source code for another framework, weights beside it.",
        epilog="example: transpile model.onnx --to pytorch -o out/net.py --check",
    )
    p.add_argument("model", help="the ONNX model file (.onnx; external data beside it is read)")
    p.add_argument("--to", required=True, choices=targets.names(), help="the target framework")
    p.add_argument("-o", "--output", required=True, help="the file to write, e.g. out/net.py (weights go beside it)")
    p.add_argument(
        "--check",
        action="store_true",
        help="run onnxruntime and the generated code on seeded random inputs, print the max abs/rel "
        "difference per output, exit 1 beyond rtol=1e-3, atol=1e-4",
    )
    p.add_argument("--class-name", help="name of the generated class (default: from the model file name)")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .api import convert

    try:
        options = {"keras_layout": args.keras_layout, "fp16": args.fp16, "ncnn_embed": args.ncnn_embed}
        result = convert(
            args.model, to=args.to, out=args.output, check=args.check, class_name=args.class_name, options=options
        )
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
    for path in result.paths:
        print(f"wrote {path}")
    if result.check is not None:
        print(f"check against onnxruntime (rtol={result.check.rtol:g}, atol={result.check.atol:g}):")
        for line in result.check.lines():
            print(line)
        if not result.check.ok:
            print("transpile: error: the generated model does not match onnxruntime", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
