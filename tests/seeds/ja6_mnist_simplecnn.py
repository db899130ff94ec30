# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 945-996; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn
import npconv.nn.functional as F
from npconv.vision import datasets, transforms
from npconv.utils.data import DataLoader

# シンプルなCNNモデル
class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        # 畳み込み層1: 1ch → 32ch, 3×3カーネル
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        # 畳み込み層2: 32ch → 64ch, 3×3カーネル
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        # 全結合層
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        # その他
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        # Conv1 → ReLU → MaxPool
        x = self.pool(F.relu(self.conv1(x)))  # 28×28 → 14×14
        # Conv2 → ReLU → MaxPool
        x = self.pool(F.relu(self.conv2(x)))  # 14×14 → 7×7
        # 平坦化
        x = x.view(-1, 64 * 7 * 7)
        # 全結合層
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        x = self.fc2(x)
        return x

# モデルのインスタンス化
model = SimpleCNN()

# モデル構造の表示
print("=== SimpleCNN のアーキテクチャ ===\n")
print(model)

# パラメータ数の計算
total_params = sum(p.numel() for p in model.parameters())
trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)

print(f"\n総パラメータ数: {total_params:,}")
print(f"学習可能パラメータ数: {trainable_params:,}")

# 各層のパラメータ数詳細
print("\n=== 各層のパラメータ数 ===")
for name, param in model.named_parameters():
    print(f"{name:20} {str(list(param.shape)):30} {param.numel():>10,} params")
