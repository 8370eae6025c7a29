"""Weight containers. safetensors is written here directly (its format is a JSON header plus raw
little-endian bytes), streaming one tensor at a time, so no second copy of the weights is made."""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

import numpy as np

# numpy dtype name -> safetensors dtype tag
SAFETENSORS_DTYPES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
    "uint64": "U64", "uint32": "U32", "uint16": "U16", "uint8": "U8", "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}


def safetensors_supports(arr: np.ndarray) -> bool:
    return arr.dtype.name in SAFETENSORS_DTYPES


def write_safetensors(f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write `tensors` (sorted by name, so the bytes are deterministic) in safetensors format."""
    header: dict[str, object] = {}
    offset = 0
    names = sorted(tensors)
    for name in names:
        arr = tensors[name]
        tag = SAFETENSORS_DTYPES.get(arr.dtype.name)
        if tag is None:
            raise ValueError(f"tensor {name!r}: dtype {arr.dtype} cannot be stored in safetensors")
        nbytes = arr.size * arr.dtype.itemsize
        header[name] = {"dtype": tag, "shape": list(arr.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    blob = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # align the data section to 8 bytes
    f.write(struct.pack("<Q", len(blob)))
    f.write(blob)
    for name in names:
        arr = tensors[name]
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
            arr = arr.byteswap()
        f.write(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
