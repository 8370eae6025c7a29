"""The module tree of one generated class: where each `nn.*` layer lives (`self.layer1[0].conv1`),
so the state_dict keys follow the source model's parameter paths.

A path part that is a number makes its container an `nn.Sequential` (gaps filled with
`nn.Identity()`, which owns nothing); other parts are attributes of a plain `nn.Module()`
container. A path that cannot be placed (it clashes with another layer, or is not a legal
attribute) falls back to a flat attribute name at the top of the class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...names import Namespace

MAX_GAP = 8  # at most this many nn.Identity() fillers per Sequential


@dataclass(eq=False)
class _Box:
    """A container (or, with `ctor`, a leaf layer)."""

    ctor: str | None = None
    seq: bool | None = None  # None: no child yet
    children: dict[str, _Box] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # source part -> attribute name
    sealed: bool = False


class ModuleTree:
    def __init__(self, attrs: Namespace, reserved: frozenset[str]) -> None:
        self.reserved = reserved  # names an attribute must not take (nn.Module's own)
        self.attrs = attrs  # the class's attribute names (shared with its parameters and buffers)
        self.root = _Box(seq=False)
        self.order: list[tuple[str, str]] = []  # ("box", top-level name) or ("line", statement)
        self.rank = 0  # where the current statement is in `forward`: __init__ follows that order
        self._ranks: list[int] = []
        self._names: dict[str, str] = {}  # source part -> attribute name, at the top level

    def line(self, text: str) -> None:
        self._push(("line", text))

    def _push(self, entry: tuple[str, str]) -> None:
        self.order.append(entry)
        self._ranks.append(self.rank)

    def add(self, path: tuple[str, ...] | None, ctor: str, hint: str, nestable: bool = True) -> tuple[str, str]:
        """Place a layer; returns (code to reach it, its state_dict key prefix)."""
        if path and nestable:
            placed = self._place(path, ctor)
            if placed is not None:
                return placed
        name = self.attrs.fresh(hint, fallback="layer")
        self.root.children[name] = _Box(ctor=ctor)
        self._push(("box", name))
        return f"self.{name}", name

    def _place(self, path: tuple[str, ...], ctor: str) -> tuple[str, str] | None:
        box: _Box | None = self.root
        plan: list[tuple[_Box | None, str, str]] = []  # (existing container or None: new, key, part)
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            is_index = part.isdigit() and str(int(part)) == part
            if box is not None:
                if box.ctor is not None or box.sealed or (box.seq is not None and box.seq != is_index):
                    return None
                if box is self.root and is_index:
                    return None
                if is_index and int(part) > len(box.children) + MAX_GAP:
                    return None
            elif is_index and int(part) > MAX_GAP:
                return None
            key = part if is_index else self._attr_name(box, part)
            child = box.children.get(key) if box is not None else None
            if child is not None and (last or child.ctor is not None):
                return None  # the place is taken
            plan.append((box, key, part))
            box = child
        code, cur = "self", self.root
        for depth, (_, key, part) in enumerate(plan):
            last = depth == len(plan) - 1
            if key not in cur.children:
                cur.children[key] = _Box(ctor=ctor) if last else _Box()
                cur.seq = key.isdigit()
                if cur is self.root:
                    self._push(("box", key))
                    self._names[part] = key
                elif not key.isdigit():
                    cur.names[part] = key
            cur = cur.children[key]
            code += f"[{key}]" if key.isdigit() else f".{key}"
        return code, ".".join(k for _, k, _ in plan)

    def _attr_name(self, box: _Box | None, part: str) -> str:
        """The attribute for source name `part` in `box` (the same part always gets the same name)."""
        if box is self.root:
            return self._names.get(part) or self.attrs.fresh(part, fallback="layer")
        if box is not None and part in box.names:
            return box.names[part]
        taken = set(box.names.values()) if box is not None else set()
        ns = Namespace(reserved=self.reserved | taken)
        return ns.fresh(part, fallback="layer")

    def seal(self, path: tuple[str, ...], n: int) -> bool:
        """True when the Sequential at `path` holds exactly the n layers placed so far; nothing
        can be added to it afterwards (it is called as a whole)."""
        box = self.root
        for depth, part in enumerate(path):
            key = part if depth else self._names.get(part, "")
            child = box.children.get(key)
            if child is None:
                return False
            box = child
        if box.ctor is not None or not box.seq or len(box.children) != n:
            return False
        if sorted(box.children, key=int) != [str(i) for i in range(n)]:
            return False
        box.sealed = True
        return True

    # -- rendering ------------------------------------------------------------------------
    def init_lines(self) -> list[str]:
        out: list[str] = []
        order = [e for _, _, e in sorted(zip(self._ranks, range(len(self.order)), self.order))]
        for kind, text in order:
            if kind == "line":
                out.append(text)
            else:
                out.extend(self._statements(f"self.{text}", self.root.children[text]))
        return out

    def _statements(self, target: str, box: _Box) -> list[str]:
        if box.ctor is not None:
            return [f"{target} = {box.ctor}"]
        if not box.seq:
            out = [f"{target} = nn.Module()"]
            for key, child in box.children.items():
                out.extend(self._statements(f"{target}.{key}", child))
            return out
        items, later = self._seq_items(target, box)
        if len(items) >= 3 and len(set(items)) == 1 and not later:  # n copies of one layer
            return [f"{target} = nn.Sequential(*[{items[0]} for _ in range({len(items)})])"]
        return [f"{target} = nn.Sequential({', '.join(items)})", *later]

    def _seq_items(self, target: str, box: _Box) -> tuple[list[str], list[str]]:
        n = max(int(k) for k in box.children) + 1
        items: list[str] = []
        later: list[str] = []
        for i in range(n):
            child = box.children.get(str(i))
            if child is None:
                items.append("nn.Identity()")
            elif child.ctor is not None:
                items.append(child.ctor)
            elif child.seq:
                sub, sub_later = self._seq_items(f"{target}[{i}]", child)
                items.append(f"nn.Sequential({', '.join(sub)})")
                later.extend(sub_later)
            else:
                items.append("nn.Module()")
                for key, grand in child.children.items():
                    later.extend(self._statements(f"{target}[{i}].{key}", grand))
        return items, later
