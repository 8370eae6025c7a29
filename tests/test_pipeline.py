"""Symbolic dimensions, training semantics and output files of the PyTorch target."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from transpiler import convert
from transpiler.verify import run_onnxruntime

from .conftest import filled_model, zoo_manifest
from .models import dynamic_batch_cnn

torch = pytest.importorskip("torch")


def test_dynamic_batch_stays_symbolic(tmp_path: Path) -> None:
    from transpiler.targets.pytorch.runner import run_generated

    model = dynamic_batch_cnn()
    out = tmp_path / "net.py"
    convert(model, to="pytorch", out=out)
    for batch in (1, 7):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)
        (ref,) = run_onnxruntime(model, [x])
        (got,) = run_generated(out, [x])
        assert got.shape == (batch, 5)
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4)


def test_batchnorm_momentum_and_train_mode(tmp_path: Path) -> None:
    from transpiler.targets.pytorch.runner import import_generated

    out = tmp_path / "net.py"
    convert(dynamic_batch_cnn(), to="pytorch", out=out)
    model = import_generated(out).load_model()
    assert not model.training, "load_model must return the model in eval mode"
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 1
    assert bns[0].momentum == pytest.approx(0.01)  # ONNX momentum 0.99 -> PyTorch 1 - 0.99
    assert bns[0].eps == pytest.approx(1e-3)


def test_outputs_are_exactly_two_files_and_load_beside_the_file(tmp_path: Path, monkeypatch) -> None:
    from transpiler.targets.pytorch.runner import import_generated

    out = tmp_path / "sub" / "net.py"
    convert(dynamic_batch_cnn(), to="pytorch", out=out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["net.py", "net.safetensors"]
    monkeypatch.chdir(tmp_path)  # weights load relative to the file, not the working directory
    module = import_generated(out)
    model = module.load_model()
    renamed = tmp_path / "elsewhere.safetensors"
    os.replace(out.with_suffix(".safetensors"), renamed)
    with pytest.raises(Exception):
        module.load_model()
    assert module.load_model(renamed) is not None
    text = out.read_text()
    assert "pickle" not in text and "torch.load" not in text
    assert isinstance(model, torch.nn.Module)


FINETUNE = ["tiny_mlp", "resnet18_dynamo", "densenet121", "lstm_classifier"]


@pytest.mark.parametrize("name", FINETUNE)
def test_one_sgd_step_trains_every_parameter(name: str, tmp_path: Path) -> None:
    from transpiler.targets.pytorch.runner import import_generated

    from .test_zoo import manifest_inputs

    entry = next((m for m in zoo_manifest() if m["name"] == name), None)
    path = filled_model(name)
    assert entry is not None
    out = tmp_path / "net.py"
    convert(path, to="pytorch", out=out)
    model = import_generated(out).load_model()
    model.train()
    inputs = [torch.from_numpy(x) for x in manifest_inputs(entry)]
    params = dict(model.named_parameters())
    assert params, "the model has no trainable parameters"
    before = {k: p.detach().clone() for k, p in params.items()}

    def loss_fn() -> torch.Tensor:
        torch.manual_seed(0)
        out = model(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        return sum((o.float() ** 2).mean() for o in outs)

    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss0 = loss_fn()
    opt.zero_grad()
    loss0.backward()
    no_grad = [k for k, p in params.items() if p.grad is None or not torch.any(p.grad != 0)]
    assert not no_grad, f"parameters without gradient: {no_grad[:5]}"
    opt.step()
    unchanged = [k for k, p in params.items() if torch.equal(p.detach(), before[k])]
    assert not unchanged, f"parameters unchanged by the step: {unchanged[:5]}"
    with torch.no_grad():
        loss1 = loss_fn()
    assert loss1.item() < loss0.item(), f"loss did not decrease: {loss0.item()} -> {loss1.item()}"


def test_core_imports_and_converts_without_torch(tmp_path: Path) -> None:
    """Only --check and the generated code need torch; converting must not import it."""
    import subprocess
    import sys

    import onnx

    path = tmp_path / "m.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['onnxruntime'] = None\n"
        "import transpiler\n"
        f"transpiler.convert({str(path)!r}, to='pytorch', out={str(tmp_path / 'net.py')!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "net.py").is_file()


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    import subprocess
    import sys

    import onnx

    path = tmp_path / "m.onnx"
    onnx.save(dynamic_batch_cnn(), str(path))
    outputs = []
    for seed in ("0", "1", "12345"):
        out = tmp_path / seed / "net.py"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-m", "transpiler", str(path), "--to", "pytorch", "-o", str(out)],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append((out.read_bytes(), out.with_suffix(".safetensors").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]


def test_external_data_is_read_and_kept_inside_the_folder(tmp_path: Path) -> None:
    import onnx

    from transpiler.errors import InvalidModel
    from transpiler.targets.pytorch.runner import run_generated

    model = dynamic_batch_cnn()
    path = tmp_path / "m" / "model.onnx"
    path.parent.mkdir()
    onnx.save_model(
        dynamic_batch_cnn(), str(path), save_as_external_data=True, location="weights.data", size_threshold=0
    )
    assert (path.parent / "weights.data").is_file()
    out = tmp_path / "out" / "net.py"
    convert(path, to="pytorch", out=out)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    (ref,) = run_onnxruntime(model, [x])
    (got,) = run_generated(out, [x])
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-4)

    # a location that climbs out of the model's folder is refused before anything is read
    evil = onnx.load(str(path), load_external_data=False)
    for t in evil.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../outside.data"
    (tmp_path / "outside.data").write_bytes((path.parent / "weights.data").read_bytes())
    evil_path = tmp_path / "m" / "evil.onnx"
    onnx.save_model(evil, str(evil_path))
    with pytest.raises(InvalidModel, match="outside the model's folder"):
        convert(evil_path, to="pytorch", out=tmp_path / "out2" / "net.py")
    assert not (tmp_path / "out2").exists()


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    from transpiler.atomic import OutputFile, text_file, write_all

    def broken(f) -> None:  # type: ignore[no-untyped-def]
        f.write(b"half")
        raise OSError("disk full")

    out = tmp_path / "new" / "deeper"
    with pytest.raises(OSError):
        write_all([text_file(out / "net.py", "x = 1\n"), OutputFile(out / "net.safetensors", broken)])
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "kept"
    existing.mkdir()
    (existing / "net.py").write_text("old\n")
    with pytest.raises(OSError):
        write_all([text_file(existing / "net.py", "new\n"), OutputFile(existing / "net.safetensors", broken)])
    assert sorted(p.name for p in existing.iterdir()) == ["net.py"]
    assert (existing / "net.py").read_text() == "old\n"
