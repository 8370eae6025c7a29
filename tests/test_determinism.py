"""Determinism: the same model gives byte-identical output files across processes, PYTHONHASHSEED
values (0, 1, random), input paths (another folder, a relative path) and output folders; a model a
target refuses is refused with the same message every time.

Each run is one subprocess per (target, seed) that converts every zoo model and prints the sha256 of
every file written (or the refusal), so a target costs three conversions of the zoo.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _drive(target: str, out_root: str, models: list[str]) -> dict[str, dict]:
    """Convert each model for `target`; {model basename: {file name: sha256} or {"refused": msg}}."""
    from transpiler import api, convert, targets
    from transpiler.errors import TranspileError

    # The bytes each file would get, hashed as they are produced: the zoo's weights are large, and
    # writing them three times per target costs more than converting (atomic.py is tested apart).
    written: dict[str, str] = {}

    def hash_all(files):  # the signature of atomic.write_all
        for f in files:
            h = _HashSink()
            f.write(h)
            written[str(Path(f.path).relative_to(out_dir))] = h.hexdigest()
        return [f.path for f in files]

    api.write_all = hash_all
    suffix = getattr(targets.get(target), "default_suffix", ".out")
    results: dict[str, dict] = {}
    for model in models:
        name = Path(model).name
        out_dir = Path(out_root) / name
        written.clear()
        try:
            convert(model, to=target, out=out_dir / f"net{suffix}")
        except TranspileError as e:
            results[name] = {"refused": f"{type(e).__name__}: {str(e).replace(model, '<model>')}"}
        except Exception as e:  # a crash is for the zoo tests to report; here it must at least be stable
            results[name] = {"crashed": f"{type(e).__name__}: {str(e).replace(model, '<model>')}"}
        else:
            results[name] = dict(sorted(written.items()))
    return results


class _HashSink:
    """A write-only binary file that keeps only the sha256 of what it was given."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self._h.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


if __name__ == "__main__" and len(sys.argv) > 3:
    print(json.dumps(_drive(sys.argv[1], sys.argv[2], sys.argv[3:]), sort_keys=True))
    sys.exit(0)


import pytest  # noqa: E402

from transpiler import targets  # noqa: E402

from .conftest import filled_model, shared_or_skip, zoo_manifest  # noqa: E402


def target_or_skip(name: str):
    """The target, or: fail under CI=true (every registered target must exist there), skip elsewhere."""
    try:
        return targets.get(name)
    except ImportError as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"target {name!r} is registered but does not import: {e}")
        pytest.skip(f"target {name!r} does not import yet: {e}")


def run_seed(target: str, seed: str, models: list[str], cwd: Path, out_root: Path) -> dict[str, dict]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    if seed == "random":
        env.pop("PYTHONHASHSEED")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), target, str(out_root), *models],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=1200,
    )
    assert proc.returncode == 0, f"driver failed for seed {seed}:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize("target", targets.names())
def test_zoo_outputs_are_byte_identical(target: str, tmp_path: Path, record_property) -> None:
    record_property("suite", "determinism")
    record_property("case", target)
    record_property("ok", False)
    shared_or_skip()
    target_or_skip(target)
    cached = [filled_model(m["name"]) for m in zoo_manifest()]
    # the same files under a second folder (hard links: no copy of the weights), same basenames
    other = tmp_path / "elsewhere" / "models"
    other.mkdir(parents=True)
    for p in cached:
        try:
            os.link(p, other / p.name)
        except OSError:
            shutil.copyfile(p, other / p.name)
    runs = {
        "PYTHONHASHSEED=0": run_seed(target, "0", [str(p) for p in cached], ROOT, tmp_path / "out0"),
        "PYTHONHASHSEED=1, another folder": run_seed(
            target, "1", [str(other / p.name) for p in cached], ROOT, tmp_path / "out1"
        ),
        "random seed, relative path": run_seed(
            target, "random", [os.path.join("models", p.name) for p in cached], other.parent, tmp_path / "out2"
        ),
    }
    (first_label, first), *rest = runs.items()
    diffs = []
    for label, result in rest:
        for model in sorted(set(first) | set(result)):
            a, b = first.get(model), result.get(model)
            if a != b:
                files = sorted(k for k in set(a or {}) | set(b or {}) if (a or {}).get(k) != (b or {}).get(k))
                diffs.append(f"{model}: {first_label} vs {label}: {files}")
    converted = sum("refused" not in r and "crashed" not in r for r in first.values())
    record_property("why", f"{converted} converted, {len(first) - converted} refused")
    assert len(first) == len(cached)
    assert not diffs, "outputs differ:\n" + "\n".join(diffs)
    record_property("ok", True)


def test_two_runs_in_one_process_are_identical(tmp_path: Path) -> None:
    """Also within one process (caches, counters and global state must not leak into the output)."""
    from .models import dynamic_batch_cnn

    from transpiler import convert

    model = dynamic_batch_cnn()
    hashes = []
    for k in range(2):
        out = tmp_path / str(k)
        convert(model, to="pytorch", out=out / "net.py")
        hashes.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert hashes[0] == hashes[1]
