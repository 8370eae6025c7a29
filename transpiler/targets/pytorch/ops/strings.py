"""String ops. PyTorch has no string tensor, so a string tensor in generated code is a numpy array
of Python `str` (dtype object); the ops run on it with plain Python string methods."""

from __future__ import annotations

import re
import warnings

from ....errors import UnsupportedOp
from ..context import Ctx, Unpack, call, lit
from . import TABLE


def string_x(ctx: Ctx, i: int) -> str:
    """Code for string input i: the local, or a numpy literal for a constant (the codegen keeps
    only numeric constants as weights)."""
    c = ctx.const(i)
    if c is None or c.dtype != object:
        return ctx.x(i)
    return f"np.array({lit(c)}, dtype=object)"


@TABLE.op("StringConcat")
def string_concat(ctx: Ctx) -> str:
    # `+` on object arrays concatenates the strings elementwise, with numpy broadcasting.
    expr = f"{string_x(ctx, 0)} + {string_x(ctx, 1)}"
    shape = ctx.out_shape(0)
    if shape is not None and len(shape) > 0:
        return expr
    # numpy returns a bare str for 0-d operands: keep it an array.
    return f"np.asarray({expr}, dtype=object)"


@TABLE.op("StringSplit")
def string_split(ctx: Ctx) -> Unpack:
    delimiter = ctx.attr("delimiter") or None  # absent or "": split on runs of whitespace
    maxsplit = ctx.attr("maxsplit")
    kwargs = {} if maxsplit is None else {"maxsplit": int(maxsplit)}
    return Unpack(call(ctx.helper("string_split"), string_x(ctx, 0), lit(delimiter), **kwargs), 2)


@TABLE.op("StringNormalizer")
def string_normalizer(ctx: Ctx) -> str:
    case = ctx.attr("case_change_action", "NONE")
    if case not in ("NONE", "LOWER", "UPPER"):
        raise UnsupportedOp(f"case_change_action {case!r} is not NONE, LOWER or UPPER")
    locale = ctx.attr("locale", "")
    # Python's str.lower/upper follow Unicode's default mapping, which is what these locales use.
    if locale and not re.fullmatch(r"(en|C|POSIX)([_.@-].*)?", locale):
        raise UnsupportedOp(f"locale {locale!r}: only the default (English) case mapping is supported")
    rank = ctx.rank(0)
    if rank is not None and rank not in (1, 2):
        raise UnsupportedOp(f"the input has rank {rank}; StringNormalizer takes [C] or [1, C]")
    sensitive = bool(ctx.attr("is_case_sensitive", 0))
    stopwords = [w if sensitive else w.lower() for w in ctx.attr("stopwords", [])]
    stop_code = "{" + ", ".join(lit(w) for w in sorted(set(stopwords))) + "}" if stopwords else "set()"
    return call(ctx.helper("string_normalizer"), string_x(ctx, 0), stop_code, case_sensitive=sensitive, case=case)


@TABLE.op("RegexFullMatch")
def regex_full_match(ctx: Ctx) -> str:
    pattern = re2_to_python(ctx.attr("pattern", ""))
    return call(ctx.helper("regex_full_match"), string_x(ctx, 0), _pattern_literal(pattern))


def _pattern_literal(pattern: str) -> str:
    """A raw string literal (r"...") when it spells the pattern exactly, else repr()."""
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if '"' in pattern or trailing % 2 or not all(c.isprintable() for c in pattern):
        return lit(pattern)
    return f'r"{pattern}"'


# -- RE2 patterns as Python `re` patterns ------------------------------------------------------
# Only syntax whose meaning is the same in both (with re.ASCII, since RE2's \w \d \b are ASCII)
# is translated; anything else is refused rather than matched differently.

_SAME_ESCAPES = set("dDwWtnrfva")  # identical in RE2 and in Python's re with re.ASCII
_RE2_SPACE = "\\t\\n\\f\\r "  # RE2's \s (Python's ASCII \s also matches \v)
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_HEX = re.compile(r"x([0-9A-Fa-f]{2}|\{[0-9A-Fa-f]{1,6}\})")
_GROUP_NAME = re.compile(r"\?P<([A-Za-z_][A-Za-z0-9_]*)>")


def re2_to_python(pattern: str) -> str:
    """An equivalent pattern for Python's `re` (compiled with re.ASCII), or UnsupportedOp."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = False  # right after "[" or "[^": a "]" here is a literal
    can_repeat = False  # the previous item can take a quantifier
    repeated = False  # the previous item is a quantifier (a lazy "?" may follow, nothing else)
    lazy = False  # ... and that quantifier already has its lazy "?"
    while i < n:
        c = pattern[i]
        if c == "\\":
            code, i = _escape(pattern, i, in_class)
            out.append(code)
            can_repeat, repeated, class_start = True, False, False
            continue
        if in_class:
            if c == "]" and not class_start:
                in_class = False
                out.append("]")
                can_repeat = True
            elif c == "[":
                if pattern.startswith("[:", i) or pattern.startswith("[=", i) or pattern.startswith("[.", i):
                    raise UnsupportedOp("POSIX character classes ([:alpha:]) are not supported")
                out.append("\\[")
            elif c in "]&|~":
                out.append("\\" + c)  # literal in RE2; Python may read a set operation
            else:
                out.append(c)
            class_start = False
            i += 1
            continue
        if c == "[":
            in_class, class_start = True, True
            out.append("[")
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            repeated = False
            continue
        if c in "*+?":
            if repeated and c == "?" and not lazy:
                out.append("?")  # lazy: the same set of full matches
                lazy = True
                i += 1
                continue
            if not can_repeat or repeated:
                raise UnsupportedOp(f"repetition operator {c!r} at position {i} repeats nothing")
            out.append(c)
            repeated, can_repeat, lazy = True, False, False
            i += 1
            continue
        if c == "{":
            m = _REPEAT.match(pattern, i)
            if m is None:
                out.append("\\{")  # not a repetition: a literal brace in RE2
                can_repeat, repeated = True, False
                i += 1
                continue
            lo, hi = int(m.group(1)), m.group(3)
            if lo > 1000 or (hi and (int(hi) > 1000 or int(hi) < lo)):
                raise UnsupportedOp(f"repetition {m.group(0)} is invalid in RE2")
            if not can_repeat or repeated:
                raise UnsupportedOp(f"repetition {m.group(0)} repeats nothing")
            out.append(m.group(0))
            repeated, can_repeat, lazy = True, False, False
            i = m.end()
            continue
        if c == "(":
            if pattern.startswith("(?", i):
                m = _GROUP_NAME.match(pattern, i + 1)
                if pattern.startswith("(?:", i):
                    out.append("(?:")
                    i += 3
                elif m is not None:
                    out.append(pattern[i : m.end()])
                    i = m.end()
                else:
                    raise UnsupportedOp("group flags and look-around ((?...)) are not supported")
            else:
                out.append("(")
                i += 1
            can_repeat, repeated = False, False
            continue
        if c == "$":
            out.append("\\Z")  # Python's $ also matches before a final newline
            can_repeat, repeated = True, False
        elif c == "}":
            out.append("\\}")
            can_repeat, repeated = True, False
        elif c in "|":
            out.append(c)
            can_repeat, repeated = False, False
        else:
            out.append(c)  # literals, ".", "^", ")"
            can_repeat, repeated = c != "^", False
        i += 1
    if in_class:
        raise UnsupportedOp("the pattern has an unterminated character class")
    result = "".join(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            re.compile(result, re.ASCII)
        except (re.error, Warning) as e:
            raise UnsupportedOp(f"the pattern is not valid ({e})") from None
    return result


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The Python form of the escape at pattern[i] (a backslash), and the index after it."""
    if i + 1 >= len(pattern):
        raise UnsupportedOp("the pattern ends with a backslash")
    e = pattern[i + 1]
    if e in _SAME_ESCAPES:
        return "\\" + e, i + 2
    if e == "s":
        return (_RE2_SPACE if in_class else f"[{_RE2_SPACE}]"), i + 2
    if e == "S" and not in_class:
        return f"[^{_RE2_SPACE}]", i + 2
    if e in "bBA" and not in_class:
        return "\\" + e, i + 2
    if e == "z" and not in_class:
        return "\\Z", i + 2
    if e == "x":
        m = _HEX.match(pattern, i + 1)
        if m is None:
            raise UnsupportedOp("a \\x escape needs hex digits")
        return re.escape(chr(int(m.group(1).strip("{}"), 16))), m.end()
    if e.isascii() and not e.isalnum():
        return "\\" + e, i + 2  # escaped punctuation is that character in both
    raise UnsupportedOp(f"the escape \\{e} is not supported")

