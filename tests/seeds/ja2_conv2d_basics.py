# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 607-642; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn

# Conv2dの基本構文
conv = nn.Conv2d(
    in_channels=3,      # 入力チャネル数（RGBなら3）
    out_channels=64,    # 出力チャネル数（フィルタ数）
    kernel_size=3,      # カーネルサイズ（3×3）
    stride=1,           # ストライド
    padding=1,          # パディング
    bias=True           # バイアス項を使用するか
)

# ダミー入力（バッチサイズ8、RGB画像、224×224）
x = torch.randn(8, 3, 224, 224)

# 順伝播
output = conv(x)

print("=== Conv2dの動作確認 ===\n")
print(f"入力サイズ: {x.shape}")
print(f"  [バッチ, チャネル, 高さ, 幅] = [{x.shape[0]}, {x.shape[1]}, {x.shape[2]}, {x.shape[3]}]")
print(f"\n出力サイズ: {output.shape}")
print(f"  [バッチ, チャネル, 高さ, 幅] = [{output.shape[0]}, {output.shape[1]}, {output.shape[2]}, {output.shape[3]}]")

# パラメータの詳細
print(f"\nパラメータ詳細:")
print(f"  重みのサイズ: {conv.weight.shape}")
print(f"  → [出力ch, 入力ch, 高さ, 幅] = [{conv.weight.shape[0]}, {conv.weight.shape[1]}, {conv.weight.shape[2]}, {conv.weight.shape[3]}]")
print(f"  バイアスのサイズ: {conv.bias.shape}")
print(f"  → [出力ch] = [{conv.bias.shape[0]}]")

# パラメータ数
total_params = conv.weight.numel() + conv.bias.numel()
print(f"\n総パラメータ数: {total_params:,}")
print(f"  計算式: (3 × 64 × 3 × 3) + 64 = {total_params:,}")
