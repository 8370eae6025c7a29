"""transpiler: trained models (ONNX) to readable source code for PyTorch and other frameworks."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import ConvertResult, Report, convert  # noqa: E402
from .report import Inspection, inspect  # noqa: E402

__all__ = ["ConvertResult", "Inspection", "Report", "convert", "inspect", "__version__"]
