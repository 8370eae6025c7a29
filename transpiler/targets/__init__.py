"""The registry of targets, by the name the CLI uses."""

from __future__ import annotations

from importlib import import_module

from .base import Target

_TARGETS = {
    "pytorch": "transpiler.targets.pytorch",
    "keras": "transpiler.targets.keras",
    "ncnn": "transpiler.targets.ncnn",
    "caffe": "transpiler.targets.caffe",
    "ir": "transpiler.targets.ir",
}


def names() -> list[str]:
    return sorted(_TARGETS)


def get(name: str) -> Target:
    module = import_module(_TARGETS[name])
    return module.TARGET
