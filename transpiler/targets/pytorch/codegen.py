"""Lowering an IR graph to a PyTorch plan (modules, weights, forward statements) and rendering it.

The plan is plain data; `templates/pytorch/module.py.j2` decides how the file looks and black
formats it. Lowerings live in `ops/` and decide what each op becomes.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ... import __version__, ir
from ...errors import Refusal, UnsupportedModel, UnsupportedOp
from ...frontends.onnx import ModelInfo
from ...names import Namespace, camel, clean
from ...render import render, template_text
from ..base import OpTable
from .context import TORCH_DTYPES, Ctx, Unpack, lit

# nn.Module's own attributes: a generated submodule or weight must never shadow one.
NN_MODULE_ATTRS = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad""".split()
)
# Names the generated file itself uses at module level.
FILE_NAMES = frozenset({"torch", "nn", "F", "math", "np", "os", "Path", "load_file", "load_model", "self"})
TRAINABLE = frozenset({ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16, ir.COMPLEX64, ir.COMPLEX128})
_OP_SUFFIX = re.compile(r"_output_\d+$")


@dataclass
class Plan:
    """Everything the template needs, as plain data."""

    class_name: str
    header: str
    class_doc: list[str]
    init_lines: list[str]
    forward_args: list[str]
    body: list[str]
    returns: list[str]
    return_annotation: str
    helpers: list[str]
    state: dict[str, np.ndarray] = field(default_factory=dict)


class Codegen:
    def __init__(self, graph: ir.Graph, info: ModelInfo, table: OpTable, class_name: str | None) -> None:
        self.graph = graph
        self.info = info
        self.table = table
        name = camel(class_name) if class_name else _class_name(info)
        self.class_name = name + "Net" if name in FILE_NAMES else name  # never shadow `F`, `Path`, ...
        self.attrs = Namespace(reserved=NN_MODULE_ATTRS)
        self.helper_names: dict[str, str] = {}
        self.locals = Namespace(reserved=FILE_NAMES | {self.class_name})
        self.init_lines: list[str] = []
        self.state: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.const_names: dict[int, str] = {}
        self.refusals: list[Refusal] = []
        self._readers = graph.users()
        self._lines: list[str] = []

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
        name = self.attrs.fresh(hint or _module_hint(node, self._readers), fallback="layer")
        self.init_lines.append(f"self.{name} = {ctor}")
        for key, arr in params.items():
            self.state[f"{name}.{key}"] = np.ascontiguousarray(arr)
        return f"self.{name}"

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
        code = self.add_weight(v.const, _value_hint(v.name), elem=v.elem, what=f"constant {v.name!r}")
        self.const_names[id(v)] = code
        return code

    def add_weight(self, arr: np.ndarray, hint: str, elem: int = 0, what: str = "a constant") -> str:
        """Declare `arr` as a parameter (float types: trainable) or buffer of the module, saved in
        the weights file; returns its code (`self.<name>`)."""
        if arr.dtype == object:
            raise UnsupportedOp(f"{what} holds strings")
        name = self.attrs.fresh(hint, fallback="const")
        elem = elem or _elem_of(arr)
        dtype = TORCH_DTYPES.get(elem)
        if dtype is None:
            raise UnsupportedOp(f"{what} has element type {elem}, which PyTorch cannot hold")
        shape = ", ".join(str(int(d)) for d in arr.shape) if arr.ndim else "()"
        dtype_arg = "" if elem == ir.FLOAT else f", dtype={dtype}"
        empty = f"torch.empty({shape}{dtype_arg})"
        if elem in TRAINABLE:
            self.init_lines.append(f"self.{name} = nn.Parameter({empty})")
        else:
            self.init_lines.append(f"self.register_buffer({name!r}, {empty})")
        from .runner import carrier_array  # int4 & co. are stored as the dtype that carries them

        self.state[name] = np.ascontiguousarray(carrier_array(arr))
        return f"self.{name}"

    # -- lowering -------------------------------------------------------------------------
    def bind(self, v: ir.Value, hint: str | None = None) -> str:
        name = self.locals.fresh(hint or _value_hint(v.name), fallback="x")
        self.names[id(v)] = name
        return name

    def lower_nodes(self, nodes: list[ir.Node]) -> None:
        for node in nodes:
            self.lower_node(node)

    def lower_node(self, node: ir.Node) -> None:
        fn = self.table.get(node.domain, node.op_type)
        if fn is None:
            self.refusals.append(Refusal(node.op_type, node.name, "no PyTorch lowering for this op", node.domain))
            self._bind_outputs(node)
            return
        mark = len(self._lines)
        try:
            result = fn(Ctx(self, node))
        except UnsupportedOp as e:
            del self._lines[mark:]
            self.refusals.append(Refusal(node.op_type, node.name, e.reason, node.domain))
            self._bind_outputs(node)
            return
        self._assign(node, result)

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
        with self.block() as lines:
            self.lower_nodes(graph.nodes)
            outs = [self._output_code(v) for v in graph.outputs]
        return lines, outs

    def _output_code(self, v: ir.Value) -> str:
        try:
            return self.value_code(v)
        except UnsupportedOp:
            return "None"

    # -- the whole file -------------------------------------------------------------------
    def plan(self) -> Plan:
        args = []
        for v in self.graph.inputs:
            name = self.bind(v, clean(v.name, "input"))
            args.append(f"{name}: {_annotation(v)}")
        with self.block() as body:
            self.lower_nodes(self.graph.nodes)
            returns = [self._output_code(v) for v in self.graph.outputs]
        if self.refusals:
            raise UnsupportedModel("pytorch", self.refusals)
        returns = [f"{r}.clone()" if r.startswith("self.") else r for r in returns]
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
        return Plan(
            class_name=self.class_name,
            header=header,
            class_doc=doc,
            init_lines=self.init_lines,
            forward_args=args,
            body=body,
            returns=returns,
            return_annotation=ann,
            helpers=helpers,
            state=self.state,
        )


def render_plan(plan: Plan) -> str:
    import black

    code_text = "\n".join(
        [*plan.init_lines, *plan.forward_args, plan.return_annotation, *plan.body, *plan.returns, *plan.helpers]
    )
    source = render(
        "pytorch/module.py.j2",
        plan=plan,
        uses_F=bool(re.search(r"\bF\.", code_text)),
        uses_math=bool(re.search(r"\bmath\.", code_text)),
        uses_np=bool(re.search(r"\bnp\.", code_text)),
    )
    try:
        return black.format_str(source, mode=black.Mode(line_length=100))
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
