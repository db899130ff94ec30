# Seed example, verbatim from shared/seeds/001_c350117f73300e48.txt lines 44-57; only the torch imports are swapped.
# It continues en1_basic_conv.py ("Input tensor from previous example": output_tensor comes from there).
import npconv as torch
import npconv.nn as nn

# Define a convolutional layer with 64 output channels
conv_layer = nn.Conv2d(in_channels=16, out_channels=64, kernel_size=3, stride=2, padding=1)

# Input tensor from previous example (1, 16, 28, 28)
input_tensor = output_tensor

# Perform the convolution
output_tensor = conv_layer(input_tensor)

# Print the shape of the output tensor
print(output_tensor.shape) # Output: torch.Size([1, 64, 14, 14])
