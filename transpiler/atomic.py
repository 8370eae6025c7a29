"""Writing a set of output files all-or-nothing: each goes to a temporary file beside its final
path and is renamed into place only after every file was written, so a failure or Ctrl-C never
leaves a half-written file (at worst a stray temporary, which is removed on the way out)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import OutputNotWritten


@dataclass
class OutputFile:
    path: Path
    write: Callable[[BinaryIO], None]


def text_file(path: Path, text: str) -> OutputFile:
    data = text.encode("utf-8")
    return OutputFile(path, lambda f: f.write(data))


def write_all(files: list[OutputFile]) -> list[Path]:
    temps: list[tuple[str, Path]] = []
    created: list[Path] = []  # folders made here, removed again if writing fails
    done = False
    try:
        for out in files:
            missing = [p for p in [out.path.parent, *out.path.parent.parents] if not p.exists()]
            blocker = next((p for p in [out.path.parent, *out.path.parent.parents] if p.exists() and not p.is_dir()), None)
            if blocker is not None:
                raise OutputNotWritten(f"cannot write {out.path}: {blocker} is a file, not a folder")
            out.path.parent.mkdir(parents=True, exist_ok=True)
            created.extend(reversed(missing))
            fd, tmp = tempfile.mkstemp(prefix=f".{out.path.name}.", suffix=".tmp", dir=out.path.parent)
            temps.append((tmp, out.path))
            with os.fdopen(fd, "wb") as f:
                out.write(f)
        for tmp, final in temps:
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
        temps = []
        done = True
    except OSError as e:  # a folder that is a file, no space left, no permission: one clear line
        where = e.filename or (out.path if files else "")
        raise OutputNotWritten(f"cannot write {where}: {e.strerror or e}") from None
    finally:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if not done:
            for folder in reversed(created):  # deepest first; only if still empty
                try:
                    folder.rmdir()
                except OSError:
                    pass
    return [o.path for o in files]
