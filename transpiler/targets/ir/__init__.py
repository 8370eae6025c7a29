"""`--to ir`: the canonical IR (after the frontend and the default passes) as readable,
deterministic JSON with the weights beside it in safetensors. `transpile model.ir.json --to X`
reads it back (see `frontends/ir_json.py` for the format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ... import ir
from ...atomic import OutputFile, text_file
from ...errors import TranspileError
from ...frontends.ir_json import dump_ir
from ...frontends.onnx import ModelInfo
from ...weights import safetensors_supports, write_safetensors
from ..base import BuildOptions, OpTable


class _EveryOp(OpTable):
    """The IR keeps every op as the model has it: nothing is refused and nothing is expanded."""

    def __contains__(self, key: tuple[str, str]) -> bool:
        return True


class IrTarget:
    name = "ir"
    table = _EveryOp("ir")
    default_suffix = ".ir.json"
    option_keys: frozenset[str] = frozenset()
    # an interchange format, not a framework: `inspect` and `ops` leave it out
    interchange = True

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        weights_path = weights_path_for(out)
        text, tensors = dump_ir(graph, info, weights_path.name)
        stored = {k: v if safetensors_supports(v) else np.ascontiguousarray(v).reshape(-1).view(np.uint8)
                  for k, v in tensors.items()}
        return [text_file(out, text), OutputFile(weights_path, lambda f: write_safetensors(f, stored))]

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        raise TranspileError("--check: the IR is not runnable by itself; convert the .ir.json to a target and check that")


def weights_path_for(out: Path) -> Path:
    """model.ir.json -> model.ir.safetensors (model.json -> model.safetensors)."""
    return Path(out).with_suffix(".safetensors")


TARGET = IrTarget()
