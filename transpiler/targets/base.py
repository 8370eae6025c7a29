"""What every target provides: an op table (IR op -> lowering) and a way to build output files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import ir
from ..atomic import OutputFile
from ..frontends.onnx import ModelInfo

Lowering = Callable[..., Any]


class OpTable:
    """(domain, op_type) -> lowering function. Lowerings register with `@table.op("Relu", ...)`."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._ops: dict[tuple[str, str], Lowering] = {}

    def op(self, *op_types: str, domain: str = "") -> Callable[[Lowering], Lowering]:
        def deco(fn: Lowering) -> Lowering:
            for op_type in op_types:
                self._ops[(domain, op_type)] = fn
            return fn

        return deco

    def get(self, domain: str, op_type: str) -> Lowering | None:
        return self._ops.get((domain, op_type))

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._ops

    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._ops)


@dataclass
class BuildOptions:
    class_name: str | None = None
    # target-specific options by key (e.g. "keras_layout", "fp16", "ncnn_embed"); each target
    # reads only its own keys, and `api.convert` refuses keys the target does not declare
    extra: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    name: str
    table: OpTable
    # the target-specific option keys it accepts in BuildOptions.extra
    option_keys: frozenset[str]

    def build(self, graph: ir.Graph, info: ModelInfo, out: Path, options: BuildOptions) -> list[OutputFile]:
        """Lower the graph and return the files to write (nothing is written here).
        Raises UnsupportedModel listing every refused node."""
        ...

    def run(self, out: Path, inputs: list[Any]) -> list[Any]:
        """Run the written artifact on numpy inputs in ONNX layout and order; return numpy
        outputs in ONNX layout and order (for --check and the tests)."""
        ...

    def tolerance(self, options: BuildOptions) -> tuple[float, ...]:
        """(rtol, atol) or (rtol, atol, atol_of_peak) that --check applies for these options
        (e.g. wider for fp16 storage; atol_of_peak is explained in `verify.compare`)."""
        ...
