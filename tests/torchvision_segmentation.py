"""Segmentation networks as torch.nn modules, written from torchvision's source
(torchvision/models/segmentation/fcn.py, deeplabv3.py, _utils.py; models/resnet.py,
mobilenetv3.py, ops/misc.py), without the auxiliary heads, plus the U-Net of Ronneberger et
al. 2015 — to check the zoo's specs against, since torchvision is not a test dependency.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# --- FCN-ResNet50 -----------------------------------------------------------------------------


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class DilatedResNet50(nn.Module):
    """torchvision's ResNet(Bottleneck, [3, 4, 6, 3]) with replace_stride_with_dilation=
    [False, True, True], up to layer4 (what IntermediateLayerGetter returns as "out")."""

    def __init__(self):
        super().__init__()
        self.inplanes, self.dilation = 64, 1
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, stride=2)
        self.layer3 = self._make_layer(256, 6, stride=2, dilate=True)
        self.layer4 = self._make_layer(512, 3, stride=2, dilate=True)

    def _make_layer(self, planes, blocks, stride=1, dilate=False):
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, previous_dilation)]
        self.inplanes = planes * 4
        layers += [
            Bottleneck(self.inplanes, planes, dilation=self.dilation) for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class FCNHead(nn.Sequential):
    def __init__(self, in_channels, channels):
        inter = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter, channels, 1),
        )


class SegmentationModel(nn.Module):
    """torchvision's _SimpleSegmentationModel without aux: classify, then upsample to the
    input size (bilinear, align_corners false)."""

    def __init__(self, backbone, classifier):
        super().__init__()
        self.backbone, self.classifier = backbone, classifier

    def forward(self, x):
        size = x.shape[-2:]
        out = self.classifier(self.backbone(x))
        return F.interpolate(out, size=size, mode="bilinear", align_corners=False)


def fcn_resnet50(num_classes: int = 21) -> SegmentationModel:
    return SegmentationModel(DilatedResNet50(), FCNHead(2048, num_classes))


# --- DeepLabV3-MobileNetV3-Large --------------------------------------------------------------


def _make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def conv_norm_act(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU, dilation=1):
    padding = (k - 1) // 2 * dilation
    layers = [
        nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=0.001, momentum=0.01),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class InvertedResidual(nn.Module):
    def __init__(self, cin, k, exp, cout, se, act, stride, dilation):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        activation = nn.Hardswish if act == "HS" else nn.ReLU
        layers = []
        if exp != cin:
            layers.append(conv_norm_act(cin, exp, 1, act=activation))
        stride = 1 if dilation > 1 else stride
        layers.append(conv_norm_act(exp, exp, k, stride, exp, activation, dilation))
        if se:
            layers.append(SqueezeExcitation(exp, _make_divisible(exp // 4, 8)))
        layers.append(conv_norm_act(exp, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_res else out


# (in, kernel, expanded, out, SE, activation, stride, dilation), dilated=True
MOBILENET_V3_LARGE = [
    (16, 3, 16, 16, False, "RE", 1, 1),
    (16, 3, 64, 24, False, "RE", 2, 1),
    (24, 3, 72, 24, False, "RE", 1, 1),
    (24, 5, 72, 40, True, "RE", 2, 1),
    (40, 5, 120, 40, True, "RE", 1, 1),
    (40, 5, 120, 40, True, "RE", 1, 1),
    (40, 3, 240, 80, False, "HS", 2, 1),
    (80, 3, 200, 80, False, "HS", 1, 1),
    (80, 3, 184, 80, False, "HS", 1, 1),
    (80, 3, 184, 80, False, "HS", 1, 1),
    (80, 3, 480, 112, True, "HS", 1, 1),
    (112, 3, 672, 112, True, "HS", 1, 1),
    (112, 5, 672, 160, True, "HS", 2, 2),
    (160, 5, 960, 160, True, "HS", 1, 2),
    (160, 5, 960, 160, True, "HS", 1, 2),
]


def mobilenet_v3_large_features() -> nn.Sequential:
    layers = [conv_norm_act(3, 16, 3, 2, act=nn.Hardswish)]
    layers += [InvertedResidual(*conf) for conf in MOBILENET_V3_LARGE]
    layers.append(conv_norm_act(160, 960, 1, act=nn.Hardswish))
    return nn.Sequential(*layers)


class ASPPPooling(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        )

    def forward(self, x):
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, cin, rates, cout=256):
        super().__init__()
        convs = [
            nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        ]
        for rate in rates:
            convs.append(
                nn.Sequential(
                    nn.Conv2d(cin, cout, 3, padding=rate, dilation=rate, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(),
                )
            )
        convs.append(ASPPPooling(cin, cout))
        self.convs = nn.ModuleList(convs)
        self.project = nn.Sequential(
            nn.Conv2d(len(convs) * cout, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x):
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabHead(nn.Sequential):
    def __init__(self, cin, num_classes):
        super().__init__(
            ASPP(cin, [12, 24, 36]),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


def deeplabv3_mobilenet_v3_large(num_classes: int = 21) -> SegmentationModel:
    return SegmentationModel(mobilenet_v3_large_features(), DeepLabHead(960, num_classes))


# --- U-Net (Ronneberger et al. 2015) ----------------------------------------------------------


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(), nn.Conv2d(cout, cout, 3), nn.ReLU())


class UNet(nn.Module):
    """Unpadded convs, max pooling, 2×2 up-convolutions, crop-and-concat."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2):
        super().__init__()
        widths = [64, 128, 256, 512, 1024]
        self.down = nn.ModuleList()
        cin = in_channels
        for width in widths:
            self.down.append(double_conv(cin, width))
            cin = width
        self.upconv = nn.ModuleList(nn.ConvTranspose2d(w * 2, w, 2, 2) for w in widths[-2::-1])
        self.up = nn.ModuleList(double_conv(w * 2, w) for w in widths[-2::-1])
        self.outc = nn.Conv2d(64, num_classes, 1)

    def forward(self, x):
        skips = []
        for index, block in enumerate(self.down):
            x = block(x)
            if index < len(self.down) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for upconv, block, skip in zip(self.upconv, self.up, reversed(skips), strict=True):
            x = upconv(x)
            cut = (skip.shape[-1] - x.shape[-1]) // 2
            x = block(
                torch.cat([skip[..., cut : cut + x.shape[-2], cut : cut + x.shape[-1]], x], 1)
            )
        return self.outc(x)


def unet() -> UNet:
    return UNet()
