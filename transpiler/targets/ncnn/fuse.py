"""Net-level rewrites after lowering: activation fusion, dead layers, and Split insertion.

- An activation that is the only reader of a Convolution / InnerProduct / Deconvolution output
  becomes that layer's fused activation (9=activation_type, 10=activation_params), the way
  ncnn's own fused_activation.h applies it: 1 ReLU, 2 leaky ReLU, 3 Clip, 4 Sigmoid, 6 HardSwish.
- ncnn gives every blob exactly one consumer: a blob read more than once goes through a `Split`
  layer with one output per reader (as ncnn's converters write it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from .net import Layer, Net

FUSABLE = frozenset(
    {"Convolution", "ConvolutionDepthWise", "Convolution1D", "ConvolutionDepthWise1D", "InnerProduct",
     "Deconvolution", "DeconvolutionDepthWise"}
)


def _activation(layer: Layer) -> tuple[int, list[float]] | None:
    p = layer.params
    if layer.type == "ReLU":
        slope = float(p.get(0, 0.0))
        return (1, []) if slope == 0.0 else (2, [slope])
    if layer.type == "Clip":
        return 3, [float(p.get(0, -3.4028234663852886e38)), float(p.get(1, 3.4028234663852886e38))]
    if layer.type == "Sigmoid":
        return 4, []
    if layer.type == "HardSwish":
        return 6, [float(p.get(0, 0.2)), float(p.get(1, 0.5))]
    return None


def fuse_activations(net: Net, keep: set[str]) -> int:
    """Fold activations into the layer before them; `keep` are blobs that must survive (outputs)."""
    readers: dict[str, list[Layer]] = defaultdict(list)
    for layer in net.layers:
        for blob in layer.inputs:
            readers[blob].append(layer)
    removed: set[int] = set()
    count = 0
    for layer in net.layers:
        if layer.type not in FUSABLE or 9 in layer.params or len(layer.outputs) != 1:
            continue
        blob = layer.outputs[0]
        users = readers.get(blob, [])
        if blob in keep or len(users) != 1 or len(users[0].inputs) != 1:
            continue
        act = _activation(users[0])
        if act is None:
            continue
        kind, args = act
        layer.params[9] = kind
        if args:
            layer.params[10] = args
        layer.outputs = list(users[0].outputs)
        removed.add(id(users[0]))
        count += 1
    net.layers = [layer for layer in net.layers if id(layer) not in removed]
    return count


def remove_dead(net: Net, keep: set[str]) -> None:
    """Drop layers none of whose outputs is read or kept (e.g. constants of a refused path)."""
    while True:
        read = {b for layer in net.layers for b in layer.inputs} | keep
        live = [layer for layer in net.layers if layer.type == "Input" or any(o in read for o in layer.outputs)]
        if len(live) == len(net.layers):
            return
        net.layers = live


def insert_splits(net: Net, fresh: Callable[[str], str], outputs: list[str] | None = None) -> list[str]:
    """`fresh(hint)` hands out unused blob / layer names. `outputs` are the blobs the caller
    extracts, in order; an output blob that layers also read (or that is extracted twice) gets a
    Split branch of its own too, since ncnn's in-place layers may overwrite a blob they consume.
    Returns the blob to extract for each output."""
    outputs = list(outputs or [])
    readers: dict[str, int] = defaultdict(int)
    for layer in net.layers:
        for blob in layer.inputs:
            readers[blob] += 1
    for blob in outputs:
        readers[blob] += 1
    extract = list(outputs)
    out: list[Layer] = []
    for layer in net.layers:
        out.append(layer)
        for blob in layer.outputs:
            n = readers.get(blob, 0)
            if n <= 1:
                continue
            names = [fresh(f"{blob}_splitncnn_{i}") for i in range(n)]
            out.append(Layer("Split", fresh(f"splitncnn_{blob}"), [blob], names))
            used = _rename_readers(net.layers, blob, names)
            spare = iter(names[used:])
            extract = [next(spare) if b == blob else b for b in extract]
    net.layers = out
    return extract


def _rename_readers(layers: list[Layer], blob: str, names: list[str]) -> int:
    """Give each reader of `blob` its own name; returns how many names were used."""
    it = iter(names)
    used = 0
    for layer in layers:
        renamed = []
        for b in layer.inputs:
            if b == blob:
                renamed.append(next(it))
                used += 1
            else:
                renamed.append(b)
        layer.inputs = renamed
    return used
