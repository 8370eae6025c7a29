"""The ncnn target: `net.param` / `net.bin` in ncnn's own format, a small C++ class around
`ncnn::Net` (net.h / net.cpp, optionally net.mem.h with everything embedded), a CMake project with
a `main.cpp`, and `net.io.json` describing how ONNX arrays map to ncnn blobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ... import ir
from ...atomic import OutputFile, text_file
from ...frontends.onnx import ModelInfo
from ...passes.fuse import fuse_gelu, fuse_linear
from ..base import BuildOptions
from .builder import Builder, Lowered
from .cpp import cpp_files
from .fuse import fuse_activations, insert_splits, remove_dead
from .net import param_text, write_bin
from .ops import TABLE
from .rewrite import split_big_tensors

# fp16 weight storage rounds each weight to 11 significant bits (relative error <= 2^-11 ~ 4.9e-4
# per weight). Accumulated through a deep network the error is measured at 0.5-3e-3 of each
# output's largest |value| on the zoo, which a fixed atol cannot express for near-zero elements of
# a large-valued output: --check --fp16 allows 1e-2 relative plus 1e-2 of the output's peak.
FP16_RTOL, FP16_ATOL, FP16_ATOL_OF_PEAK = 1e-2, 1e-4, 1e-2


class NcnnTarget:
    name = "ncnn"
    table = TABLE
    default_suffix = ".param"
    option_keys: frozenset[str] = frozenset({"fp16", "ncnn_embed"})
    passes = (fuse_gelu, fuse_linear, split_big_tensors)

    def lower(self, graph: ir.Graph) -> Lowered:
        builder = Builder(graph, self.table)
        lowered = builder.lower()
        keep = {o.name for o in lowered.outputs}
        net = lowered.net
        remove_dead(net, keep)
        fuse_activations(net, keep)
        names = builder._blob_names  # Split blobs / layers take names nothing else uses

        def fresh(hint: str) -> str:
            return names.fresh(hint, fallback="split")

        extract = insert_splits(net, fresh, [o.name for o in lowered.outputs])
        for entry, blob in zip(lowered.outputs, extract):
            entry.name = blob
        return lowered

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        fp16 = bool(options.extra.get("fp16"))
        embed = bool(options.extra.get("ncnn_embed"))
        lowered = self.lower(graph)
        net = lowered.net
        param = param_text(net)
        out = Path(out)
        io = {
            "inputs": [_io_entry(e) for e in lowered.inputs],
            "outputs": [_io_entry(e) for e in lowered.outputs],
        }
        files = [
            text_file(out, param),
            OutputFile(out.with_suffix(".bin"), lambda f: write_bin(f, net, fp16)),
            text_file(out.with_suffix(".io.json"), json.dumps(io, indent=1) + "\n"),
        ]
        files += cpp_files(lowered, info, out, options.class_name, param, fp16, embed)
        return files

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        from .runner import run_ncnn

        return run_ncnn(Path(out), inputs)

    def tolerance(self, options: BuildOptions) -> tuple[float, ...]:
        from ...verify import ATOL, RTOL

        return (FP16_RTOL, FP16_ATOL, FP16_ATOL_OF_PEAK) if options.extra.get("fp16") else (RTOL, ATOL)


def _io_entry(e) -> dict:
    return {
        "onnx_name": e.onnx_name, "name": e.name, "onnx_shape": e.onnx_shape, "shape": e.shape, "dtype": e.dtype,
    }


TARGET = NcnnTarget()
