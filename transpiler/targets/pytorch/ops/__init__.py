"""The PyTorch op table. Each module registers the lowerings of one family of ops."""

from __future__ import annotations

from ...base import OpTable

TABLE = OpTable("pytorch")

# Imported for their registrations (each adds its lowerings to TABLE).
from . import elementwise, nn, tensor  # noqa: E402,F401
