"""TinyAttention, converted from tiny_attention.onnx (sha256 91f796b1fb1bad2df66f790183660cb774699445b2d121dfd23686dfbe96c6dc, opset 17) by transpiler 0.1.0."""

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class TinyAttention(nn.Module):
    """Converted from tiny_attention.onnx.

    Input input: float [1, 6, 16]
    Output output: float [1, 6, 16]
    """

    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(16)
        self.attn = nn.Module()
        self.attn.q = nn.Linear(16, 16)
        self.attn.k = nn.Linear(16, 16)
        self.attn.v = nn.Linear(16, 16)
        self.attn.proj = nn.Linear(16, 16)
        self.ln2 = nn.LayerNorm(16)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(16, 32)
        self.mlp.fc2 = nn.Linear(32, 16)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = self.ln1(input)
        out = self.attn.q(x).reshape(1, 6, 2, 8)
        out = out.transpose(1, 2)
        y = self.attn.k(x).reshape(1, 6, 2, 8)
        y = y.permute(0, 2, 3, 1)
        x = self.attn.v(x).reshape(1, 6, 2, 8)
        x = x.transpose(1, 2)
        out = out @ y
        out = out * 0.3535533845424652
        out = F.softmax(out, dim=-1)
        out = out @ x
        out = out.transpose(1, 2)
        out = out.reshape(1, 6, 16)
        x = input + self.attn.proj(out)
        y = self.ln2(x)
        out = self.mlp.fc1(y)
        out = F.gelu(out)
        return x + self.mlp.fc2(out)


def load_model(weights: str | os.PathLike | None = None) -> TinyAttention:
    """Build TinyAttention with the weights beside this file (or from `weights`), in eval mode."""
    model = TinyAttention()
    path = Path(weights) if weights is not None else Path(__file__).with_suffix(".safetensors")
    model.load_state_dict(load_file(os.fspath(path)), strict=True)
    return model.eval()
