# Seed example, verbatim from shared/seeds/001_c350117f73300e48.txt lines 66-95; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn

class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc = nn.Linear(64 * 7 * 7, 10) # Assuming 28x28 input

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        x = self.pool(self.relu2(self.conv2(x)))
        x = x.view(-1, 64 * 7 * 7)
        x = self.fc(x)
        return x

# Instantiate the model
model = SimpleCNN()

# Example input
input_tensor = torch.randn(1, 3, 28, 28)

# Forward pass
output = model(input_tensor)

print(output.shape) # Output: torch.Size([1, 10])
