"""SmallCnn, converted from small_cnn.onnx (sha256 79822af1c471c9c023a33765de60be984c10f2bfaa88dddff2fa1917b531cd26, opset 17) by transpiler 0.1.0."""

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class SmallCnn(nn.Module):
    """Converted from small_cnn.onnx.

    Input input: float [1, 3, 16, 16]
    Output logits: float [1, 10]
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Module()
        self.features.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.features.bn1 = nn.BatchNorm2d(8)
        self.features.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.features.bn2 = nn.BatchNorm2d(16)
        self.classifier = nn.Linear(16, 10)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = self.features.conv1(input)
        x = self.features.bn1(out)
        x = F.relu(x)
        x = F.max_pool2d(x, 2, stride=2)
        out = self.features.conv2(x)
        x = self.features.bn2(out)
        x = F.relu(x)
        x = torch.mean(x, dim=(2, 3), keepdim=True)
        x = x.flatten(1)
        return self.classifier(x)


def load_model(weights: str | os.PathLike | None = None) -> SmallCnn:
    """Build SmallCnn with the weights beside this file (or from `weights`), in eval mode."""
    model = SmallCnn()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    model.load_state_dict(load_file(os.fspath(path)), strict=True)
    return model.eval()
