"""A tiny progress display on stderr, by pipeline stage.

Shown only when stderr is a terminal and the model is big (> 1,000 nodes or > 100 MB of weights):
small models convert in a blink, and logs or pipes must never fill up with bar redraws.
`--verbose` prints one line per finished stage (with its time) instead, terminal or not;
`--quiet` shows neither.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

BIG_NODES = 1000
BIG_BYTES = 100 * 1024 * 1024
STAGES = ("reading the model", "reading the graph", "optimising", "lowering", "writing")
WIDTH = 24


class Progress:
    """Stage-by-stage progress. `stage(name)` is a context manager timing one stage."""

    def __init__(self, stream: TextIO | None = None, *, bar: bool = True, verbose: bool = False) -> None:
        self.stream = stream
        self.bar_allowed = bar and stream is not None and _isatty(stream)
        self.verbose = verbose and stream is not None
        self.big = False
        self.timings: dict[str, float] = {}
        self._drawn = False
        self._count = 0

    @classmethod
    def off(cls) -> Progress:
        return cls(None, bar=False)

    @classmethod
    def for_cli(cls, quiet: bool, verbose: bool, stream: TextIO | None = None) -> Progress:
        stream = stream if stream is not None else sys.stderr
        return cls(None if quiet else stream, bar=not quiet, verbose=verbose and not quiet)

    def set_size(self, nodes: int = 0, weight_bytes: int = 0, file_bytes: int = 0) -> None:
        """Tell how big the model is; the bar appears from the next stage on if it is big."""
        if nodes > BIG_NODES or weight_bytes > BIG_BYTES or file_bytes > BIG_BYTES:
            self.big = True

    @property
    def showing_bar(self) -> bool:
        return self.bar_allowed and self.big

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._count += 1
        if self.showing_bar:
            self._draw(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + seconds
            if self.verbose:
                self._clear()
                self.stream.write(f"transpile: {name}: {seconds:.2f} s\n")  # type: ignore[union-attr]
                self.stream.flush()  # type: ignore[union-attr]

    def done(self) -> None:
        self._clear()

    def _draw(self, name: str) -> None:
        # the stage count is an estimate of the work left: later stages take about as long
        total = max(len(STAGES), self._count)
        filled = WIDTH * (self._count - 1) // total
        line = f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {self._count}/{total} {name}"
        self.stream.write(line.ljust(72))  # type: ignore[union-attr]
        self.stream.flush()  # type: ignore[union-attr]
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn and self.stream is not None:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
