# Seed example, verbatim from shared/seeds/001_c350117f73300e48.txt lines 22-35; only the torch imports are swapped.
import npconv as torch
import npconv.nn as nn

# Define a convolutional layer with 16 output channels
conv_layer = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1)

# Input tensor (batch size of 1, 3 input channels, 28x28 image)
input_tensor = torch.randn(1, 3, 28, 28)

# Perform the convolution
output_tensor = conv_layer(input_tensor)

# Print the shape of the output tensor
print(output_tensor.shape) # Output: torch.Size([1, 16, 28, 28])
