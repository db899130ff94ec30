"""ResNet-shaped models for the design tools (npconv summary / npconv check), written for any
torch-shaped library: ``resnet_classes(nn, F)`` builds them from npconv's or torch's modules.

    npconv summary examples/resnet.py:ResNet18 --input 1,3,224,224
    npconv summary examples/resnet.py:SmallResNet --input 1,3,32,32

ResNet18 has torchvision's resnet18 geometry (7x7/2 stem, 3x3/2 max pool, four stages of two
BasicBlocks, 1x1/2 downsampling shortcuts, global average pool, fc 512 -> 1000) with a
BatchNorm2d after each conv where the library has one (npconv gets it in its own issue).
"""
import npconv.nn
import npconv.nn.functional


def resnet_classes(nn, F, with_norm=None):
    """(BasicBlock, ResNet18, SmallResNet) built from a library's nn and nn.functional, with
    BatchNorm2d after each conv if with_norm (by default: if the library has it)."""
    norm = getattr(nn, "BatchNorm2d", None) if with_norm is not False else None

    def conv_norm(c_in, c_out, kernel_size, stride, padding):
        conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=norm is None)
        return conv if norm is None else nn.Sequential(conv, norm(c_out))

    class BasicBlock(nn.Module):
        """out = relu(conv(relu(conv(x))) + shortcut(x)); the shortcut is a strided 1x1 conv
        where the shape changes."""

        def __init__(self, c_in, c_out, stride=1):
            super().__init__()
            self.conv1 = conv_norm(c_in, c_out, 3, stride, 1)
            self.conv2 = conv_norm(c_out, c_out, 3, 1, 1)
            self.downsample = conv_norm(c_in, c_out, 1, stride, 0) \
                if stride != 1 or c_in != c_out else None

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            return F.relu(self.conv2(F.relu(self.conv1(x))) + identity)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.conv1 = conv_norm(3, 64, 7, 2, 3)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths, c_in, stages = (64, 128, 256, 512), 64, []
            for i, width in enumerate(widths):
                stages.append(nn.Sequential(BasicBlock(c_in, width, 1 if i == 0 else 2),
                                            BasicBlock(width, width)))
                c_in = width
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(F.relu(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(flatten(self.avgpool(x)))

    class SmallResNet(nn.Module):
        """A residual CIFAR-sized model: stem, two blocks (one downsampling), pool, fc."""

        def __init__(self, num_classes=10):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.block1 = BasicBlock(16, 16)
            self.block2 = BasicBlock(16, 32, stride=2)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, num_classes)

        def forward(self, x):
            x = self.block2(self.block1(F.relu(self.stem(x))))
            return self.fc(flatten(self.pool(x)))

    def flatten(x):
        return x.flatten(1)

    return BasicBlock, ResNet18, SmallResNet


BasicBlock, ResNet18, SmallResNet = resnet_classes(npconv.nn, npconv.nn.functional)
