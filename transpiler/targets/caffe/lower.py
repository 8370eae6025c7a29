"""IR graph -> Caffe layers. Every node is tried; all refusals are collected and raised together."""

from __future__ import annotations

from ... import ir
from ...errors import Refusal, UnsupportedModel, UnsupportedOp
from ..base import OpTable
from .net import REFUSED, Ctx, Layer, Net

FLOAT_ONLY = "Caffe blobs are float32"


def lower(graph: ir.Graph, table: OpTable) -> Net:
    net = Net()
    refusals: list[Refusal] = []
    for v in graph.inputs:
        shape = v.static_shape
        if v.elem != ir.FLOAT or v.kind != "tensor":
            refusals.append(Refusal("(input)", v.name, f"{FLOAT_ONLY}; this input is not a float32 tensor"))
        elif shape is None:
            refusals.append(Refusal("(input)", v.name, "a Caffe Input has a fixed shape; this input has symbolic or unknown dims"))
        else:
            name = net.names.fresh(v.name or "data")
            net.add(Layer(name, "Input", [], [name], {"input_param": {"shape": {"dim": list(shape)}}}))
            net.blobs[id(v)] = name
            continue
        net.blobs[id(v)] = REFUSED
    for node in graph.nodes:
        fn = table.get(node.domain, node.op_type)
        try:
            if fn is None:
                raise UnsupportedOp("no Caffe layer computes this op")
            if any(True for _ in node.subgraphs()):
                raise UnsupportedOp("control flow has no Caffe equivalent")
            for v in node.outputs:
                if v is not None and (v.elem != ir.FLOAT or v.kind != "tensor"):
                    raise UnsupportedOp(f"{FLOAT_ONLY}; output {v.name!r} is not a float32 tensor")
            result = fn(Ctx(net, node))
        except UnsupportedOp as e:
            refusals.append(Refusal(node.op_type, node.name, e.reason, node.domain))
            result = [REFUSED] * len(node.outputs)
        tops = result if isinstance(result, list) else [result]
        for v, top in zip(node.outputs, tops):
            if v is not None:
                net.blobs[id(v)] = top
    for v in graph.outputs:
        blob = net.blobs.get(id(v))
        if blob is None:
            refusals.append(Refusal("(output)", v.name, "a constant output has no Caffe layer"))
        elif blob != REFUSED and v.elem != ir.FLOAT:
            refusals.append(Refusal("(output)", v.name, FLOAT_ONLY))
    if refusals:
        raise UnsupportedModel("caffe", refusals)
    _expose_outputs(net, graph)
    _drop_unread_inputs(net, graph)
    return net


def _drop_unread_inputs(net: Net, graph: ir.Graph) -> None:
    """An input no layer reads (Dropout's ratio at inference, ...) is not declared in the net;
    its io.json entry has no name and the runner skips it."""
    read = {b for layer in net.layers for b in layer.bottoms}
    for v in graph.inputs:
        blob = net.blobs[id(v)]
        if blob not in read:
            net.layers = [layer for layer in net.layers if not (layer.type == "Input" and layer.tops == [blob])]
            net.blobs[id(v)] = None


def _expose_outputs(net: Net, graph: ir.Graph) -> None:
    """OpenCV's forward() takes layer names and returns a layer's first top: every graph output
    must be the first top of a layer of the same name. When it is not (an input passed through,
    a second top, one blob that is two outputs), a Split layer copies it under its own name."""
    used: set[str] = set()
    for v in graph.outputs:
        blob = net.blobs[id(v)]
        layer = net.producer.get(blob)
        if layer is None or layer.type == "Input" or layer.tops[0] != blob or layer.name != blob or blob in used:
            name = net.names.fresh(v.name or blob)
            net.add(Layer(name, "Split", [blob], [name], source=v.name))
            blob = name
        net.blobs[id(v)] = blob
        used.add(blob)
