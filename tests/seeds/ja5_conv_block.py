# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 896-921; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn

# 標準的なConv-ReLUブロック
class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(ConvBlock, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.conv(x)
        x = self.relu(x)
        return x

# 使用例
block = ConvBlock(3, 64)
x = torch.randn(1, 3, 224, 224)
output = block(x)

print(f"入力サイズ: {x.shape}")
print(f"出力サイズ: {output.shape}")
print(f"\n処理の流れ:")
print(f"  1. Conv2d(3 → 64, 3×3) でフィルタリング")
print(f"  2. ReLU()で非線形変換")
print(f"  → 特徴マップ内の負の値が0になる")
