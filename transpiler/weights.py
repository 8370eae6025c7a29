"""Weight containers. safetensors is written here directly (its format is a JSON header plus raw
little-endian bytes), streaming one tensor at a time, so no second copy of the weights is made."""

from __future__ import annotations

import json
import mmap
import os
import secrets
import struct
import weakref
from typing import BinaryIO, NamedTuple

import numpy as np
import onnx

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
        write_array(f, tensors[name])


WRITE_CHUNK = 1 << 24  # bytes: the most a non-contiguous tensor is copied at once


def write_array(f: BinaryIO, arr: np.ndarray) -> None:
    """Write `arr`'s elements in C order, little-endian, without a full copy of it: a contiguous
    array (or a memory map) is written from its own buffer, a strided view (a transposed weight)
    in row blocks of at most WRITE_CHUNK bytes."""
    swap = arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian)
    if arr.ndim == 0 or arr.flags.c_contiguous:
        blocks = [arr]
    else:
        row = max(arr[:1].nbytes, 1)
        step = max(1, WRITE_CHUNK // row)
        blocks = (arr[i : i + step] for i in range(0, arr.shape[0], step))
    for block in blocks:
        block = np.ascontiguousarray(block)
        if swap:
            block = block.byteswap()
        f.write(block.reshape(-1).view(np.uint8).data)


# -- reading ONNX weights without copying them -----------------------------------------------
#
# Parsing an .onnx with protobuf copies every weight into the message (and reading the file
# first holds a third copy); every access to `TensorProto.raw_data` copies it again. For a model
# with GBs of weights that is what sets the peak memory. `split_onnx` reads the protobuf wire
# format instead: it returns the model's bytes with the large initializers' `raw_data` cut out
# (a few KB to parse) and those initializers as read-only numpy views of a memory map of the
# file, so the weight bytes are read from the page cache when they are written out, never held
# twice. `map_external` does the same for a tensor stored in an external data file.
#
# Between the frontend's reading and the IR, such a tensor travels inside the ModelProto as a
# "mapped" tensor (`mark_mapped`): external data whose location is the absolute path of the file
# that holds its bytes, plus a marker key. It survives copies of the message, costs nothing to
# serialise, and `mapped_array` turns it back into the same read-only view. Only the frontend
# creates them, after validating the file's own external data (which may never be absolute).

# ONNX element type -> numpy dtype name, for the types whose raw_data is the numpy layout
# (little-endian, one element per item); packed 4-bit / 2-bit types are not in here.
_RAW_DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
    10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
    16: "bfloat16", 17: "float8_e4m3fn", 18: "float8_e4m3fnuz", 19: "float8_e5m2", 20: "float8_e5m2fnuz",
    24: "float8_e8m0fnu",
}
# protobuf field numbers (onnx.proto)
_MODEL_GRAPH, _GRAPH_INITIALIZER = 7, 5
_T_DIMS, _T_DATA_TYPE, _T_SEGMENT, _T_NAME, _T_RAW, _T_EXTERNAL, _T_LOCATION = 1, 2, 3, 8, 9, 13, 14
# external_data key marking a tensor `mark_mapped` wrote. Its value is drawn once per process, so
# a model file cannot pass its own external data off as already validated and mapped.
MAPPED_KEY = "transpiler.mapped"
_MAPPED_TOKEN = secrets.token_hex(16)
_FILE_KEY = "transpiler.file"


def raw_dtype(data_type: int) -> np.dtype | None:
    """The numpy dtype whose buffer layout is ONNX's raw_data for `data_type`, or None."""
    name = _RAW_DTYPES.get(data_type)
    if name is None or not np.little_endian:
        return None
    try:
        return np.dtype(name)
    except TypeError:  # bfloat16 / float8: numpy knows them once ml_dtypes is imported
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))


# One read-only map per file, shared by every view of it while any view lives (a second map of
# the same bytes would count them twice in the process's resident memory).
_MAPS: weakref.WeakValueDictionary[tuple[str, int, int, int, int], mmap.mmap] = weakref.WeakValueDictionary()


def _map_file(path: str | os.PathLike[str]) -> mmap.mmap | None:
    """A read-only map of the whole file (None when it is empty)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_size == 0:
            return None
        key = (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        buf = _MAPS.get(key)
        if buf is None:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            _MAPS[key] = buf
        return buf


class SplitModel(NamedTuple):
    light: bytes  # the model's bytes without the moved weights' raw_data
    arrays: dict[str, np.ndarray]  # initializer name -> read-only view of its bytes in the file
    offsets: dict[str, int]  # initializer name -> where its bytes start in the file


def split_onnx(path: str | os.PathLike[str], threshold: int = 1 << 16) -> SplitModel | None:
    """(model bytes without the big weights, {initializer name: read-only array view}, their
    offsets) for the .onnx at `path`; the main graph's initializers whose raw_data exceeds
    `threshold` bytes are moved out (their TensorProto keeps name, dims and type, no data).
    Returns None when the file is not plainly laid out (a repeated graph field, a duplicated
    initializer...): the caller then parses it the usual way, which also reports what is wrong."""
    buf = _map_file(path)
    if buf is None:
        return None
    view = memoryview(buf)
    arrays: dict[str, np.ndarray] = {}
    offsets: dict[str, int] = {}
    try:
        pieces = _split_model(view, buf, threshold, arrays, offsets)
    except _Irregular:
        return None
    finally:
        view.release()
    return SplitModel(b"".join(pieces), arrays, offsets)


def map_external(path: str | os.PathLike[str], offset: int, length: int | None, data_type: int,
                 dims: list[int]) -> np.ndarray | None:
    """A read-only view of one tensor's bytes in a file (memory-mapped), or None when its type has
    no plain raw layout or the sizes disagree (the caller then reads it the usual way)."""
    dtype = raw_dtype(data_type)
    if dtype is None:
        return None
    count = 1
    for d in dims:
        count *= int(d)
    nbytes = count * dtype.itemsize
    if (length is not None and length != nbytes) or offset < 0 or count < 0 or offset + nbytes > os.path.getsize(path):
        return None
    shape = tuple(int(d) for d in dims)
    if nbytes == 0:
        return np.zeros(shape, dtype)
    buf = _map_file(path)
    if buf is None or offset + nbytes > len(buf):
        return None
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset).reshape(shape)


def mark_mapped(t: onnx.TensorProto, path: str, offset: int, length: int) -> None:
    """Make `t` a mapped tensor: its bytes are `length` bytes at `offset` in the file at the
    absolute `path` (see the note above)."""
    entries = (("location", path), ("offset", str(offset)), ("length", str(length)),
               (_FILE_KEY, _file_identity(path)), (MAPPED_KEY, _MAPPED_TOKEN))
    t.ClearField("raw_data")
    del t.external_data[:]
    t.data_location = onnx.TensorProto.EXTERNAL
    for key, value in entries:
        t.external_data.add(key=key, value=value)


def _file_identity(path: str) -> str:
    """Which file, and which version of it: a file replaced or rewritten since is not read."""
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def is_mapped(t: onnx.TensorProto) -> bool:
    return t.data_location == onnx.TensorProto.EXTERNAL and any(
        e.key == MAPPED_KEY and e.value == _MAPPED_TOKEN for e in t.external_data
    )


def mapped_array(t: onnx.TensorProto) -> np.ndarray | None:
    """The read-only view of a mapped tensor's bytes; None when the file no longer holds them."""
    info = {e.key: e.value for e in t.external_data}
    try:
        if _file_identity(info["location"]) != info[_FILE_KEY]:
            return None
        return map_external(info["location"], int(info["offset"]), int(info["length"]), t.data_type, list(t.dims))
    except (KeyError, ValueError, OSError):
        return None


class _Irregular(Exception):
    """The wire format is not laid out the way `split_onnx` handles; parse normally instead."""


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(view) or shift > 63:
            raise _Irregular
        b = view[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(view: memoryview, start: int, end: int):  # type: ignore[no-untyped-def]
    """(field number, wire type, field start, key end, value start, value end) of each field in
    [start, end); for a length-delimited field the length varint lies between key end and value start."""
    pos = start
    while pos < end:
        key, vpos = _varint(view, pos)
        kend = vpos
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, vend = _varint(view, vpos)
        elif wire == 1:
            vend = vpos + 8
        elif wire == 5:
            vend = vpos + 4
        elif wire == 2:
            length, vpos = _varint(view, vpos)
            vend = vpos + length
        else:  # groups (3, 4) are not used by onnx.proto
            raise _Irregular
        if vend > end or number == 0:
            raise _Irregular
        yield number, wire, pos, kend, vpos, vend
        pos = vend


def _split_model(view: memoryview, buf: mmap.mmap, threshold: int, arrays: dict[str, np.ndarray],
                 offsets: dict[str, int]) -> list[bytes]:
    pieces: list[bytes] = []
    graphs = 0
    for number, wire, fstart, kend, vstart, vend in _fields(view, 0, len(view)):
        if number == _MODEL_GRAPH and wire == 2:
            graphs += 1
            if graphs > 1:
                raise _Irregular  # protobuf would merge them; leave that to protobuf
            body = _split_graph(view, buf, vstart, vend, threshold, arrays, offsets)
            pieces += [bytes(view[fstart:kend]), _encode_varint(len(body)), body]
        else:
            pieces.append(bytes(view[fstart:vend]))
    return pieces


def _split_graph(view: memoryview, buf: mmap.mmap, start: int, end: int, threshold: int,
                 arrays: dict[str, np.ndarray], offsets: dict[str, int]) -> bytes:
    out = bytearray()
    names: set[str] = set()
    for number, wire, fstart, kend, vstart, vend in _fields(view, start, end):
        if number == _GRAPH_INITIALIZER and wire == 2 and vend - vstart > threshold:  # (smaller: no big raw_data)
            moved = _split_tensor(view, buf, vstart, vend, threshold)
            if moved is not None:
                name, arr, offset, body = moved
                if name in names or name in arrays:
                    raise _Irregular
                names.add(name)
                arrays[name] = arr
                offsets[name] = offset
                out += view[fstart:kend]
                out += _encode_varint(len(body))
                out += body
                continue
        out += view[fstart:vend]
    return bytes(out)


def _split_tensor(view: memoryview, buf: mmap.mmap, start: int, end: int,
                  threshold: int) -> tuple[str, np.ndarray, int, bytes] | None:
    """(name, array view, its offset, tensor bytes without raw_data) when this initializer is moved out."""
    seen: dict[int, int] = {}
    dims: list[int] = []
    data_type, name, raw = 0, None, None
    for number, wire, _fstart, _kend, vstart, vend in _fields(view, start, end):
        seen[number] = seen.get(number, 0) + 1
        if number == _T_DIMS and wire == 0:
            dims.append(_varint(view, vstart)[0])
        elif number == _T_DIMS and wire == 2:  # packed
            pos = vstart
            while pos < vend:
                d, pos = _varint(view, pos)
                dims.append(d)
        elif number == _T_DATA_TYPE and wire == 0:
            data_type = _varint(view, vstart)[0]
        elif number == _T_NAME and wire == 2:
            try:
                name = bytes(view[vstart:vend]).decode("utf-8")
            except UnicodeDecodeError:
                return None
        elif number == _T_RAW and wire == 2:
            raw = (vstart, vend)
    if raw is None or name is None or raw[1] - raw[0] <= threshold:
        return None
    if any(seen.get(n, 0) > 1 for n in (_T_DATA_TYPE, _T_NAME, _T_RAW)) or any(
        n in seen for n in (_T_SEGMENT, _T_EXTERNAL, _T_LOCATION)
    ):
        return None  # unusual: leave the tensor to protobuf and the frontend's own checks
    dtype = raw_dtype(data_type)
    dims = [d if d < (1 << 63) else d - (1 << 64) for d in dims]  # int64 dims arrive as unsigned varints
    if dtype is None or any(d < 0 for d in dims):
        return None
    count = 1
    for d in dims:
        count *= d
    if count * dtype.itemsize != raw[1] - raw[0]:
        return None  # a size mismatch: the frontend reports it
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=raw[0]).reshape(dims)
    body = bytearray()
    for number, _wire, fstart, _kend, _vstart, vend in _fields(view, start, end):
        if number != _T_RAW:
            body += view[fstart:vend]
    return name, arr, raw[0], bytes(body)
