"""Sequences and optionals. In generated code a sequence is a Python list of tensors and an
optional is None or its value, so these ops become list expressions and `is not None` tests.
Lists are never changed in place: an op that edits one works on a copy, since ONNX values are
immutable and the input list may be read again."""

from __future__ import annotations

from .... import ir
from ....errors import UnsupportedOp
from ..context import Ctx, lit
from . import TABLE
from .control import block

# -- sequences --------------------------------------------------------------------------------


def _index(ctx: Ctx, i: int) -> str:
    """A position input as a Python int: a literal when constant."""
    c = ctx.const(i)
    return lit(int(c.reshape(-1)[0])) if c is not None else f"int({ctx.x(i)})"


@TABLE.op("SequenceEmpty")
def sequence_empty(ctx: Ctx) -> str:
    return "[]"


@TABLE.op("SequenceConstruct")
def sequence_construct(ctx: Ctx) -> str:
    return "[" + ", ".join(ctx.x(i) for i in range(ctx.n_in)) + "]"


@TABLE.op("SequenceInsert")
def sequence_insert(ctx: Ctx) -> str:
    seq, t = ctx.x(0), ctx.x(1)
    if not ctx.has(2):
        return f"{seq} + [{t}]"
    out = ctx.out_name(0)
    # list.insert counts a negative position from the back and allows len(seq), as ONNX does
    ctx.stmt(f"{out} = list({seq})\n{out}.insert({_index(ctx, 2)}, {t})")
    return out


@TABLE.op("SequenceAt")
def sequence_at(ctx: Ctx) -> str:
    return f"{ctx.x(0)}[{_index(ctx, 1)}]"


@TABLE.op("SequenceErase")
def sequence_erase(ctx: Ctx) -> str:
    seq = ctx.x(0)
    if not ctx.has(1):
        return f"{seq}[:-1]"
    out = ctx.out_name(0)
    ctx.stmt(f"{out} = list({seq})\ndel {out}[{_index(ctx, 1)}]")
    return out


@TABLE.op("SequenceLength")
def sequence_length(ctx: Ctx) -> str:
    return f"torch.tensor(len({ctx.x(0)}))"


@TABLE.op("SplitToSequence")
def split_to_sequence(ctx: Ctx) -> str:
    x = ctx.x(0)
    axis = int(ctx.attr("axis", 0))
    dim = f", dim={axis}" if axis else ""
    if not ctx.has(1):
        # no split: pieces of size 1, their axis removed unless keepdims
        if ctx.attr("keepdims", 1):
            return f"list({x}.split(1{dim}))"
        return f"list({x}.unbind({axis}))" if axis else f"list({x}.unbind())"
    split = ctx.const(1)
    if split is None:
        sizes = f"{ctx.x(1)}.tolist()"  # an int for a scalar split, a list of sizes otherwise
    elif split.ndim == 0:
        sizes = lit(int(split))
    else:
        sizes = lit([int(s) for s in split.reshape(-1)])
    return f"list({x}.split({sizes}{dim}))"


@TABLE.op("ConcatFromSequence")
def concat_from_sequence(ctx: Ctx) -> str:
    axis = int(ctx.attr("axis"))
    fn = "torch.stack" if ctx.attr("new_axis", 0) else "torch.cat"
    return f"{fn}({ctx.x(0)}, dim={axis})" if axis else f"{fn}({ctx.x(0)})"


@TABLE.op("SequenceMap")
def sequence_map(ctx: Ctx) -> list[str | None]:
    body: ir.Graph = ctx.attr("body")
    if len(body.inputs) != ctx.n_in:
        raise UnsupportedOp("the body's inputs do not match the node's")
    # sequence inputs are walked in step; tensor inputs are the same for every item
    names: list[str | None] = []
    iterated: list[tuple[str, str]] = []
    for i, v in enumerate(body.inputs):
        if ctx.value(i).kind == "sequence":
            var = ctx.gen.bind(v)
            iterated.append((var, ctx.x(i)))
            names.append(var)
        else:
            names.append(ctx.x(i))
    if not iterated:
        raise UnsupportedOp("no input is known to be a sequence")
    body_lines, outs = ctx.gen.lower_subgraph(body, names)
    before: list[str] = []
    appends: list[str] = []
    for j, v in enumerate(ctx.node.outputs):
        if v is None:
            continue
        out = ctx.gen.bind(v)
        before.append(f"{out} = []")
        appends.append(f"{out}.append({outs[j]})")
    if len(iterated) == 1:
        header = f"for {iterated[0][0]} in {iterated[0][1]}:"
    else:
        header = f"for {', '.join(v for v, _ in iterated)} in zip({', '.join(s for _, s in iterated)}):"
    ctx.stmt("\n".join(before + block(header, body_lines + appends)))
    return [None] * ctx.n_out


# -- optionals --------------------------------------------------------------------------------


@TABLE.op("Optional")
def optional(ctx: Ctx) -> str:
    return ctx.x(0) if ctx.has(0) else "None"


@TABLE.op("OptionalHasElement")
def optional_has_element(ctx: Ctx) -> str:
    if not ctx.has(0):
        return "torch.tensor(False)"
    if ctx.value(0).kind != "optional":
        return "torch.tensor(True)"  # a plain tensor or sequence is always there
    return f"torch.tensor({ctx.x(0)} is not None)"


@TABLE.op("OptionalGetElement")
def optional_get_element(ctx: Ctx) -> str:
    return ctx.x(0)
