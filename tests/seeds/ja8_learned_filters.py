# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 1133-1151; only the torch imports are swapped.
# It continues ja7_mnist_train.py (model is the trained SimpleCNN from there).
import matplotlib.pyplot as plt
import numpy as np

# 第1層の畳み込みフィルタを可視化
conv1_weights = model.conv1.weight.data.cpu().numpy()

# 最初の16個のフィルタを表示
fig, axes = plt.subplots(4, 8, figsize=(16, 8))
axes = axes.flatten()

for i in range(min(32, len(axes))):
    axes[i].imshow(conv1_weights[i, 0], cmap='viridis')
    axes[i].set_title(f'Filter {i+1}', fontsize=9)
    axes[i].axis('off')

plt.suptitle('学習済み畳み込みフィルタ（第1層、32個中32個）', fontsize=16)
plt.tight_layout()
print("学習済みフィルタを可視化しました")
print("各フィルタは、エッジ、曲線、コーナーなどの異なる特徴を検出するように学習されています")
