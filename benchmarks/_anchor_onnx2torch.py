"""onnx2torch as an anchor: `python _anchor_onnx2torch.py MODEL OUT.pt` converts MODEL to a
torch.fx GraphModule and saves its state_dict (its weights artifact), end to end like
`transpile`. Also importable: `convert(path)` returns the GraphModule, for the inference bench."""

from __future__ import annotations

import sys
import types


def onnx2torch_module():  # type: ignore[no-untyped-def]
    """Import onnx2torch. Its NMS / RoiAlign converters import torchvision at import time; the
    torchvision wheels at hand are CUDA builds that do not load beside CPU torch 2.13, so when
    the real one fails a stub stands in (those two converters then fail if a model uses them;
    no benchmark model does)."""
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        stub = types.ModuleType("torchvision")
        ops = types.ModuleType("torchvision.ops")

        def missing(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("torchvision is not importable in this environment")

        ops.nms = ops.box_convert = ops.roi_align = missing  # type: ignore[attr-defined]
        stub.ops = ops  # type: ignore[attr-defined]
        sys.modules["torchvision"] = stub
        sys.modules["torchvision.ops"] = ops
    import onnx2torch

    return onnx2torch


def fold_identity_initializers(model):  # type: ignore[no-untyped-def]
    """onnx2torch requires a Conv's weight and bias to be initializers; the legacy exporter writes
    some biases as Identity(initializer) (the zoo's resnet18 has 16). Turn those into
    initializers, the one-line clean-up a user of onnx2torch would run (onnxsim does the same)."""
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            arr = numpy_helper.to_array(inits[node.input[0]])
            model.graph.initializer.append(numpy_helper.from_array(arr, node.output[0]))
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model


def convert(model_path: str):  # type: ignore[no-untyped-def]
    import onnx

    return onnx2torch_module().convert(fold_identity_initializers(onnx.load(model_path)))


def main() -> None:
    import torch

    model_path, out = sys.argv[1], sys.argv[2]
    net = convert(model_path)
    torch.save(net.state_dict(), out)


if __name__ == "__main__":
    main()
