"""The Caffe target: a readable .prototxt (rendered from templates/caffe_prototxt), the weights as
a binary .caffemodel (BVLC caffe.proto field numbers), and a .io.json naming the net's inputs and
outputs. Verified through OpenCV's Caffe reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ... import ir
from ...atomic import OutputFile, text_file
from ...frontends.onnx import ModelInfo
from ...passes import eliminate_dead_code, fold_constants
from ...passes.fuse import fuse_gelu
from ..base import BuildOptions
from .caffemodel import write_caffemodel
from .lower import lower
from .ops import TABLE
from .prototxt import render_prototxt
from .runner import io_path
from .shapes import infer_static_shapes


class CaffeTarget:
    name = "caffe"
    table = TABLE
    default_suffix = ".prototxt"
    option_keys: frozenset[str] = frozenset()
    # the erf chain exporters write for GELU becomes one Gelu layer; shapes left open before
    # constant folding are inferred again (Caffe needs every blob's shape)
    passes = (fuse_gelu, infer_static_shapes)

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        onnx_shapes = {id(v): list(v.shape or ()) for v in [*graph.inputs, *graph.outputs]}
        notes = _bind_symbolic_dims(graph)
        net = lower(graph, self.table)
        net_name = options.class_name or graph.name or Path(info.file_name).stem
        prototxt = render_prototxt(net_name, info, net.layers, notes)
        io = {
            "inputs": [_io_entry(v, net.blobs[id(v)], onnx_shapes[id(v)]) for v in graph.inputs],
            "outputs": [_io_entry(v, net.blobs[id(v)], onnx_shapes[id(v)]) for v in graph.outputs],
        }
        layers = net.layers
        return [
            text_file(out, prototxt),
            OutputFile(out.with_suffix(".caffemodel"), lambda f: write_caffemodel(f, net_name, layers)),
            text_file(io_path(out), _io_json(io)),
        ]

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        from .runner import run_caffe

        return run_caffe(out, inputs)


def _bind_symbolic_dims(graph: ir.Graph) -> list[str]:
    """A Caffe net has fixed input shapes: symbolic (or unknown) input dims become 1, and the
    shapes, Shape arithmetic and constants downstream are worked out again. Returns a note per
    bound dim for the prototxt header."""
    notes = []
    for v in graph.inputs:
        if v.shape is None or v.static_shape is not None:
            continue
        for k, d in enumerate(v.shape):
            if not isinstance(d, int):
                notes.append(f"input {v.name!r} dim {k} ({d!r}) is fixed to 1")
        v.shape = tuple(d if isinstance(d, int) else 1 for d in v.shape)
    if notes:
        for _ in range(16):  # each round sizes what the last one folded
            if not infer_static_shapes(graph) + fold_constants(graph):
                break
        eliminate_dead_code(graph)
    return notes


def _io_json(io: dict[str, list[dict[str, Any]]]) -> str:
    """One line per input/output: easy to read and to diff."""
    parts = []
    for key in ("inputs", "outputs"):
        rows = ",\n".join("    " + json.dumps(entry, ensure_ascii=False) for entry in io[key])
        parts.append(f'  "{key}": [\n{rows}\n  ]' if rows else f'  "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _io_entry(v: ir.Value, name: str | None, onnx_shape: list[Any]) -> dict[str, Any]:
    static = v.static_shape
    return {"onnx_name": v.name, "name": name, "onnx_shape": onnx_shape, "shape": list(static) if static else onnx_shape}


TARGET = CaffeTarget()
