"""Lowering an IR graph to the body of a Keras functional `build_model()` and rendering the file.

Values get local names; each carries a layout (layout.py). Lowerings live in `ops/` and decide what
each op becomes; `templates/keras/model.py.j2` decides how the file looks; black formats it.

Subgraphs (If branches, unrolled Loop / Scan bodies) are lowered inline, one copy per use
(`lower_subgraph`). Before each node, outputs left untyped by shape inference (function
expansions, subgraph copies) are typed by ONNX's inference of that node alone, and a node whose
inputs became known is folded here (`_refine_types`, `_fold`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ... import __version__, ir
from ...errors import Refusal, UnsupportedModel, UnsupportedOp
from ...frontends.onnx import ModelInfo
from ...names import Namespace, camel, clean
from ...render import render
from ..base import OpTable
from .context import FLOATS, INLINE_MAX, KERAS_DTYPES, Ctx, Unpack, c_order, lit, np_literal, wide_lines
from .layout import Perm, between, channels_last, norm
from .reserved import looks_auto
from .shapes import resolve_reshape, shape_values

# Names the generated file uses at module level.
FILE_NAMES = frozenset(
    {"keras", "layers", "ops", "np", "os", "Path", "load_file", "build_model", "load_model", "Constant",
     "INPUT_PERMS", "OUTPUT_PERMS", "model", "weights", "tensors", "path", "missing", "Fixed"}
)
# ops that compute channels-last in Keras: an image-like model input read by one of them is
# given channels-last by default
CHANNELS_LAST_OPS = frozenset(
    {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "BatchNormalization", "GlobalAveragePool",
     "GlobalMaxPool", "LpPool", "GlobalLpPool"}
)
_OP_SUFFIX = re.compile(r"_output_\d+$")
def _layer_name_hint(hint: str) -> str:
    base = clean(hint, "layer")
    return base + "_layer" if looks_auto(base) else base  # see reserved.py


@dataclass
class Plan:
    """Everything the template needs, as plain data."""

    header: str
    doc: list[str]
    model_name: str
    body: list[str]
    inputs: list[str]
    outputs: list[str]
    input_perms: list[str]
    output_perms: list[str]
    uses_constant: bool
    state: dict[str, np.ndarray] = field(default_factory=dict)
    wide: list[str] = field(default_factory=list)  # context.wide_lines: inputs / outputs held wide
    uses_fixed: bool = False


class Codegen:
    def __init__(self, graph: ir.Graph, info: ModelInfo, table: OpTable, layout: str = "keras") -> None:
        self.graph = graph
        self.info = info
        self.table = table
        self.layout = layout
        self.locals = Namespace(reserved=FILE_NAMES)
        self.layer_names = Namespace()
        self.state: dict[str, np.ndarray] = {}
        self.refusals: list[Refusal] = []
        self.lines: list[str] = []
        self.codes: dict[int, str] = {}  # id(value) -> local holding it
        self.perms: dict[int, Perm] = {}
        self.views: dict[tuple[int, Perm], str] = {}  # (value, layout) -> local holding that view
        self.const_codes: dict[tuple[int, Perm], str] = {}
        self.symbolic_consts: set[str] = set()  # locals holding a stored Constant layer's output
        self.anchor: str | None = None
        self.uses_constant = False
        self.readers = graph.users()
        self.failed: set[int] = set()  # values of refused nodes
        self.shape_values = shape_values(graph)
        self.output_ids = {id(v) for v in graph.outputs}
        # values whose code is a KerasTensor (reaches a model input); the others (e.g. built from
        # static shapes only) are concrete tensors, which a functional model cannot output as is
        self.symbolic: set[int] = set()
        self.read_symbolic = False
        self.uses_fixed = False
        # types found while lowering (Codegen.set_type); inside a subgraph copy, a log to undo them
        self.type_log: list[tuple[ir.Value, int, tuple[ir.Dim, ...] | None]] | None = None
        self.shapes_dirty = False
        self.const_log: list[ir.Value] | None = None
        self.subgraph_types: list[tuple[int, tuple[ir.Dim, ...] | None]] = []

    # -- used by Ctx ----------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.extend(line.split("\n"))

    def perm_of(self, v: ir.Value) -> Perm:
        return self.perms.get(id(v)) if id(v) in self.codes else None

    def code_in(self, v: ir.Value, perm: Perm) -> str:
        if id(v) not in self.codes:
            if v.const is not None:
                return self.const_in(v, perm)
            raise UnsupportedOp(f"value {v.name!r} is read before it is computed")
        if id(v) in self.symbolic:
            self.read_symbolic = True
        have = self.perms.get(id(v))
        if have == perm:
            return self.codes[id(v)]
        key = (id(v), perm)
        if key not in self.views:
            rank = v.rank
            assert rank is not None
            r = between(have, perm, rank)
            base = self.codes[id(v)]
            if r is None:
                return base
            name = self.locals.fresh(base + ("_t" if perm is None else "_cl"))
            self.emit(f"{name} = ops.transpose({base}, {lit(r)})")
            self.views[key] = name
        return self.views[key]

    def const_in(self, v: ir.Value, perm: Perm) -> str:
        key = (id(v), perm)
        if key not in self.const_codes:
            arr = v.const
            assert arr is not None
            if perm is not None:
                arr = arr.transpose(perm)
            self.const_codes[key] = self.constant_code(c_order(arr), _value_hint(v.name), v.elem)
        code = self.const_codes[key]
        if code in self.symbolic_consts:
            self.read_symbolic = True
        return code

    def constant_code(self, arr: np.ndarray, hint: str, elem: int = 0) -> str:
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise UnsupportedOp("a constant holds strings, which Keras tensors cannot")
        if arr.dtype.name not in KERAS_DTYPES.values():
            raise UnsupportedOp(f"a constant has dtype {arr.dtype}, which Keras cannot hold")
        if arr.size <= INLINE_MAX:
            return np_literal(arr)
        if self.anchor is None:
            raise UnsupportedOp("a stored constant needs a graph input to attach to")
        self.uses_constant = True
        hint = _value_hint(hint)
        layer = self.layer_names.fresh(_layer_name_hint(hint), fallback="const")
        name = self.locals.fresh(hint, fallback="const")
        trainable = arr.dtype.kind == "f"
        args = f"{lit(tuple(int(d) for d in arr.shape))}, {lit(arr.dtype.name)}"
        if not trainable:
            args += ", trainable=False"
        self.emit(f"{name} = Constant({args}, name={lit(layer)})({self.anchor})")
        self.state[f"{layer}/value"] = arr
        self.symbolic_consts.add(name)
        self.read_symbolic = True
        return name

    def add_layer(self, node: ir.Node, ctor: str, weights: dict[str, np.ndarray], hint: str | None) -> str:
        name = self.layer_names.fresh(_layer_name_hint(hint or _layer_hint(node)), fallback="layer")
        for k, arr in weights.items():
            self.state[f"{name}/{k}"] = np.asarray(arr)  # a transposed view: the writer streams it, no copy
        assert ctor.endswith(")")
        sep = "" if ctor.endswith("()") else ", "
        return f"{ctor[:-1]}{sep}name={lit(name)})"

    # -- lowering -------------------------------------------------------------------------
    def bind(self, v: ir.Value, code: str, perm: Perm, symbolic: bool = True) -> None:
        self.codes[id(v)] = code
        self.perms[id(v)] = norm(perm)
        if symbolic:
            self.symbolic.add(id(v))

    def plan(self) -> Plan:
        graph = self.graph
        input_names, input_perms = [], []
        for v in graph.inputs:
            if v.kind != "tensor":
                self.refusals.append(Refusal("(input)", v.name, f"a {v.kind} input has no Keras equivalent"))
                continue
            if v.elem not in KERAS_DTYPES:
                self.refusals.append(Refusal("(input)", v.name, f"element type {v.elem} has no Keras dtype"))
                continue
            if v.shape is None:
                self.refusals.append(Refusal("(input)", v.name, "the input's rank is unknown"))
                continue
            hint = clean(v.name, "input")
            name = self.locals.fresh(hint + "_input" if looks_auto(hint) else hint, fallback="input")
            perm = self._input_perm(v)
            dims = [d if isinstance(d, int) else None for d in v.shape]
            if perm is not None:
                dims = [dims[p] for p in perm]
            self.emit(
                f"{name} = keras.Input(batch_shape={lit(tuple(dims))}, dtype={lit(KERAS_DTYPES[v.elem])}, name={lit(name)})"
            )
            self.layer_names.reserve(name)
            self.bind(v, name, perm)
            input_names.append(name)
            input_perms.append(lit(perm))
            if self.anchor is None:
                self.anchor = name
        needed = _needed_nodes(graph, self.reshape_target)
        for node in graph.nodes:
            if id(node) in needed:
                self.lower_node(node)
        outputs, output_perms = [], []
        if not self.refusals:
            for v in graph.outputs:
                try:
                    code, perm = self._output(v)
                except UnsupportedOp as e:
                    self.refusals.append(Refusal("(output)", v.name, e.reason))
                    continue
                outputs.append(code)
                output_perms.append(lit(None if perm is None else _inverse(perm)))
        if self.refusals:
            raise UnsupportedModel("keras", _unique(self.refusals))
        info = self.info
        model_name = _model_name(info)
        header = (
            f"{model_name}, converted from {_safe_text(info.file_name)} "
            f"(sha256 {info.sha256}, opset {info.opset}) by transpiler {__version__}."
        )
        doc = [f"Input {_safe_text(v.name)}: {_describe(v)}" for v in graph.inputs]
        doc += [f"Output {_safe_text(v.name)}: {_describe(v)}" for v in graph.outputs]
        return Plan(
            header=header, doc=doc, model_name=model_name, body=self.lines, inputs=input_names, outputs=outputs,
            input_perms=input_perms, output_perms=output_perms, uses_constant=self.uses_constant, state=self.state,
            wide=wide_lines(graph.inputs, graph.outputs),
            uses_fixed=self.uses_fixed,
        )

    def reshape_target(self, node: ir.Node) -> tuple[int, ...] | None:
        """The Keras target shape of a Reshape node when it is known at conversion time."""
        x, t, y = node.input(0), node.input(1), node.output(0)
        if x is None or x.shape is None or t is None:
            return None
        if y is not None and y.shape is not None and sum(not isinstance(d, int) for d in y.shape) <= 1:
            return tuple(d if isinstance(d, int) else -1 for d in y.shape)
        dims = self.shape_values.get(id(t))
        if dims is None and t.const is not None:
            dims = [int(d) for d in t.const.reshape(-1)]
        if dims is None:
            return None
        return resolve_reshape(tuple(x.shape), dims, bool(node.attr("allowzero", 0)))

    def _input_perm(self, v: ir.Value) -> Perm:
        if self.layout == "onnx" or v.rank is None or v.rank < 3:
            return None
        readers = self.readers.get(id(v), [])
        if any(n.op_type in CHANNELS_LAST_OPS and n.domain == "" and n.input(0) is v for n in readers):
            return channels_last(v.rank)
        return None

    def _output(self, v: ir.Value) -> tuple[str, Perm]:
        if id(v) not in self.codes and v.const is not None:
            if self.anchor is None:
                raise UnsupportedOp("an output that is a constant needs a graph input")
            # a literal is not a tensor of the graph: route it through a stored constant
            self.uses_constant = True
            arr = v.const
            layer = self.layer_names.fresh(_layer_name_hint(_value_hint(v.name)), fallback="const")
            name = self.locals.fresh(_value_hint(v.name), fallback="const")
            self.emit(
                f"{name} = Constant({lit(tuple(int(d) for d in arr.shape))}, {lit(arr.dtype.name)}, trainable=False, "
                f"name={lit(layer)})({self.anchor})"
            )
            self.state[f"{layer}/value"] = np.asarray(arr)
            return name, None
        if id(v) in self.codes and id(v) not in self.symbolic:
            if self.anchor is None:
                raise UnsupportedOp("an output that reads no input needs a graph input")
            # computed when the model is built (no input reaches it): attach it to the graph
            self.uses_fixed = True
            layer = self.layer_names.fresh(_layer_name_hint(_value_hint(v.name)), fallback="fixed")
            name = self.locals.fresh(_value_hint(v.name), fallback="fixed")
            self.emit(f"{name} = Fixed({self.codes[id(v)]}, name={lit(layer)})({self.anchor})")
            self.codes[id(v)] = name
            self.symbolic.add(id(v))
        perm = self.perm_of(v)
        keep = self.layout == "keras" and perm is not None and v.rank is not None and perm == channels_last(v.rank)
        if keep:
            return self.code_in(v, perm), perm
        return self.code_in(v, None), None

    def lower_node(self, node: ir.Node) -> None:
        if not any(v is not None and id(v) in self.failed for v in node.inputs):
            self._refine_types(node)
            if self._fold(node):
                return
        fn = self.table.get(node.domain, node.op_type)
        if fn is None:
            self.failed.update(id(v) for v in node.outputs if v is not None)
            self.refusals.append(Refusal(node.op_type, node.name, "no Keras lowering for this op", node.domain))
            return
        if any(v is not None and id(v) in self.failed for v in node.inputs):
            # an input was refused already: that refusal is the cause, do not report this node
            self.failed.update(id(v) for v in node.outputs if v is not None)
            return
        ctx = Ctx(self, node)
        mark = len(self.lines)
        self.read_symbolic = False
        try:
            for v in node.outputs:
                if v is not None and v.kind != "tensor":
                    raise UnsupportedOp(f"{v.kind} values have no Keras equivalent")
            for v in node.inputs:
                if v is not None and v.kind != "tensor":
                    raise UnsupportedOp(f"{v.kind} values have no Keras equivalent")
            result = fn(ctx)
            self._assign(node, ctx, result, self.read_symbolic)
        except UnsupportedOp as e:
            del self.lines[mark:]
            self.failed.update(id(v) for v in node.outputs if v is not None)
            self.refusals.append(Refusal(node.op_type, node.name, e.reason, node.domain))

    def _assign(self, node: ir.Node, ctx: Ctx, result: object, symbolic: bool = True) -> None:
        outs = node.outputs
        if isinstance(result, Unpack):
            names = []
            for j in range(result.n):
                v = outs[j] if j < len(outs) else None
                names.append(self._fresh_for(v) if v is not None else "_")
            self.emit(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {result.expr}")
            for j, v in enumerate(outs):
                if v is not None and j < len(names):
                    self.bind(v, names[j], ctx.out_perms.get(j), symbolic)
            return
        exprs = [result] if isinstance(result, str) else list(result)  # type: ignore[arg-type]
        for j, v in enumerate(outs):
            if v is None or (id(v) not in self.readers and id(v) not in self.output_ids):
                continue  # an output nobody reads is not computed
            if j >= len(exprs) or exprs[j] is None:
                raise UnsupportedOp(f"output {j} is not produced")
            expr = exprs[j]
            if expr.isidentifier():
                self.bind(v, expr, ctx.out_perms.get(j), symbolic)  # an alias: no new statement
                continue
            name = self._fresh_for(v)
            self.emit(f"{name} = {expr}")
            self.bind(v, name, ctx.out_perms.get(j), symbolic)

    # -- subgraphs (If branches, unrolled Loop / Scan bodies) ------------------------------
    def lower_subgraph(
        self,
        graph: ir.Graph,
        args: list[tuple[str, bool]],
        consts: dict[int, np.ndarray] | None = None,
        types: list[tuple[int, tuple[ir.Dim, ...] | None]] | None = None,
    ) -> list[tuple[str, bool]]:
        """Lower one copy of a subgraph into the functional graph, its inputs bound to `args`
        ((code, whether the code is a KerasTensor) per input); returns the same for its outputs.

        Called once per unrolled iteration: the body's values of a previous copy are forgotten
        first. `consts` gives some body inputs a value known at conversion time (the iteration
        number of an unrolled Loop); body nodes computable from constants alone are then folded
        (Codegen._fold), per copy, so the lowerings see constants (e.g. a Slice start). `types` gives the
        (element type, shape) of each body input: a body that shape inference could not type
        (one from a function expansion) is then typed node by node, for this copy only."""
        outer_flag = self.read_symbolic
        saved = (self.readers, self.output_ids)
        self.readers = {**self.readers, **graph.users()}
        self.output_ids = self.output_ids | {id(v) for v in graph.outputs}
        local = [*graph.inputs, *(v for n in graph.nodes for v in n.outputs if v is not None)]
        folded: list[ir.Value] = []
        saved_log, saved_consts = self.type_log, self.const_log
        self.const_log = folded  # constants found for this copy are undone after it
        typed: list[tuple[ir.Value, int, tuple[ir.Dim, ...] | None]] = []  # (value, old elem, old shape)
        self.type_log = typed  # types found for this copy are undone after it
        mark = len(self.refusals)
        try:
            for v in local:
                self._forget(v)
            for v, (code, symbolic) in zip(graph.inputs, args):
                self.bind(v, code, None, symbolic)
            for v, t in zip(graph.inputs, types or []):
                if t is not None:
                    self.set_type(v, t[0], t[1])
            for v in graph.inputs:
                if consts and id(v) in consts:
                    v.const = consts[id(v)]
                    folded.append(v)
            for node in graph.nodes:
                self.lower_node(node)
            if len(self.refusals) > mark:
                first = self.refusals[mark]
                del self.refusals[mark:]
                raise UnsupportedOp(f"its subgraph's {first.op_type} cannot be converted: {first.reason}")
            outs = []
            for v in graph.outputs:
                self.read_symbolic = False
                code = self.code_in(v, None)
                outs.append((code, self.read_symbolic))
            self.subgraph_types = [(v.elem, v.shape) for v in graph.outputs]
        finally:
            self.type_log, self.const_log = saved_log, saved_consts
            for v in folded:
                v.const = None
            for v, elem, shape in reversed(typed):
                v.elem, v.shape = elem, shape
            self.shapes_dirty = self.shapes_dirty or bool(typed)
            self.readers, self.output_ids = saved
        self.read_symbolic = outer_flag or any(sym for _, sym in outs)
        return outs

    def set_type(self, v: ir.Value, elem: int, shape: tuple[ir.Dim, ...] | None) -> None:
        """Record a type found for `v` (undone after the subgraph copy when inside one)."""
        if (not v.elem and elem) or _better(v.shape, shape):
            if self.type_log is not None:
                self.type_log.append((v, v.elem, v.shape))
            v.elem = v.elem or elem
            if _better(v.shape, shape):
                v.shape = shape
                self.shapes_dirty = True

    def _refine_types(self, node: ir.Node) -> None:
        """Outputs whose type or shape the model's shape inference left open (a function
        expansion is typed on its own, a subgraph copy not at all) get what ONNX's inference
        finds for this node alone, from its inputs' types, constants and known shape values."""
        outs = [v for v in node.outputs if v is not None and v.kind == "tensor"]
        if not outs or all(v.elem and v.static_shape is not None for v in outs):
            return
        if self.shapes_dirty:
            self.shape_values = shape_values(self.graph)
            self.shapes_dirty = False
        found = _infer_types(node, self.graph.opset, self.shape_values)
        for v, (elem, shape) in zip(node.outputs, found):
            if v is not None and elem is not None:
                self.set_type(v, elem, shape)

    def _fold(self, node: ir.Node) -> bool:
        """Compute a node at conversion time when its inputs became known here (a shape made
        static by _refine_types, an unrolled iteration number): the fold pass, applied late."""
        from ...passes.fold import _try_fold

        results = _try_fold(node)
        if results is None:
            return False
        for v, r in zip([o for o in node.outputs if o is not None], results):
            v.const = r
            if self.const_log is not None:
                self.const_log.append(v)
        self.shapes_dirty = True
        return True

    def _forget(self, v: ir.Value) -> None:
        self.codes.pop(id(v), None)
        self.perms.pop(id(v), None)
        self.symbolic.discard(id(v))
        self.failed.discard(id(v))
        for key in [k for k in self.views if k[0] == id(v)]:
            del self.views[key]
        for key in [k for k in self.const_codes if k[0] == id(v)]:
            del self.const_codes[key]

    def _fresh_for(self, v: ir.Value) -> str:
        return self.locals.fresh(_value_hint(v.name), fallback="x")


def _better(old: tuple[ir.Dim, ...] | None, new: tuple[ir.Dim, ...] | None) -> bool:
    """Whether shape `new` says more than `old`: a rank where there was none, or a static dim
    where `old` has a symbolic or unknown one (and no dim the other way)."""
    if new is None:
        return False
    if old is None:
        return True
    if len(old) != len(new):
        return False
    gains = [isinstance(n, int) and not isinstance(o, int) for o, n in zip(old, new)]
    losses = [isinstance(o, int) and not isinstance(n, int) for o, n in zip(old, new)]
    return any(gains) and not any(losses)


def _infer_types(
    node: ir.Node, opset: dict[str, int], known: dict[int, list[ir.Dim]]
) -> list[tuple[int | None, tuple[ir.Dim, ...] | None]]:
    """(element type, shape) per output of `node` by ONNX's shape inference of this node alone,
    from its inputs' types and the values known at conversion time (constants, and 1-D shape
    tensors whose elements are all known); (None, None) where nothing is found."""
    import onnx
    from onnx import helper, numpy_helper

    none: list[tuple[int | None, tuple[ir.Dim, ...] | None]] = [(None, None)] * len(node.outputs)
    if any(True for _ in node.subgraphs()):
        return none
    if any(v is not None and (not v.elem or v.shape is None or v.kind != "tensor") for v in node.inputs):
        return none
    in_names = [f"i{k}" if v is not None else "" for k, v in enumerate(node.inputs)]
    out_names = [f"o{k}" if v is not None else "" for k, v in enumerate(node.outputs)]
    try:
        attrs = {k: (numpy_helper.from_array(a) if isinstance(a, np.ndarray) else a) for k, a in node.attrs.items()}
        proto = helper.make_node(node.op_type, in_names, out_names, domain=node.domain, **attrs)
        schema = onnx.defs.get_schema(node.op_type, opset.get(node.domain, opset.get("", 1)), node.domain)
        types, data = {}, {}
        for name, v in zip(in_names, node.inputs):
            if v is None:
                continue
            dims = [d if isinstance(d, (int, str)) else None for d in v.shape]  # type: ignore[union-attr]
            types[name] = helper.make_tensor_type_proto(v.elem, dims)
            arr = v.const
            if arr is None and id(v) in known and all(isinstance(d, int) for d in known[id(v)]):
                arr = np.array(known[id(v)], dtype=helper.tensor_dtype_to_np_dtype(v.elem))
                if v.rank == 0 and arr.size == 1:
                    arr = arr.reshape(())
            if arr is not None and arr.dtype != object:
                data[name] = numpy_helper.from_array(arr, name)
        result = onnx.shape_inference.infer_node_outputs(schema, proto, types, data)
    except Exception:
        return none  # not inferable here: the lowering refuses with its own reason
    found = []
    for name in out_names:
        if not name or name not in result or not result[name].HasField("tensor_type"):
            found.append((None, None))
            continue
        tt = result[name].tensor_type
        shape = None
        if tt.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tt.shape.dim)
        found.append((tt.elem_type or None, shape))
    return found


def _needed_nodes(graph: ir.Graph, reshape_target) -> set[int]:
    """id() of the nodes whose results the outputs need (see _unread_inputs)."""
    live = {id(v) for v in graph.outputs}
    needed: set[int] = set()
    for node in reversed(graph.nodes):
        if not any(v is not None and id(v) in live for v in node.outputs):
            continue
        needed.add(id(node))
        # a Reshape whose target is known here never reads its shape input, so the
        # Shape/Gather/Concat chain computing it at run time is not emitted
        skip = {1} if node.op_type == "Reshape" and node.domain == "" and reshape_target(node) is not None else set()
        for i, v in enumerate(node.inputs):
            if v is not None and i not in skip:
                live.add(id(v))
        for g in node.subgraphs():  # values a branch or body reads from this graph
            live.update(id(v) for v in ir.captured_values(g))
    return needed


def render_plan(plan: Plan) -> str:
    import black

    code_text = "\n".join(plan.body)
    source = render("keras/model.py.j2", plan=plan, uses_np=bool(re.search(r"\bnp\.", code_text)))
    try:
        return black.format_str(source, mode=black.Mode(line_length=100))
    except Exception as e:  # a lowering produced invalid code: a bug of ours, say where
        raise RuntimeError(f"generated code does not parse ({e}); this is a transpiler bug") from None


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


def _unique(refusals: list[Refusal]) -> list[Refusal]:
    seen, out = set(), []
    for r in refusals:
        key = (r.op_type, r.node_name, r.reason)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _model_name(info: ModelInfo) -> str:
    stem = info.file_name
    for suffix in (".onnx", ".struct", ".filled"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return camel(stem or info.graph_name, fallback="Net")


def _value_hint(name: str) -> str:
    """A short local name from an ONNX value name ('/layer1/layer1.0/conv1/Conv_output_0' -> 'conv1')."""
    if "::" in name:
        name = name.split("::")[-1]
    if "/" in name:
        parts = [p for p in name.split("/") if p]
        if parts:
            last = _OP_SUFFIX.sub("", parts[-1])
            if len(parts) >= 2 and last[:1].isupper():
                name = parts[-2].split(".")[-1]
            else:
                name = last
    return re.sub(r"\d+$", "", name.lower()).strip("_.") or "x"


def _layer_hint(node: ir.Node) -> str:
    """A layer name: the weight's dotted path ('layer1.0.conv1.weight' -> 'layer1_0_conv1'), else
    the node's scope path ('/layer1/layer1.0/conv1/Conv' -> 'layer1_0_conv1'), else the op."""
    for v in node.inputs[1:]:
        if v is not None and v.const is not None and "." in v.name and "::" not in v.name:
            return v.name.rsplit(".", 1)[0]
    name = node.name
    if "/" in name:
        parts = [p for p in name.split("/") if p]
        if len(parts) >= 2:
            return ".".join(p.split(".")[-1] if i == 0 else p for i, p in enumerate(parts[:-1]))[-48:]
    return name or node.op_type.lower()


def _describe(v: ir.Value) -> str:
    dims = "?" if v.shape is None else "x".join(str(d) if d is not None else "?" for d in v.shape)
    dtype = KERAS_DTYPES.get(v.elem, f"type {v.elem}")
    return _safe_text(f"{dtype} [{dims}]")


def _safe_text(s: str) -> str:
    """Text from the model made safe for a docstring: printable ASCII, no quotes or backslashes."""
    out = "".join(c if (c.isascii() and c.isprintable() and c not in "\"'\\") else "_" for c in s)
    return out[:80]


__all__ = ["Codegen", "Plan", "render_plan", "FLOATS"]
