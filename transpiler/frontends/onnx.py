"""ONNX file -> IR graph.

Reading is defensive (the file is untrusted input): every failure becomes a one-line
`InvalidModel`. Ops the target has no lowering for, but which ONNX defines as a function of
other ops, are expanded into that function body, so the target sees only ops it knows.
Each node is then canonicalised (see `onnx_canon`) to the newest opset's form.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx.inliner
import onnx.shape_inference
from onnx import AttributeProto, FunctionProto, NodeProto, TypeProto, numpy_helper

from .. import ir, weights
from ..errors import InvalidModel
from . import onnx_canon

MIN_OPSET = 7
DEFAULT_DOMAINS = ("", "ai.onnx")

# (domain, op_type) -> True when the target lowers it directly (so it must not be expanded)
KeepFn = Callable[[str, str], bool]


@dataclass
class ModelInfo:
    """What the header and the verifier need to know about the source model."""

    file_name: str
    sha256: str
    opset: int
    graph_name: str
    producer: str


def read_model(source: str | os.PathLike[str] | onnx.ModelProto) -> tuple[onnx.ModelProto, ModelInfo]:
    """Read and validate an ONNX model from a path (or take a ModelProto).

    From a path, the large initializers (in the .onnx or in external data files) are not copied
    into the message: they come back as mapped tensors (`weights.mark_mapped`), read-only views
    of the files that `to_ir` and the verifier turn into arrays without a copy."""
    if isinstance(source, onnx.ModelProto):
        model = source
        data = model.SerializeToString()
        digest = hashlib.sha256(data).hexdigest()
        del data
        name = (model.graph.name or "model") + ".onnx"
        base_dir = None
        moved = None
    else:
        path = Path(source)
        model, digest, moved = _parse_file(path)
        name = path.name
        base_dir = path.resolve().parent
    _check_text_fields(model, name)
    _load_external_data(model, base_dir)
    if moved is not None:
        where = str(Path(source).resolve())  # type: ignore[arg-type]
        for t in model.graph.initializer:
            if t.name in moved.offsets:
                _mark_mapped(t, where, moved.offsets[t.name], moved.arrays[t.name])
    _check_opset_imports(model, name)
    opset = _default_opset(model)
    if opset is None:
        raise InvalidModel(f"{name}: the model imports no ai.onnx opset")
    if opset < MIN_OPSET:
        # ONNX's own version converter knows what changed in those early opsets (and may read
        # weights: give it their bytes)
        _unmap(model)
        try:
            from onnx import version_converter

            model = version_converter.convert_version(model, MIN_OPSET)
        except Exception as e:
            raise InvalidModel(
                f"{name}: opset {opset} is older than the oldest supported ({MIN_OPSET}) "
                f"and cannot be upgraded: {_one_line(e)}"
            ) from None
    if opset > onnx.defs.onnx_opset_version():
        raise InvalidModel(
            f"{name}: opset {opset} is newer than this onnx package knows ({onnx.defs.onnx_opset_version()})"
        )
    try:
        onnx.checker.check_model(_without_big_weights(model)[0])
    except Exception as e:
        raise InvalidModel(f"{name}: invalid model: {_one_line(e)}") from None
    info = ModelInfo(
        file_name=name,
        sha256=digest,
        opset=opset,
        graph_name=model.graph.name,
        producer=model.producer_name,
    )
    return model, info


def _parse_file(path: Path) -> tuple[onnx.ModelProto, str, weights.SplitModel | None]:
    """(the parsed model, the file's sha256, the initializers left out of it or None).

    The weights are never read into memory here: the digest streams the file, and `split_onnx`
    hands protobuf only the bytes around the large initializers. A file it cannot split is
    parsed whole, the usual way."""
    if not path.exists():
        raise InvalidModel(f"{path}: no such file")
    if not path.is_file():
        raise InvalidModel(f"{path}: not a file")
    with open(path, "rb") as f:
        head = f.read(8)
        if not head:
            raise InvalidModel(f"{path}: the file is empty")
        if head == b"\x89PNG\r\n\x1a\n" or head[:4] == b"\x89HDF":
            raise InvalidModel(f"{path}: not an ONNX model (looks like {'PNG' if head[1:4] == b'PNG' else 'HDF5'})")
        f.seek(0)
        sha = hashlib.sha256()
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    moved = weights.split_onnx(path, threshold=BIG_WEIGHT_BYTES)
    data = moved.light if moved is not None else path.read_bytes()
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise InvalidModel(f"{path}: not a valid ONNX protobuf ({_one_line(e)})") from None
    del data  # the parsed model holds its own copy of the bytes: never keep both for the whole run
    if not model.HasField("graph") or not model.ir_version:
        raise InvalidModel(f"{path}: not an ONNX model (no graph or no IR version)")
    return model, sha.hexdigest(), moved


def _mark_mapped(t: onnx.TensorProto, path: str, offset: int, arr: np.ndarray) -> None:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a file name protobuf cannot hold: the bytes go into the message
        del t.external_data[:]
        t.data_location = onnx.TensorProto.DEFAULT
        t.raw_data = arr.tobytes()
        return
    weights.mark_mapped(t, path, offset, arr.nbytes)


def _unmap(model: onnx.ModelProto) -> None:
    """Put the bytes of mapped initializers back into the message (for tools that read them)."""
    for t in model.graph.initializer:
        if weights.is_mapped(t):
            arr = _tensor_to_array(t)
            del t.external_data[:]
            t.data_location = onnx.TensorProto.DEFAULT
            t.raw_data = arr.tobytes()


def to_ir(model: onnx.ModelProto, keep: KeepFn | None = None) -> ir.Graph:
    """Convert a validated model to the canonical IR, expanding function ops `keep` rejects."""
    model, big = _without_big_weights(model)
    try:
        if model.functions:
            model = onnx.inliner.inline_local_functions(model)
    except Exception as e:
        raise InvalidModel(f"cannot inline the model's local functions: {_one_line(e)}") from None
    _fill_function_defaults(model.graph, _default_opset(model) or 0)
    try:
        inferred = onnx.shape_inference.infer_shapes(
            model, check_type=True, strict_mode=True, data_prop=_data_prop_is_bounded(model)
        )
    except Exception as e:
        raise InvalidModel(f"shape inference failed: {_one_line(e)}") from None
    opsets = {(o.domain or ""): o.version for o in inferred.opset_import}
    opsets.setdefault("", opsets.pop("ai.onnx", 0) or opsets.get("", 0))
    builder = _Builder(keep or (lambda d, o: True))
    big_names = {t.name for t in big}
    graph = inferred.graph
    kept_inputs = [vi for vi in graph.input if vi.name not in big_names]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    return builder.graph(graph, opsets, parent_scope=None, parent=None, extra_initializers=big)


BIG_WEIGHT_BYTES = 1 << 16
RANGE_LIMIT = 1 << 16  # elements a Range may have for ONNX's data propagation to be allowed


def _data_prop_is_bounded(model: onnx.ModelProto) -> bool:
    """Whether ONNX's data propagation (shape inference that also computes small int tensors) is
    safe for this model. It materialises every Range it can evaluate, element by element: a Range
    to 10^12 written in a few bytes would exhaust memory. So it is allowed only when every Range
    has constant bounds and a small size; otherwise shapes are inferred without it (less shape
    knowledge, same correctness)."""
    graphs = [model.graph, *[_function_as_graph(f) for f in model.functions]]
    while graphs:
        g = graphs.pop()
        consts: dict[str, np.ndarray] = {}
        for t in g.initializer:
            if t.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32, onnx.TensorProto.FLOAT,
                               onnx.TensorProto.DOUBLE) and len(t.dims) == 0:
                consts[t.name] = _tensor_to_array(t)
        for node in g.node:
            for a in node.attribute:
                graphs.extend([a.g] if a.type == AttributeProto.GRAPH else list(a.graphs))
            if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS and node.output:
                try:
                    consts[node.output[0]] = _constant_value(node)
                except InvalidModel:
                    pass
            if node.op_type == "Range" and node.domain in DEFAULT_DOMAINS:
                bounds = [consts.get(name) for name in list(node.input)[:3]]
                if len(bounds) < 3 or any(b is None or b.size != 1 or b.dtype == object for b in bounds):
                    return False
                start, limit, delta = (float(b.reshape(-1)[0]) for b in bounds)
                if not all(np.isfinite([start, limit, delta])) or delta == 0:
                    return False
                if (limit - start) / delta > RANGE_LIMIT:
                    return False
    return True


def _function_as_graph(f: FunctionProto) -> onnx.GraphProto:
    g = onnx.GraphProto()
    g.node.extend(f.node)
    return g


def _raw_size(t: onnx.TensorProto) -> int:
    """len(t.raw_data) from dims x itemsize: reading t.raw_data copies the bytes on every access."""
    if not t.HasField("raw_data"):
        return 0
    dtype = weights.raw_dtype(t.data_type)  # None for packed / string types: ask the field itself
    return int(np.prod(t.dims, dtype=np.int64)) * dtype.itemsize if dtype is not None else len(t.raw_data)


def _without_big_weights(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[onnx.TensorProto]]:
    """A copy of the model whose large initializers are typed graph inputs instead, and those
    initializers. The checker, the inliner and shape inference serialise the whole model; without
    the weights that costs nothing (weights never steer shape inference, shape tensors are small)."""
    big = [t for t in model.graph.initializer if weights.is_mapped(t) or _raw_size(t) > BIG_WEIGHT_BYTES]
    if not big:
        return model, []
    big_names = {t.name for t in big}
    light = onnx.ModelProto()
    _copy_fields(light, model, skip="graph")
    g, src = light.graph, model.graph
    _copy_fields(g, src, skip="initializer")
    g.initializer.extend(t for t in src.initializer if t.name not in big_names)
    listed = {vi.name for vi in src.input}
    g.input.extend(
        onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in big if t.name not in listed
    )
    return light, big


def _fill_function_defaults(graph: onnx.GraphProto, version: int) -> None:
    """Write out the default value of absent attributes of ops defined as functions.

    ONNX's shape inference runs such a function body with `@attr` references unresolved when the
    attribute is absent (e.g. MeanVarianceNormalization's `axes`) and fails; spelling the default
    out means the same by the spec and lets inference (and later expansion) see it."""
    for node in graph.node:
        for a in node.attribute:
            for g in [a.g] if a.type == AttributeProto.GRAPH else list(a.graphs):
                _fill_function_defaults(g, version)
        if node.domain not in DEFAULT_DOMAINS:
            continue
        try:
            schema = onnx.defs.get_schema(node.op_type, version, "")
        except Exception:
            continue
        if not (schema.has_function or schema.has_context_dependent_function):
            continue
        present = {a.name for a in node.attribute}
        for name, sa in sorted(schema.attributes.items()):
            if name not in present and sa.default_value is not None and sa.default_value.type != 0:
                b = AttributeProto()
                b.CopyFrom(sa.default_value)
                b.name = name
                node.attribute.append(b)


def _copy_fields(dst, src, skip: str) -> None:  # type: ignore[no-untyped-def]
    """Copy every set field of protobuf message src into dst, except `skip`."""
    for field, value in src.ListFields():
        if field.name == skip:
            continue
        if hasattr(value, "extend"):  # a repeated field
            getattr(dst, field.name).extend(value)
        elif field.message_type:
            getattr(dst, field.name).CopyFrom(value)
        else:
            setattr(dst, field.name, value)


def _check_text_fields(model: onnx.ModelProto, name: str) -> None:
    """Every string field (names, domains, doc strings) must be UTF-8, as the ONNX spec says;
    protobuf hands invalid ones back as bytes, which no later step expects."""
    from google.protobuf.descriptor import FieldDescriptor

    stack: list[Any] = [model]
    while stack:
        msg = stack.pop()
        for field, value in _set_fields(msg):
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                stack.extend(value if _repeated(field) else [value])
            elif field.type == FieldDescriptor.TYPE_STRING:
                texts = value if _repeated(field) else [value]
                if any(not isinstance(t, str) for t in texts):
                    raise InvalidModel(
                        f"{name}: a {msg.DESCRIPTOR.name}.{field.name} is not UTF-8 text (the ONNX format requires it)"
                    )


def _set_fields(msg: Any) -> list[tuple[Any, Any]]:
    """msg.ListFields(), without a tensor's bytes fields: reading raw_data copies the weights."""
    if not isinstance(msg, onnx.TensorProto):
        return msg.ListFields()
    from google.protobuf.descriptor import FieldDescriptor

    out = []
    for field in msg.DESCRIPTOR.fields:
        if field.type not in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE):
            continue
        if _repeated(field) or msg.HasField(field.name):
            out.append((field, getattr(msg, field.name)))
    return out


def _repeated(field: Any) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 6
        return bool(field.is_repeated)
    return field.label == field.LABEL_REPEATED


def _check_opset_imports(model: onnx.ModelProto, name: str) -> None:
    """Each domain imported once, at a positive version: otherwise which op set applies is a guess."""
    seen: dict[str, int] = {}
    for o in model.opset_import:
        domain = "" if o.domain in DEFAULT_DOMAINS else o.domain
        label = o.domain or "ai.onnx"
        if domain in seen:
            raise InvalidModel(f"{name}: the model imports the {label} opset twice ({seen[domain]} and {o.version})")
        if o.version < 1:
            raise InvalidModel(f"{name}: the model imports the {label} opset at version {o.version}")
        seen[domain] = o.version


def _default_opset(model: onnx.ModelProto) -> int | None:
    for o in model.opset_import:
        if o.domain in DEFAULT_DOMAINS:
            return o.version
    if model.opset_import:
        # Only other domains (e.g. a pure ai.onnx.ml model): no ai.onnx node can occur, so the
        # ai.onnx opset does not matter; report the newest one this onnx package knows.
        return onnx.defs.onnx_opset_version()
    return None


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:400] + ("…" if len(text) > 400 else "")


def _load_external_data(model: onnx.ModelProto, base_dir: Path | None) -> None:
    """Load external tensors, refusing locations outside the model's folder. Large initializers of
    the main graph are memory-mapped (`weights.mark_mapped`) instead of read into the message."""
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    if not any(uses_external_data(t) for t in _get_all_tensors(model)):
        return
    if base_dir is None:
        raise InvalidModel("the model refers to external data but was given without a file path")
    for t in model.graph.initializer:
        if uses_external_data(t):
            _load_external_tensor(t, base_dir, may_map=True)
    for t in _get_all_tensors(model):  # subgraphs' initializers and attribute tensors
        if uses_external_data(t) and not weights.is_mapped(t):
            _load_external_tensor(t, base_dir, may_map=False)


def _load_external_tensor(t: onnx.TensorProto, base_dir: Path, may_map: bool) -> None:
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    target = (base_dir / loc).resolve()
    if not loc or os.path.isabs(loc) or base_dir not in target.parents:
        raise InvalidModel(f"tensor {t.name!r}: external data location {loc!r} is outside the model's folder")
    if not target.is_file():
        raise InvalidModel(f"tensor {t.name!r}: external data file {loc!r} is missing")
    try:
        offset = int(info.get("offset", 0) or 0)
        length = int(info["length"]) if "length" in info else None
    except ValueError:
        raise InvalidModel(f"tensor {t.name!r}: external data offset/length are not integers") from None
    if offset < 0 or (length is not None and length < 0):
        raise InvalidModel(f"tensor {t.name!r}: external data offset/length are negative")
    dtype = weights.raw_dtype(t.data_type)
    if may_map and dtype is not None and int(np.prod(t.dims, dtype=np.int64)) * dtype.itemsize > BIG_WEIGHT_BYTES:
        size = target.stat().st_size
        if length is not None and offset + length > size:
            raise InvalidModel(f"tensor {t.name!r}: external data file {loc!r} is shorter than stated")
        arr = weights.map_external(target, offset, size - offset if length is None else length, t.data_type, list(t.dims))
        if arr is not None:
            _mark_mapped(t, str(target), offset, arr)
            return
    # small, packed or inconsistent (the size mismatch is reported when the tensor is read)
    with open(target, "rb") as f:
        f.seek(offset)
        raw = f.read() if length is None else f.read(length)
    if length is not None and len(raw) != length:
        raise InvalidModel(f"tensor {t.name!r}: external data file {loc!r} is shorter than stated")
    t.raw_data = raw
    del t.external_data[:]
    t.data_location = onnx.TensorProto.DEFAULT


def _type_of(tp: TypeProto | None) -> tuple[str, int, tuple[ir.Dim, ...] | None, str]:
    """(kind, elem, shape, inner_kind) of an ONNX TypeProto."""
    if tp is None:
        return "tensor", 0, None, "tensor"
    which = tp.WhichOneof("value")
    if which in ("tensor_type", "sparse_tensor_type"):
        tt = getattr(tp, which)
        shape: tuple[ir.Dim, ...] | None = None
        if tt.HasField("shape"):
            shape = tuple(
                d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
                for d in tt.shape.dim
            )
        return "tensor", tt.elem_type, shape, "tensor"
    if which == "sequence_type":
        _, elem, _, _ = _type_of(tp.sequence_type.elem_type)
        return "sequence", elem, None, "tensor"
    if which == "optional_type":
        kind, elem, shape, _ = _type_of(tp.optional_type.elem_type)
        return "optional", elem, shape, kind
    if which == "map_type":
        return "map", tp.map_type.key_type, None, "tensor"
    return "tensor", 0, None, "tensor"


def _tensor_to_array(t: onnx.TensorProto) -> np.ndarray:
    if weights.is_mapped(t):
        arr = weights.mapped_array(t)
        if arr is None:
            where = next((e.value for e in t.external_data if e.key == "location"), "?")
            raise InvalidModel(f"tensor {t.name!r}: its bytes can no longer be read from {where!r} (the file changed)")
        return arr
    try:
        return numpy_helper.to_array(t)
    except Exception as e:
        raise InvalidModel(f"tensor {t.name!r} cannot be read: {_one_line(e)}") from None


def _attr_value(a: AttributeProto, builder: _Builder, scope: dict[str, ir.Value], graph: ir.Graph) -> Any:
    t = a.type
    if t == AttributeProto.INT:
        return int(a.i)
    if t == AttributeProto.FLOAT:
        return float(a.f)
    if t == AttributeProto.STRING:
        return a.s.decode("utf-8", "replace")
    if t == AttributeProto.INTS:
        return [int(x) for x in a.ints]
    if t == AttributeProto.FLOATS:
        return [float(x) for x in a.floats]
    if t == AttributeProto.STRINGS:
        return [s.decode("utf-8", "replace") for s in a.strings]
    if t == AttributeProto.TENSOR:
        return _tensor_to_array(a.t)
    if t == AttributeProto.TENSORS:
        return [_tensor_to_array(x) for x in a.tensors]
    if t == AttributeProto.GRAPH:
        return builder.graph(a.g, graph.opset, parent_scope=scope, parent=graph)
    if t == AttributeProto.GRAPHS:
        return [builder.graph(g, graph.opset, parent_scope=scope, parent=graph) for g in a.graphs]
    if t == AttributeProto.SPARSE_TENSOR:
        return numpy_helper.to_array(a.sparse_tensor.values), numpy_helper.to_array(a.sparse_tensor.indices)
    if t == AttributeProto.TYPE_PROTO:
        return _type_of(a.tp)
    if t == AttributeProto.TYPE_PROTOS:
        return [_type_of(x) for x in a.type_protos]
    raise InvalidModel(f"attribute {a.name!r} has an unknown type {t}")


def _sparse_to_dense(sp: onnx.SparseTensorProto) -> np.ndarray:
    values = numpy_helper.to_array(sp.values)
    indices = numpy_helper.to_array(sp.indices)
    dense = np.zeros(tuple(sp.dims), dtype=values.dtype)
    if indices.ndim == 1:
        dense.reshape(-1)[indices] = values
    else:
        dense[tuple(indices.T)] = values
    return dense


def _constant_value(node: NodeProto) -> np.ndarray:
    for a in node.attribute:
        if a.name == "value":
            return _tensor_to_array(a.t)
        if a.name == "sparse_value":
            return _sparse_to_dense(a.sparse_tensor)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
        if a.name == "value_string":
            return np.array(a.s.decode("utf-8", "replace"), dtype=object)
        if a.name == "value_strings":
            return np.array([s.decode("utf-8", "replace") for s in a.strings], dtype=object)
    raise InvalidModel(f"Constant node {node.name!r} has no value")


def _elem_of_array(a: np.ndarray) -> int:
    if a.dtype == object:
        return ir.STRING
    try:
        return onnx.helper.np_dtype_to_tensor_dtype(a.dtype)
    except Exception:
        return 0


class _Builder:
    """Builds IR graphs from GraphProtos, expanding function ops and canonicalising nodes."""

    def __init__(self, keep: KeepFn) -> None:
        self.keep = keep
        self._expansions = 0

    def graph(
        self,
        gp: onnx.GraphProto,
        opsets: dict[str, int],
        parent_scope: dict[str, ir.Value] | None,
        parent: ir.Graph | None,
        extra_initializers: list[onnx.TensorProto] | None = None,
    ) -> ir.Graph:
        g = ir.Graph(name=gp.name, opset=dict(opsets), doc=gp.doc_string, parent=parent)
        scope: dict[str, ir.Value] = dict(parent_scope or {})
        types: dict[str, TypeProto] = {}
        for vi in [*gp.input, *gp.value_info, *gp.output]:
            if vi.HasField("type"):
                types.setdefault(vi.name, vi.type)
        if parent is not None:
            # shape inference does not enter the graphs of every op (e.g. FlexAttention's score_mod)
            for t in gp.initializer:
                types.setdefault(t.name, onnx.helper.make_tensor_type_proto(t.data_type, list(t.dims)))
            _infer_body_types(list(gp.node), NodeProto(), opsets, types)

        def new_value(name: str) -> ir.Value:
            kind, elem, shape, inner = _type_of(types.get(name))
            return ir.Value(name=name, elem=elem, shape=shape, kind=kind, inner_kind=inner)

        init_names = set()
        for t in [*gp.initializer, *(extra_initializers or [])]:
            arr = _tensor_to_array(t)
            v = ir.Value(name=t.name, elem=t.data_type, shape=tuple(arr.shape), const=arr)
            scope[t.name] = v
            g.initializers.append(v)
            init_names.add(t.name)
        for sp in gp.sparse_initializer:
            arr = _sparse_to_dense(sp)
            v = ir.Value(name=sp.values.name, elem=sp.values.data_type, shape=tuple(arr.shape), const=arr)
            scope[v.name] = v
            g.initializers.append(v)
            init_names.add(v.name)
        for vi in gp.input:
            if vi.name in init_names:
                continue  # an initializer listed as input (IR < 4): a constant with a default
            v = new_value(vi.name)
            scope[vi.name] = v
            g.inputs.append(v)

        version = opsets.get("", 0)
        node_list: list[tuple[NodeProto, dict[str, int]]] = [(n, opsets) for n in gp.node]
        while node_list:
            np_, node_opsets = node_list.pop(0)
            expanded = self._maybe_expand(np_, node_opsets, types, scope)
            if expanded is not None:
                node_list = expanded + node_list
                continue
            self._add_node(g, np_, node_opsets, scope, new_value)
        for vi in gp.output:
            if vi.name not in scope:
                raise InvalidModel(f"graph output {vi.name!r} is produced by no node")
            v = scope[vi.name]
            if v.shape is None or not v.elem:
                kind, elem, shape, inner = _type_of(vi.type if vi.HasField("type") else None)
                v.elem = v.elem or elem
                v.shape = v.shape if v.shape is not None else shape
            g.outputs.append(v)
        del version
        return g

    def _add_node(self, g: ir.Graph, np_: NodeProto, opsets: dict[str, int], scope: dict[str, ir.Value], new_value) -> None:
        domain = "" if np_.domain in DEFAULT_DOMAINS else np_.domain
        if np_.op_type == "Constant" and domain == "":
            arr = _constant_value(np_)
            v = ir.Value(name=np_.output[0], elem=_elem_of_array(arr), shape=tuple(arr.shape), const=arr)
            scope[v.name] = v
            return
        inputs: list[ir.Value | None] = []
        for name in np_.input:
            if name == "":
                inputs.append(None)
            elif name in scope:
                inputs.append(scope[name])
            else:
                raise InvalidModel(f"node {np_.name!r} ({np_.op_type}) reads {name!r}, which nothing defines")
        outputs: list[ir.Value | None] = []
        for name in np_.output:
            if name == "":
                outputs.append(None)
                continue
            v = new_value(name)
            scope[name] = v
            outputs.append(v)
        attrs = {a.name: _attr_value(a, self, scope, g) for a in np_.attribute}
        node = ir.Node(np_.op_type, inputs, outputs, attrs, domain=domain, name=np_.name, doc=np_.doc_string)
        for v in outputs:
            if v is not None:
                v.producer = node
        _check_node(node)
        version = opsets.get(domain, opsets.get("", 0))
        for n in onnx_canon.canonicalise(node, version, g):
            g.nodes.append(n)

    def _maybe_expand(
        self, np_: NodeProto, opsets: dict[str, int], types: dict[str, TypeProto], scope: dict[str, ir.Value]
    ) -> list[tuple[NodeProto, dict[str, int]]] | None:
        domain = "" if np_.domain in DEFAULT_DOMAINS else np_.domain
        if np_.op_type == "Constant" or self.keep(domain, np_.op_type):
            return None
        version = opsets.get(domain, opsets.get("", 0))
        try:
            schema = onnx.defs.get_schema(np_.op_type, version, domain)
        except Exception:
            return None
        fn = _function_body(schema, np_, types, version)
        if fn is None:
            return None
        self._expansions += 1
        if self._expansions > 100_000:
            raise InvalidModel("function expansion does not terminate")
        fn_opsets = dict(opsets)
        for o in fn.opset_import:
            fn_opsets["" if o.domain in DEFAULT_DOMAINS else o.domain] = o.version
        prefix = f"{np_.name or np_.op_type}/{np_.op_type}_x{self._expansions}/"
        nodes = _expand(np_, fn, schema, prefix)
        _infer_body_types(nodes, np_, fn_opsets, types)
        return [(n, fn_opsets) for n in nodes]


def _check_node(node: ir.Node) -> None:
    """Consistency that ONNX shape inference leaves to the runtime: attributes restating what the
    inputs already say must agree with them, or the model means nothing (onnxruntime fails on it)."""
    if node.domain == "" and node.op_type in ("Conv", "ConvTranspose", "ConvInteger", "QLinearConv"):
        w = node.input(3 if node.op_type == "QLinearConv" else 1)
        kernel = node.attrs.get("kernel_shape")
        if kernel is not None and w is not None and w.shape is not None:
            spatial = list(w.shape[2:])
            if len(kernel) != len(spatial) or any(isinstance(d, int) and d != k for d, k in zip(spatial, kernel)):
                raise InvalidModel(
                    f"node {node.name!r} ({node.op_type}): kernel_shape {list(kernel)} disagrees with the weight's "
                    f"shape {list(w.shape)}"
                )


def _function_body(schema: onnx.defs.OpSchema, node: NodeProto, types: dict[str, TypeProto], version: int) -> FunctionProto | None:
    fn = FunctionProto()
    try:
        if schema.has_function:
            versions = [v for v in schema.function_opset_versions if v <= max(version, schema.since_version)]
            if not versions:
                return None
            fn.ParseFromString(schema.get_function_with_opset_version(max(versions)))
            return fn
        if schema.has_context_dependent_function:
            versions = [
                v for v in schema.context_dependent_function_opset_versions if v <= max(version, schema.since_version)
            ]
            if not versions:
                return None
            in_types = []
            for name in node.input:
                if name and name not in types:
                    return None
                in_types.append(types[name].SerializeToString() if name else TypeProto().SerializeToString())
            data = schema.get_context_dependent_function_with_opset_version(
                max(versions), node.SerializeToString(), in_types
            )
            if not data:
                return None
            fn.ParseFromString(data)
            return fn
    except Exception:
        return None
    return None


def _expand(node: NodeProto, fn: FunctionProto, schema: onnx.defs.OpSchema, prefix: str) -> list[NodeProto]:
    """The function body with formal names bound to the node's inputs, outputs and attributes."""
    attrs = {a.name: a for a in node.attribute}
    for name, sa in schema.attributes.items():
        if name not in attrs and sa.default_value is not None and sa.default_value.type != 0:
            attrs[name] = sa.default_value
    rename: dict[str, str] = {}
    for i, formal in enumerate(fn.input):
        rename[formal] = node.input[i] if i < len(node.input) else ""
    for i, formal in enumerate(fn.output):
        if i < len(node.output) and node.output[i]:
            rename[formal] = node.output[i]

    def name_of(n: str) -> str:
        if n in rename:
            return rename[n]
        return "" if n == "" else prefix + n

    def rename_node(inner: NodeProto) -> NodeProto:
        new = NodeProto()
        new.CopyFrom(inner)
        del new.input[:]
        del new.output[:]
        del new.attribute[:]
        new.input.extend(name_of(n) for n in inner.input)
        new.output.extend(name_of(n) for n in inner.output)
        new.name = prefix + (inner.name or inner.op_type)
        for a in inner.attribute:
            if a.ref_attr_name:
                if a.ref_attr_name in attrs:
                    b = AttributeProto()
                    b.CopyFrom(attrs[a.ref_attr_name])
                    b.name = a.name
                    new.attribute.append(b)
                continue
            b = AttributeProto()
            b.CopyFrom(a)
            for g in [b.g] if b.type == AttributeProto.GRAPH else list(b.graphs):
                rename_graph(g)
            new.attribute.append(b)
        return new

    def rename_graph(g: onnx.GraphProto) -> None:
        # names inside a body graph are function-internal too: bind them the same way
        for vi in [*g.input, *g.output, *g.value_info]:
            vi.name = name_of(vi.name)
        for t in g.initializer:
            t.name = name_of(t.name)
        nodes = [rename_node(n) for n in g.node]
        del g.node[:]
        g.node.extend(nodes)

    return [rename_node(inner) for inner in fn.node]


def _infer_body_types(
    nodes: list[NodeProto], outer: NodeProto, opsets: dict[str, int], types: dict[str, TypeProto]
) -> None:
    """Shape-infer an expanded body on its own (at the function's opset) to type its new values."""
    from onnx import helper

    inputs = []
    for name in dict.fromkeys(n for node in nodes for n in node.input if n):
        if name in types:
            inputs.append(helper.make_value_info(name, types[name]))
    graph = helper.make_graph(nodes, "body", inputs, [])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items() if v], ir_version=10
    )
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=_data_prop_is_bounded(model))
    except Exception:
        return
    for vi in [*inferred.graph.value_info, *inferred.graph.output]:
        types.setdefault(vi.name, vi.type)
    del outer
