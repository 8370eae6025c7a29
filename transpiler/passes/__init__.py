"""IR -> IR rewrites. Each pass is a function `pass(graph) -> int` (how much it changed)."""

from __future__ import annotations

from collections.abc import Callable

from .. import ir
from .dce import eliminate_dead_code
from .fold import fold_constants

__all__ = ["DEFAULT_PIPELINE", "Pass", "eliminate_dead_code", "fold_constants", "run_passes"]

Pass = Callable[[ir.Graph], int]

DEFAULT_PIPELINE: tuple[Pass, ...] = (fold_constants, eliminate_dead_code)


def run_passes(graph: ir.Graph, passes: tuple[Pass, ...] = DEFAULT_PIPELINE) -> ir.Graph:
    for p in passes:
        p(graph)
    return graph
