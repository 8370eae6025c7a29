"""Errors the user sees as one line (and, for unsupported ops, one line per refused node)."""

from __future__ import annotations

from dataclasses import dataclass


class TranspileError(Exception):
    """An error with a message fit to show the user as is (no traceback)."""


class OutputNotWritten(TranspileError, OSError):
    """An output file could not be written (no space, a file where a folder should be, ...).
    Also an OSError, which is what it wraps."""


class InvalidModel(TranspileError):
    """The input file is not a model we can read, or the model is malformed."""


@dataclass
class Refusal:
    op_type: str
    node_name: str
    reason: str
    domain: str = ""

    def __str__(self) -> str:
        op = f"{self.domain}::{self.op_type}" if self.domain not in ("", "ai.onnx") else self.op_type
        return f"{op} (node {self.node_name!r}): {self.reason}"


class UnsupportedOp(TranspileError):
    """Raised by a lowering that cannot convert a node exactly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedModel(TranspileError):
    """Every node the target refused, collected before anything is written."""

    def __init__(self, target: str, refusals: list[Refusal]) -> None:
        self.target = target
        self.refusals = refusals
        lines = [f"{len(refusals)} node(s) cannot be converted to {target}:"]
        lines += [f"  {r}" for r in refusals]
        super().__init__("\n".join(lines))
