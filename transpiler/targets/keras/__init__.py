"""The Keras target: a Keras 3 functional model in readable source (channels-last inside),
weights in safetensors beside it. Conversion only generates code: it never imports keras."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import ir
from ...atomic import OutputFile, text_file
from ...errors import TranspileError
from ...frontends.onnx import ModelInfo
from ...passes.fuse import fuse_gelu, fuse_linear
from ...verify import ATOL, RTOL
from ...weights import write_safetensors
from ..base import BuildOptions
from .codegen import Codegen, render_plan
from .ops import TABLE

LAYOUTS = ("keras", "onnx")


class KerasTarget:
    name = "keras"
    table = TABLE
    default_suffix = ".py"
    option_keys: frozenset[str] = frozenset({"keras_layout"})
    # re-fusions into ops Keras has layers for (Gelu -> ops.gelu, MatMul + Add -> Dense)
    passes = (fuse_gelu, fuse_linear)

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        layout = options.extra.get("keras_layout") or "keras"
        if layout not in LAYOUTS:
            raise TranspileError(f"--keras-layout {layout!r}: choose from {', '.join(LAYOUTS)}")
        plan = Codegen(graph, info, self.table, layout).plan()
        source = render_plan(plan)
        state = plan.state
        return [
            text_file(out, source),
            OutputFile(out.with_suffix(".safetensors"), lambda f: write_safetensors(f, state)),
        ]

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        from .runner import run_generated

        return run_generated(out, inputs)

    def tolerance(self, options: BuildOptions) -> tuple[float, float]:
        return RTOL, ATOL


TARGET = KerasTarget()
