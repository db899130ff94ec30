# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 419-452; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn

# RGB画像（バッチサイズ1、3チャネル、28×28）
input_image = torch.randn(1, 3, 28, 28)

# 畳み込み層の定義
# 入力: 3チャネル（RGB）
# 出力: 16チャネル（16個の特徴マップ）
# カーネルサイズ: 3×3
conv_layer = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, padding=1)

# 順伝播
output = conv_layer(input_image)

print(f"入力サイズ: {input_image.shape}")
print(f"  → [バッチ, チャネル, 高さ, 幅] = [1, 3, 28, 28]")
print(f"\n畳み込み層のパラメータ:")
print(f"  入力チャネル: 3")
print(f"  出力チャネル: 16")
print(f"  カーネルサイズ: 3×3")
print(f"  パディング: 1 (Sameパディング)")
print(f"\n出力サイズ: {output.shape}")
print(f"  → [バッチ, チャネル, 高さ, 幅] = [1, 16, 28, 28]")

# パラメータ数の計算
weight_params = 3 * 16 * 3 * 3  # in_ch × out_ch × k_h × k_w
bias_params = 16  # 各出力チャネルに1つ
total_params = weight_params + bias_params

print(f"\nパラメータ数:")
print(f"  重み: {weight_params:,} (= 3 × 16 × 3 × 3)")
print(f"  バイアス: {bias_params}")
print(f"  合計: {total_params:,}")
