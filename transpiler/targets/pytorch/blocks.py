"""Repeated blocks as classes: each candidate instance (passes/blocks.py) is lowered on its own;
instances whose code matches up to number literals share one class, whose constructor takes the
literals that differ; the instances are placed in the model's module tree (`layer1.0`) and called
from its forward, a whole Sequential at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import ir
from ...names import PYTHON_RESERVED
from ...passes.blocks import Piece, find_blocks
from ...passes.scope import common_prefix, module_path
from .classes import parameterize
from .context import lit
from .reserved import FILE_NAMES

if TYPE_CHECKING:
    from .codegen import Codegen


@dataclass
class ClassPlan:
    """One generated class: the model itself or a repeated block."""

    name: str
    doc: list[str]
    init_args: list[str]
    init_lines: list[str]
    forward_args: list[str]
    body: list[str]
    returns: list[str]
    return_annotation: str


@dataclass(eq=False)
class BlockCall:
    """A top-level step that runs block instance(s): `output = <code>(input)`."""

    code: str
    input: ir.Value
    output: ir.Value
    nodes: list[ir.Node]


@dataclass(eq=False)
class _Instance:
    piece: Piece
    prefix: tuple[str, ...] | None
    gen: Codegen
    body: list[str]
    ret: str
    init: list[str]


def lower_blocks(gen: Codegen) -> tuple[list[ClassPlan], list[BlockCall | ir.Node]]:
    """Lower each repeated-block instance on its own, share a class between instances whose
    code matches, and return those classes and the top-level steps (nodes and block calls)."""
    pieces = find_blocks(gen.graph)
    instances: dict[int, _Instance] = {}
    # every leading part of each owned path, per kind: one set lookup per piece (scanning the
    # paths for each piece grew with the square of the block count)
    owned = {k: {q[:i] for q in qs for i in range(len(q) + 1)} for k, qs in _owned_paths(gen, pieces).items()}
    for p in pieces:
        if p.kind is None:
            continue
        prefix = _block_prefix(p.nodes, gen._readers)
        if prefix and prefix in owned.get(p.kind, ()):
            continue  # only part of a source module: a class would split its layers
        sub = type(gen)(gen.graph, gen.info, gen.table, gen.class_name, file=gen.file, prefix=prefix)
        n_refused = len(gen.refusals)
        body, ret = sub.lower_piece(p)
        if len(gen.refusals) > n_refused:
            del gen.refusals[n_refused:]  # lowered again at the top level, which reports it
            continue
        instances[id(p)] = _Instance(p, prefix if prefix else None, sub, body, ret, sub.tree.init_lines())
    groups: dict[tuple, list[_Instance]] = {}
    for p in pieces:
        inst = instances.get(id(p))
        if inst is not None:
            key = (p.kind, tuple(inst.body), inst.ret, tuple(_masked_line(x) for x in inst.init))
            groups.setdefault(key, []).append(inst)
    taken = {gen.class_name} | FILE_NAMES
    for inst in instances.values():
        taken |= set(inst.gen.names.values())
    class_names: set[str] = set()
    classes: list[ClassPlan] = []
    ctor_of: dict[int, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        params = parameterize([m.init for m in members])
        if params is None:
            continue
        first = members[0]
        name = _class_name_for(_block_kind(first.piece), taken | class_names)
        class_names.add(name)
        gen.locals.reserve(name)  # the model's forward must not shadow it
        attrs = [a for kind, a in first.gen.tree.order if kind == "box"]
        what = f"holds {', '.join(attrs)}; " if attrs else ""
        classes.append(ClassPlan(
            name=name,
            doc=[f"{_block_kind(first.piece, words=True)}: {what}used {len(members)} times."],
            init_args=[f"{a}: {t}" for a, t in params.args],
            init_lines=params.lines,
            forward_args=["x: torch.Tensor"],
            body=first.body,
            returns=[first.ret],
            return_annotation="torch.Tensor",
        ))
        for m, vals in zip(members, params.values):
            ctor_of[id(m.piece)] = f"{name}({', '.join(lit(v) for v in vals)})"
    rank: dict[int, int] = {}
    n = 0
    for p in pieces:  # the index each piece's first step will have among the top-level items
        rank[id(p)] = n
        n += 1 if id(p) in ctor_of else len(p.nodes)
    runs = _place_blocks(gen, [p for p in pieces if id(p) in ctor_of], ctor_of, instances, rank)
    items: list[BlockCall | ir.Node] = []
    for p in pieces:
        if id(p) not in ctor_of:
            items.extend(p.nodes)
        elif id(p) in runs:
            items.append(runs[id(p)])
    return classes, items

def _owned_paths(gen: Codegen, pieces: list[Piece]) -> dict[int, list[tuple[str, ...]]]:
    """Per block kind, the module paths of layers outside its instances, from weights only one
    node reads (a weight the exporter shared between layers says nothing about either)."""
    where: dict[int, int | None] = {id(n): p.kind for p in pieces for n in p.nodes}
    out: dict[int, list[tuple[str, ...]]] = {}
    kinds = {p.kind for p in pieces if p.kind is not None}
    for node in gen.graph.nodes:
        weights = [v for v in node.inputs[1:] if v is not None and v.const is not None]
        if not weights or any(len(gen._readers.get(id(v), ())) > 1 for v in weights):
            continue
        path = module_path(node, gen._readers)
        if path is None:
            continue
        for k in kinds:
            if where.get(id(node)) != k:
                out.setdefault(k, []).append(path)
    return out

def _place_blocks(
    gen: Codegen, used: list[Piece], ctor_of: dict[int, str], instances: dict[int, _Instance], rank: dict[int, int],
) -> dict[int, BlockCall]:
    """Put the block instances into the module tree (`layer1.0`, `blocks.3`) and decide the calls:
    a whole Sequential of consecutive instances is called once. Returns the call per first
    piece of each call."""
    placed: list[tuple[Piece, str, tuple[str, ...] | None]] = []
    seen: set[tuple[str, ...]] = set()
    prev: tuple[str, ...] | None = None
    prev_end: ir.Value | None = None
    for p in used:
        path = instances[id(p)].prefix
        if path is None or path in seen:
            if prev is not None and prev and prev[-1].isdigit() and prev_end is p.input:
                path = (*prev[:-1], str(int(prev[-1]) + 1))
            elif path is None or path in seen:
                path = ("blocks", "0") if ("blocks", "0") not in seen else None
        gen.tree.rank = rank[id(p)]
        code, key = gen.tree.add(path, ctor_of[id(p)], "block")
        inst = instances[id(p)]
        for k, arr in inst.gen.state.items():
            gen.state[f"{key}.{k}"] = arr
        real = tuple(key.split("."))
        seen.add(real)
        placed.append((p, code, real))
        prev, prev_end = real, p.output
    calls: dict[int, BlockCall] = {}
    i = 0
    while i < len(placed):
        p, code, path = placed[i]
        j = i + 1
        parent = path[:-1] if path and path[-1].isdigit() else None
        if parent is not None and path[-1] == "0":
            while (
                j < len(placed) and placed[j][2][:-1] == parent and placed[j][2][-1] == str(j - i)
                and placed[j][0].input is placed[j - 1][0].output
            ):
                j += 1
            if gen.tree.seal(parent, j - i):
                code = code[: code.rindex("[")]
            else:
                j = i + 1
        run = [q for q, _, _ in placed[i:j]]
        calls[id(run[0])] = BlockCall(code, run[0].input, run[-1].output, [n for q in run for n in q.nodes])
        i = j
    return calls


def _masked_line(line: str) -> str:
    return re.sub(r"(?<![A-Za-z_])-?\d+(\.\d*)?(e-?\d+)?", "#", line)


def _block_prefix(nodes: list[ir.Node], readers: dict[int, list[ir.Node]]) -> tuple[str, ...]:
    """The module path the block's layers share (`layer1.0` for `layer1.0.conv1`, ...)."""
    paths = [p for p in (module_path(n, readers) for n in nodes) if p]
    prefix = common_prefix(paths)
    layers = [module_path(n, readers) for n in nodes if any(_is_weight(v) for v in n.inputs[1:])]
    if prefix in layers:  # a single layer is no container of the block
        prefix = prefix[:-1]
    while prefix and any(len(p) > len(prefix) and p[len(prefix)].isdigit() for p in paths):  # layers need a named container
        prefix = prefix[:-1]
    return prefix


def _is_weight(v: ir.Value | None) -> bool:
    return v is not None and v.const is not None and v.elem in ir.FLOAT_TYPES and v.const.size > 1


def _class_name_for(base: str, taken: set[str]) -> str:
    """`ResidualBlock`, then `ResidualBlock2`, ...: CamelCase names stay CamelCase."""
    name, n = base, 1
    while name in taken or name in PYTHON_RESERVED:
        n += 1
        name = f"{base}{n}"
    return name


def _block_kind(piece: Piece, words: bool = False) -> str:
    ops = {n.op_type for n in piece.nodes}
    fan_out = sum(1 for n in piece.nodes for v in n.inputs if v is piece.input) > 1
    residual = fan_out and any(n.op_type == "Add" for n in piece.nodes)
    if "Attention" in ops or ("Softmax" in ops and "MatMul" in ops):
        kind = ("Transformer", "Transformer block")
    elif residual:
        kind = ("Residual", "Residual block")
    elif ops & {"Conv", "ConvTranspose"}:
        kind = ("Conv", "Convolution block")
    else:
        kind = ("", "Block")
    return kind[1] if words else kind[0] + "Block"
