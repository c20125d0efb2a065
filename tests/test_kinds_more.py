"""Issue 11's kinds: per-sample norms, channel rearrangements (slice, split/chunk,
channel_shuffle), per-position dense, layer_scale, scale, mean, stochastic_depth, identity and
more activations — counts by hand, the tools' counts as measured, errors, and values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.reference.forward import run_forward
from tests.test_flops import assert_each_tool

H = "input: [8, 8, 4]\nlayers:\n"


def net(layers: str, shape: tuple[int, ...] = (8, 8, 4)) -> cnncalc.Network:
    return cnncalc.load(f"layers: [{layers}]", input_shape=shape)


def rows(layers: str, shape: tuple[int, ...] = (8, 8, 4)) -> list[tuple[object, ...]]:
    """(output shape, params, buffers, MACs) of every layer."""
    report = cnncalc.analyze(net(layers, shape))
    return [
        (r.output_shape, r.counts.params, r.counts.buffers, r.multiplies.macs)
        for r in report.layers
    ]


# --- shapes and counts by hand ----------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape", "params", "buffers"),
    [
        ("layernorm", (8, 8, 4), 8, 0),  # γ and β per channel
        ("layernorm: {bias: false}", (8, 8, 4), 4, 0),
        ("layernorm: {elementwise_affine: false}", (8, 8, 4), 0, 0),
        ("LayerNorm: {epsilon: 1.0e-6}", (8, 8, 4), 8, 0),
        ("groupnorm: {groups: 2}", (8, 8, 4), 8, 0),
        ("GroupNorm: {num_groups: 4, affine: false}", (8, 8, 4), 0, 0),
        ("instancenorm", (8, 8, 4), 0, 0),  # PyTorch's defaults: no affine, no statistics
        ("instancenorm: {affine: true, track_running_stats: true}", (8, 8, 4), 8, 8),
        ("batchnorm: {scale: false}", (8, 8, 4), 4, 8),  # Keras: β only
        ("batchnorm: {center: false}", (8, 8, 4), 4, 8),
        ("batchnorm: {scale: false, center: false}", (8, 8, 4), 0, 8),
        ("batchnorm: {affine: false, scale: true}", (8, 8, 4), 0, 8),
        ("l2norm", (8, 8, 4), 0, 0),
        ("layer_scale", (8, 8, 4), 4, 0),
        ("LayerScale: {init_values: 0.1}", (8, 8, 4), 4, 0),
        ("scale: {factor: 0.5}", (8, 8, 4), 0, 0),
        ("identity", (8, 8, 4), 0, 0),
        ("stochastic_depth: {rate: 0.2, mode: batch}", (8, 8, 4), 0, 0),
        ("DropPath: {p: 0.1}", (8, 8, 4), 0, 0),
        ("channel_shuffle: {groups: 2}", (8, 8, 4), 0, 0),
        ("slice: {start: 1, stop: 3}", (8, 8, 2), 0, 0),
        ("slice: {start: 2}", (8, 8, 2), 0, 0),
        ("slice: {parts: 4, part: 3}", (8, 8, 1), 0, 0),
        ("glu", (8, 8, 2), 0, 0),
        ("mish", (8, 8, 4), 0, 0),
        ("hardtanh: {min: -2, max: 2}", (8, 8, 4), 0, 0),
        ("Hardtanh: {min_val: 0, max_val: 6}", (8, 8, 4), 0, 0),
        ("selu", (8, 8, 4), 0, 0),
        ("celu: {alpha: 0.5}", (8, 8, 4), 0, 0),
        ("softplus: {beta: 2, threshold: 10}", (8, 8, 4), 0, 0),
        ("log_softmax", (8, 8, 4), 0, 0),
        ("mean: {axes: [spatial]}", (4,), 0, 0),
        ("mean: {axes: [0, 1]}", (4,), 0, 0),
        ("mean: {axes: spatial, keepdims: true}", (1, 1, 4), 0, 0),
        ("mean: {axes: [channels], keepdims: true}", (8, 8, 1), 0, 0),
        ("mean: {axes: [0], keepdim: true}", (1, 8, 4), 0, 0),
        ("ReduceMean: {axis: [-1, 1], keepdims: true}", (8, 1, 1), 0, 0),
        ("global_avgpool", (1, 1, 4), 0, 0),
        ("standardize", (8, 8, 4), 0, 0),  # constants
        ("standardize: {adapted: true}", (8, 8, 4), 0, 9),  # mean, variance, count
        ("Normalization: {adapted: true}", (8, 8, 4), 0, 9),
        ("global_avgpool: {keepdims: false}", (4,), 0, 0),
        ("GlobalMaxPooling2D: {keepdim: false}", (4,), 0, 0),
    ],
)
def test_shape_params_and_buffers(layer: str, shape: tuple[int, ...], params: int, buffers: int):
    assert rows(layer) == [(shape, params, buffers, 0)]


def test_dense_per_position_maps_the_channels_at_every_position():
    # Linear(4, 6) at each of 8·8 positions: 4·6 + 6 params, 64·4·6 MACs
    assert rows("dense: {units: 6, per_position: true}") == [((8, 8, 6), 30, 0, 1_536)]
    assert rows("dense: {units: 6}") == [((6,), 256 * 6 + 6, 0, 256 * 6)]  # flattens
    assert rows("dense: {units: 6, per_position: true}", (5,)) == [((6,), 36, 0, 30)]


def test_glu_and_l2norm_work_on_flat_vectors():
    assert rows("glu, l2norm, layernorm, slice: {stop: 1}", (6,)) == [
        ((3,), 0, 0, 0),
        ((3,), 0, 0, 0),
        ((3,), 6, 0, 0),
        ((1,), 0, 0, 0),
    ]


# --- the tools' counts, measured --------------------------------------------------------

# One layer on a 1×4×8×8 input as fvcore 0.1.5.post20221221, ptflops 0.7.5 (pytorch and aten
# backends) and torchinfo 1.8.0 count it, measured with torch 2.13.0 on the PyTorch module:
# nn.LayerNorm / nn.Linear between permutes (channels last), ConvNeXt's LayerNorm2d (a
# subclass calling F.layer_norm: `functional`), nn.GroupNorm, nn.InstanceNorm2d, a module
# holding γ as `layer_scale * x`, nn.ChannelShuffle, x.mean([2, 3]), F.normalize, the
# activation modules, `x * 2.0`.
TINY_MORE = [
    # layer, fvcore, ptflops, ptflops-aten, torchinfo
    ("layernorm", 1280, 256, 0, 8),
    ("layernorm: {elementwise_affine: false}", 1024, 256, 0, 0),
    ("layernorm: {bias: false}", 1280, 256, 0, 4),
    ("layernorm: {functional: true}", 1280, 0, 0, 8),
    ("groupnorm: {groups: 2}", 1280, 512, 0, 8),
    ("groupnorm: {groups: 2, affine: false}", 1024, 256, 0, 0),
    ("instancenorm", 1024, 256, 0, 0),
    ("instancenorm: {affine: true}", 1280, 512, 0, 8),
    ("instancenorm: {track_running_stats: true}", 1024, 256, 0, 0),
    ("dense: {units: 5, per_position: true, bias: false}", 1280, 1280, 1280, 20),
    ("layer_scale", 0, 0, 0, 0),
    ("channel_shuffle: {groups: 2}", 0, 0, 0, 0),
    ("mean: {axes: [spatial]}", 0, 0, 0, 0),
    ("l2norm", 0, 0, 0, 0),
    ("mish", 0, 0, 0, 0),
    ("hardtanh", 0, 0, 0, 0),
    ("selu", 0, 0, 0, 0),
    ("celu", 0, 0, 0, 0),
    ("softplus", 0, 0, 0, 0),
    ("log_softmax", 0, 0, 0, 0),
    ("glu", 0, 0, 0, 0),
    ("identity", 0, 0, 0, 0),
    ("scale: {factor: 2}", 0, 0, 0, 0),
]


@pytest.mark.parametrize(("layer", "fvcore", "ptflops", "aten", "torchinfo"), TINY_MORE)
def test_tiny_layers_match_each_tool(layer, fvcore, ptflops, aten, torchinfo):
    assert_each_tool(net(layer), fvcore, ptflops, aten, torchinfo)


def test_per_position_dense_bias_in_each_tool():
    # measured: ptflops adds the bias per output element (64·5); its aten backend too when
    # the Linear's input is contiguous (addmm: after a LayerNorm, as in ConvNeXt); torchinfo
    # counts the parameters once, whatever the positions
    network = net("dense: {units: 5, per_position: true}")
    assert cnncalc.analyze(network, "ptflops").flops == 1280 + 320
    assert cnncalc.analyze(network, "ptflops-aten").flops == 1280 + 320
    assert cnncalc.analyze(network, "torchinfo").flops == 25
    assert cnncalc.analyze(network, "flops").flops == 2 * 1280 + 320


# The four nets written out in plain torch after torchvision's code (same parameters and
# buffers as torchvision's models; torchvision itself was not installed), at 1×3×224×224 in
# eval mode, measured with the versions above.
TOOL_TOTALS_MORE = {
    "convnext_tiny": (4_470_437_376, 4_488_347_368, 4_468_966_888, 322_371_592),
    "shufflenet_v2_x1_0": (148_808_392, 152_387_568, 144_908_992, 144_925_172),
    "efficientnet_b0": (401_659_392, 410_196_896, 385_825_092, 385_867_108),
    "regnet_y_400mf": (410_406_088, 418_388_672, 401_849_056, 401_876_208),
}


@pytest.mark.parametrize("arch", sorted(TOOL_TOTALS_MORE))
def test_zoo_tool_totals(arch: str):
    network = cnncalc.load(arch)
    for convention, expected in zip(
        ("fvcore", "ptflops", "ptflops-aten", "torchinfo"), TOOL_TOTALS_MORE[arch], strict=True
    ):
        assert cnncalc.analyze(network, convention).flops == expected, convention


# --- split and chunk --------------------------------------------------------------------


def test_split_parts_are_slices_named_after_the_split():
    network = cnncalc.load(
        H + "  - split: {name: s, sizes: [1, 3]}\n"
        "  - conv: {name: c, from: s.1, filters: 2, kernel: 1}\n"
        "  - concat: {from: [s.0, c]}\n"
        "  - chunk: {chunks: 3}\n"
        "  - add: {from: [chunk1.0, chunk1.2]}\n"
    )
    shapes = {n.name: (n.kind, network.shapes[n.name]) for n in network}
    assert shapes["s.0"] == ("slice", (8, 8, 1))
    assert shapes["s.1"] == ("slice", (8, 8, 3))
    assert shapes["chunk1.2"] == ("slice", (8, 8, 1))
    assert network.node("c").inputs == ("s.1",)


def test_split_inside_a_block_is_prefixed():
    text = (
        "input: [4, 4, 6]\nblocks:\n  unit:\n    layers:\n"
        "      - split: {name: s, chunks: 2}\n      - relu: {from: s.1}\n"
        "      - concat: {from: [s.0, relu1]}\n"
        "layers:\n  - repeat: {block: unit, times: 2, name: u}\n"
    )
    network = cnncalc.load(text)
    assert network.node("u.1.relu1").inputs == ("u.1.s.1",)
    assert network.node("u.1.s.0").inputs == ("u.0.concat1",)


def test_a_skipped_split_stands_for_its_input():
    network = cnncalc.load(H + "  - split: {name: s, chunks: 2, when: false}\n  - relu\n")
    assert network.node("relu1").inputs == ("input",)


def test_split_values_are_the_channels_in_order():
    network = cnncalc.load(H + "  - split: {name: s, sizes: [3, 1]}\n")
    x = np.arange(2 * 8 * 8 * 4, dtype=np.float32).reshape(2, 8, 8, 4)
    out = run_forward(network, x=x, keep_outputs=True).outputs
    np.testing.assert_array_equal(out["s.0"], x[..., :3])
    np.testing.assert_array_equal(out["s.1"], x[..., 3:])


# --- errors: exit 2, the place, the fix ---------------------------------------------------

ERRORS = [
    # (layers, line, col, words of the message, words of the hint)
    ("  - groupnorm: {groups: 3}\n", 3, 25, "groups 3 does not divide the 4", "divide"),
    ("  - channel_shuffle: {groups: 8}\n", 3, 31, "does not divide", "divide"),
    ("  - flatten\n  - instancenorm\n", 4, 5, "flat vector", "before flatten"),
    ("  - slice: {start: 1, stop: 9}\n", 3, 29, "stop 9 is past the 4", "stop ≤ 4"),
    ("  - slice: {start: 3, stop: 3}\n", 3, 20, "no channels left", "start < stop"),
    ("  - slice: {parts: 3}\n", 3, 20, "do not split into 3 equal parts", None),
    ("  - glu\n  - glu\n  - glu\n", 5, 5, "odd number (1)", "even"),
    ("  - hardtanh: {min: 1, max: 1}\n", 3, 29, "max 1 is not above min 1", "min < max"),
    ("  - celu: {alpha: 0}\n", 3, 19, "alpha 0", "nonzero"),
    ("  - mean: {axes: [0]}\n", 3, 18, "neither", "keepdims: true"),
    ("  - mean: {axes: [3]}\n", 3, 18, "axis 3 does not exist", "−1"),
    ("  - mean: {axes: [height]}\n", 3, 18, "axes", "axes: [spatial]"),
    ("  - split: {name: s, sizes: [1, 2]}\n  - relu: {from: s.0}\n", 3, 5, "add up to 3", "4"),
    ("  - split: {name: s, chunks: 3}\n  - relu: {from: s.0}\n", 3, 5, "3 equal parts", None),
    ("  - split: {name: s, chunks: 2}\n  - relu: {from: s}\n", 4, 18, "split into 2", "`s.0`"),
    ("  - split: {name: s, chunks: 2}\n  - relu\n", 4, 5, "has no `from`", "`s.1`"),
    ("  - split: {name: s, chunks: 2, sizes: [2, 2]}\n", 3, 22, "not both", None),
    ("  - split: {name: s}\n", 3, 5, "needs `sizes` or `chunks`", "chunks: 2"),
    ("  - split: {name: s, chunks: 0}\n", 3, 30, "chunks", "chunks: 2"),
    ("  - split: {name: s, sizes: [2, -2]}\n", 3, 29, "sizes", "positive"),
    ("  - split: {name: s, size: 2}\n", 3, 22, "no field 'size'", "sizes"),
]


@pytest.mark.parametrize(("layers", "line", "col", "message", "hint"), ERRORS)
def test_errors_name_the_place_and_the_fix(tmp_path: Path, layers, line, col, message, hint):
    path = tmp_path / "net.yaml"
    path.write_text(H + layers, encoding="utf-8")
    result = CliRunner().invoke(app, ["params", str(path)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    first, *rest = result.stderr.splitlines()
    assert first.startswith(f"{path}:{line}:{col}: error: "), first
    assert message in first
    if hint is not None:
        assert rest and rest[0].startswith("  hint: ") and hint in rest[0], rest


def test_a_block_may_not_be_named_split():
    with pytest.raises(cnncalc.SpecError, match="is a layer kind"):
        cnncalc.load(H + "  - relu\nblocks:\n  split: {layers: [relu]}\n")


# --- values, by hand ----------------------------------------------------------------------


def forward(layers: str, x: np.ndarray) -> np.ndarray:
    network = cnncalc.load(f"layers: [{layers}]", input_shape=x.shape[1:])
    return run_forward(network, x=x.astype(np.float32)).outputs[network.output.name]


def test_channel_shuffle_reads_groups_as_rows_and_transposes():
    # channels 0..5 as 2 groups of 3: [[0, 1, 2], [3, 4, 5]] transposed → 0, 3, 1, 4, 2, 5
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 1, 6)
    out = forward("channel_shuffle: {groups: 2}", x)
    assert out.ravel().tolist() == [0, 3, 1, 4, 2, 5]


def test_glu_gates_the_first_half_with_the_second():
    x = np.array([[2.0, -4.0, 0.0, 100.0]])
    assert forward("glu", x).ravel().tolist() == pytest.approx([1.0, -4.0])  # σ(0), σ(100)


def test_layernorm_normalizes_each_position_over_its_channels():
    x = np.array([[[[1.0, 3.0], [10.0, 10.0]]]])  # two positions of two channels
    out = forward("layernorm: {elementwise_affine: false, eps: 0}", x[..., :1, :1, :])
    assert out.ravel().tolist() == pytest.approx([-1.0, 1.0])  # mean 2, std 1


def test_groupnorm_statistics_cover_the_group_at_every_position():
    # one group of 2 channels over 2 positions: values 0, 2, 4, 6 → mean 3, var 5
    x = np.array([[[[0.0, 2.0], [4.0, 6.0]]]])
    out = forward("groupnorm: {groups: 1, affine: false, eps: 0}", x)
    assert out.ravel().tolist() == pytest.approx([v / np.sqrt(5) for v in (-3, -1, 1, 3)])


def test_mean_hardtanh_softplus_and_scale_by_hand():
    x = np.array([[[[1.0, 2.0], [3.0, 6.0]]]])  # 1×2×2 channels-last: positions (0,0), (0,1)
    assert forward("mean: {axes: [spatial]}", x).tolist() == [[2.0, 4.0]]
    assert forward("mean: {axes: [channels], keepdims: true}", x).ravel().tolist() == [1.5, 4.5]
    assert forward("global_avgpool: {keepdims: false}", x).tolist() == [[2.0, 4.0]]
    assert forward("global_maxpool: {keepdims: false}", x).tolist() == [[3.0, 6.0]]
    assert forward("global_maxpool", x).tolist() == [[[[3.0, 6.0]]]]
    assert forward("hardtanh: {min: 1.5, max: 5}", x).ravel().tolist() == [1.5, 2, 3, 5]
    # softplus: log(1 + e^(β·x))/β below the threshold, x itself above it
    out = forward("softplus: {beta: 1, threshold: 2.5}", x).ravel()
    assert out.tolist() == pytest.approx([np.log1p(np.e), np.log1p(np.e**2), 3.0, 6.0])
    assert forward("scale: {factor: -0.5}", x).ravel().tolist() == [-0.5, -1, -1.5, -3]
    assert forward("scale: {factor: 2, offset: -1}", x).ravel().tolist() == [1, 3, 5, 11]
    assert forward("scale: {offset: 3}", x).ravel().tolist() == [4, 5, 6, 9]


# --- receptive field ---------------------------------------------------------------------


def test_per_sample_statistics_reach_every_unit():
    report = cnncalc.analyze(
        net("conv: {filters: 4, kernel: 3}, layernorm, groupnorm: {groups: 2}", (16, 16, 4))
    )
    conv, layer, group = (r.rf for r in report.layers)
    assert layer == conv  # per position: the field of its input
    assert group is not None and group.whole_input and group.size == conv.size  # type: ignore[union-attr]


def test_mean_over_spatial_axes_is_global_pooling():
    report = cnncalc.analyze(net("mean: {axes: [spatial], keepdims: true}", (16, 16, 4)))
    rf = report.layers[0].rf
    assert rf is not None and rf.whole_input and rf.size == (16, 16)


def test_verify_agrees_on_every_new_kind():
    from cnncalc.reference import verify_network

    layers = (
        "layernorm, groupnorm: {groups: 2}, instancenorm: {affine: true}, l2norm, "
        "channel_shuffle: {groups: 2}, split: {name: s, sizes: [1, 3]}, "
        "dense: {from: s.1, units: 4, per_position: true}, layer_scale, scale: {factor: 2}, "
        "mish, hardtanh, selu, celu, softplus, log_softmax, glu, stochastic_depth, identity, "
        "batchnorm: {center: false}, mean: {axes: [spatial], keepdims: true}"
    )
    result = verify_network(net(layers), batch=2, seed=0, max_memory=1 << 30, rf=True)
    assert result.ok, result.failures()


# --- schema --------------------------------------------------------------------------------


def test_the_schema_knows_split_and_chunk():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from cnncalc.schema import spec_schema

    validator = jsonschema.Draft7Validator(spec_schema())
    good = yaml.safe_load(H + "  - split: {name: s, sizes: [1, 3]}\n  - chunk: {chunks: 2}\n")
    assert not list(validator.iter_errors(good))
    for bad in ("split: {sizes: [1], chunks: 2}", "chunk: {sizes: [2, 2]}", "split: {}"):
        assert list(validator.iter_errors(yaml.safe_load(H + f"  - {bad}\n"))), bad


SK_TWO_BRANCHES = """
input: [6, 6, 4]
layers:
  - conv: {name: b0, filters: 4, kernel: 3, padding: 1}
  - conv: {name: b1, from: input, filters: 4, kernel: 5, padding: 2}
  - add: {name: u, from: [b0, b1]}
  - global_avgpool: {name: s}
  - conv: {name: z, filters: 2, kernel: 1}
  - relu
  - conv: {name: logits, filters: 8, kernel: 1}
  - split: {name: p, chunks: 2}
  - scale: {name: minus, from: p.1, factor: -1}
  - add: {name: diff, from: [p.0, minus]}
  - sigmoid: {name: a0}
  - scale: {name: minus_diff, from: diff, factor: -1}
  - sigmoid: {name: a1}
  - multiply: {name: w0, from: [a0, b0]}
  - multiply: {name: w1, from: [a1, b1]}
  - add: {name: v, from: [w0, w1]}
"""


def test_two_branch_split_attention_is_a_softmax_over_the_branches():
    """The README's SKNet composition for r = 2: sigmoid(a − b) is softmax(a, b)₀."""
    network = cnncalc.load(SK_TWO_BRANCHES)
    out = run_forward(network, batch=2, keep_outputs=True).outputs
    logits = out["logits"]  # N×1×1×(2·C): branch 0's logits, then branch 1's
    e = np.exp(logits.reshape(2, 1, 1, 2, 4))
    weights = e / e.sum(axis=3, keepdims=True)
    expected = weights[..., 0, :] * out["b0"] + weights[..., 1, :] * out["b1"]
    np.testing.assert_allclose(out["v"], expected, rtol=1e-5, atol=1e-6)
    # the attention convs' parameters: fc 4·2 + 2, the two per-branch fcs 2·(2·4 + 4)
    counts = {r.node.name: r.counts.params for r in cnncalc.analyze(network).layers}
    assert counts["z"] == 10 and counts["logits"] == 2 * (2 * 4 + 4)


EVERY_NEW_KIND = """
input: [384, 384, 8]
layers:
  - layernorm
  - groupnorm: {groups: 4}
  - instancenorm: {affine: true}
  - l2norm
  - channel_shuffle: {groups: 2}
  - split: {name: s, sizes: [2, 6]}
  - dense: {from: s.1, units: 8, per_position: true}
  - layer_scale
  - mish
  - hardtanh
  - selu
  - celu
  - softplus
  - log_softmax
  - glu
  - scale: {factor: 2}
  - concat: {from: [s.0, scale1]}
  - batchnorm: {scale: false}
  - mean: {axes: [spatial], keepdims: true}
"""


@pytest.mark.parametrize("batch", [1, 3])
def test_verify_stays_under_its_estimate_with_the_new_kinds(batch: int):
    """The forward alone (no box maps), so the norms' temporaries are what counts."""
    from tests.test_verify_memory import estimate, peak_under

    network = cnncalc.load(EVERY_NEW_KIND)
    limit = estimate(network, batch, rf=False) + 1
    peak_under(network, limit, batch=batch, rf=False)
