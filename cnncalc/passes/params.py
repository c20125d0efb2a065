"""Parameter pass: learnable weights, the trainable part of them, and buffers per layer."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from cnncalc.graph import Network, Node, per_layer_and_flag


@dataclass(frozen=True, slots=True)
class ParamCount:
    params: int  # learnable weights, PyTorch's sum(p.numel())
    trainable_params: int  # params of layers not frozen with `trainable: false`
    buffers: int  # BatchNorm running mean/var (Keras "non-trainable")

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(
            self.params + other.params,
            self.trainable_params + other.trainable_params,
            self.buffers + other.buffers,
        )


def count_params(net: Network) -> dict[str, ParamCount]:
    return dict(zip(map(attrgetter("name"), net.nodes), params_per_layer(net), strict=True))


def params_per_layer(net: Network) -> list[ParamCount]:
    """Each layer's counts, in the network's order: layers that compute alike (see
    Network.classes) count alike, frozen or not."""

    def count(node: Node) -> ParamCount:
        inputs = net.input_shapes(node)
        params = int(node.op.params(inputs))  # int(): drop the derivation (see derive.Q)
        trainable = params if node.trainable else 0
        return ParamCount(params, trainable, int(node.op.buffers(inputs)))

    return per_layer_and_flag(net, count, attrgetter("trainable"))
