"""Lowering an IR graph to a PyTorch plan (modules, weights, forward statements) and rendering it.

The plan is plain data; `templates/pytorch/module.py.j2` decides how the file looks and black
formats it. Lowerings live in `ops/` and decide what each op becomes.
"""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ... import __version__, ir
from ...errors import Refusal, UnsupportedModel, UnsupportedOp
from ...frontends.onnx import ModelInfo
from ...names import Namespace, camel, clean
from ...passes.blocks import Piece
from ...passes.scope import module_path, strip_index
from ...render import format_python, render, template_text
from ..base import OpTable
from .blocks import BlockCall, ClassPlan, lower_blocks
from .context import TORCH_DTYPES, Ctx, Unpack, lit
from .reserved import FILE_NAMES, NN_MODULE_ATTRS
from .tree import ModuleTree

TRAINABLE = frozenset({ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16, ir.COMPLEX64, ir.COMPLEX128})
_OP_SUFFIX = re.compile(r"_output_\d+$")


@dataclass
class Plan:
    """Everything the template needs, as plain data."""

    class_name: str
    header: str
    classes: list[ClassPlan]  # block classes first, the model's class last
    helpers: list[str]
    state: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _File:
    """What the classes of one generated file share."""

    info: ModelInfo
    table: OpTable
    readers: dict[int, list[ir.Node]]
    helper_names: dict[str, str] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)


Item = ir.Node | BlockCall
CHAIN_NAMES = ("x", "out", "y", "z")  # locals a straight chain of ops threads through
INF = 1 << 60


class _Names(dict[int, str]):
    """id(value) -> its code; remembers which codes hold a pending token (`__pendingN__`), so
    settling one looks at those few instead of every name (that scan made lowering quadratic)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: set[int] = set()

    def __setitem__(self, key: int, code: str) -> None:
        super().__setitem__(key, code)
        if "__pending" in code:
            self.pending.add(key)
        else:
            self.pending.discard(key)


class Codegen:
    """Lowers nodes into one class: its `__init__` (module tree, weights) and its `forward`."""

    def __init__(
        self, graph: ir.Graph, info: ModelInfo, table: OpTable, class_name: str | None = None,
        *, file: _File | None = None, prefix: tuple[str, ...] | None = None,
    ) -> None:
        self.graph = graph
        self.info = info
        self.table = table
        self.file = file or _File(info, table, graph.users())
        name = camel(class_name) if class_name else _class_name(info)
        self.class_name = name + "Net" if name in FILE_NAMES else name  # never shadow `F`, `Path`, ...
        self.in_block = prefix is not None
        self.prefix = prefix or ()
        self.attrs = Namespace(reserved=NN_MODULE_ATTRS)
        self.tree = ModuleTree(self.attrs, NN_MODULE_ATTRS)
        self.locals = Namespace(reserved=FILE_NAMES | {self.class_name})
        self.state: dict[str, np.ndarray] = {}
        self.names = _Names()
        self.const_names: dict[int, str] = {}
        self._readers = self.file.readers
        self._lines: list[str] = []
        self._depth = 0  # > 0 while lowering a subgraph body (no name reuse there)
        self._last: dict[int, int] = {}
        self._index = 0
        self._holder: dict[str, ir.Value] = {}  # chain name -> the value it holds now
        self._chain: list[str] = []
        self._next: Item | None = None
        self._item: Item | None = None
        self._pending: tuple[str, ir.Value, str, list[ir.Value]] | None = None
        self._tokens = 0
        self._simple_line = -1

    @property
    def refusals(self) -> list[Refusal]:
        return self.file.refusals

    @property
    def helper_names(self) -> dict[str, str]:
        return self.file.helper_names

    # -- used by Ctx ----------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self._lines.extend(line.split("\n"))

    @contextmanager
    def block(self) -> Iterator[list[str]]:
        """Collect the statements emitted inside into a separate list (for nested bodies)."""
        saved, self._lines = self._lines, []
        try:
            yield self._lines
        finally:
            self._lines = saved

    def value_code(self, v: ir.Value) -> str:
        if id(v) in self.names:
            return self.names[id(v)]
        if v.const is not None:
            return self._const_attr(v)
        raise UnsupportedOp(f"value {v.name!r} is read before it is computed")

    def add_module(self, node: ir.Node, ctor: str, params: dict[str, np.ndarray], hint: str | None) -> str:
        path = module_path(node, self._readers) if hint is None else None
        if path is not None and self.in_block:
            n = len(self.prefix)
            path = path[n:] if path[:n] == self.prefix and len(path) > n else None
        name = hint or ("_".join(path) if path else strip_index(_module_hint(node, self._readers)))
        code, key = self.tree.add(path, ctor, name, nestable=ctor.startswith("nn."))
        for k, arr in params.items():
            # no contiguous copy: weights.write_array streams strided views itself; atleast_1d
            # keeps the (1,) shape scalars were always stored with (load_state_dict accepts it)
            self.state[f"{key}.{k}"] = np.atleast_1d(arr)
        return code

    def use_helper(self, name: str) -> str:
        if name not in self.helper_names:
            template_text(f"pytorch/helpers/{name}.py")  # fail early if it does not exist
            self.helper_names[name] = name
        self.locals.reserve(name)
        return name

    def _const_attr(self, v: ir.Value) -> str:
        if id(v) in self.const_names:
            return self.const_names[id(v)]
        assert v.const is not None
        hint = _value_hint(v.name)
        code = self.add_weight(v.const, strip_index(hint) if self.in_block else hint, elem=v.elem, what=f"constant {v.name!r}")
        self.const_names[id(v)] = code
        return code

    def add_weight(self, arr: np.ndarray, hint: str, elem: int = 0, what: str = "a constant") -> str:
        """Declare `arr` as a parameter (float types: trainable) or buffer of the module, saved in
        the weights file; returns its code (`self.<name>`)."""
        if arr.dtype == object:
            raise UnsupportedOp(f"{what} holds strings")
        elem = elem or _elem_of(arr)
        dtype = TORCH_DTYPES.get(elem)
        if dtype is None:
            raise UnsupportedOp(f"{what} has element type {elem}, which PyTorch cannot hold")
        name = self.attrs.fresh(hint, fallback="const")
        shape = ", ".join(str(int(d)) for d in arr.shape) if arr.ndim else "()"
        dtype_arg = "" if elem == ir.FLOAT else f", dtype={dtype}"
        empty = f"torch.empty({shape}{dtype_arg})"
        if elem in TRAINABLE:
            self.tree.line(f"self.{name} = nn.Parameter({empty})")
        else:
            self.tree.line(f"self.register_buffer({name!r}, {empty})")
        from .runner import carrier_array  # int4 & co. are stored as the dtype that carries them

        self.state[name] = np.atleast_1d(carrier_array(arr))  # no copy; see add_module
        return f"self.{name}"

    # -- lowering -------------------------------------------------------------------------
    def bind(self, v: ir.Value, hint: str | None = None) -> str:
        if hint is None:
            hint = _value_hint(v.name)
            if self.in_block or id(v) not in self._graph_outputs():
                hint = strip_index(hint)
        name = self.locals.fresh(hint, fallback="x")
        self.names[id(v)] = name
        return name

    def _graph_outputs(self) -> set[int]:
        return {id(v) for v in self.graph.outputs}

    def lower_nodes(self, nodes: list[ir.Node]) -> None:
        for node in nodes:
            self.lower_node(node)

    def lower_items(self, items: list[Item], keep: list[ir.Value]) -> None:
        """Lower a straight list of steps, threading chain names (`x`, `out`) through them: a
        value takes over the name of an input that dies at its step."""
        self._last = {id(v): INF for v in keep}
        for i, it in enumerate(items):
            for v in _reads(it):
                if self._last.get(id(v)) != INF:
                    self._last[id(v)] = i
        for c in CHAIN_NAMES:
            if c not in self._chain and self.locals.fresh(c) == c:
                self._chain.append(c)
        for i, it in enumerate(items):
            self._index = self.tree.rank = i
            self._next = items[i + 1] if i + 1 < len(items) else None
            self._item = it
            pending, self._pending = self._pending, None
            mark = len(self._lines)
            if isinstance(it, BlockCall):
                self._assign_simple([it.input], it.output, f"{it.code}({self.value_code(it.input)})")
            else:
                self.lower_node(it)
            if pending is not None:
                self._settle(pending, mark, i - 1)
        self._next = None

    def _settle(self, pending: tuple[str, ir.Value, str, list[ir.Value]], mark: int, index: int) -> None:
        """The step after a deferred module call has been lowered: put the call inside that step's
        expression when it reads it exactly once there (`x = F.relu(self.conv1(x))`), else assign
        it first, as usual."""
        token, v, expr, reads = pending
        new = self._lines[mark:]
        uses = sum(line.count(token) for line in new)
        leaked = any(token in self.names[k] for k in self.names.pending if self.names[k] != token)
        last = self._lines[-1] if self._lines else ""
        into_call = last.partition(" = ")[2].startswith("self.")  # no layer(layer(x)) nesting
        if uses == 1 and not leaked and not into_call and self._simple_line == len(self._lines) - 1 and token in last:
            self._lines[-1] = self._lines[-1].replace(token, expr)
            self.names.pending.discard(id(v))  # its code stays the spent token, read by no one
            return
        saved, self._index = self._index, index
        name = self._choose_name(reads, v)
        self._index = saved
        self._lines[mark:] = [f"{name} = {expr}", *(line.replace(token, name) for line in new)]
        for key in list(self.names.pending):
            code = self.names[key]
            if token in code:
                self.names[key] = code.replace(token, name)

    def lower_node(self, node: ir.Node) -> None:
        fn = self.file.table.get(node.domain, node.op_type)
        if fn is None:
            self.refusals.append(Refusal(node.op_type, node.name, "no PyTorch lowering for this op", node.domain))
            self._bind_outputs(node)
            return
        mark = len(self._lines)
        bound = len(self.names)  # names are only ever added during a lowering: a count suffices
        try:
            result = fn(Ctx(self, node))
        except UnsupportedOp as e:
            del self._lines[mark:]
            self.refusals.append(Refusal(node.op_type, node.name, e.reason, node.domain))
            self._bind_outputs(node)
            return
        out = node.outputs[0] if len(node.outputs) == 1 else None
        if isinstance(result, list) and out is not None and result and isinstance(result[0], str):
            result = result[0]  # extra entries are for optional outputs the node does not have
        simple = (
            self._depth == 0 and isinstance(result, str) and out is not None and len(self._lines) == mark
            and id(out) not in self.names and len(self.names) == bound
        )
        if simple:
            self._assign_simple([v for v in node.inputs if v is not None], out, result)
        else:
            self._assign(node, result)

    def _assign_simple(self, reads: list[ir.Value], out: ir.Value, expr: str) -> None:
        """`name = expr` for a value computed in one expression; a module call read only by the
        next step is deferred so that step can take it inline."""
        if self._can_defer(out, expr):
            self._tokens += 1
            token = f"__pending{self._tokens}__"
            self.names[id(out)] = token
            self._pending = (token, out, expr, reads)
            return
        name = self._choose_name(reads, out)
        self.emit(f"{name} = {expr}")
        self._simple_line = len(self._lines) - 1

    def _can_defer(self, out: ir.Value, expr: str) -> bool:
        nxt = self._next
        if nxt is None or isinstance(nxt, BlockCall) or isinstance(self._item, BlockCall):
            return False  # a block call stays a step of its own
        if self._depth or "__pending" in expr or not expr.startswith("self."):
            return False
        if self._last.get(id(out)) != self._index + 1 or id(out) in self._graph_outputs():
            return False
        try:
            if not isinstance(ast.parse(expr, mode="eval").body, ast.Call):
                return False
        except SyntaxError:
            return False
        return len(self._readers.get(id(out), ())) == 1

    def _choose_name(self, reads: list[ir.Value], out: ir.Value) -> str:
        """A chain name when one is free after this step (an input that dies here hands its name
        on), else a fresh name."""
        name = None
        if self._chain and id(out) not in self._graph_outputs():
            i = self._index
            for v in reads:  # an input that dies here hands its name on
                held = self.names.get(id(v))
                if held in self._holder and self._holder[held] is v and self._last.get(id(v), INF) <= i:
                    name = held
                    break
            if name is None:
                name = next(
                    (c for c in self._chain
                     if c not in self._holder or self._last.get(id(self._holder[c]), INF) <= i),
                    None,
                )
        if name is None:
            return self.bind(out)
        self.names[id(out)] = name
        self._holder[name] = out
        return name

    def _bind_outputs(self, node: ir.Node) -> None:
        for v in node.outputs:
            if v is not None:
                self.bind(v)

    def _assign(self, node: ir.Node, result: str | list[str | None] | Unpack) -> None:
        outs = node.outputs
        if isinstance(result, Unpack):
            targets = [self.bind(v) if v is not None else "_" for v in outs]
            targets += ["_"] * (result.n - len(targets))
            if all(t == "_" for t in targets):
                return
            self.emit(f"{', '.join(targets)} = {result.expr}")
            return
        if isinstance(result, str):
            result = [result]
        for v, expr in zip(outs, result):
            if v is None or expr is None:
                continue
            if id(v) in self.names:  # already bound by the lowering itself
                continue
            self.emit(f"{self.bind(v)} = {expr}")

    def lower_subgraph(self, graph: ir.Graph, arg_names: list[str | None]) -> tuple[list[str], list[str]]:
        """Lower a subgraph (If branch, Loop/Scan body) whose inputs are bound to `arg_names` (None:
        a fresh local named after the input); returns (statements, output codes). The statements
        read enclosing values by their existing names: a body is inlined, not a function."""
        for v, name in zip(graph.inputs, arg_names):
            if name is None:
                self.bind(v)
            else:
                self.names[id(v)] = name
        self._depth += 1
        try:
            with self.block() as lines:
                self.lower_nodes(graph.nodes)
                outs = [self._output_code(v) for v in graph.outputs]
        finally:
            self._depth -= 1
        return lines, outs

    def _output_code(self, v: ir.Value) -> str:
        try:
            return self.value_code(v)
        except UnsupportedOp:
            return "None"

    # -- one block instance ---------------------------------------------------------------
    def lower_piece(self, piece: Piece) -> tuple[list[str], str]:
        assert piece.input is not None and piece.output is not None
        self.names[id(piece.input)] = self.locals.fresh("x")
        self._chain.append("x")
        self._holder["x"] = piece.input
        with self.block() as body:
            self.lower_items(list(piece.nodes), [piece.output])
            ret = _return_inline(body, self._output_code(piece.output))
        return body, ret

    # -- the whole file -------------------------------------------------------------------
    def plan(self) -> Plan:
        classes, items = lower_blocks(self)
        args = []
        for v in self.graph.inputs:
            name = self.bind(v, clean(v.name, "input"))
            args.append(f"{name}: {_annotation(v)}")
        with self.block() as body:
            self.lower_items(items, list(self.graph.outputs))
            returns = [self._output_code(v) for v in self.graph.outputs]
        if self.refusals:
            raise UnsupportedModel("pytorch", _unique(self.refusals))
        returns = [f"{r}.clone()" if r.startswith("self.") else r for r in returns]
        if len(returns) == 1 and not self._readers.get(id(self.graph.outputs[0])):
            returns = [_return_inline(body, returns[0])]
        n_out = len(self.graph.outputs)
        ann = _annotation(self.graph.outputs[0]) if n_out == 1 else "tuple[" + ", ".join(
            _annotation(v) for v in self.graph.outputs
        ) + "]"
        info = self.info
        header = (
            f"{self.class_name}, converted from {_safe_text(info.file_name)} "
            f"(sha256 {info.sha256}, opset {info.opset}) by transpiler {__version__}."
        )
        doc = [f"Converted from {_safe_text(info.file_name)}."]
        doc += [f"Input {_safe_text(v.name)}: {_describe(v)}" for v in self.graph.inputs]
        doc += [f"Output {_safe_text(v.name)}: {_describe(v)}" for v in self.graph.outputs]
        helpers = [template_text(f"pytorch/helpers/{h}.py").strip() for h in sorted(self.helper_names)]
        main = ClassPlan(
            name=self.class_name, doc=doc, init_args=[], init_lines=self.tree.init_lines(),
            forward_args=args, body=body, returns=returns, return_annotation=ann,
        )
        return Plan(
            class_name=self.class_name, header=header, classes=[*classes, main], helpers=helpers, state=self.state,
        )



def _return_inline(body: list[str], ret: str) -> str:
    """`return <expr>` instead of `name = <expr>` + `return name` when the last statement computes
    the returned value (removes that statement from `body`)."""
    m = _LAST_ASSIGN.match(body[-1]) if body else None
    if m is None or m.group(1) != ret:
        return ret
    body.pop()
    return m.group(2)


_LAST_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*) = (.+)$")


def _reads(it: Item) -> list[ir.Value]:
    if isinstance(it, BlockCall):
        return [it.input]
    vals = [v for v in it.inputs if v is not None]
    for g in it.subgraphs():
        vals.extend(ir.captured_values(g))
    return vals


def _unique(refusals: list[Refusal]) -> list[Refusal]:
    seen: set[tuple] = set()
    out = []
    for r in refusals:
        key = (r.domain, r.op_type, r.node_name, r.reason)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def render_plan(plan: Plan) -> str:
    code_text = "\n".join(
        [
            *plan.helpers,
            *(
                line for c in plan.classes
                for line in [*c.init_args, *c.init_lines, *c.forward_args, c.return_annotation, *c.body, *c.returns]
            ),
        ]
    )
    source = render(
        "pytorch/module.py.j2",
        plan=plan,
        uses_F=bool(re.search(r"\bF\.", code_text)),
        uses_math=bool(re.search(r"\bmath\.", code_text)),
        uses_np=bool(re.search(r"\bnp\.", code_text)),
    )
    try:
        return format_python(source, 100)  # black's output byte for byte, faster on long files
    except Exception as e:  # a lowering produced invalid code: a bug of ours, say where
        raise RuntimeError(f"generated code does not parse ({e}); this is a transpiler bug") from None


def _class_name(info: ModelInfo) -> str:
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
    return name.lower()


def _module_hint(node: ir.Node, readers: dict[int, list[ir.Node]]) -> str:
    """A module attribute name: the dotted parameter path when the node's own weights carry one
    ('layer1.0.conv1.weight' -> 'layer1_0_conv1'), else the node's scope path
    ('/layer1/layer1.0/conv1/Conv' -> 'layer1_0_conv1'), else the node or op name. A weight read by
    several nodes (exporters share identical tensors) names none of them."""
    named = [
        v for v in node.inputs[1:]
        if v is not None and v.const is not None and "::" not in v.name and "." in v.name
        and len(readers.get(id(v), ())) <= 1
    ]
    named.sort(key=lambda v: not v.name.endswith(".weight"))
    if named:
        return named[0].name.rsplit(".", 1)[0]
    if "/" in node.name:
        parts = [p for p in node.name.split("/") if p][:-1]
        kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
        if kept:
            return "_".join(kept)
    if node.name.startswith("node_"):  # torch.export names: node_linear_3, node_Conv_292
        return node.name[len("node_"):].lower()
    return node.op_type.lower()


def _annotation(v: ir.Value) -> str:
    if v.kind == "sequence":
        return "list[torch.Tensor]"
    if v.kind == "optional":
        return "list[torch.Tensor] | None" if v.inner_kind == "sequence" else "torch.Tensor | None"
    if v.elem == ir.STRING:
        return "np.ndarray"  # strings stay numpy arrays of str: PyTorch has no string tensor
    return "torch.Tensor"


def _describe(v: ir.Value) -> str:
    from onnx.helper import tensor_dtype_to_string

    try:
        dt = tensor_dtype_to_string(v.elem).replace("TensorProto.", "").lower() if v.elem else "?"
    except Exception:
        dt = "?"
    shape = "?" if v.shape is None else "[" + ", ".join(_safe_text(str(d)) if d is not None else "?" for d in v.shape) + "]"
    return f"{v.kind} {dt} {shape}" if v.kind != "tensor" else f"{dt} {shape}"


def _safe_text(s: str) -> str:
    """Text from the model made safe for a docstring: printable ASCII, no quotes or backslashes."""
    out = "".join(c if (c.isascii() and c.isprintable() and c not in "\"'\\") else "_" for c in s)
    return out[:80]


def _elem_of(arr: np.ndarray) -> int:
    from onnx.helper import np_dtype_to_tensor_dtype

    return np_dtype_to_tensor_dtype(arr.dtype)


__all__ = ["Codegen", "Plan", "render_plan", "lit"]
