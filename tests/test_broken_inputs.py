"""Broken and hostile input files: every run exits non-zero with exactly one line on stderr, no
traceback, and leaves the output folder exactly as it was (listing and bytes).

The corpus (>= 50 files) is built here from zoo models: truncations, byte flips, deleted nodes and
initializers, cycles, missing / dangling inputs, duplicate names, unknown ops and domains, opsets
out of range, shape conflicts, external data that is missing or points outside the model's folder,
and files that are not ONNX at all.

Running the real CLI once per case costs a Python start-up each; instead one driver process imports
the CLI once and forks a child per case, whose fds 1/2 go to files and whose exit status is what
`python -m transpiler` would return (an uncaught exception prints a traceback exactly as there).
A few cases also run through `python -m transpiler` itself to keep the driver honest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The exit codes of a clean refusal: 2 = bad input, 3 = unsupported ops (cli.py).
REFUSAL_CODES = (2, 3)
MAX_SECONDS = 30  # per case: a hostile file must not stall the tool


@dataclass
class Case:
    name: str
    argv: list[str]
    out_dir: str
    # "fail": must be refused; "clean": a random mutation that may still be a valid model, so
    # success is allowed, but a failure must still be clean
    expect: str = "fail"
    contains: str = ""  # a word the one-line message must contain (lower-case match)
    codes: tuple[int, ...] = REFUSAL_CODES
    result: dict = field(default_factory=dict)


# -- the driver (runs in its own process: python tests/test_broken_inputs.py CASES.json) --------


def _drive(cases_file: str) -> None:
    from transpiler import cli

    cases = json.loads(Path(cases_file).read_text())
    results = []
    for k, case in enumerate(cases):
        out_file, err_file = f"{cases_file}.{k}.out", f"{cases_file}.{k}.err"
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child is `python -m transpiler ARGV`
            for fd, name in ((1, out_file), (2, err_file)):
                f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(f, fd)
                os.close(f)
            code = 1
            try:
                code = cli.main(case["argv"])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        results.append({"code": code, "seconds": time.monotonic() - start, "stdout": Path(out_file).read_text("utf-8", "replace"),
                        "stderr": Path(err_file).read_text("utf-8", "replace")})
    Path(cases_file + ".results").write_text(json.dumps(results))


if __name__ == "__main__" and len(sys.argv) == 2:
    _drive(sys.argv[1])
    sys.exit(0)


# -- building the corpus ------------------------------------------------------------------------

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import pytest  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from .conftest import filled_model  # noqa: E402


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file under `folder` (hidden ones too) with its bytes; None if it does not exist."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(folder.rglob("*"))}


class Corpus:
    """Writes broken inputs into `root` and the matching CLI argument lists."""

    def __init__(self, root: Path, target: str = "pytorch") -> None:
        self.root = root
        self.target = target
        self.cases: list[Case] = []

    def add(self, name: str, model_path: Path, expect: str = "fail", contains: str = "",
            codes: tuple[int, ...] = REFUSAL_CODES, fresh_out: bool = False) -> None:
        out_dir = self.root / "out" / name
        if not fresh_out:  # an output folder with earlier results that a failure must not touch
            out_dir.mkdir(parents=True)
            (out_dir / "net.py").write_text("# an earlier result\n")
            (out_dir / "net.safetensors").write_bytes(b"\x08\0\0\0\0\0\0\0{}      ")
            (out_dir / "notes.txt").write_text("keep me\n")
        argv = [str(model_path), "--to", self.target, "-o", str(out_dir / "net.py")]
        self.cases.append(Case(name, argv, str(out_dir), expect, contains.lower(), codes))

    def file(self, name: str, data: bytes, suffix: str = ".onnx") -> Path:
        folder = self.root / "in" / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"model{suffix}"
        path.write_bytes(data)
        return path

    def model(self, name: str, model: onnx.ModelProto, **kw) -> None:
        self.add(name, self.file(name, model.SerializeToString()), **kw)

    def raw(self, name: str, data: bytes, suffix: str = ".onnx", **kw) -> None:
        self.add(name, self.file(name, data, suffix), **kw)


def load(name: str) -> onnx.ModelProto:
    return onnx.load(str(filled_model(name)))


def _vi(name: str, shape: list, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def small_model(opset: int = 17, ir_version: int = 8) -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((3, 3), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"), helper.make_node("Relu", ["h"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [_vi("x", [2, 3])], [_vi("y", [2, 3])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version)


def build_corpus(root: Path, target: str = "pytorch") -> list[Case]:
    c = Corpus(root, target)
    mlp, conv, lstm, unet = load("tiny_mlp"), load("conv1d_audio"), load("lstm_classifier"), load("tiny_unet")
    mlp_bytes, conv_bytes = mlp.SerializeToString(), conv.SerializeToString()

    # -- not a model at all
    c.add("missing_file", root / "in" / "nowhere.onnx", contains="no such file")
    (root / "in" / "a_folder.onnx").mkdir(parents=True)
    c.add("a_folder", root / "in" / "a_folder.onnx", contains="not a file")
    c.raw("empty_file", b"", contains="empty")
    c.raw("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(64)), suffix=".png", contains="not an onnx")
    c.raw("hdf5_keras", b"\x89HDF\r\n\x1a\n" + b"\0" * 512, suffix=".h5", contains="not an onnx")
    c.raw("zip_pytorch", b"PK\x03\x04" + b"\0" * 26 + b"archive/data.pkl" + b"\x80\x02}q\x00." * 8, suffix=".pt")
    c.raw("text_file", b"this is a README, not a model\n" * 4)
    c.raw("json_file", json.dumps({"graph": {"node": []}}).encode())
    c.raw("random_bytes", np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    c.raw("gzip_of_model", b"\x1f\x8b\x08\x00" + mlp_bytes[:2000])
    c.raw("model_proto_no_graph", helper.make_model(helper.make_graph([], "g", [], [])).SerializeToString()[:4])
    empty = onnx.ModelProto()
    empty.ir_version = 8
    c.model("no_graph", empty, contains="no graph")

    # -- truncations and byte flips of real files
    for frac in (0.01, 0.1, 0.33, 0.5, 0.75, 0.9, 0.999):
        c.raw(f"truncated_mlp_{int(frac * 1000)}", mlp_bytes[: int(len(mlp_bytes) * frac)])
    c.raw("truncated_conv_last_byte", conv_bytes[:-1])
    rng = np.random.default_rng(2024)
    for k in range(8):  # flips in the structural head (nodes come first in the serialised graph)
        data = bytearray(conv_bytes)
        for pos in rng.integers(0, 600, 3):
            data[pos] ^= int(rng.integers(1, 256))
        c.raw(f"byte_flips_conv_{k}", bytes(data), expect="clean")

    # -- broken graphs
    m = clone(mlp)
    del m.graph.node[1]  # the Relu: the next Gemm reads a value nothing defines
    c.model("deleted_middle_node", m, contains="relu_output_0")
    m = clone(mlp)
    del m.graph.node[len(m.graph.node) - 1]
    c.model("deleted_last_node", m, contains="probs")
    m = clone(conv)
    del m.graph.initializer[0]
    c.model("deleted_initializer", m)
    m = clone(lstm)
    for k in [i for i, t in enumerate(m.graph.initializer) if "LSTM" in t.name][:1]:
        del m.graph.initializer[k]
    c.model("deleted_lstm_weight", m)
    m = clone(mlp)
    del m.graph.input[0]
    c.model("missing_graph_input", m, contains="input")
    m = clone(mlp)
    m.graph.node[2].input[0] = "nobody_makes_this"
    c.model("dangling_node_input", m, contains="nobody_makes_this")
    m = clone(mlp)  # a cycle: the first node reads the output of a later one
    m.graph.node[0].input[0] = m.graph.node[3].output[0] if m.graph.node[3].op_type != "Constant" else m.graph.node[4].output[0]
    c.model("cycle_two_nodes", m)
    m = clone(conv)
    m.graph.node[1].input[0] = m.graph.node[1].output[0]
    c.model("cycle_self_loop", m)
    m = clone(unet)  # nodes in reverse order: not topologically sorted
    nodes = list(m.graph.node)[::-1]
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    c.model("nodes_not_sorted", m)
    m = clone(mlp)
    m.graph.node[2].output[0] = m.graph.node[0].output[0]
    c.model("duplicate_node_output", m)
    m = clone(conv)
    m.graph.initializer.append(m.graph.initializer[0])
    c.model("duplicate_initializer", m)
    m = clone(mlp)
    m.graph.node[1].output[0] = "input"
    c.model("node_overwrites_graph_input", m)
    m = clone(mlp)
    m.graph.node[1].op_type = "NotAnOnnxOp"
    c.model("unknown_op", m, contains="notanonnxop")
    m = clone(mlp)
    m.graph.node[1].domain = "com.nobody"
    c.model("unknown_domain_not_imported", m, contains="com.nobody")
    m = clone(mlp)
    m.graph.node[1].domain = "com.nobody"
    m.opset_import.append(helper.make_opsetid("com.nobody", 1))
    c.model("custom_domain_op", m, contains="com.nobody")
    m = clone(mlp)
    m.graph.node[1].op_type = ""
    c.model("empty_op_type", m)
    m = clone(conv)
    conv_node = next(n for n in m.graph.node if n.op_type == "Conv")
    for a in conv_node.attribute:
        if a.name == "kernel_shape":
            a.ints[0] = 7  # disagrees with the weight's shape
    c.model("conv_kernel_shape_conflict", m)
    m = clone(conv)
    conv_node = next(n for n in m.graph.node if n.op_type == "Conv")
    conv_node.attribute.append(helper.make_attribute("no_such_attribute", 3))
    c.model("unknown_attribute", m)
    m = clone(mlp)
    gemm = m.graph.node[0]
    del gemm.attribute[:]
    gemm.attribute.append(helper.make_attribute("transB", 1.5))  # float where an int is required
    c.model("attribute_wrong_type", m)
    m = clone(mlp)  # an initializer whose stated dims disagree with its data
    t = m.graph.initializer[0]
    t.dims[0] = t.dims[0] + 1
    c.model("initializer_dims_vs_data", m)
    m = clone(mlp)  # consistent data, but the Gemm shapes no longer agree
    t = m.graph.initializer[0]
    arr = numpy_helper.to_array(t)
    t.CopyFrom(numpy_helper.from_array(arr[:, :-5].copy(), t.name))
    c.model("shape_mismatch_gemm", m, contains="shape")
    m = clone(mlp)
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 63
    c.model("input_shape_mismatch", m, contains="shape")
    m = clone(mlp)
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    c.model("input_type_mismatch", m)
    m = clone(mlp)
    m.graph.initializer[1].data_type = 99
    c.model("unknown_tensor_type", m)
    m = clone(mlp)
    big = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20, 1 << 10])
    m.graph.initializer.append(big)
    c.model("huge_dims_no_data", m)
    m = clone(mlp)
    m.graph.initializer[1].dims[0] = -128
    c.model("negative_dim", m)

    # -- opsets and versions
    for version, label in ((1, "opset_1"), (0, "opset_0"), (99, "opset_99"), (-3, "opset_negative")):
        m = clone(mlp)
        m.opset_import[0].version = version
        c.model(label, m, contains="opset")
    m = clone(mlp)
    del m.opset_import[:]
    c.model("no_opset_import", m, contains="opset")
    m = clone(mlp)
    m.opset_import.append(helper.make_opsetid("", 13))
    c.model("two_default_opsets", m)
    m = clone(mlp)
    m.ir_version = 99
    c.model("ir_version_99", m)
    m = clone(mlp)
    m.ir_version = 0
    c.model("ir_version_0", m)
    c.model("old_opset_missing_upgrade", _old_opset_model(), expect="clean")
    # negative axes before opset 11: ONNX infers one shape, onnxruntime computes another (a fuzz finding)
    nodes = [helper.make_node("Unsqueeze", ["x"], ["u"], axes=[-2], name="unsq"),
             helper.make_node("Gather", ["u", "i"], ["y"], axis=1, name="gather")]
    graph = helper.make_graph(nodes, "g", [_vi("x", [6, 6, 3])], [_vi("y", [6, 2, 1, 3])],
                              [numpy_helper.from_array(np.array([0, 4], np.int64), "i")])
    c.model("negative_axes_opset_9", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)],
                                                       ir_version=4))

    # -- external data
    _external_cases(c, mlp)
    _hostile_valid_cases(c, mlp)
    return c.cases


def _hostile_valid_cases(c: Corpus, mlp: onnx.ModelProto) -> None:
    """Odd but possibly meaningful models: converting them may succeed, but a refusal must be clean,
    and nothing may blow up (memory bombs must not be evaluated at conversion time)."""
    m = clone(mlp)
    m.graph.output.append(m.graph.output[0])
    c.model("duplicate_graph_output", m, expect="clean")
    # a 40 GB constant, described in a few bytes
    shape = numpy_helper.from_array(np.array([100_000, 100_000], np.int64), "shape")
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"], name="bomb"),
             helper.make_node("Add", ["x", "big"], ["y"], name="add")]
    graph = helper.make_graph(nodes, "g", [_vi("x", [1, 1])], [_vi("y", [100_000, 100_000])], [shape])
    c.model("memory_bomb_constant_of_shape", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                                               ir_version=8), expect="clean")
    lims = [numpy_helper.from_array(np.array(v, np.int64), n) for v, n in ((0, "a"), (10**12, "b"), (1, "d"))]
    nodes = [helper.make_node("Range", ["a", "b", "d"], ["r"], name="range"),
             helper.make_node("Cast", ["r"], ["y"], name="cast", to=TensorProto.FLOAT)]
    graph = helper.make_graph(nodes, "g", [], [_vi("y", [None])], lims)
    c.model("memory_bomb_range", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
            expect="clean")
    reps = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "reps")
    ones = numpy_helper.from_array(np.ones((4, 4), np.float32), "ones")
    nodes = [helper.make_node("Tile", ["ones", "reps"], ["t"], name="tile"),
             helper.make_node("ReduceSum", ["t"], ["y"], name="sum", keepdims=0)]
    graph = helper.make_graph(nodes, "g", [], [_vi("y", [])], [ones, reps])
    c.model("memory_bomb_tile", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
            expect="clean")
    # a sparse initializer whose indices point outside its dense shape
    values = numpy_helper.from_array(np.ones(2, np.float32), "sp")
    indices = numpy_helper.from_array(np.array([1, 10**9], np.int64), "sp_idx")
    sparse = helper.make_sparse_tensor(values, indices, [3, 3])
    m = small_model()
    del m.graph.initializer[:]
    m.graph.node[0].input[1] = "sp"
    m.graph.sparse_initializer.append(sparse)
    c.model("sparse_index_out_of_range", m)
    m = small_model()
    m.graph.node[0].attribute.append(helper.make_attribute("dummy", 1))
    node = helper.make_node("Constant", [], ["w2"], name="const",
                            sparse_value=helper.make_sparse_tensor(values, numpy_helper.from_array(
                                np.array([-7, 4], np.int64), "i"), [3, 3]))
    m = small_model()
    del m.graph.initializer[:]
    m.graph.node.insert(0, node)
    m.graph.node[1].input[1] = "w2"
    c.model("sparse_constant_negative_index", m)
    # names that are not UTF-8 (protobuf strings hold any bytes in a proto2 file)
    m = small_model()
    m.graph.node[0].name = "NAME_MARKER_1234"
    m.graph.node[0].output[0] = "VALUE_MARKER_123"
    m.graph.node[1].input[0] = "VALUE_MARKER_123"
    data = m.SerializeToString()  # same-length replacements keep the protobuf framing intact
    data = data.replace(b"NAME_MARKER_1234", b"\xff\xfe\x00\xc0\x80 bad \xed\xa0\x80 n!")
    data = data.replace(b"VALUE_MARKER_123", b"\xc3\x28\x00\xf8\x88\x80\x80\x80 val\"'\n#")
    c.raw("invalid_utf8_names", data, expect="clean")
    # subgraphs nested deeper than anything sensible
    c.model("deeply_nested_if", _nested_if(23), expect="clean")  # protobuf parses ~100 levels
    # an output location that cannot be written: its folder is a file
    blocker = c.root / "in" / "blocker"
    blocker.write_text("a file where the output folder should be\n")
    path = c.file("output_parent_is_file", small_model().SerializeToString())
    c.cases.append(Case("output_parent_is_file", [str(path), "--to", c.target, "-o", str(blocker / "net.py")],
                        str(blocker), "fail", "", REFUSAL_CODES))


def _nested_if(depth: int) -> onnx.ModelProto:
    """If inside If inside If ... `depth` levels, each branch returning x or -x."""
    def branch(level: int, tag: str) -> onnx.GraphProto:
        out = f"o{level}{tag}"
        if level == depth or tag == "e":
            node = helper.make_node("Neg" if tag == "t" else "Identity", ["x"], [out], name=f"leaf{level}{tag}")
        else:
            node = helper.make_node("If", ["c"], [out], name=f"if{level}{tag}",
                                    then_branch=branch(level + 1, "t"), else_branch=branch(level + 1, "e"))
        return helper.make_graph([node], f"b{level}{tag}", [], [_vi(out, [2])])

    top = helper.make_node("If", ["c"], ["y"], name="if0", then_branch=branch(1, "t"), else_branch=branch(1, "e"))
    graph = helper.make_graph([top], "g", [_vi("c", [], TensorProto.BOOL), _vi("x", [2])], [_vi("y", [2])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _old_opset_model() -> onnx.ModelProto:
    """Opset 1 with an op that opset 7 changed: the upgrade works or is refused cleanly."""
    nodes = [helper.make_node("Add", ["x", "y"], ["z"], name="add", broadcast=1)]
    graph = helper.make_graph(nodes, "g", [_vi("x", [2, 3]), _vi("y", [3])], [_vi("z", [2, 3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 1)], ir_version=3)


def _external_cases(c: Corpus, mlp: onnx.ModelProto) -> None:
    def with_location(name: str, location: str, offset: int | None = None, length: int | None = None) -> Path:
        m = clone(mlp)
        t = m.graph.initializer[0]
        raw = numpy_helper.to_array(t).tobytes()
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = TensorProto.EXTERNAL
        entries = {"location": location}
        if offset is not None:
            entries["offset"] = str(offset)
        if length is not None:
            entries["length"] = str(length)
        for k, v in entries.items():
            e = t.external_data.add()
            e.key, e.value = k, v
        path = c.file(name, m.SerializeToString())
        return path, raw

    path, _ = with_location("external_missing", "weights.bin")
    c.add("external_missing", path, contains="missing")
    secret = c.root / "in" / "secret.bin"
    secret.write_bytes(np.ones(128 * 64, np.float32).tobytes())
    path, _ = with_location("external_traversal", "../secret.bin")
    c.add("external_traversal", path, contains="outside")
    path, _ = with_location("external_absolute", str(secret))
    c.add("external_absolute", path, contains="outside")
    path, _ = with_location("external_etc_passwd", "../../../../../../../../etc/passwd")
    c.add("external_etc_passwd", path, contains="outside")
    path, raw = with_location("external_symlink_out", "link.bin")
    os.symlink(secret, path.parent / "link.bin")
    c.add("external_symlink_out", path, contains="outside")
    path, raw = with_location("external_is_folder", "sub")
    (path.parent / "sub").mkdir()
    c.add("external_is_folder", path)
    path, raw = with_location("external_short", "w.bin", length=len(raw))
    (path.parent / "w.bin").write_bytes(raw[:100])
    c.add("external_short", path, contains="shorter")
    path, raw = with_location("external_offset_past_end", "w.bin", offset=10**9, length=len(raw))
    (path.parent / "w.bin").write_bytes(raw)
    c.add("external_offset_past_end", path)
    path, raw = with_location("external_bad_offset", "w.bin", offset=-5)
    (path.parent / "w.bin").write_bytes(raw)
    c.add("external_bad_offset", path)
    path, raw = with_location("external_bad_length", "w.bin", length="lots")  # type: ignore[arg-type]
    (path.parent / "w.bin").write_bytes(raw)
    c.add("external_bad_length", path)
    path, raw = with_location("external_wrong_size", "w.bin")
    (path.parent / "w.bin").write_bytes(raw + b"\0\0\0\0")
    c.add("external_wrong_size", path)
    path, raw = with_location("external_empty_location", "")
    c.add("external_empty_location", path)


def clone(m: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(m)
    return out


# -- the tests ----------------------------------------------------------------------------------


def run_cases(cases: list[Case], tmp: Path) -> None:
    """Run every case through the forking driver; fill in `case.result` and check the snapshots."""
    before = [snapshot(Path(c.out_dir)) for c in cases]
    cases_file = tmp / "cases.json"
    cases_file.write_text(json.dumps([asdict(c) for c in cases]))
    proc = subprocess.run([sys.executable, __file__, str(cases_file)], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert proc.returncode == 0, f"the driver failed:\n{proc.stderr[-3000:]}"
    results = json.loads(Path(str(cases_file) + ".results").read_text())
    for case, result, snap in zip(cases, results, before):
        result["unchanged"] = snapshot(Path(case.out_dir)) == snap
        case.result = result


def problems(case: Case) -> list[str]:
    """What is wrong with how the CLI handled this case (empty: fine)."""
    r = case.result
    code, err = r["code"], r["stderr"]
    lines = err.splitlines()
    out = []
    if r["seconds"] > MAX_SECONDS:
        out.append(f"took {r['seconds']:.0f} s")
    if code == 0 and case.expect == "clean":
        return out  # a mutation that is still a valid model and converted
    if code == 0:
        return ["exit 0: the broken input was accepted"]
    if "Traceback" in err:
        out.append("traceback on stderr")
    if code not in case.codes:
        out.append(f"exit code {code} (want one of {case.codes})")
    if len(lines) != 1 and not (code == 3 and lines and "cannot be converted" in lines[0]):
        out.append(f"{len(lines)} lines on stderr (want exactly 1)")
    if lines and not lines[0].startswith("transpile: error:"):
        out.append("stderr does not start with 'transpile: error:'")
    if case.contains and case.contains not in err.lower():
        out.append(f"message lacks {case.contains!r}")
    if r["stdout"].strip():
        out.append("something printed on stdout")
    if not r["unchanged"]:
        out.append("the output folder changed")
    return out


@pytest.fixture(scope="module")
def corpus_cases(tmp_path_factory) -> list[Case]:
    tmp = tmp_path_factory.mktemp("broken")
    cases = build_corpus(tmp)
    run_cases(cases, tmp)
    return cases


def test_corpus_is_large_enough(corpus_cases: list[Case]) -> None:
    must_fail = [c for c in corpus_cases if c.expect == "fail"]
    assert len(must_fail) >= 50, f"only {len(must_fail)} must-fail cases"


def test_every_broken_input_fails_cleanly(corpus_cases: list[Case], record_property) -> None:
    record_property("suite", "broken inputs")
    bad = {c.name: problems(c) for c in corpus_cases}
    bad = {k: v for k, v in bad.items() if v}
    report = "\n".join(
        f"{name}: {'; '.join(p)}\n    stderr: {next(c for c in corpus_cases if c.name == name).result['stderr'][:600]!r}"
        for name, p in bad.items()
    )
    record_property("ok", not bad)
    assert not bad, f"{len(bad)} of {len(corpus_cases)} broken inputs were not handled cleanly:\n{report}"


@pytest.mark.parametrize("name", ["truncated_mlp_500", "cycle_two_nodes", "external_traversal", "png"])
def test_real_cli_matches_driver(name: str, corpus_cases: list[Case]) -> None:
    """The same case through `python -m transpiler`: same exit code and stderr as in the driver."""
    case = next(c for c in corpus_cases if c.name == name)
    proc = subprocess.run([sys.executable, "-m", "transpiler", *case.argv], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == case.result["code"]
    assert proc.stderr == case.result["stderr"]
