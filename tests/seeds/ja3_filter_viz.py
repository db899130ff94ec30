# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 771-793; only the torch imports are swapped.
import matplotlib.pyplot as plt
import npconv.nn as nn

# 畳み込み層を定義
conv_layer = nn.Conv2d(1, 8, kernel_size=3, padding=1)

# 学習済みのフィルタを可視化（ここではランダム初期値）
filters = conv_layer.weight.data.cpu().numpy()

# 8個のフィルタを2行4列で表示
fig, axes = plt.subplots(2, 4, figsize=(12, 6))
axes = axes.flatten()

for i in range(8):
    # filters[i, 0]は第i番目のフィルタ（1チャネル目）
    axes[i].imshow(filters[i, 0], cmap='gray')
    axes[i].set_title(f'フィルタ {i+1}')
    axes[i].axis('off')

plt.suptitle('畳み込みフィルタの可視化（3×3カーネル）', fontsize=16)
plt.tight_layout()
print("フィルタを可視化しました（ランダム初期値）")
print("学習後は、エッジ検出やテクスチャ検出などの特徴を持つフィルタに変化します")
