"""Cross-check with PyTorch: the equivalent torch.nn model of every network (skipped cleanly
when torch is not installed).

For the whole zoo and for random architectures: every layer's output shape against the
shape pass, the parameter count (`sum(p.numel())`, per layer and in total) and buffers
against the params pass, MACs measured with forward hooks against the MACs pass — and the
NumPy reference's output values against torch's, with the same weights, which is what makes
the reference a reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import sampled_from

import cnncalc
from cnncalc.zoo import zoo_names
from tests.strategies import architectures, dump, ranked_architectures

torch = pytest.importorskip("torch")
# switching oneDNN off for a forward (see crosscheck) makes torch warn about TF32 on Intel GPUs
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration:UserWarning")

from cnncalc.reference.forward import run_forward  # noqa: E402
from cnncalc.reference.torch_model import Unsupported, build_torch_model, to_nhwc  # noqa: E402


def _shape(t: object) -> tuple[int, ...]:
    a = to_nhwc(t)
    return tuple(int(d) for d in a.shape[1:])


def crosscheck(net: cnncalc.Network, batch: int = 2) -> None:
    report = cnncalc.analyze(net)
    ref = run_forward(net, batch=batch, keep_outputs=True)
    model = build_torch_model(net, ref.weights)
    # torch 2.13's oneDNN conv returns uninitialized memory for some strided convs at batch 2
    # (a 9×3 input, kernel 2, stride (1, 3) after a ZeroPad2d); torch's own kernels are right
    with torch.backends.mkldnn.flags(enabled=False):
        outputs = model(ref.inputs)
        macs = model.macs(ref.inputs)
    assert model.param_count() == report.totals.params
    for row in report.layers:
        name = row.node.name
        out = outputs[name]
        assert _shape(out) == row.output_shape, f"{name}: torch shape vs the shape pass"
        assert model.layer_params(name) == (row.counts.params, row.counts.buffers), name
        assert macs.get(name, 0) == row.multiplies.macs, f"{name}: MACs hooks vs the MACs pass"
        mine, theirs = ref.outputs[name], to_nhwc(out)
        scale = float(np.abs(theirs).max()) + 1.0
        error = float(np.abs(mine - theirs).max())
        assert error <= 1e-3 * scale, f"{name} ({row.node.kind}): NumPy differs by {error:g}"


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_agrees_with_torch(name: str) -> None:
    crosscheck(cnncalc.load(name), batch=1)


QUICK = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def random_architecture_agrees(spec: dict[str, object]) -> None:
    net = cnncalc.load(dump(spec))
    try:
        crosscheck(net)
    except Unsupported as exc:  # the strategy avoids these; say so if one slips through
        pytest.fail(f"torch_friendly drew a layer torch cannot express: {exc}")


@QUICK
@given(architectures(torch_friendly=True))
def test_random_architectures_agree_with_torch(spec: dict[str, object]) -> None:
    random_architecture_agrees(spec)


@settings(QUICK, max_examples=60)
@given(sampled_from([1, 3]).flatmap(lambda r: ranked_architectures(r, torch_friendly=True)))
def test_random_1d_and_3d_architectures_agree_with_torch(spec: dict[str, object]) -> None:
    random_architecture_agrees(spec)


@pytest.mark.slow
@settings(QUICK, max_examples=3000)
@given(architectures(max_steps=12, torch_friendly=True))
def test_random_architectures_agree_with_torch_slow(spec: dict[str, object]) -> None:
    random_architecture_agrees(spec)


def test_pooling_padding_limit_is_pytorchs() -> None:
    """Found by this cross-check: cnncalc let a dilated maxpool pad up to half its dilated
    span; PyTorch allows ⌊kernel/2⌋."""
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half"):
        torch.nn.MaxPool2d(3, 3, padding=2, dilation=2)(torch.zeros(1, 1, 8, 8))
    with pytest.raises(cnncalc.SpecError):
        cnncalc.load(
            "layers: [maxpool: {kernel: 3, dilation: 2, padding: 2}]", input_shape=(8, 8, 1)
        )


# --- the segmentation zoo against torch definitions written from torchvision's source -------


def _weight_macs(model: object, x: object) -> int:
    """conv, conv_transpose and linear weight MACs, measured with forward hooks."""
    total = [0]

    def hook(module, args, out):  # type: ignore[no-untyped-def]
        inp = args[0]
        if isinstance(module, torch.nn.ConvTranspose2d):  # every input pixel scatters a kernel
            total[0] += inp[0, 0].numel() * module.weight.numel()
        else:
            total[0] += out[0].numel() * module.weight[0].numel()

    kinds = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]  # type: ignore[attr-defined]
    with torch.no_grad():
        model(x)  # type: ignore[operator]
    for handle in handles:
        handle.remove()
    return total[0]


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_mobilenet_v3_large", "unet"])
def test_segmentation_zoo_matches_torchvisions_definitions(name: str) -> None:
    from tests import torchvision_segmentation

    model = getattr(torchvision_segmentation, name)().eval()
    report = cnncalc.analyze(cnncalc.load(name))
    h, w, c = report.network.input_shape
    x = torch.zeros(1, c, h, w)
    with torch.no_grad():
        out = model(x)
    assert tuple(out.permute(0, 2, 3, 1).shape[1:]) == report.layers[-1].output_shape
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    assert (params, buffers) == (report.totals.params, report.totals.buffers)
    assert _weight_macs(model, x) == report.macs
