"""Memory: activation sizes, inference peak with skip connections, training estimate."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.passes.memory import MemoryOptions


def test_seed_activations_in_float16():
    # the seeds ask for "the memory to store the activations for backprop, 2 bytes per float":
    # 20,480 + 20,480 + 5,120 + 2,560 + 2,560 + 640 + 640 + 10 = 52,490 values → 104,980 B
    report = cnncalc.analyze(cnncalc.load("seed_32x32"), memory=MemoryOptions("float16"))
    assert sum(r.memory.activation_elements for r in report.layers) == 52_490
    assert report.memory.activation_bytes == 104_980
    # chain: the largest pair of neighbours alive together is conv1 and relu1
    assert report.memory.inference_peak_bytes == 2 * (20_480 + 20_480)
    assert report.memory.inference_peak_layer == "relu1"


def test_skip_connection_keeps_its_tensor_alive():
    text = """
layers:
  - conv: {name: a, filters: 4, kernel: 1}
  - relu: {name: b}
  - relu: {name: c}
  - add: {from: [a, c]}
"""
    # all tensors 8×8×4 = 256 values (input 8×8×4 too); while c runs: a, b, c alive
    # (input freed after a): 3·256; while add runs: a, c and the sum: 3·256
    report = cnncalc.analyze(cnncalc.load(text, input_shape=(8, 8, 4)))
    assert report.memory.inference_peak_bytes == 3 * 256 * 4


def test_training_estimate_adds_gradients_and_optimizer_state():
    net = cnncalc.load("seed_32x32")
    sgd = cnncalc.analyze(net, memory=MemoryOptions("float32", 1, "sgd")).memory
    adam = cnncalc.analyze(net, memory=MemoryOptions("float32", 1, "adam")).memory
    params = 9_740
    assert sgd.param_bytes == params * 4
    assert sgd.gradient_bytes == params * 4
    assert sgd.optimizer_bytes == 0
    assert adam.optimizer_bytes == 2 * params * 4
    assert sgd.training_bytes == (
        sgd.param_bytes + sgd.gradient_bytes + sgd.input_bytes + sgd.activation_bytes
    )
    assert adam.training_bytes - sgd.training_bytes == 2 * params * 4


def test_frozen_layers_need_no_gradients():
    text = "layers:\n  - dense: {units: 10, trainable: false}\n  - dense: {units: 2}\n"
    memory = cnncalc.analyze(cnncalc.load(text, input_shape=(4,))).memory
    assert memory.param_bytes == (50 + 22) * 4
    assert memory.gradient_bytes == 22 * 4


def test_batch_scales_activations_not_parameters():
    net = cnncalc.load("resnet18")
    one = cnncalc.analyze(net).memory
    eight = cnncalc.analyze(net, memory=MemoryOptions(batch=8)).memory
    assert eight.activation_bytes == 8 * one.activation_bytes
    assert eight.inference_peak_bytes == 8 * one.inference_peak_bytes
    assert eight.param_bytes == one.param_bytes


@pytest.mark.parametrize(
    "options", [("float64", 1, "sgd"), ("float32", 0, "sgd"), ("float32", 1, "lbfgs")]
)
def test_bad_memory_options(options):
    with pytest.raises(SpecError):
        MemoryOptions(*options)
