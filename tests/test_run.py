"""`cnncalc run`: a course exercise's output values, the weight layouts (checked against a
direct loop written here), random weights, --explain, JSON and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()

# /work/shared/seeds/001: a 4×4 input, a 2×2 kernel, stride 1, valid, no bias, linear
M = [[1, 0, 0, 2], [0, 1, 0, 1], [0, 0, 1, 2], [0, 0, 0, 1]]
K = [[0, 0], [1, 1]]
OUT = [[1, 1, 1], [0, 1, 3], [0, 0, 1]]


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["run", *args])


def write_csv(path: Path, rows: list[list[int]]) -> str:
    path.write_text("\n".join(", ".join(map(str, row)) for row in rows) + "\n")
    return str(path)


@pytest.fixture
def seed(tmp_path: Path) -> tuple[str, str]:
    return write_csv(tmp_path / "M.csv", M), write_csv(tmp_path / "K.csv", K)


def channels(output: list, c: int) -> list[list[float]]:  # type: ignore[type-arg]
    """One channel of an H×W×C nested list."""
    return [[cell[c] for cell in row] for row in output]


def run_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# --- the exercise -------------------------------------------------------------------------


def test_a_one_channel_one_filter(seed: tuple[str, str]) -> None:
    m, k = seed
    result = run("Conv2-1", "--x", m, "--weights", f"conv1={k}")
    assert result.exit_code == 0, result.stderr
    assert "O =\n  1  1  1\n  0  1  3\n  0  0  1\n" in result.stdout  # integers shown as such
    assert "cross-correlation" in result.stdout
    assert "conv1: bias 0" in result.stdout  # the spec's bias, not given, is zero
    data = run_json("Conv2-1", "--x", m, "--weights", f"conv1={k}")
    assert data["output"] == [[[v] for v in row] for row in OUT]
    assert data["output_shape"] == [3, 3, 1]
    assert data["random_weights"] == [] and data["random_input"] is False


def test_a_explain_writes_the_sum_of_products(seed: tuple[str, str]) -> None:
    m, k = seed
    result = run("Conv2-1", "--x", m, "--weights", f"conv1={k}", "--explain", "0,1")
    assert result.exit_code == 0, result.stderr
    # window [[0, 0], [1, 0]] at row 0, column 1 times K, row by row
    assert "O[0,1] = 0·0 + 0·0 + 1·1 + 0·1 = 1\n" in result.stdout
    result = run("Conv2-1", "--x", m, "--weights", f"conv1={k}", "--explain", "1,2")
    assert "O[1,2] = 0·0 + 1·0 + 1·1 + 2·1 = 3\n" in result.stdout


def test_b_two_input_channels_double_the_map(seed: tuple[str, str]) -> None:
    m, k = seed
    data = run_json("Conv2-1", "--x", m, "--x", m, "--weights", f"conv1={k}")
    assert data["input_shape"] == [4, 4, 2]
    assert channels(data["output"], 0) == [[2 * v for v in row] for row in OUT]
    explained = run("Conv2-1", "--x", m, "--x", m, "-w", f"conv1={k}", "--explain", "0,0")
    # channel 0's window, then channel 1's
    assert "O[0,0] = 1·0 + 0·0 + 0·1 + 1·1 + 1·0 + 0·0 + 0·1 + 1·1 = 2\n" in explained.stdout


def test_c_two_filters_give_two_maps(seed: tuple[str, str]) -> None:
    m, k = seed
    data = run_json("Conv2-2", "--x", m, "--weights", f"conv1={k}")
    assert data["output_shape"] == [3, 3, 2]
    assert channels(data["output"], 0) == OUT
    assert channels(data["output"], 1) == OUT
    text = run("Conv2-2", "--x", m, "--weights", f"conv1={k}").stdout
    assert "O[:, :, 0] =" in text and "O[:, :, 1] =" in text


def test_per_filter_and_per_channel_kernels(tmp_path: Path, seed: tuple[str, str]) -> None:
    m, k = seed
    ident = write_csv(tmp_path / "I.csv", [[1, 0], [0, 1]])
    # filter 1 = the identity kernel: the sum of the window's diagonal
    data = run_json("Conv2-2", "--x", m, "-w", f"conv1[0]={k}", "-w", f"conv1[1]={ident}")
    assert channels(data["output"], 0) == OUT
    assert channels(data["output"], 1) == [[2, 0, 1], [0, 2, 2], [0, 0, 2]]
    # one filter, channel 0 with K and channel 1 with the identity: O + diagonal sums
    data = run_json(
        "Conv2-1", "--x", m, "--x", m, "-w", f"conv1[0,0]={k}", "-w", f"conv1[0,1]={ident}"
    )
    assert channels(data["output"], 0) == [[3, 1, 2], [0, 3, 5], [0, 0, 3]]


def test_bias_and_later_arguments_override(tmp_path: Path, seed: tuple[str, str]) -> None:
    m, k = seed
    bias = write_csv(tmp_path / "b.csv", [[10, -1]])
    ident = write_csv(tmp_path / "I.csv", [[1, 0], [0, 1]])
    data = run_json(
        "Conv2-2",
        "--x",
        m,
        "-w",
        f"conv1={k}",
        "-w",
        f"conv1[1]={ident}",
        "-w",
        f"conv1.bias={bias}",
    )
    assert channels(data["output"], 0) == [[v + 10 for v in row] for row in OUT]
    assert channels(data["output"], 1) == [[1, -1, 0], [-1, 1, 1], [-1, -1, 1]]
    assert data["zero_bias"] == []
    text = run(
        "Conv2-2", "--x", m, "-w", f"conv1={k}", "-w", f"conv1.bias={bias}", "--explain", "0,1,0"
    )
    assert "O[0,1,0] = 0·0 + 0·0 + 1·1 + 0·1 + 10 = 11\n" in text.stdout


# --- layouts, checked against direct loops ----------------------------------------------------


def direct_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int, groups: int):  # type: ignore[no-untyped-def]
    """PyTorch's Conv2d on H×W×C with a (F, C/groups, kh, kw) kernel, as a plain loop."""
    h, wd, c = x.shape
    f, per_group, kh, kw = w.shape
    xp = np.zeros((h + 2 * pad, wd + 2 * pad, c))
    xp[pad : pad + h, pad : pad + wd] = x
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for o in range(f):
                first = o // (f // groups) * per_group
                total = b[o]
                for ci in range(per_group):
                    for u in range(kh):
                        for v in range(kw):
                            total += xp[i * stride + u, j * stride + v, first + ci] * w[o, ci, u, v]
                out[i, j, o] = total
    return out


@pytest.mark.parametrize("case", range(4))
def test_random_conv_matches_a_direct_loop(tmp_path: Path, case: int) -> None:
    rng = np.random.default_rng(case)
    groups = [1, 2, 1, 3][case]
    c, f = 3 * groups if case == 3 else 2 * groups, 2 * groups
    stride, pad, kh, kw = [1, 2, 2, 1][case], [0, 1, 0, 2][case], 3, [2, 3, 3, 1][case]
    x = rng.standard_normal((7, 6, c)).astype(np.float32)
    w = rng.standard_normal((f, c // groups, kh, kw)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    for name, array in (("x", x), ("w", w), ("b", b)):
        np.save(tmp_path / f"{name}.npy", array)
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [7, 6, 1]\nlayers:\n"
        f"  - conv: {{filters: {f}, kernel: [{kh}, {kw}], stride: {stride}, padding: {pad}, "
        f"groups: {groups}}}\n"
    )
    data = run_json(
        str(spec), "--x", str(tmp_path / "x.npy"),
        "-w", f"conv1={tmp_path / 'w.npy'}", "-w", f"conv1.bias={tmp_path / 'b.npy'}",
    )  # fmt: skip
    expected = direct_conv(x, w, b, stride, pad, groups)
    assert data["output_shape"] == list(expected.shape)
    np.testing.assert_allclose(np.array(data["output"]), expected, rtol=1e-4, atol=1e-4)


def test_dense_weights_are_units_by_inputs_in_hwc_order(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)  # H×W×C
    w = np.random.default_rng(5).standard_normal((4, 12)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    data = run_json("FC4", "--x", str(tmp_path / "x.npy"), "-w", f"dense1={tmp_path / 'w.npy'}")
    expected = [
        sum(
            float(x[i, j, c]) * w[u, (i * 3 + j) * 2 + c]
            for i in range(2)
            for j in range(3)
            for c in range(2)
        )
        for u in range(4)
    ]
    np.testing.assert_allclose(data["output"], expected, rtol=1e-5, atol=1e-5)
    assert data["zero_bias"] == ["dense1"]


def test_pool_explain(tmp_path: Path, seed: tuple[str, str]) -> None:
    m, _ = seed
    text = run("MaxPool2", "--x", m, "--explain", "0,1").stdout
    assert "O[0,1] = max(0, 2, 0, 1) = 2\n" in text
    text = run("AvgPool2", "--x", m, "--explain", "1,1").stdout
    assert "O[1,1] = (1 + 2 + 0 + 1)/4 = 1\n" in text
    data = run_json("AvgPool2", "--x", m)
    assert channels(data["output"], 0) == [[0.5, 0.75], [0, 1]]


# --- random weights and inputs ---------------------------------------------------------------


def test_layers_without_weights_get_seeded_random_ones(seed: tuple[str, str]) -> None:
    m, k = seed
    args = ("Conv2-2,FC3", "--x", m, "-w", f"conv1={k}")
    first, again, other = run_json(*args), run_json(*args), run_json(*args, "--seed", "1")
    assert first["random_weights"] == ["dense1"]
    assert first["output"] == again["output"] != other["output"]
    assert len(first["output"]) == 3
    assert "dense1: seeded random weights" in run(*args).stdout
    conv = run_json(*args, "--layer", "conv1")
    assert conv["layer"] == "conv1" and channels(conv["output"], 1) == OUT


def test_no_input_means_a_random_one() -> None:
    data = run_json("Conv3-2", "--input", "5x5x1")
    assert data["random_input"] is True and data["output_shape"] == [3, 3, 2]
    assert data["random_weights"] == ["conv1"]


# --- errors ------------------------------------------------------------------------------


def error(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr and "hint:" in result.stderr
    return result.stderr  # type: ignore[no-any-return]


def test_file_errors_name_the_file_and_position(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.csv")
    assert error("Conv2-1", "--x", missing).startswith(f"{missing}: error:")
    bad = tmp_path / "bad.csv"
    bad.write_text("1, 0\n0, one\n")
    assert error("Conv2-1", "--x", str(bad)).startswith(f"{bad}:2:4: error:")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1, 0, 0\n0, 1\n")
    assert error("Conv2-1", "--x", str(ragged)).startswith(f"{ragged}:2:1: error:")
    pickled = tmp_path / "obj.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert error("Conv2-1", "--x", str(pickled)).startswith(f"{pickled}: error:")


def test_a_weight_of_the_wrong_shape(tmp_path: Path, seed: tuple[str, str]) -> None:
    m, _ = seed
    k3 = write_csv(tmp_path / "k3.csv", [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    message = error("Conv2-1", "--x", m, "--weights", f"conv1={k3}")
    assert message.startswith(f"{k3}: error:") and "2×2" in message and "3×3" in message


def test_argument_errors(seed: tuple[str, str]) -> None:
    m, k = seed
    assert "conv9" in error("Conv2-1", "--x", m, "--weights", f"conv9={k}")
    assert "conv1" in error("Conv2-1", "--x", m, "--weights", f"conv1.gamma={k}")
    assert "[5]" in error("Conv2-1", "--x", m, "--weights", f"conv1[5]={k}")
    assert "LAYER=FILE" in error("Conv2-1", "--x", m, "--weights", "conv1")
    assert "nope" in error("Conv2-1", "--x", m, "--layer", "nope")
    assert "3×3×1" in error("Conv2-1", "--x", m, "--explain", "3,0")
    assert "relu" in error("Conv2-1,relu", "--x", m, "--explain", "0,0")
    assert "filter" in error("Conv2-2", "--x", m, "--weights", f"conv1[0]={k}")
    assert "4×4×1" in error("Conv2-1", "--x", m, "--input", "5x5x1")
