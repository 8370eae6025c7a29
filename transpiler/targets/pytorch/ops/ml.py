"""Classical ML ops (the ai.onnx.ml domain, plus TfIdfVectorizer and ImageDecoder): lookups,
feature selection, text n-gram counts, tree ensembles, image decoding. Their tables (trees,
n-gram pools) become buffers, and mappings with string keys a dict built in `__init__`."""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import numpy as np

from .... import ir
from ....errors import UnsupportedOp
from ..context import Code, Ctx, call, lit
from . import TABLE
from .strings import string_x

ML = "ai.onnx.ml"


def _buffer(ctx: Ctx, name: str, arr: np.ndarray) -> str:
    """Register `arr` as a weight of the module (saved in the safetensors file); returns its code."""
    return ctx.weight(arr, name)


def _dict_code(mapping: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in mapping.items()) + "}"


@TABLE.op("Binarizer", domain=ML)
def binarizer(ctx: Ctx) -> str:
    x = ctx.x(0)
    return f"({x} > {lit(float(ctx.attr('threshold', 0.0)))}).to({x}.dtype)"


@TABLE.op("ArrayFeatureExtractor", domain=ML)
def array_feature_extractor(ctx: Ctx) -> str:
    x = string_x(ctx, 0) if ctx.elem(0) == ir.STRING else ctx.x(0)
    idx = ctx.const(1)
    if idx is not None:
        index = lit([int(i) for i in idx.reshape(-1)])
    elif ctx.elem(0) == ir.STRING:
        index = f"{ctx.x(1)}.reshape(-1).numpy()"  # a numpy array is indexed with numpy indices
    else:
        index = f"{ctx.x(1)}.reshape(-1)"
    expr = f"{x}[..., {index}]"
    rank = ctx.need_rank(0)
    # the indices are flattened; a 1-D input gives one row
    return f"{expr}.reshape(1, -1)" if rank == 1 else expr


# -- LabelEncoder ---------------------------------------------------------------------------------

_DEFAULTS = {ir.STRING: "_Unused", ir.FLOAT: -0.0, ir.DOUBLE: -0.0}  # integers: -1


@TABLE.op("LabelEncoder", domain=ML)
def label_encoder(ctx: Ctx) -> str:
    keys, values, default = _label_table(ctx)
    in_string = ctx.elem(0) == ir.STRING
    out_elem = ctx.out_elem(0)
    if not in_string and any(isinstance(k, float) and math.isnan(k) for k in keys):
        raise UnsupportedOp("NaN keys are not supported")  # a dict lookup never finds NaN
    mapping = dict(zip(keys, values))
    table = ctx.module(_dict_code(mapping), hint="labels")
    x = string_x(ctx, 0) if in_string else ctx.x(0)
    if out_elem == ir.STRING:
        return call(ctx.helper("label_encode"), x, table, lit(default))
    return call(ctx.helper("label_encode"), x, table, lit(default), ctx.dtype(out_elem))


def _label_table(ctx: Ctx) -> tuple[list[Any], list[Any], Any]:
    """(keys, values, default) as Python values, from whichever attributes the node uses."""
    in_string = ctx.elem(0) == ir.STRING
    out_elem = ctx.out_elem(0)
    if ctx.attr("classes_strings") is not None:  # opset 1: strings <-> their index
        classes = list(ctx.attr("classes_strings"))
        if in_string:
            return classes, list(range(len(classes))), int(ctx.attr("default_int64", -1))
        return list(range(len(classes))), classes, str(ctx.attr("default_string", "_Unused"))
    keys = _first(ctx, "keys_strings", "keys_int64s", "keys_floats", "keys_tensor")
    values = _first(ctx, "values_strings", "values_int64s", "values_floats", "values_tensor")
    if keys is None or values is None:
        raise UnsupportedOp("the node has no keys or no values")
    if len(keys) != len(values):
        raise UnsupportedOp(f"{len(keys)} keys but {len(values)} values")
    if ctx.attr("values_tensor") is not None and ctx.attr("default_tensor") is not None:
        default = np.asarray(ctx.attr("default_tensor")).reshape(-1)[0].item()
    elif ctx.attr("values_strings") is not None or out_elem == ir.STRING:
        default = ctx.attr("default_string", "_Unused")
    elif ctx.attr("values_floats") is not None:
        default = ctx.attr("default_float", -0.0)
    elif ctx.attr("values_int64s") is not None:
        default = ctx.attr("default_int64", -1)
    else:
        default = _DEFAULTS.get(out_elem, -1)
    if out_elem == ir.STRING:
        default = str(default)
    elif out_elem in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16, ir.BFLOAT16):
        default = float(default)
    else:
        default = int(default)
    return keys, values, default


def _first(ctx: Ctx, *names: str) -> list[Any] | None:
    for name in names:
        v = ctx.attr(name)
        if v is not None:
            return np.asarray(v).reshape(-1).tolist() if isinstance(v, np.ndarray) else list(v)
    return None


# -- TfIdfVectorizer ------------------------------------------------------------------------------

_GRAM_NAMES = {1: "unigrams", 2: "bigrams", 3: "trigrams"}


@TABLE.op("TfIdfVectorizer")
def tfidf_vectorizer(ctx: Ctx) -> str:
    mode = ctx.attr("mode", "TF")
    if mode not in ("TF", "IDF", "TFIDF"):
        raise UnsupportedOp(f"mode {mode!r} is not TF, IDF or TFIDF")
    lo, hi = int(ctx.attr("min_gram_length", 1)), int(ctx.attr("max_gram_length", 1))
    max_skip = int(ctx.attr("max_skip_count", 0))
    counts_at = [int(c) for c in ctx.attr("ngram_counts", [])]
    indexes = [int(i) for i in ctx.attr("ngram_indexes", [])]
    if not indexes:
        raise UnsupportedOp("ngram_indexes is empty")
    size = max(indexes) + 1
    rank = ctx.rank(0)
    if rank is not None and rank > 2:
        raise UnsupportedOp(f"the input has rank {rank}; TfIdfVectorizer takes [C] or [N, C]")

    x = ctx.x(0)
    pool: list[Any]
    if ctx.attr("pool_strings"):
        if ctx.elem(0) != ir.STRING:
            raise UnsupportedOp("pool_strings needs a string input")
        pool_strings = list(ctx.attr("pool_strings"))
        vocab = {s: i for i, s in enumerate(dict.fromkeys(pool_strings))}
        pool = [vocab[s] for s in pool_strings]
        # strings become their index in the pool's vocabulary (-1: never part of an n-gram)
        table = ctx.module(_dict_code(vocab), hint="vocab")
        x = ctx.tmp("ids")
        ctx.stmt(f"{x} = {call(ctx.helper('label_encode'), string_x(ctx, 0), table, '-1', 'torch.int64')}")
    else:
        pool = [int(v) for v in ctx.attr("pool_int64s", [])]
        if ctx.elem(0) == ir.STRING:
            raise UnsupportedOp("a string input needs pool_strings")

    # The pool lists n-grams of length 1, 2, ... from ngram_counts[n - 1] on; the k-th n-gram of
    # the whole pool is counted in column ngram_indexes[k]. A repeated n-gram counts in the
    # column of its last occurrence (as ONNX's reference and onnxruntime do).
    grams: dict[int, dict[tuple[int, ...], int]] = {}
    k = 0
    for level, start in enumerate(counts_at):
        n = level + 1
        end = counts_at[level + 1] if level + 1 < len(counts_at) else len(pool)
        for j in range((end - start) // n):
            if lo <= n <= hi:
                if k >= len(indexes):
                    raise UnsupportedOp("ngram_indexes is shorter than the pool")
                gram = tuple(pool[start + j * n : start + (j + 1) * n])
                grams.setdefault(n, {}).pop(gram, None)
                grams[n][gram] = indexes[k]
            k += 1

    terms = []
    helper = ctx.helper("ngram_counts") if grams else ""
    for n, table_n in sorted(grams.items()):
        name = _GRAM_NAMES.get(n, f"grams_{n}")
        g = _buffer(ctx, name, np.array(list(table_n), dtype=np.int64).reshape(-1, n))
        cols = _buffer(ctx, f"{name}_columns", np.array(list(table_n.values()), dtype=np.int64))
        kwargs = {"max_skip": max_skip} if n > 1 and max_skip else {}
        terms.append(call(helper, x, g, cols, lit(size), **kwargs))
    if terms:
        counts = " + ".join(terms)
    elif rank == 2:
        counts = f"torch.zeros({x}.shape[0], {size})"
    elif rank is not None:
        counts = f"torch.zeros({size})"
    else:
        raise UnsupportedOp("no n-gram of the pool is in range and the input rank is unknown")

    weights = ctx.attr("weights")
    if mode == "TF":
        return counts
    if len(terms) > 1:
        t = ctx.tmp("counts")
        ctx.stmt(f"{t} = {counts}")
        counts = t
    if mode == "IDF":
        counts = f"({counts} > 0).float()"
    if weights:
        w = np.asarray(weights, dtype=np.float32)[:size]
        if len(w) < size:
            raise UnsupportedOp(f"{len(w)} weights for {size} columns")
        return f"{counts} * {_buffer(ctx, 'idf_weights', w)}"
    return counts


# -- TreeEnsemble ---------------------------------------------------------------------------------

_AGGREGATES = {0: "AVERAGE", 1: "SUM", 2: "MIN", 3: "MAX"}
_MEMBER = 6


@TABLE.op("TreeEnsemble", domain=ML)
def tree_ensemble(ctx: Ctx) -> str:
    x_elem = ctx.elem(0)
    if x_elem not in (ir.FLOAT, ir.DOUBLE, ir.FLOAT16):
        raise UnsupportedOp("the input must be a float tensor")
    if ctx.need_rank(0) != 2:
        raise UnsupportedOp("the input must be [N, features]")
    np_dtype = {ir.FLOAT: np.float32, ir.DOUBLE: np.float64, ir.FLOAT16: np.float16}[x_elem]
    post = int(ctx.attr("post_transform", 0))
    if post not in (0, 1, 2):
        raise UnsupportedOp(f"post_transform {post} (SOFTMAX_ZERO / PROBIT) is not supported")
    aggregate = _AGGREGATES.get(int(ctx.attr("aggregate_function", 1)))
    if aggregate is None:
        raise UnsupportedOp(f"aggregate_function {ctx.attr('aggregate_function')} is unknown")

    def ints(name: str) -> np.ndarray:
        v = ctx.attr(name)
        if v is None:
            raise UnsupportedOp(f"attribute {name} is missing")
        return np.asarray(v, dtype=np.int64).reshape(-1)

    features, modes = ints("nodes_featureids"), ints("nodes_modes")
    true_ids, false_ids = ints("nodes_truenodeids"), ints("nodes_falsenodeids")
    true_leaf, false_leaf = ints("nodes_trueleafs") != 0, ints("nodes_falseleafs") != 0
    roots, targets = ints("tree_roots"), ints("leaf_targetids")
    splits = np.asarray(ctx.attr("nodes_splits"), dtype=np_dtype).reshape(-1)
    weights = np.asarray(ctx.attr("leaf_weights"), dtype=np_dtype).reshape(-1)
    n_targets = int(ctx.attr("n_targets", 0))
    n_nodes = len(features)
    if not n_nodes or any(len(a) != n_nodes for a in (modes, true_ids, false_ids, true_leaf, false_leaf, splits)):
        raise UnsupportedOp("the node attributes differ in length")
    if len(targets) != len(weights) or not len(roots) or n_targets <= 0:
        raise UnsupportedOp("inconsistent leaves, roots or n_targets")
    if modes.min() < 0 or modes.max() > _MEMBER:
        raise UnsupportedOp("unknown node mode")
    if targets.min() < 0 or targets.max() >= n_targets:
        raise UnsupportedOp("a leaf target is out of range")

    # A link is a node index, or -1 - i for leaf i.
    true_next = np.where(true_leaf, -1 - true_ids, true_ids)
    false_next = np.where(false_leaf, -1 - false_ids, false_ids)
    root_links = roots.copy()
    for t, r in enumerate(roots):
        if true_leaf[r] and false_leaf[r] and true_ids[r] == false_ids[r]:  # a tree that is one leaf
            if true_ids[r] != r:  # ONNX's reference reads leaf r, the spec's wording leaf true_ids[r]
                raise UnsupportedOp("a single-leaf tree whose leaf index differs from its root index")
            root_links[t] = -1 - r
    for links, n_max in ((true_next, len(weights)), (false_next, len(weights))):
        if (links >= n_nodes).any() or (-1 - links[links < 0] >= n_max).any():
            raise UnsupportedOp("a node links outside the tree")

    members = None
    if (modes == _MEMBER).any():
        values = ctx.attr("membership_values")
        if values is None:
            raise UnsupportedOp("set membership nodes without membership_values")
        values = np.asarray(values, dtype=np_dtype).reshape(-1)
        sets: list[list[float]] = []
        current: list[float] = []
        for v in values.tolist():  # one NaN-terminated set per membership node, in node order
            if math.isnan(v):
                sets.append(current)
                current = []
            else:
                current.append(v)
        member_nodes = np.flatnonzero(modes == _MEMBER)
        if len(sets) != len(member_nodes):
            raise UnsupportedOp("membership_values does not hold one set per membership node")
        width = max([len(s) for s in sets] + [1])
        members = np.full((n_nodes, width), np.nan, dtype=np_dtype)  # NaN pads never compare equal
        for node, s in zip(member_nodes, sets):
            members[node, : len(s)] = s
    missing = ctx.attr("nodes_missing_value_tracks_true")
    missing = None if missing is None or not any(missing) else np.asarray(missing).reshape(-1) != 0

    x = ctx.x(0)
    args = [
        x,
        _buffer(ctx, "tree_roots", root_links),
        _buffer(ctx, "node_features", features),
        _buffer(ctx, "node_modes", modes),
        _buffer(ctx, "node_splits", splits),
        _buffer(ctx, "node_true_next", true_next),
        _buffer(ctx, "node_false_next", false_next),
    ]
    kwargs = {}
    if members is not None:
        kwargs["members"] = Code(_buffer(ctx, "node_members", members))
    if missing is not None:
        kwargs["missing"] = Code(_buffer(ctx, "node_missing_tracks_true", missing))
    leaves = ctx.tmp("leaves")
    ctx.stmt(f"{leaves} = {call(ctx.helper('tree_leaves'), *args, **kwargs)}")
    leaf_targets = _buffer(ctx, "leaf_targets", targets)
    leaf_weights = _buffer(ctx, "leaf_weights", weights)
    dtype = ctx.dtype(x_elem)
    dtype_arg = "" if x_elem == ir.FLOAT else f", dtype={dtype}"
    index, src = f"{leaf_targets}[{leaves}]", f"{leaf_weights}[{leaves}]"
    if aggregate in ("SUM", "AVERAGE"):
        y = f"torch.zeros({x}.shape[0], {n_targets}{dtype_arg}).scatter_add(1, {index}, {src})"
        if aggregate == "AVERAGE":
            y = f"{y} / {len(roots)}"
    else:
        # targets no leaf reaches keep the dtype's extreme value, as in ONNX's reference
        start = f"torch.finfo({dtype}).{'max' if aggregate == 'MIN' else 'min'}"
        reduce = "amin" if aggregate == "MIN" else "amax"
        y = f"torch.full(({x}.shape[0], {n_targets}), {start}{dtype_arg}).scatter_reduce(1, {index}, {src}, {reduce!r})"
    if post == 1:
        return f"torch.softmax({y}, dim=1)"
    if post == 2:
        return f"torch.sigmoid({y})"
    return y


# -- ImageDecoder ---------------------------------------------------------------------------------


@TABLE.op("ImageDecoder")
def image_decoder(ctx: Ctx) -> str:
    fmt = ctx.attr("pixel_format", "RGB")
    if fmt not in ("RGB", "BGR", "Grayscale"):
        raise UnsupportedOp(f"pixel_format {fmt!r} is not RGB, BGR or Grayscale")
    # Decoding JPEG, PNG, WebP, ... exactly as ONNX's reference does needs Pillow's codecs.
    if importlib.util.find_spec("PIL") is None:
        raise UnsupportedOp("decoding images needs Pillow (PIL), which is not installed")
    return call(ctx.helper("image_decode"), ctx.x(0), lit(fmt))
