"""The I/O floor of a conversion: read the .onnx (and its external data) once and write the
weight bytes once. `python _io_floor.py MODEL OUT WEIGHT_BYTES`."""

from __future__ import annotations

import sys
from pathlib import Path

CHUNK = 1 << 24


def main() -> None:
    model, out, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    sources = [model, *sorted(p for p in model.parent.glob(model.name + ".data*"))]
    left = n
    with open(out, "wb") as w:
        for src in sources:
            data = src.read_bytes()  # the whole file, as a converter that parses it must
            view = memoryview(data)
            for i in range(0, min(len(data), left), CHUNK):
                w.write(view[i : min(i + CHUNK, left)])
            left -= min(len(data), left)
            del view, data
        while left > 0:  # weights larger than the files (never in practice): pad
            step = min(left, CHUNK)
            w.write(b"\0" * step)
            left -= step


if __name__ == "__main__":
    main()
