"""Jinja2 rendering of the files in `templates/` (shipped inside the wheel as transpiler/templates)."""

from __future__ import annotations

import keyword
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (here / "templates", here.parent / "templates"):
        if cand.is_dir():
            return cand
    raise RuntimeError("the templates folder is missing from this installation")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,  # Python/C++ sources, not HTML: every model string is escaped by the caller
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


@lru_cache(maxsize=None)
def template_text(name: str) -> str:
    path = templates_dir() / name
    if not path.is_file():
        raise KeyError(f"no template {name}")
    return path.read_text(encoding="utf-8")


# -- black, fast on big files ---------------------------------------------------------------
#
# black costs about a millisecond per line and more than linearly on long bracketed lists; a
# 10k-node model renders to 12k lines, and black was most of the conversion time. Most of those
# lines are simple statements (`x = self.fc1(x)`, `y = x @ w + b`) that are already exactly what
# black would print. `format_python` checks each single-line statement against black's spacing
# rules for a small token subset (names, numbers, calls, subscripts, lists, arithmetic,
# assignment, keyword arguments); runs of such lines are replaced by one placeholder statement
# while black formats the rest, and put back afterwards. Anything outside the subset (strings,
# comments, colons, keywords, `**`, grouping parentheses, trailing commas, long lines) goes to
# black, so the output is black's, byte for byte (tests/test_benchmarks_smoke.py compares).

_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?(?![A-Za-z0-9_.]))"
    r"|(?P<op>\*\*|//=|>>=|<<=|==|!=|<=|>=|//|<<|>>|\+=|-=|\*=|/=|%=|@=|&=|\|=|\^=|->|:=|[-+*/%@<>&|^~=(),.\[\]]))"
)
_BINARY = frozenset("+ - * / % @ < > & | ^ == != <= >= // << >>".split())
_AUGMENTED = frozenset("+= -= *= /= %= @= &= |= ^= //= >>= <<=".split())
_ATOM_END = frozenset({"name", "num", ")", "]"})


def _canonical(stmt: str) -> str | None:
    """`stmt` (one statement, no indentation) as black prints it, or None when it uses anything
    outside the subset this knows black's rules for."""
    out: list[str] = []
    stack: list[str] = []  # "call", "sub" or "list" per open bracket
    prev: str | None = None  # kind of the previous token: name, num, op text, "unary"
    pos, end = 0, len(stmt)
    seen_assign = False
    while pos < end:
        m = _TOKEN.match(stmt, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        if m.group("name") is not None:
            text = m.group("name")
            if keyword.iskeyword(text) and text not in ("None", "True", "False"):
                return None
            if prev in _ATOM_END:
                return None
            kind = "name"
        elif m.group("num") is not None:
            text = m.group("num")
            if prev in _ATOM_END or prev == ".":
                return None
            kind = "num"
        else:
            text = kind = m.group("op")
        if kind in ("name", "num"):
            out.append(text if prev in (None, "(", "[", ".", "unary", "kwarg=") else " " + text)
        elif kind == ".":
            if prev not in ("name", ")", "]"):
                return None
            out.append(".")
        elif kind == "(":
            if prev not in ("name", ")", "]"):
                return None  # a grouping parenthesis: black may remove it
            stack.append("call")
            out.append("(")
        elif kind == "[":
            if prev in ("name", ")", "]"):
                stack.append("sub")
                out.append("[")
            else:
                stack.append("list")
                out.append("[" if prev in (None, "(", "[", "unary", "kwarg=") else " [")
        elif kind in (")", "]"):
            if not stack:
                return None
            opened = stack.pop()
            if (kind == ")") != (opened == "call"):
                return None  # ( closed by ] or [ by )
            if prev == ",":
                return None  # a magic trailing comma: black explodes the call
            out.append(kind)
        elif kind == ",":
            if not stack or prev in (None, ",", "(", "[", "unary", "kwarg="):
                return None  # a bare tuple or an empty element
            out.append(",")
        elif kind == "=":
            if stack:
                if stack[-1] != "call" or prev != "name":
                    return None
                out.append("=")
                kind = "kwarg="
            else:
                if prev not in _ATOM_END:
                    return None
                seen_assign = True
                out.append(" =")
        elif kind in ("-", "+", "~") and prev not in _ATOM_END:
            out.append(kind if prev in (None, "(", "[", "unary", "kwarg=") else " " + kind)
            kind = "unary"
        elif kind in _BINARY or kind in _AUGMENTED:
            if prev not in _ATOM_END or (kind in _AUGMENTED and (stack or seen_assign)):
                return None
            out.append(" " + kind)
        else:  # ** -> := and anything else: black's rules are subtler than this
            return None
        prev = kind
    if stack or prev not in _ATOM_END:
        return None
    return "".join(out)


def format_python(source: str, line_length: int = 100) -> str:
    """black's formatting of `source` (black.Mode(line_length=line_length)), byte for byte, with
    the lines that are already in black's form kept out of black's way."""
    import black
    import io
    import tokenize

    mode = black.Mode(line_length=line_length)
    marker = "_transpiler_fmt_run_"
    if marker in source:
        return black.format_str(source, mode=mode)
    lines = source.split("\n")
    # physical lines that hold one whole logical line, with their block depth
    single: dict[int, int] = {}
    depth = 0
    try:
        start_row = None
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.INDENT:
                depth += 1
            elif tok.type == tokenize.DEDENT:
                depth -= 1
            elif tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
                continue
            elif tok.type == tokenize.NEWLINE:
                if start_row is not None and tok.start[0] == start_row:
                    single[start_row - 1] = depth
                start_row = None
            elif start_row is None and tok.type != tokenize.ENDMARKER:
                start_row = tok.start[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return black.format_str(source, mode=mode)
    kept: list[str] = []
    runs: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        run: list[str] = []
        while (
            i < len(lines) and _already_black(lines[i], single.get(i), line_length)
            and (not run or single[i] == single[i - 1])  # a run never crosses a block boundary
        ):
            run.append(lines[i])
            i += 1
        if run:
            name = f"{marker}{len(runs)}"
            indent = run[0][: len(run[0]) - len(run[0].lstrip(" "))]
            runs[f"{indent}{name}"] = run
            kept.append(f"{indent}{name}")
            continue
        kept.append(lines[i])
        i += 1
    formatted = black.format_str("\n".join(kept), mode=mode)
    out: list[str] = []
    for line in formatted.split("\n"):
        out.extend(runs.pop(line, [line]))
    if runs:  # black moved a placeholder (it never should): the safe answer is black on it all
        return black.format_str(source, mode=mode)
    return "\n".join(out)


def _already_black(line: str, depth: int | None, line_length: int) -> bool:
    if depth is None or len(line) > line_length or not line.isascii():
        return False
    stmt = line.lstrip(" ")
    if len(line) - len(stmt) != 4 * depth or not stmt:
        return False
    return _canonical(stmt) == stmt
