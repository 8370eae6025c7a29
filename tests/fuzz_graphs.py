"""Random small ONNX graphs for differential fuzzing (transpiled target vs onnxruntime).

`generate(seed)` returns a `FuzzCase`: a valid model (chains and DAGs of elementwise ops,
MatMul/Gemm/Conv/pooling, Reshape/Transpose/Concat/Slice/Split, reductions, normalisations, ...,
with random static shapes and broadcasting, at a random opset so older forms get canonicalised),
its seeded inputs and onnxruntime's outputs. Everything is a function of the seed.

Shapes are never computed by hand: each candidate node is added only if ONNX shape inference
(strict) accepts it and gives static, non-empty, small outputs; the finished model must also run
in onnxruntime, else the next attempt (same seed, next sub-seed) is drawn. Ops whose result jumps
on tiny input changes (Floor, Sign, casts to int, comparisons of computed values, ArgMax of
computed values) only ever read graph inputs, so both runtimes see bit-identical operands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, INT64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
MAX_ELEMS = 2048
OPSETS = (9, 11, 13, 17, 18, 21)
CONST_MODE_SHARE = 0.12  # graphs with constants for inputs: they test constant folding against onnxruntime

UNARY = [
    ("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("Neg", {}), ("Abs", {}), ("Erf", {}), ("Sin", {}),
    ("Cos", {}), ("Atan", {}), ("Softsign", {}), ("Softplus", {}), ("Identity", {}), ("Exp", {}),
    ("LeakyRelu", {"alpha": 0.1}), ("Elu", {"alpha": 0.7}), ("Selu", {}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
    ("Celu", {"alpha": 1.3}), ("HardSwish", {}), ("Mish", {}),
]
UNARY_SINCE = {"Celu": 12, "HardSwish": 14, "Mish": 18}
REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
          "ReduceSumSquare", "ReduceProd"]


@dataclass
class FuzzCase:
    seed: int
    model: onnx.ModelProto
    inputs: list[np.ndarray]
    expected: list[np.ndarray]
    ops: list[str] = field(default_factory=list)

    def describe(self) -> str:
        const = ", all constant" if not self.model.graph.input else ""
        return f"seed {self.seed}, opset {self.model.opset_import[0].version}{const}: {' -> '.join(self.ops)}"


class Builder:
    """A growing graph whose every value has a known static shape (from ONNX shape inference)."""

    def __init__(self, rng: np.random.Generator, opset: int, const_mode: bool = False) -> None:
        self.rng, self.opset, self.const_mode = rng, opset, const_mode
        self.nodes: list[onnx.NodeProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.feeds: list[np.ndarray] = []
        self.inits: list[onnx.TensorProto] = []
        self.shapes: dict[str, tuple[int, ...]] = {}  # float32 values usable as operands
        self.raw: set[str] = set()  # graph inputs (bit-identical in every runtime)
        self.int_outputs: list[str] = []  # int64/bool results offered only as graph outputs
        self.counter = 0
        self.types: dict[str, tuple[int, tuple[int, ...]]] = {}  # every node output: (elem, shape)

    # -- names and leaves
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def new_input(self, shape: tuple[int, ...]) -> str:
        if self.const_mode:  # every leaf a constant: the whole graph is constant-folded
            name = self.float_const(shape)
            self.raw.add(name)
            return name
        name = self.fresh("in")
        self.inputs.append(helper.make_tensor_value_info(name, FLOAT, list(shape)))
        self.feeds.append(self.rng.standard_normal(shape).astype(np.float32))
        self.shapes[name] = tuple(shape)
        self.raw.add(name)
        return name

    def const(self, arr: np.ndarray, prefix: str = "c") -> str:
        name = self.fresh(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def float_const(self, shape: tuple[int, ...], low: float | None = None, high: float | None = None) -> str:
        if low is None:
            arr = self.rng.standard_normal(shape).astype(np.float32)
        else:
            arr = self.rng.uniform(low, high, shape).astype(np.float32)
        name = self.const(arr, "w")
        self.shapes[name] = tuple(shape)
        return name

    def operand(self, shape: tuple[int, ...]) -> str:
        """A value of exactly `shape`: an existing one if any, else a new input or constant."""
        same = [n for n, s in self.shapes.items() if s == tuple(shape)]
        r = self.rng.random()
        if same and r < 0.4:
            return str(self.rng.choice(sorted(same)))
        return self.new_input(shape) if r < 0.7 else self.float_const(shape)

    def pick(self, ok: Callable[[tuple[int, ...]], bool] = lambda s: True, raw: bool = False) -> str | None:
        names = sorted(n for n, s in self.shapes.items() if ok(s) and (not raw or n in self.raw))
        if not names:
            return None
        # favour recent values: chains more than fans
        weights = np.array([1.0 + self.counter_of(n) for n in names])
        return str(self.rng.choice(names, p=weights / weights.sum()))

    @staticmethod
    def counter_of(name: str) -> int:
        digits = "".join(ch for ch in name if ch.isdigit())
        return int(digits) if digits else 0

    # -- axes: negative ones ("from the back") only exist since opset 11
    def axis(self, rank: int, extra: int = 0) -> int:
        """An axis in [0, rank + extra), sometimes in its negative form when the opset has them."""
        a = int(self.rng.integers(0, rank + extra))
        return self.signed(a, rank) if a < rank else a

    def signed(self, a: int, rank: int) -> int:
        return a - rank if self.opset >= 11 and self.rng.random() < 0.3 else a

    # -- adding nodes, checked by shape inference
    def try_add(self, nodes: list[onnx.NodeProto], float_outputs: list[str], int_outputs: list[str] = ()) -> bool:
        outs = [*float_outputs, *int_outputs]
        model = self.model(outs)
        try:
            inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
        except Exception:
            return False
        types = {vi.name: vi.type.tensor_type for vi in [*inferred.graph.value_info, *inferred.graph.output]}
        shapes = {}
        for name in outs:
            tt = types.get(name)
            if tt is None or not tt.HasField("shape"):
                return False
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
            if any(d <= 0 for d in dims) or int(np.prod(dims, dtype=np.int64)) > MAX_ELEMS:
                return False
            want = FLOAT if name in float_outputs else tt.elem_type
            if tt.elem_type != want:
                return False
            shapes[name] = tuple(dims)
        for name in float_outputs:
            self.shapes[name] = shapes[name]
        for name in outs:
            self.types[name] = (types[name].elem_type, shapes[name])
        self.int_outputs.extend(int_outputs)
        return True

    def add(self, op: str, inputs: list[str], n_out: int = 1, ints: bool = False, **attrs) -> list[str] | None:
        outs = [self.fresh("v") for _ in range(n_out)]
        node = helper.make_node(op, inputs, outs, name=self.fresh(f"{op}_"), **attrs)
        self.nodes.append(node)
        if self.try_add([node], [] if ints else outs, outs if ints else []):
            return outs
        self.nodes.pop()
        return None

    def model(self, outputs: list[str]) -> onnx.ModelProto:
        outs = [helper.make_tensor_value_info(n, *self.types[n]) if n in self.types else
                helper.make_tensor_value_info(n, 0, None) for n in outputs]
        used = {i for n in self.nodes for i in n.input} | set(outputs)
        inits = [t for t in self.inits if t.name in used]
        inputs = [vi for vi in self.inputs if vi.name in used]
        graph = helper.make_graph(self.nodes, "fuzz", inputs, outs, inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], ir_version=7)

    def attr_or_input(self, node_attrs: dict, inputs: list[str], key: str, values: list[int], input_since: int) -> None:
        """`axes`-style arguments: an attribute before `input_since`, a constant input after."""
        if self.opset >= input_since:
            inputs.append(self.const(np.array(values, np.int64), "i"))
        else:
            node_attrs[key] = values


# -- op generators: each adds one (or a few) nodes reading existing values, or returns None ----------


def g_unary(b: Builder) -> str | None:
    choices = [(op, a) for op, a in UNARY if UNARY_SINCE.get(op, 1) <= b.opset]
    op, attrs = choices[int(b.rng.integers(len(choices)))]
    x = b.pick()
    if op == "Exp":
        x = b.pick(raw=True)  # exp of a computed value may overflow in one runtime only
    if x is None:
        return None
    return op if b.add(op, [x], **attrs) else None


def g_discontinuous(b: Builder) -> str | None:
    op = str(b.rng.choice(["Floor", "Ceil", "Sign", "Round", "Reciprocal", "Sqrt", "Log"]))
    x = b.pick(raw=True)
    if x is None:
        return None
    if op in ("Sqrt", "Log"):  # defined on positive numbers: feed |x| + 0.5
        shape = b.shapes[x]
        a = b.add("Abs", [x])
        if a is None:
            return None
        half = b.float_const((1,) * min(len(shape), 1), 0.5, 0.5)
        s = b.add("Add", [a[0], half])
        if s is None:
            return None
        x = s[0]
    return op if b.add(op, [x]) else None


def broadcast_shape(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with `shape` (a suffix with some dims 1, or a longer one)."""
    r = b.rng.random()
    if r < 0.15:
        return ()
    if r < 0.3 and len(shape) < 4:  # longer: adds leading dims
        return (int(b.rng.integers(1, 3)),) + tuple(shape)
    keep = int(b.rng.integers(0, len(shape) + 1))
    suffix = list(shape[len(shape) - keep:])
    return tuple(d if b.rng.random() < 0.6 else 1 for d in suffix)


def g_binary(b: Builder) -> str | None:
    op = str(b.rng.choice(["Add", "Sub", "Mul", "Div", "Max", "Min", "Add", "Mul", "PRelu", "Sum", "Mean"]))
    x = b.pick()
    if x is None:
        return None
    shape = b.shapes[x]
    other_shape = broadcast_shape(b, shape) if op != "PRelu" else tuple(
        d if b.rng.random() < 0.5 else 1 for d in shape[1:])
    if op == "Div":  # a denominator away from zero: constant in [0.5, 2] with a random sign
        y = b.float_const(other_shape, 0.5, 2.0)
        if b.rng.random() < 0.5:
            n = b.add("Neg", [y])
            y = n[0] if n else y
    else:
        y = b.operand(other_shape)
    args = [x, y] if b.rng.random() < 0.7 or op == "PRelu" else [y, x]
    if op in ("Sum", "Mean", "Max", "Min") and b.rng.random() < 0.3:
        args.append(b.operand(broadcast_shape(b, shape)))
    return op if b.add(op, args) else None


def g_matmul(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    shape = b.shapes[x]
    k = shape[-1]
    n = int(b.rng.integers(1, 9))
    r = b.rng.random()
    if r < 0.6:
        w_shape: tuple[int, ...] = (k, n)
    elif r < 0.75:
        w_shape = (k,)
    else:  # batched right-hand side, broadcast against x's batch dims
        batch = tuple(d if b.rng.random() < 0.5 else 1 for d in shape[:-2])
        w_shape = batch + (k, n)
    w = b.operand(w_shape) if b.rng.random() < 0.3 else b.float_const(w_shape)
    return "MatMul" if b.add("MatMul", [x, w]) else None


def g_gemm(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) == 2)
    if x is None:
        return None
    rows, cols = b.shapes[x]
    trans_a, trans_b = int(b.rng.integers(2)), int(b.rng.integers(2))
    m, k = (cols, rows) if trans_a else (rows, cols)
    n = int(b.rng.integers(1, 9))
    w = b.float_const((n, k) if trans_b else (k, n))
    args = [x, w]
    attrs: dict = {}
    if trans_a:
        attrs["transA"] = 1
    if trans_b:
        attrs["transB"] = 1
    if b.rng.random() < 0.3:
        attrs["alpha"] = float(np.float32(b.rng.uniform(0.5, 2)))
    if b.rng.random() < 0.8:
        c_shape = [(n,), (1, n), (m, 1), (m, n), ()][int(b.rng.integers(5))]
        args.append(b.float_const(c_shape))
        if b.rng.random() < 0.3:
            attrs["beta"] = float(np.float32(b.rng.uniform(0.5, 2)))
    return "Gemm" if b.add("Gemm", args, **attrs) else None


def g_conv(b: Builder, transpose: bool = False) -> str | None:
    x = b.pick(lambda s: len(s) in (3, 4) and all(d >= 2 for d in s[2:]))
    if x is None:
        return None
    shape = b.shapes[x]
    n_sp = len(shape) - 2
    c = shape[1]
    divisors = [g for g in range(1, c + 1) if c % g == 0]
    group = int(b.rng.choice(divisors)) if b.rng.random() < 0.4 else 1
    per_group_out = int(b.rng.integers(1, 5))
    kernel = [int(b.rng.integers(1, min(4, d + 1) + 1)) for d in shape[2:]]
    attrs: dict = {}
    if b.rng.random() < 0.5:
        attrs["kernel_shape"] = kernel
    strides = [int(b.rng.integers(1, 3)) for _ in range(n_sp)]
    if b.rng.random() < 0.6:
        attrs["strides"] = strides
    if b.rng.random() < 0.3:
        attrs["dilations"] = [int(b.rng.integers(1, 3)) for _ in range(n_sp)]
    r = b.rng.random()
    if r < 0.15:
        attrs["auto_pad"] = str(b.rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"]))
    elif r < 0.7:
        attrs["pads"] = [int(b.rng.integers(0, k)) if k > 1 else 0 for k in kernel * 2]
    if group > 1:
        attrs["group"] = group
    if transpose:
        w_shape = (c, per_group_out) + tuple(kernel)
        if b.rng.random() < 0.3 and "strides" in attrs:
            attrs["output_padding"] = [int(b.rng.integers(0, s)) for s in attrs["strides"]]
        op = "ConvTranspose"
    else:
        w_shape = (per_group_out * group, c // group) + tuple(kernel)
        op = "Conv"
    w = b.float_const(w_shape)
    args = [x, w]
    if b.rng.random() < 0.6:
        args.append(b.float_const((w_shape[1] * group if transpose else w_shape[0],)))
    return op if b.add(op, args, **attrs) else None


def g_pool(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) in (3, 4) and all(d >= 2 for d in s[2:]))
    if x is None:
        return None
    shape = b.shapes[x]
    op = str(b.rng.choice(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "MaxPool", "AveragePool"]))
    if op.startswith("Global"):
        return op if b.add(op, [x]) else None
    n_sp = len(shape) - 2
    kernel = [int(b.rng.integers(1, min(3, d) + 1)) for d in shape[2:]]
    attrs: dict = {"kernel_shape": kernel}
    if b.rng.random() < 0.6:
        attrs["strides"] = [int(b.rng.integers(1, 3)) for _ in range(n_sp)]
    if b.rng.random() < 0.5:
        attrs["pads"] = [int(b.rng.integers(0, k)) if k > 1 else 0 for k in kernel * 2]
    elif b.rng.random() < 0.2:
        attrs["auto_pad"] = str(b.rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID"]))
    if b.opset >= 10 and b.rng.random() < 0.3:
        attrs["ceil_mode"] = 1
    if op == "AveragePool" and b.rng.random() < 0.4:
        attrs["count_include_pad"] = 1
    if op == "MaxPool" and b.opset >= 10 and b.rng.random() < 0.2:
        attrs["dilations"] = [int(b.rng.integers(1, 3)) for _ in range(n_sp)]
    return op if b.add(op, [x], **attrs) else None


def factorise(b: Builder, total: int) -> list[int]:
    dims = []
    rest = total
    for _ in range(int(b.rng.integers(1, 5))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = int(b.rng.choice(divs))
        dims.append(d)
        rest //= d
    dims.append(rest)
    b.rng.shuffle(dims)
    return [d for d in dims if d != 1 or b.rng.random() < 0.3] or [total]


def g_reshape(b: Builder) -> str | None:
    x = b.pick()
    if x is None:
        return None
    shape = b.shapes[x]
    dims = factorise(b, int(np.prod(shape, dtype=np.int64)))
    if b.rng.random() < 0.4:
        dims[int(b.rng.integers(len(dims)))] = -1
    if b.opset >= 5 and b.rng.random() < 0.2 and len(shape) and len(dims) and dims[0] == shape[0]:
        dims[0] = 0  # "copy this dim"
    if b.rng.random() < 0.15:  # the target shape computed from the input's shape
        s = b.add("Shape", [x], ints=True)
        if s is None:
            return None
        b.int_outputs.remove(s[0])
        tail = b.const(np.array([-1], np.int64))
        idx = b.const(np.array([0], np.int64))
        g = helper.make_node("Gather", [s[0], idx], [b.fresh("v")], axis=0)
        cat = helper.make_node("Concat", [g.output[0], tail], [b.fresh("v")], axis=0)
        out = b.fresh("v")
        r = helper.make_node("Reshape", [x, cat.output[0]], [out])
        b.nodes += [g, cat, r]
        if b.try_add([g, cat, r], [out]):
            return "Shape->Reshape"
        del b.nodes[-3:]
        return None
    return "Reshape" if b.add("Reshape", [x, b.const(np.array(dims, np.int64))]) else None


def g_transpose(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 2)
    if x is None:
        return None
    perm = [int(p) for p in b.rng.permutation(len(b.shapes[x]))]
    attrs = {"perm": perm} if b.rng.random() < 0.85 else {}
    return "Transpose" if b.add("Transpose", [x], **attrs) else None


def g_concat(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    shape = b.shapes[x]
    axis = b.axis(len(shape))
    parts = [x]
    for _ in range(int(b.rng.integers(1, 3))):
        s = list(shape)
        s[axis] = int(b.rng.integers(1, 4))
        parts.append(b.operand(tuple(s)))
    b.rng.shuffle(parts)
    return "Concat" if b.add("Concat", parts, axis=axis) else None


def g_slice(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1 and max(s) >= 2)
    if x is None:
        return None
    shape = b.shapes[x]
    axes = sorted(set(int(a) for a in b.rng.choice(len(shape), int(b.rng.integers(1, len(shape) + 1)))))
    starts, ends, steps = [], [], []
    for a in axes:
        d = shape[a]
        step = int(b.rng.choice([1, 1, 1, 2, -1, -2, 3])) if b.opset >= 10 else 1
        lo, hi = int(b.rng.integers(-d - 2, d + 2)), int(b.rng.integers(-d - 2, d + 2))
        if b.rng.random() < 0.15:
            hi = int(np.iinfo(np.int64).max) if step > 0 else int(np.iinfo(np.int64).min)
        starts.append(lo)
        ends.append(hi)
        steps.append(step)
    signed = [b.signed(a, len(shape)) for a in axes]
    if b.opset < 10:
        return "Slice" if b.add("Slice", [x], starts=starts, ends=ends, axes=signed) else None
    args = [x, b.const(np.array(starts, np.int64)), b.const(np.array(ends, np.int64)), b.const(np.array(signed, np.int64))]
    if any(s != 1 for s in steps) or b.rng.random() < 0.5:
        args.append(b.const(np.array(steps, np.int64)))
    return "Slice" if b.add("Slice", args) else None


def g_split(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1 and max(s) >= 2)
    if x is None:
        return None
    shape = b.shapes[x]
    axis = int(b.rng.choice([a for a in range(len(shape)) if shape[a] >= 2]))
    d = shape[axis]
    n = int(b.rng.integers(2, min(d, 3) + 1))
    attrs: dict = {"axis": b.signed(axis, len(shape))}
    inputs = [x]
    if b.rng.random() < 0.5:
        cuts = sorted(int(c) for c in b.rng.choice(np.arange(1, d), n - 1, replace=False))
        sizes = [q - p for p, q in zip([0, *cuts], [*cuts, d])]
        b.attr_or_input(attrs, inputs, "split", sizes, 13)
    elif d % n != 0:
        if b.opset < 18:
            return None
        attrs["num_outputs"] = n  # uneven: the last chunk is smaller (opset 18)
    elif b.opset >= 18:
        attrs["num_outputs"] = n
    return "Split" if b.add("Split", inputs, n_out=n, **attrs) else None


def g_reduce(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    op = str(b.rng.choice(REDUCE))
    if op == "ReduceProd":
        x = b.pick(lambda s: len(s) >= 1 and int(np.prod(s)) <= 64)  # keep products in range
        if x is None:
            return None
    shape = b.shapes[x]
    attrs: dict = {}
    inputs = [x]
    if b.rng.random() < 0.85:
        k = int(b.rng.integers(1, len(shape) + 1))
        axes = [int(a) for a in b.rng.choice(len(shape), k, replace=False)]
        axes = [b.signed(a, len(shape)) for a in axes]
        b.attr_or_input(attrs, inputs, "axes", axes, 13 if op == "ReduceSum" else 18)
    if b.rng.random() < 0.5:
        attrs["keepdims"] = int(b.rng.integers(2))
    return op if b.add(op, inputs, **attrs) else None


def g_argmax(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1, raw=True)
    if x is None:
        return None
    op = str(b.rng.choice(["ArgMax", "ArgMin"]))
    shape = b.shapes[x]
    attrs = {"axis": b.axis(len(shape)), "keepdims": int(b.rng.integers(2))}
    return op if b.add(op, [x], ints=True, **attrs) else None


def g_softmax(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    op = str(b.rng.choice(["Softmax", "LogSoftmax"]))
    rank = len(b.shapes[x])
    attrs = {"axis": b.axis(rank)} if b.rng.random() < 0.8 else {}
    return op if b.add(op, [x], **attrs) else None


def g_squeeze(b: Builder) -> str | None:
    x = b.pick()
    if x is None:
        return None
    shape = b.shapes[x]
    ones = [i for i, d in enumerate(shape) if d == 1]
    attrs: dict = {}
    inputs = [x]
    if ones and b.rng.random() < 0.5:
        axes = sorted(int(a) for a in b.rng.choice(ones, int(b.rng.integers(1, len(ones) + 1)), replace=False))
        if b.rng.random() < 0.8:
            b.attr_or_input(attrs, inputs, "axes", axes, 13)
        op = "Squeeze"
    else:
        if len(shape) >= 5:
            return None
        k = int(b.rng.integers(1, 3))
        out_rank = len(shape) + k
        axes = sorted(int(a) for a in b.rng.choice(out_rank, k, replace=False))
        axes = [b.signed(a, out_rank) for a in axes]
        b.attr_or_input(attrs, inputs, "axes", axes, 13)
        op = "Unsqueeze"
    return op if b.add(op, inputs, **attrs) else None


def g_flatten(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    rank = len(b.shapes[x])
    attrs = {"axis": b.axis(rank, extra=1)} if b.rng.random() < 0.8 else {}
    return "Flatten" if b.add("Flatten", [x], **attrs) else None


def g_gather(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) >= 1)
    if x is None:
        return None
    shape = b.shapes[x]
    axis = b.axis(len(shape))
    d = shape[axis]
    ishape = tuple(int(v) for v in b.rng.integers(1, 4, int(b.rng.integers(0, 3))))
    idx = b.const(b.rng.integers(-d if b.opset >= 11 else 0, d, ishape).astype(np.int64), "idx")
    return "Gather" if b.add("Gather", [x, idx], axis=axis) else None


def g_expand_tile(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) <= 3)
    if x is None:
        return None
    shape = b.shapes[x]
    if b.rng.random() < 0.5:
        target = [d if d != 1 else int(b.rng.integers(1, 4)) for d in shape]
        if b.rng.random() < 0.4:
            target = [int(b.rng.integers(1, 3))] + target
        return "Expand" if b.add("Expand", [x, b.const(np.array(target, np.int64))]) else None
    reps = [int(b.rng.integers(1, 3)) for _ in shape]
    return "Tile" if b.add("Tile", [x, b.const(np.array(reps, np.int64))]) else None


def g_pad(b: Builder) -> str | None:
    x = b.pick(lambda s: 1 <= len(s) <= 4)
    if x is None:
        return None
    shape = b.shapes[x]
    mode = str(b.rng.choice(["constant", "constant", "reflect", "edge"]))
    pads = []
    for _ in range(2):
        for d in shape:
            hi = d - 1 if mode == "reflect" else 3
            p = int(b.rng.integers(0, max(hi, 0) + 1))
            if mode == "constant" and b.rng.random() < 0.15 and d > 1:
                p = -int(b.rng.integers(1, d))  # negative: crops
            pads.append(p)
    value = float(np.float32(b.rng.standard_normal())) if mode == "constant" and b.rng.random() < 0.5 else None
    if b.opset < 11:
        attrs = {"mode": mode, "pads": pads}
        if value is not None:
            attrs["value"] = value
        return "Pad" if b.add("Pad", [x], **attrs) else None
    args = [x, b.const(np.array(pads, np.int64))]
    if value is not None:
        args.append(b.const(np.array(value, np.float32)))
    return "Pad" if b.add("Pad", args, mode=mode) else None


def g_where(b: Builder) -> str | None:
    c = b.pick(raw=True)
    if c is None:
        return None
    shape = b.shapes[c]
    thr = b.float_const(broadcast_shape(b, shape))
    cond = b.add(str(b.rng.choice(["Greater", "Less"])), [c, thr], ints=True)
    if cond is None:
        return None
    b.int_outputs.remove(cond[0])
    x = b.pick()
    if x is None:
        return None
    y = b.operand(broadcast_shape(b, b.shapes[x]))
    return "Where" if b.add("Where", [cond[0], x, y]) else None


def g_clip(b: Builder) -> str | None:
    x = b.pick()
    if x is None:
        return None
    lo, hi = sorted(float(np.float32(v)) for v in b.rng.standard_normal(2))
    which = int(b.rng.integers(3))  # both, only min, only max
    if b.opset < 11:
        attrs = {}
        if which in (0, 1):
            attrs["min"] = lo
        if which in (0, 2):
            attrs["max"] = hi
        return "Clip" if b.add("Clip", [x], **attrs) else None
    args = [x, b.const(np.array(lo, np.float32)) if which in (0, 1) else ""]
    if which in (0, 2):
        args.append(b.const(np.array(hi, np.float32)))
    return "Clip" if b.add("Clip", args) else None


def g_norm(b: Builder) -> str | None:
    r = b.rng.random()
    if r < 0.45:
        x = b.pick(lambda s: len(s) >= 2)
        if x is None:
            return None
        c = b.shapes[x][1]
        args = [x, b.float_const((c,), 0.5, 1.5), b.float_const((c,)), b.float_const((c,)), b.float_const((c,), 0.5, 1.5)]
        return "BatchNormalization" if b.add("BatchNormalization", args, epsilon=1e-3) else None
    if r < 0.8 and b.opset >= 17:
        x = b.pick(lambda s: len(s) >= 1)
        if x is None:
            return None
        shape = b.shapes[x]
        axis = b.axis(len(shape))
        norm_shape = shape[axis:]
        args = [x, b.float_const(norm_shape, 0.5, 1.5)]
        if b.rng.random() < 0.7:
            args.append(b.float_const(norm_shape))
        return "LayerNormalization" if b.add("LayerNormalization", args, axis=axis) else None
    x = b.pick(lambda s: len(s) >= 3)
    if x is None:
        return None
    c = b.shapes[x][1]
    return "InstanceNormalization" if b.add(
        "InstanceNormalization", [x, b.float_const((c,), 0.5, 1.5), b.float_const((c,))]) else None


def g_resize(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) == 4)
    if x is None or b.opset < 11:
        return None
    mode = str(b.rng.choice(["nearest", "linear"]))
    scales = [1.0, 1.0] + [float(b.rng.integers(1, 4)) for _ in range(2)]
    ctm = str(b.rng.choice(["asymmetric", "half_pixel", "align_corners", "pytorch_half_pixel"]))
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest":
        attrs["nearest_mode"] = str(b.rng.choice(["floor", "round_prefer_floor", "round_prefer_ceil", "ceil"]))
    args = [x, "", b.const(np.array(scales, np.float32))]
    return "Resize" if b.add("Resize", args, **attrs) else None


def g_depth_space(b: Builder) -> str | None:
    x = b.pick(lambda s: len(s) == 4)
    if x is None:
        return None
    n, c, h, w = b.shapes[x]
    bs = 2
    if b.rng.random() < 0.5 and c % (bs * bs) == 0:
        attrs = {"blocksize": bs}
        if b.opset >= 11 and b.rng.random() < 0.5:
            attrs["mode"] = "CRD"
        return "DepthToSpace" if b.add("DepthToSpace", [x], **attrs) else None
    if h % bs == 0 and w % bs == 0:
        return "SpaceToDepth" if b.add("SpaceToDepth", [x], blocksize=bs) else None
    return None


def g_roundtrip_cast(b: Builder) -> str | None:
    x = b.pick()
    if x is None:
        return None
    via = int(b.rng.choice([TensorProto.DOUBLE, TensorProto.FLOAT16]))
    mid = b.add("Cast", [x], ints=True, to=via)
    if mid is None:
        return None
    b.int_outputs.remove(mid[0])
    return "Cast" if b.add("Cast", [mid[0]], to=FLOAT) else None


GENERATORS: list[tuple[float, Callable[[Builder], str | None]]] = [
    (3.0, g_unary), (3.0, g_binary), (1.5, g_matmul), (0.7, g_gemm), (1.5, g_conv),
    (0.4, lambda b: g_conv(b, transpose=True)), (1.0, g_pool), (1.2, g_reshape), (1.0, g_transpose),
    (1.0, g_concat), (1.0, g_slice), (0.6, g_split), (1.2, g_reduce), (0.4, g_argmax), (0.7, g_softmax),
    (0.8, g_squeeze), (0.5, g_flatten), (0.6, g_gather), (0.6, g_expand_tile), (0.6, g_pad), (0.5, g_where),
    (0.6, g_clip), (0.8, g_norm), (0.4, g_resize), (0.3, g_depth_space), (0.3, g_roundtrip_cast),
    (0.4, g_discontinuous),
]


def _start_shape(rng: np.random.Generator) -> tuple[int, ...]:
    kind = rng.random()
    if kind < 0.35:
        return (int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(3, 9)), int(rng.integers(3, 9)))
    if kind < 0.5:
        return (int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(3, 12)))
    rank = int(rng.integers(1, 4))
    return tuple(int(d) for d in rng.integers(1, 7, rank))


def _attempt(rng: np.random.Generator, max_nodes: int) -> tuple[Builder, list[str]]:
    b = Builder(rng, int(rng.choice(OPSETS)), const_mode=bool(rng.random() < CONST_MODE_SHARE))
    for _ in range(int(rng.integers(1, 3))):
        b.new_input(_start_shape(rng))
    weights = np.array([w for w, _ in GENERATORS])
    ops: list[str] = []
    target = int(rng.integers(1, max_nodes + 1))
    tries = 0
    while len(ops) < target and tries < 8 * max_nodes:
        tries += 1
        _, gen = GENERATORS[int(rng.choice(len(GENERATORS), p=weights / weights.sum()))]
        before = (len(b.nodes), len(b.inits))
        try:
            op = gen(b)
        except (ValueError, IndexError):
            op = None
        if op is None:
            # drop whatever a failed generator left behind (helper nodes, constants)
            del b.nodes[before[0]:]
            del b.inits[before[1]:]
            produced = {o for n in b.nodes for o in n.output}
            for name in [n for n in b.shapes if n not in b.raw and n not in produced
                         and n not in {t.name for t in b.inits}]:
                del b.shapes[name]
            b.int_outputs = [n for n in b.int_outputs if n in produced]
            continue
        ops.append(op)
    return b, ops


def _outputs(b: Builder) -> list[str]:
    produced = [o for n in b.nodes for o in n.output if o in b.shapes]
    read = {i for n in b.nodes for i in n.input}
    leaves = [o for o in produced if o not in read]
    outs = leaves[-3:] or produced[-1:]
    extra = [o for o in produced if o not in outs]
    if extra and b.rng.random() < 0.3:  # an intermediate value too (a value with two readers)
        outs.append(str(b.rng.choice(extra)))
    outs += b.int_outputs[-1:]
    return list(dict.fromkeys(outs))


def generate(seed: int, max_nodes: int = 8) -> FuzzCase:
    """A valid random model for `seed`, with inputs and onnxruntime's outputs."""
    for attempt in range(50):
        rng = np.random.default_rng([seed, attempt])
        b, ops = _attempt(rng, max_nodes)
        if not ops:
            continue
        outs = _outputs(b)
        if not outs:
            continue
        model = b.model(outs)
        try:
            onnx.checker.check_model(model, full_check=True)
            used = {vi.name for vi in model.graph.input}
            feeds = [f for vi, f in zip(b.inputs, b.feeds) if vi.name in used]
            expected = run_onnxruntime(model, feeds)
        except Exception:
            continue
        if any(not np.all(np.isfinite(e)) for e in expected if e.dtype.kind == "f"):
            continue  # inf/nan results compare badly across runtimes; draw again
        declared = [tuple(d.dim_value for d in o.type.tensor_type.shape.dim) for o in model.graph.output]
        if [tuple(e.shape) for e in expected] != declared:
            continue  # onnxruntime disagrees with ONNX shape inference (e.g. SAME pooling with dilations)
        return FuzzCase(seed, model, feeds, expected, ops)
    raise RuntimeError(f"no valid graph for seed {seed}")


# -- running one case through a target ------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "ok", "refused" (the target listed unsupported nodes), "mismatch", "error"
    detail: str = ""


def check_case(case: FuzzCase, target: str, out_dir: str) -> Outcome:
    """Transpile `case` for `target` into `out_dir`, run it, compare with onnxruntime's outputs."""
    from pathlib import Path

    from transpiler import convert, targets
    from transpiler.errors import UnsupportedModel
    from transpiler.verify import ATOL, RTOL, compare
    from transpiler.targets.base import BuildOptions

    t = targets.get(target)
    out = Path(out_dir) / f"net{getattr(t, 'default_suffix', '.out')}"
    try:
        convert(case.model, to=target, out=out)
    except UnsupportedModel as e:
        return Outcome("refused", " ".join(str(e).split())[:300])
    except Exception as e:  # InvalidModel on a model onnxruntime runs is a bug too
        return Outcome("error", f"convert: {type(e).__name__}: {' '.join(str(e).split())[:400]}")
    if getattr(t, "interchange", False):
        # a format, not a framework (the IR as JSON): read it back and run it through PyTorch
        t = targets.get("pytorch")
        source, out = out, Path(out_dir) / "roundtrip" / "net.py"
        try:
            convert(source, to="pytorch", out=out)
        except Exception as e:
            return Outcome("error", f"reading back {source.name}: {type(e).__name__}: {' '.join(str(e).split())[:400]}")
    try:
        got = t.run(out, [x.copy() for x in case.inputs])
    except Exception as e:
        return Outcome("error", f"run: {type(e).__name__}: {' '.join(str(e).split())[:400]}")
    rtol, atol = t.tolerance(BuildOptions()) if hasattr(t, "tolerance") else (RTOL, ATOL)
    if len(got) != len(case.expected):
        return Outcome("mismatch", f"{len(got)} outputs, expected {len(case.expected)}")
    bad = []
    for k, (ref, g) in enumerate(zip(case.expected, got)):
        d = compare(str(k), ref, g, rtol, atol)
        if not d.ok or np.asarray(g).dtype != ref.dtype and ref.dtype.kind != "f":
            bad.append(f"output {k}: max abs {d.max_abs:.3g} {d.note} (dtype {np.asarray(g).dtype} vs {ref.dtype})")
    return Outcome("mismatch", "; ".join(bad)) if bad else Outcome("ok")


def run_onnxruntime(model: onnx.ModelProto, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 4  # invalid draws are expected; they are discarded quietly
    # onnxruntime's graph rewrites have bugs of their own (1.32 drops the Transpose before a
    # MatMul with a 1-D right operand): the oracle is the model as written, unoptimised
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, dict(zip([i.name for i in sess.get_inputs()], inputs)))


def _prune(model: onnx.ModelProto, outputs: list[onnx.ValueInfoProto]) -> onnx.ModelProto:
    """The part of `model` that computes `outputs` (unused nodes, constants and inputs dropped)."""
    g = model.graph
    need = {o.name for o in outputs}
    kept = []
    for node in reversed(list(g.node)):
        if any(o in need for o in node.output):
            kept.append(node)
            need.update(i for i in node.input if i)
    graph = helper.make_graph(
        kept[::-1], g.name, [vi for vi in g.input if vi.name in need], outputs,
        [t for t in g.initializer if t.name in need],
    )
    return helper.make_model(graph, opset_imports=list(model.opset_import), ir_version=model.ir_version)


def minimise(case: FuzzCase, target: str, still_fails: Callable[[FuzzCase], bool]) -> FuzzCase:
    """The smallest prefix of `case` whose single output still fails: each node output in turn
    becomes the only graph output (nodes it does not depend on are dropped)."""
    inferred = onnx.shape_inference.infer_shapes(case.model, strict_mode=True)
    types = {vi.name: vi for vi in [*inferred.graph.value_info, *inferred.graph.output]}
    feeds = dict(zip((vi.name for vi in case.model.graph.input), case.inputs))
    for node in case.model.graph.node:
        for out in node.output:
            if out not in types:
                continue
            model = _prune(case.model, [types[out]])
            inputs = [feeds[vi.name] for vi in model.graph.input]
            try:
                expected = run_onnxruntime(model, inputs)
            except Exception:
                continue
            small = FuzzCase(case.seed, model, inputs, expected, [n.op_type for n in model.graph.node])
            if still_fails(small):
                return small
    return case


def run_isolated(target: str, first: int, count: int) -> list[dict]:
    """Fuzz seeds [first, first + count) in a subprocess (a native crash in a target's runtime
    must not take pytest down); a graph whose run killed the process is reported as "crash" and
    the remaining seeds run in a fresh process."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    results: list[dict] = []
    seed, end = first, first + count
    while seed < end:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), target, str(seed), str(end - seed)],
            capture_output=True, text=True, timeout=1800,
        )
        started = None
        for line in proc.stdout.splitlines():
            if not line.startswith("{"):
                continue  # a runtime's own chatter on stdout
            r = json.loads(line)
            if "start" in r:
                started = r["start"]
            else:
                results.append(r)
                started = None
                seed = r["seed"] + 1
        if proc.returncode != 0:
            if started is None:
                raise AssertionError(f"the fuzz driver failed:\n{proc.stderr[-3000:]}")
            results.append({"seed": started, "kind": "crash", "case": f"seed {started}",
                            "detail": f"the process died (exit {proc.returncode}): {proc.stderr[-500:]}"})
            seed = started + 1
    return results


def _main(argv: list[str]) -> None:
    """`python tests/fuzz_graphs.py TARGET FIRST_SEED COUNT`: one JSON line per graph, written as
    soon as it is known, with a "start" line before each, so that a run killed by a signal inside
    a target's runtime (a native crash) still shows which graph did it."""
    import json
    import sys
    import tempfile

    target, first, count = argv[0], int(argv[1]), int(argv[2])
    for seed in range(first, first + count):
        print(json.dumps({"start": seed}), flush=True)
        case = generate(seed)
        with tempfile.TemporaryDirectory() as d:
            outcome = check_case(case, target, d)
        print(json.dumps({"seed": seed, "kind": outcome.kind, "detail": outcome.detail,
                          "case": case.describe()}), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    import sys as _sys

    _sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    _main(_sys.argv[1:])
