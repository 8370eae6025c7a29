"""The PyTorch target: one `nn.Module` subclass in readable source, weights in safetensors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import ir
from ...atomic import OutputFile, text_file
from ...frontends.onnx import ModelInfo
from ...passes.activations import fuse_hardswish, fuse_silu
from ...passes.attention import fuse_attention
from ...passes.flatten import fuse_flatten
from ...passes.layernorm import fuse_layer_norm
from ...passes.shuffle import fuse_channel_shuffle
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
    passes = (
        fuse_gelu, fuse_silu, fuse_hardswish, fuse_layer_norm, fuse_attention, fuse_flatten,
        fuse_channel_shuffle, fuse_linear,
    )

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
