"""Running generated Keras files on the tensorflow, jax and torch backends from the tests.

Keras fixes its backend when it is imported, so each backend runs in its own subprocess
(tests/keras_worker.py). One worker per backend lives for the whole pytest process (or xdist
worker): the slow imports (TensorFlow) are paid once, and each test still reports one case.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tests.keras_worker import REPLY
from transpiler.errors import TranspileError
from transpiler.targets.keras import runner

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
TIMEOUT = float(os.environ.get("KERAS_TEST_TIMEOUT", "300"))
# numpy dtypes a case input can be handed over as (npz without pickle)
PLAIN_KINDS = "biuf"


class WorkerError(RuntimeError):
    pass


class _Worker:
    def __init__(self, backend: str) -> None:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
        if backend == "jax":
            env["JAX_ENABLE_X64"] = "1"  # int64 / float64 tensors as ONNX declares them
            env.setdefault("JAX_PLATFORMS", "cpu")
        if backend == "tensorflow":
            env.setdefault("CUDA_VISIBLE_DEVICES", "")
        self.backend = backend
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(ROOT / "tests" / "keras_worker.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT,
        )
        self._read()  # the "ready" line

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], TIMEOUT)
            if not ready:
                raise WorkerError(f"{self.backend} worker timed out after {TIMEOUT:.0f}s")
            line = self.proc.stdout.readline()
            if not line:
                raise WorkerError(f"{self.backend} worker died (exit {self.proc.poll()})")
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY):])

    def ask(self, req: dict) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


_workers: dict[str, _Worker] = {}


def _worker(backend: str) -> _Worker:
    w = _workers.get(backend)
    if w is None or w.proc.poll() is not None:
        w = _workers[backend] = _Worker(backend)
    return w


@atexit.register
def _close_all() -> None:
    for w in _workers.values():
        w.close()


def _ask(backend: str, req: dict) -> dict:
    try:
        return _worker(backend).ask(req)
    except WorkerError:
        w = _workers.pop(backend, None)
        if w is not None:
            w.close()  # a hung or crashed worker is replaced for the next case
        raise


# ONNX element types numpy (and an npz file) has only through ml_dtypes: handed to the worker
# widened to a dtype holding each value exactly (the worker gives bfloat16 back to Keras as such;
# the others the generated file holds wide itself, see its WIDE_INPUTS / WIDE_OUTPUTS)
WIDENED = {
    "bfloat16": "float32", "float8_e4m3fn": "float32", "float8_e4m3fnuz": "float32", "float8_e5m2": "float32",
    "float8_e5m2fnuz": "float32", "float4_e2m1fn": "float32", "float8_e8m0fnu": "float32",
    "int4": "int8", "int2": "int8", "uint4": "uint8", "uint2": "uint8",
}
def save_sets(path: Path, sets: list[list[Any]]) -> dict[str, str]:
    """Write the input sets; returns {array key: ml_dtypes name} of the inputs handed over widened."""
    arrays, widened = {}, {}
    for s, inputs in enumerate(sets):
        for i, x in enumerate(inputs):
            arr = np.asarray(x)
            key = f"s{s}_i{i}"
            if arr.dtype.kind not in PLAIN_KINDS or arr.dtype.name in WIDENED:
                if arr.dtype.name not in WIDENED:
                    raise TypeError(f"input {i} has dtype {arr.dtype}, which the test cannot hand to Keras")
                widened[key] = arr.dtype.name
                arr = arr.astype(WIDENED[arr.dtype.name])  # exact: every value of the type fits
            arrays[key] = arr
    np.savez(path, **arrays)
    return widened


def narrow(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """A wide output as the ONNX type it holds; refuses (never rounds) a value that type lacks."""
    try:
        return runner.narrow(arr, name, what)
    except TranspileError as e:
        raise WorkerError(str(e)) from None


def run_sets(backend: str, net: Path, sets: list[list[Any]]) -> list[list[np.ndarray]]:
    """Outputs (ONNX layout) of the generated file `net` on each input set, computed on `backend`."""
    inputs, out = net.parent / "inputs.npz", net.parent / f"out_{backend}.npz"
    widened = save_sets(inputs, sets)
    req = {"mode": "run", "net": str(net), "inputs": str(inputs), "out": str(out), "widened": widened}
    reply = _ask(backend, req)
    if not reply.get("ok"):
        raise WorkerError(f"{backend}: {reply.get('error')}")
    data = np.load(out, allow_pickle=False)
    wide = reply.get("wide", {})  # output key -> the ONNX type its wide values stand for
    result: list[list[np.ndarray]] = [[] for _ in sets]
    for key in sorted(data.files, key=lambda k: tuple(int(p) for p in k[1:].split("_o"))):
        s, _ = key[1:].split("_o")
        arr = data[key]
        result[int(s)].append(narrow(arr, wide[key], f"{backend} output {key}") if key in wide else arr)
    return result


def fit_once(backend: str, net: Path, inputs: list[np.ndarray]) -> dict:
    save_sets(net.parent / "inputs.npz", [inputs])
    reply = _ask(backend, {"mode": "fit", "net": str(net), "inputs": str(net.parent / "inputs.npz")})
    if not reply.get("ok"):
        raise WorkerError(f"{backend}: {reply.get('error')}")
    return reply
