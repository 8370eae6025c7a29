"""ncnn's static C++ library for the C++ tests, built once from its PyPI sdist and cached.

The sdist of the same version as the `ncnn` wheel is fetched through PyPI's simple index (JSON
form, PEP 691) and checked against the index's sha256; `pip download --no-binary` is avoided
because the sdist's setup.py stamps today's date as its version. The build is slim (no Vulkan,
no runtime CPU dispatch, no AVX, int8 or bf16 kernels, no tools/examples/python) and lands in
~/.cache/transpiler-tests/ncnn-<version>/install, so a fresh CI machine builds it once (about two
CPU-minutes) and every later run reuses it. A file lock keeps two pytest-xdist workers from
building at the same time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

from .conftest import CACHE

VERSION = "1.0.20261020"
SIMPLE_INDEX = "https://pypi.org/simple/ncnn/"
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DNCNN_VULKAN=OFF",
    "-DNCNN_RUNTIME_CPU=OFF",
    "-DNCNN_AVX=OFF",
    "-DNCNN_AVX2=OFF",
    "-DNCNN_AVX512=OFF",
    "-DNCNN_INT8=OFF",
    "-DNCNN_BF16=OFF",
    "-DNCNN_BUILD_TOOLS=OFF",
    "-DNCNN_BUILD_EXAMPLES=OFF",
    "-DNCNN_BUILD_BENCHMARK=OFF",
    "-DNCNN_BUILD_TESTS=OFF",
    "-DNCNN_PYTHON=OFF",
    "-DNCNN_SHARED_LIB=OFF",
]


def ncnn_prefix(version: str = VERSION) -> Path:
    """The install prefix of the built library (holds lib/cmake/ncnn/ncnnConfig.cmake)."""
    root = CACHE / f"ncnn-{version}"
    prefix = root / "install"
    done = root / "BUILT"
    if done.is_file():
        return prefix
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building: wait for it
        try:
            if not done.is_file():
                _build(version, root, prefix)
                done.write_text(version + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return prefix


def cmake_dir(prefix: Path) -> Path:
    for cand in (prefix / "lib" / "cmake" / "ncnn", prefix / "lib64" / "cmake" / "ncnn"):
        if (cand / "ncnnConfig.cmake").is_file():
            return cand
    raise FileNotFoundError(f"ncnnConfig.cmake not found under {prefix}")


def _sdist_url(version: str) -> tuple[str, str]:
    req = urllib.request.Request(SIMPLE_INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        index = json.load(r)
    want = f"ncnn-{version}.tar.gz"
    for f in index["files"]:
        if f["filename"] == want:
            return f["url"], f["hashes"]["sha256"]
    raise FileNotFoundError(f"{want} is not on PyPI")


def _build(version: str, root: Path, prefix: Path) -> None:
    tarball = root / f"ncnn-{version}.tar.gz"
    if not tarball.is_file():
        url, sha = _sdist_url(version)
        tmp = tarball.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=600) as r, open(tmp, "wb") as f:
            shutil.copyfileobj(r, f)
        if hashlib.sha256(tmp.read_bytes()).hexdigest() != sha:
            tmp.unlink()
            raise RuntimeError(f"{url}: sha256 mismatch")
        os.replace(tmp, tarball)
    src = root / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir()
    with tarfile.open(tarball) as tf:
        tf.extractall(src, filter="data")
    (top,) = [p for p in src.iterdir() if p.is_dir()]
    build = root / "build"
    if build.exists():
        shutil.rmtree(build)
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(
        ["cmake", "-S", str(top), "-B", str(build), *gen, f"-DCMAKE_INSTALL_PREFIX={prefix}", *CMAKE_FLAGS],
        check=True, capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    subprocess.run(["cmake", "--install", str(build)], check=True, capture_output=True)
    shutil.rmtree(build)
    shutil.rmtree(src)


if __name__ == "__main__":
    print(ncnn_prefix())
