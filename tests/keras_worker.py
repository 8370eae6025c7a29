"""A long-lived worker that runs generated Keras files on one backend (KERAS_BACKEND is fixed when
keras is imported, so each backend needs its own process). Used by tests/keras_harness.py.

Protocol: one JSON request per line on stdin, one reply per request on stdout, on a line that
starts with REPLY (other output of the libraries is ignored by the client).
  {"mode": "run", "net": ".../net.py", "inputs": ".../in.npz", "out": ".../out.npz"}
      inputs holds s<set>_i<k> arrays (ONNX layout); out gets s<set>_o<k> arrays (ONNX layout)
  {"mode": "fit", "net": ".../net.py", "inputs": ".../in.npz"}
      trains one step on the first data set against zero targets; replies whether weights moved
"""

from __future__ import annotations

import json
import os
import sys
import traceback

REPLY = "@@KERAS-REPLY@@ "


def _sets(path: str) -> list[list]:
    import numpy as np

    data = np.load(path, allow_pickle=False)
    sets: dict[int, dict[int, object]] = {}
    for key in data.files:
        s, i = key[1:].split("_i")
        sets.setdefault(int(s), {})[int(i)] = data[key]
    return [[d[i] for i in sorted(d)] for _, d in sorted(sets.items())]


def _run(req: dict) -> dict:
    import keras
    import ml_dtypes
    import numpy as np

    from transpiler.targets.keras.runner import import_generated, run_module

    module = import_generated(req["net"])
    model = module.load_model()
    widened = req.get("widened", {})
    held_wide = getattr(module, "WIDE_OUTPUTS", {})  # outputs the file itself holds in a wider dtype
    outs, wide = {}, {}
    for s, inputs in enumerate(_sets(req["inputs"])):
        for i, x in enumerate(inputs):
            if widened.get(f"s{s}_i{i}") == "bfloat16":  # every backend has bfloat16: hand it over as such
                inputs[i] = x.astype(ml_dtypes.bfloat16)
        for k, y in enumerate(run_module(module, model, inputs, narrow_outputs=False)):
            key = f"s{s}_o{k}"
            if y.dtype == ml_dtypes.bfloat16:  # npz holds no bfloat16: widen exactly, the client narrows
                y, wide[key] = y.astype(np.float32), "bfloat16"
            elif k in held_wide:
                wide[key] = held_wide[k]
            outs[key] = y
    np.savez(req["out"], **outs)
    keras.backend.clear_session()
    return {"ok": True, "wide": wide}


def _fit(req: dict) -> dict:
    import keras
    import numpy as np

    from transpiler.targets.keras.runner import import_generated

    module = import_generated(req["net"])
    model = module.load_model()
    inputs = _sets(req["inputs"])[0]
    feeds = [x.transpose(p) if p is not None else x for x, p in zip(inputs, module.INPUT_PERMS)]
    before = [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]
    bn = [
        {"epsilon": float(layer.epsilon), "momentum": float(layer.momentum)}
        for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    batch = len(feeds[0])
    targets = [np.zeros(tuple(batch if d is None else d for d in o.shape), dtype="float32") for o in model.outputs]
    model.fit(feeds, targets, epochs=1, batch_size=len(feeds[0]), verbose=0)
    after = [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]
    changed = sorted(v.path for v, a, b in zip(model.weights, before, after) if not np.array_equal(a, b))
    keras.backend.clear_session()
    return {"ok": True, "changed": changed, "all": sorted(v.path for v in model.weights), "bn": bn}


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import keras  # noqa: F401  (import once, up front)

    print(REPLY + json.dumps({"ready": keras.backend.backend()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            import numpy as np

            with np.errstate(all="ignore"):
                reply = _fit(req) if req.get("mode") == "fit" else _run(req)
        except Exception as e:  # reported to the test, which fails with it
            tb = traceback.format_exc(limit=3).splitlines()
            reply = {"ok": False, "error": f"{type(e).__name__}: {' '.join(str(e).split())[:300]}", "trace": tb[-4:]}
        print(REPLY + json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
