"""Turning several lowered instances of one repeated block into one class.

Instances share a class when their `forward` code is identical and their `__init__` code differs
only in number literals (channel counts, strides, ...). Those literals become constructor
arguments, named after the parameter they fill (`in_channels`, `stride`); the same values in
every instance stay literals.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from ...names import Namespace

# Positional parameter names of the constructors lowerings write positionally.
_CONV = ("in_channels", "out_channels", "kernel_size")
_NORM = ("num_features",)
POSITIONAL: dict[str, tuple[str, ...]] = {
    **{f"nn.Conv{n}d": _CONV for n in (1, 2, 3)},
    **{f"nn.ConvTranspose{n}d": _CONV for n in (1, 2, 3)},
    **{f"nn.BatchNorm{n}d": _NORM for n in (1, 2, 3)},
    **{f"nn.InstanceNorm{n}d": _NORM for n in (1, 2, 3)},
    "nn.Linear": ("in_features", "out_features"),
    "nn.LayerNorm": ("normalized_shape",),
    "nn.RMSNorm": ("normalized_shape",),
    "nn.GroupNorm": ("num_groups", "num_channels"),
    "nn.Embedding": ("num_embeddings", "embedding_dim"),
    "nn.PReLU": ("num_parameters",),
    "nn.Dropout": ("p",),
}


@dataclass
class Params:
    """A class's constructor: `lines` (the shared __init__ body), `args` (name, annotation) and,
    per instance, the argument literals."""

    lines: list[str]
    args: list[tuple[str, str]]
    values: list[list[Any]]


def parameterize(inits: list[list[str]]) -> Params | None:
    """One __init__ body for all instances, or None when they differ in more than literals."""
    if len({len(lines) for lines in inits}) != 1:
        return None
    ns = Namespace(reserved={"self"})
    by_values: dict[tuple[Any, ...], str] = {}
    args: list[tuple[str, str]] = []
    out: list[str] = []
    for rows in zip(*inits):
        trees = []
        for row in rows:
            try:
                trees.append(ast.parse(row))
            except SyntaxError:
                return None
        units = [_units(t) for t in trees]
        masked = {ast.dump(_masked(t, u)) for t, u in zip(trees, units)}
        if len(masked) != 1:
            return None
        replace: dict[int, str] = {}
        for k, (node, role) in enumerate(units[0]):
            vals = tuple(ast.literal_eval(u[k][0]) for u in units)
            if len(set(map(repr, vals))) == 1:
                continue
            name = by_values.get(vals)
            if name is None:
                name = ns.fresh(role, fallback="arg")
                by_values[vals] = name
                args.append((name, _annotation(vals)))
            replace[id(node)] = name
        out.append(ast.unparse(_Replace(replace).visit(trees[0])))
    key_of = {name: key for key, name in by_values.items()}
    values = [[key_of[name][i] for name, _ in args] for i in range(len(inits))]
    return Params(out, args, values)


def _units(tree: ast.AST) -> list[tuple[ast.expr, str]]:
    """The literal arguments of every call, in a fixed order, with the parameter each fills."""
    out: list[tuple[ast.expr, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = ast.unparse(node.func)
        names = POSITIONAL.get(fn, ())
        for i, arg in enumerate(node.args):
            if _is_literal(arg):
                out.append((arg, names[i] if i < len(names) else "size" if fn == "torch.empty" else "arg"))
        for kw in node.keywords:
            if kw.arg is not None and _is_literal(kw.value):
                out.append((kw.value, kw.arg))
    out.sort(key=lambda u: (u[0].lineno, u[0].col_offset))  # source order: names read left to right
    return out


def _is_literal(e: ast.expr) -> bool:
    if isinstance(e, ast.Constant):
        return isinstance(e.value, (int, float)) and not isinstance(e.value, complex)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return _is_literal(e.operand)
    if isinstance(e, ast.Tuple):
        return bool(e.elts) and all(_is_literal(x) for x in e.elts)
    return False


def _masked(tree: ast.AST, units: list[tuple[ast.expr, str]]) -> ast.AST:
    return _mask_copy(tree, {id(n) for n, _ in units})


def _mask_copy(tree: ast.AST, ids: set[int]) -> ast.AST:
    class M(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            if id(node) in ids:
                return ast.Name(id="_", ctx=ast.Load())
            return self.generic_visit(_shallow(node))

    return M().visit(tree)


def _shallow(node: ast.AST) -> ast.AST:
    new = type(node)()
    for f, v in ast.iter_fields(node):
        setattr(new, f, list(v) if isinstance(v, list) else v)
    for a in node._attributes:
        if hasattr(node, a):
            setattr(new, a, getattr(node, a))
    return new


class _Replace(ast.NodeTransformer):
    def __init__(self, names: dict[int, str]) -> None:
        self.names = names

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.names:
            return ast.Name(id=self.names[id(node)], ctx=ast.Load())
        return self.generic_visit(node)


def _annotation(vals: tuple[Any, ...]) -> str:
    if all(isinstance(v, bool) for v in vals):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "float"
    if all(isinstance(v, tuple) for v in vals):
        return "tuple[int, ...]" if all(isinstance(x, int) for v in vals for x in v) else "tuple"
    return "object"
