"""TinyMlp, converted from tiny_mlp.onnx (sha256 ef560417571ee6d98ec37ab930da6b27ca2eefd0f97d4203fe62b7edbc9be7f5, opset 17) by transpiler 0.1.0."""

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class TinyMlp(nn.Module):
    """Converted from tiny_mlp.onnx.

    Input input: float [1, 64]
    Output probs: float [1, 10]
    """

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(input))
        x = F.gelu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=-1)


def load_model(weights: str | os.PathLike | None = None) -> TinyMlp:
    """Build TinyMlp with the weights beside this file (or from `weights`), in eval mode."""
    model = TinyMlp()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    model.load_state_dict(load_file(os.fspath(path)), strict=True)
    return model.eval()
