"""The PyTorch target: one `nn.Module` subclass in readable source, weights in safetensors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import ir
from ...atomic import OutputFile, text_file
from ...frontends.onnx import ModelInfo
from ...passes.fuse import fuse_gelu, fuse_linear
from ...weights import write_safetensors
from ..base import BuildOptions
from .codegen import Codegen, render_plan
from .ops import TABLE


class PyTorchTarget:
    name = "pytorch"
    table = TABLE
    default_suffix = ".py"
    option_keys: frozenset[str] = frozenset()
    # IR rewrites this target wants on top of the default pipeline (re-fusions into ops it has
    # readable layers for).
    passes = (fuse_gelu, fuse_linear)

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        plan = Codegen(graph, info, self.table, options.class_name).plan()
        source = render_plan(plan)
        state = plan.state
        weights = out.with_suffix(".safetensors")
        return [
            text_file(out, source),
            OutputFile(weights, lambda f: write_safetensors(f, state)),
        ]

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        from .runner import run_generated

        return run_generated(out, inputs)


TARGET = PyTorchTarget()
