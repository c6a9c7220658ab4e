r"""Famous convolutional networks as ``torch.nn`` modules (feature extractors, no classifier heads),
written after their papers and torchvision's definitions, and the walk that turns a module into
the receptive-field lesson's layer table.

LeNet-5 (LeCun et al. 1998), AlexNet (Krizhevsky et al. 2012, torchvision's single-GPU layout),
VGG-16 (Simonyan & Zisserman 2015), ResNet-18 / ResNet-50 (He et al. 2016, torchvision's
"v1.5" with the stride on the 3x3 conv), MobileNet-v1 (Howard et al. 2017), a dilated stack
(Yu & Koltun 2016), and the digits CNN of the adversarial lesson. Build them on
``device="meta"`` to walk them without allocating weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dlcore.receptive_field import Layer


def _pair_free(value: int | tuple[int, ...]) -> int:
    """The single side of a square hyper-parameter; ValueError for a rectangular one."""
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"rectangular setting {value} is not supported (square kernels only)")
        return int(value[0])
    return int(value)


def layers_from_module(module: nn.Module, skip: tuple[str, ...] = ("downsample",)) -> list[Layer]:
    """The conv / pool layers of ``module`` in registration order, as :class:`Layer` rows.

    Registration order is the forward order for the chains and blocks in this file. Submodules
    whose dotted name contains a part in ``skip`` (ResNet's shortcut ``downsample``) are left out:
    the table follows the main path. Adaptive pools (global pooling) have no fixed window and are
    left out too. Positional names ("3", "features.0") become "conv2", "pool1", ...
    """
    out = []
    counts = {"conv": 0, "pool": 0}
    for name, mod in module.named_modules():
        if any(part in skip for part in name.split(".")):
            continue
        if isinstance(mod, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            family = "conv" if isinstance(mod, nn.Conv2d) else "pool"
            counts[family] += 1
            if name.split(".")[-1].isdigit():
                name = f"{family}{counts[family]}"
        if isinstance(mod, nn.Conv2d):
            out.append(Layer("conv", _pair_free(mod.kernel_size), _pair_free(mod.stride), _pair_free(mod.padding),
                             _pair_free(mod.dilation), mod.out_channels, mod.groups, mod.bias is not None, name))
        elif isinstance(mod, nn.MaxPool2d):
            if mod.ceil_mode:
                raise ValueError(f"{name}: ceil_mode pooling is not supported")
            out.append(Layer("max_pool", _pair_free(mod.kernel_size), _pair_free(mod.stride),
                             _pair_free(mod.padding), _pair_free(mod.dilation), name=name))
        elif isinstance(mod, nn.AvgPool2d):
            if mod.ceil_mode:
                raise ValueError(f"{name}: ceil_mode pooling is not supported")
            out.append(Layer("avg_pool", _pair_free(mod.kernel_size), _pair_free(mod.stride),
                             _pair_free(mod.padding), name=name))
    return out


def notes_example() -> nn.Sequential:
    """The 7-layer worked example of the course notes (001): its last unit sees 30 x 30 pixels."""
    return nn.Sequential(nn.Conv2d(3, 3, 3), nn.MaxPool2d(2, 2), nn.Conv2d(3, 3, 3), nn.MaxPool2d(2, 2),
                         nn.Conv2d(3, 3, 3), nn.Conv2d(3, 3, 3), nn.MaxPool2d(2, 2))


def lenet5() -> nn.Sequential:
    """LeNet-5 on 32 x 32 greyscale: C1 5x5 (6), S2 2x2 average, C3 5x5 (16), S4, C5 5x5 (120)."""
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                         nn.AvgPool2d(2, 2), nn.Conv2d(16, 120, 5), nn.Tanh())


def alexnet() -> nn.Sequential:
    """AlexNet's convolutional part as in torchvision (64-192-384-256-256 channels), 224 x 224 input."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))


def vgg16() -> nn.Sequential:
    """VGG-16's 13 3x3 convs in five blocks, each closed by a 2x2 max pool."""
    mods: list[nn.Module] = []
    c = 3
    for block in ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)):
        for width in block:
            mods += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
            c = width
        mods.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*mods)


class BasicBlock(nn.Module):
    """ResNet-18/34 block: 3x3 conv (stride s) -> 3x3 conv, plus the shortcut."""
    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != width:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """ResNet-50 block (torchvision v1.5): 1x1 -> 3x3 (stride s) -> 1x1 (4x wider), plus the shortcut."""
    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """Stem (7x7 stride-2 conv, 3x3 stride-2 max pool) and four stages; no classifier head."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], counts: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = 64
        stages = []
        for i, (width, count) in enumerate(zip((64, 128, 256, 512), counts)):
            blocks = []
            for b in range(count):
                blocks.append(block(c, width, 2 if (b == 0 and i > 0) else 1))
                c = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def resnet18() -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2))


def resnet50() -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3))


def mobilenet_v1() -> nn.Sequential:
    """MobileNet-v1 (width 1.0): a 3x3 stride-2 conv, then 13 depthwise-separable blocks
    (3x3 depthwise conv with groups = channels, then a 1x1 pointwise conv)."""
    plan = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
            (512, 1), (1024, 2), (1024, 1))
    mods: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    c = 32
    for width, stride in plan:
        mods += [nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                 nn.Conv2d(c, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        c = width
    return nn.Sequential(*mods)


def dilated_stack() -> nn.Sequential:
    """Six 3x3 convs with dilation 1, 2, 4, 8, 16, 32 (padding = dilation keeps the size): the field
    doubles with every layer for the weights of six ordinary 3x3 convs."""
    return nn.Sequential(*[m for d in (1, 2, 4, 8, 16, 32) for m in (nn.Conv2d(16 if d > 1 else 3, 16, 3,
                                                                              padding=d, dilation=d), nn.ReLU())])


def digits_cnn() -> nn.Module:
    """The CNN the adversarial lesson trains on 8 x 8 digits (dlcore.classifiers.DigitsCNN)."""
    from dlcore.classifiers import DigitsCNN

    return DigitsCNN()


@dataclass(frozen=True)
class Network:
    build: Callable[[], nn.Module]
    input_size: int
    in_channels: int
    branched: bool = False   # True: the table follows the main path only


NETWORKS: dict[str, Network] = {
    "notes7": Network(notes_example, 64, 3),
    "lenet5": Network(lenet5, 32, 1),
    "alexnet": Network(alexnet, 224, 3),
    "vgg16": Network(vgg16, 224, 3),
    "resnet18": Network(resnet18, 224, 3, branched=True),
    "resnet50": Network(resnet50, 224, 3, branched=True),
    "mobilenet_v1": Network(mobilenet_v1, 224, 3),
    "dilated": Network(dilated_stack, 128, 3),
    "digits_cnn": Network(digits_cnn, 8, 1),
}


def network_layers(name: str) -> list[Layer]:
    """The layer table of ``NETWORKS[name]``, walked from its module built on the meta device."""
    if name not in NETWORKS:
        raise ValueError(f"Invalid network: {name!r} (allowed {tuple(NETWORKS)})")
    with torch.device("meta"):
        module = NETWORKS[name].build()
    return layers_from_module(module)
