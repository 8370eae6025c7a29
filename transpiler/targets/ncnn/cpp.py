"""The C++ side of the ncnn target: net.h / net.cpp (a class around ncnn::Net with blob and
layer index constants as ncnn2mem makes them), main.cpp, CMakeLists.txt and, with --ncnn-embed,
net.mem.h holding the param text and the weights as byte arrays. Templates in templates/ncnn_cpp/."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ... import __version__
from ...atomic import OutputFile, text_file
from ...frontends.onnx import ModelInfo
from ...names import Namespace, camel, clean
from ...render import render
from .builder import Lowered
from .net import write_bin

CPP_RESERVED = frozenset(
    """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t
    class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield
    decltype default delete do double dynamic_cast else enum explicit export extern false float for friend
    goto if inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private
    protected public register reinterpret_cast requires return short signed sizeof static static_assert
    static_cast struct switch template this thread_local throw true try typedef typeid typename union
    unsigned using virtual void volatile wchar_t while xor xor_eq main std ncnn net out in opt NULL""".split()
)


def _safe_comment(s: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in "\\*/" else "_" for c in s)[:80]


def _ident(ns: Namespace, text: str, fallback: str) -> str:
    return ns.fresh(clean(text, fallback), fallback=fallback)


def _bytes_rows(data: bytes, per_row: int = 24) -> list[str]:
    hexs = data.hex()
    items = [f"0x{hexs[i:i + 2]}" for i in range(0, len(hexs), 2)]
    return [",".join(items[i:i + per_row]) + "," for i in range(0, len(items), per_row)]


def cpp_files(
    lowered: Lowered, info: ModelInfo, out: Path, class_name: str | None, param: str, fp16: bool, embed: bool
) -> list[OutputFile]:
    stem = out.stem
    cls = camel(class_name) if class_name else camel(re.sub(r"(\.struct|\.filled)?\.onnx$", "", info.file_name) or "net")
    ns = Namespace(reserved=CPP_RESERVED | {cls})
    inputs = [
        {"ident": _ident(ns, e.onnx_name, "input"), "blob": e.name, "shape": e.shape, "int32": e.dtype == "int32",
         "onnx": _safe_comment(e.onnx_name), "onnx_shape": e.onnx_shape}
        for e in lowered.inputs
    ]
    outputs = [
        {"ident": _ident(ns, e.onnx_name, "output"), "blob": e.name, "shape": e.shape, "onnx": _safe_comment(e.onnx_name),
         "onnx_shape": e.onnx_shape}
        for e in lowered.outputs
    ]
    blob_index: dict[str, int] = {}
    for layer in lowered.net.layers:
        for b in layer.outputs:
            blob_index.setdefault(b, len(blob_index))
    for e in inputs + outputs:
        e["index"] = blob_index[e["blob"]]
    ids = Namespace()
    layer_ids = [(ids.fresh("LAYER_" + layer.name), i) for i, layer in enumerate(lowered.net.layers)]
    blob_ids = [(ids.fresh("BLOB_" + b), i) for b, i in blob_index.items()]
    header = (
        f"{cls}: converted from {_safe_comment(info.file_name)} (sha256 {info.sha256}, opset {info.opset}) "
        f"by transpiler {__version__}."
    )
    ctx = {
        "cls": cls, "stem": stem, "header": header, "inputs": inputs, "outputs": outputs,
        "layer_ids": layer_ids, "blob_ids": blob_ids, "embed": embed, "fp16": fp16,
        "guard": clean(stem, "net").upper() + "_H",
    }
    folder = out.parent
    files = [
        text_file(folder / f"{stem}.h", render("ncnn_cpp/net.h.j2", **ctx)),
        text_file(folder / f"{stem}.cpp", render("ncnn_cpp/net.cpp.j2", **ctx)),
        text_file(folder / "main.cpp", render("ncnn_cpp/main.cpp.j2", **ctx)),
        text_file(folder / "CMakeLists.txt", render("ncnn_cpp/CMakeLists.txt.j2", **ctx)),
    ]
    if embed:
        net = lowered.net

        def write_mem(f) -> None:  # type: ignore[no-untyped-def]
            buf = io.BytesIO()
            write_bin(buf, net, fp16)
            text = render(
                "ncnn_cpp/net.mem.h.j2", **ctx,
                param_rows=_bytes_rows(param.encode("ascii") + b"\0"), bin_rows=_bytes_rows(buf.getvalue()),
            )
            f.write(text.encode("ascii"))

        files.append(OutputFile(folder / f"{stem}.mem.h", write_mem))
    return files
