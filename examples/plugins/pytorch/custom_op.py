"""CustomOp, converted from custom_op.onnx (sha256 52a3f90a310aac7a8da68f7bd2234cd0d5ae35734e7270829991f25c6bff790b, opset 17) by transpiler 0.1.0."""

import os
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


class CustomOp(nn.Module):
    """Converted from custom_op.onnx.

    Input input: float [2, 4]
    Output output: float [2, 3]
    """

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = 1.7159 * torch.tanh(0.6666667 * self.fc1(input))
        return self.fc2(x)


def load_model(weights: str | os.PathLike | None = None) -> CustomOp:
    """Build CustomOp with the weights beside this file (or from `weights`), in eval mode."""
    model = CustomOp()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    model.load_state_dict(load_file(os.fspath(path)), strict=True)
    return model.eval()
