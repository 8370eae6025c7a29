"""The progress display: a bar on stderr only for a terminal and a big model; --quiet / --verbose."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from transpiler.progress import BIG_BYTES, BIG_NODES, Progress

ROOT = Path(__file__).resolve().parents[1]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_stages(p: Progress) -> None:
    for name in ("reading the model", "optimising", "writing"):
        with p.stage(name):
            pass
    p.done()


def test_bar_for_big_models_on_a_terminal() -> None:
    for size in ({"nodes": BIG_NODES + 1}, {"weight_bytes": BIG_BYTES + 1}, {"file_bytes": BIG_BYTES + 1}):
        stream = Tty()
        p = Progress(stream)
        p.set_size(**size)
        run_stages(p)
        text = stream.getvalue()
        assert "[" in text and "optimising" in text and "\r" in text
        assert text.endswith("\r")  # the bar erases itself at the end


def test_no_bar_for_small_models_or_pipes() -> None:
    small = Tty()
    p = Progress(small)
    p.set_size(nodes=BIG_NODES, weight_bytes=BIG_BYTES)
    run_stages(p)
    assert small.getvalue() == ""
    pipe = io.StringIO()
    p = Progress(pipe)
    p.set_size(nodes=10 * BIG_NODES)
    run_stages(p)
    assert pipe.getvalue() == ""


def test_quiet_and_verbose() -> None:
    stream = Tty()
    p = Progress.for_cli(quiet=True, verbose=False, stream=stream)
    p.set_size(nodes=10 * BIG_NODES)
    run_stages(p)
    assert stream.getvalue() == ""
    pipe = io.StringIO()
    p = Progress.for_cli(quiet=False, verbose=True, stream=pipe)
    run_stages(p)
    lines = pipe.getvalue().splitlines()
    assert [ln.split(":")[1].strip() for ln in lines] == ["reading the model", "optimising", "writing"]
    assert all(ln.startswith("transpile: ") and ln.endswith(" s") for ln in lines)


def test_cli_quiet_and_verbose(tmp_path: Path) -> None:
    model = str(ROOT / "examples" / "tiny_mlp.onnx")
    run = [sys.executable, "-m", "transpiler", model, "--to", "pytorch"]
    quiet = subprocess.run([*run, "-o", str(tmp_path / "q.py"), "--quiet"], capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "q.py").exists()
    verbose = subprocess.run([*run, "-o", str(tmp_path / "v.py"), "--verbose"], capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 0
    assert "wrote" in verbose.stdout and "transpile: lowering to pytorch:" in verbose.stderr
    assert "\r" not in verbose.stderr  # not a terminal: no bar


def test_bar_in_a_real_terminal(tmp_path: Path) -> None:
    """Through a pseudo-terminal, with the threshold lowered so a small model counts as big."""
    import os
    import pty

    script = (
        "import sys, transpiler.progress as p; p.BIG_NODES = 1; "
        "from transpiler.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    pid, fd = pty.fork()
    if pid == 0:  # child: stdout and stderr are the terminal
        os.execv(sys.executable, [sys.executable, "-c", script, str(ROOT / "examples" / "tiny_mlp.onnx"),
                                  "--to", "pytorch", "-o", str(tmp_path / "net.py")])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    text = out.decode()
    assert "lowering to pytorch" in text and "[" in text and "wrote" in text
