# Seed example, verbatim from shared/seeds/002_e67dcd156bed8917.txt lines 1030-1107; only the torch imports are swapped.
# It continues ja6_mnist_simplecnn.py (SimpleCNN, datasets, transforms, DataLoader come from there).
# The two blocks marked [npconv test] are the only other additions: by default they train on the first
# 2000 training and first 2000 test images for 1 epoch, so the test suite stays fast;
# NPCONV_SEED_FULL=1 skips them and runs the example exactly as written (60000 images, 3 epochs).
import npconv.optim as optim

# データの前処理
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.1307,), (0.3081,))  # MNISTの平均・標準偏差
])

# データセットの読み込み（ダウンロードは初回のみ）
train_dataset = datasets.MNIST('./data', train=True, download=True, transform=transform)
test_dataset = datasets.MNIST('./data', train=False, transform=transform)

# [npconv test] quick run on a subset
import os as _os
_NPCONV_FULL = _os.environ.get('NPCONV_SEED_FULL') == '1'
if not _NPCONV_FULL:
    from npconv.utils.data import Subset as _Subset
    train_dataset = _Subset(train_dataset, range(2000))
    test_dataset = _Subset(test_dataset, range(2000))

# データローダーの作成
train_loader = DataLoader(train_dataset, batch_size=64, shuffle=True)
test_loader = DataLoader(test_dataset, batch_size=1000, shuffle=False)

# 学習の設定
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
model = SimpleCNN().to(device)
optimizer = optim.Adam(model.parameters(), lr=0.001)
criterion = nn.CrossEntropyLoss()

# 学習関数
def train_epoch(model, train_loader, optimizer, criterion, device):
    model.train()
    running_loss = 0.0
    correct = 0
    total = 0

    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)

        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
        _, predicted = output.max(1)
        total += target.size(0)
        correct += predicted.eq(target).sum().item()

    avg_loss = running_loss / len(train_loader)
    accuracy = 100. * correct / total
    return avg_loss, accuracy

# 評価関数
def evaluate(model, test_loader, criterion, device):
    model.eval()
    test_loss = 0
    correct = 0

    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += criterion(output, target).item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader)
    accuracy = 100. * correct / len(test_loader.dataset)
    return test_loss, accuracy

# 学習実行（簡略版：3エポック）
print("\n=== 学習開始 ===\n")
num_epochs = 3
if not _NPCONV_FULL:  # [npconv test] 1 epoch on the subset
    num_epochs = 1

for epoch in range(num_epochs):
    train_loss, train_acc = train_epoch(model, train_loader, optimizer, criterion, device)
    test_loss, test_acc = evaluate(model, test_loader, criterion, device)

    print(f"Epoch {epoch+1}/{num_epochs}")
    print(f"  Train Loss: {train_loss:.4f}, Train Acc: {train_acc:.2f}%")
    print(f"  Test Loss:  {test_loss:.4f}, Test Acc:  {test_acc:.2f}%\n")

print("学習完了！")
