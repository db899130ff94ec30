"""Run seed example files one after another in one shared namespace, like notebook cells.

    python tests/seeds/run.py [--torch] [--savefig DIR] FILE [FILE ...]

The tutorials' later examples use names the earlier ones defined (en2 uses en1's output_tensor,
ja7 uses ja6's SimpleCNN, ja8 uses ja7's trained model), so a chain is run in one namespace.
Matplotlib is put on the Agg backend (no display). ``--torch`` swaps the imports back to real
torch (the oracle: the same program must print the same under torch). ``--savefig DIR`` saves
every open matplotlib figure to DIR/<file>-<n>.png after each file.
"""
import os
import sys
import warnings

os.environ["MPLBACKEND"] = "Agg"
# The Japanese figure titles have no glyphs in the default font; that is cosmetic here.
warnings.filterwarnings("ignore", message="Glyph .* missing from font")
warnings.filterwarnings("ignore", message=".*does not have a glyph.*")

TO_TORCH = {
    "import npconv as torch": "import torch",
    "import npconv.nn as nn": "import torch.nn as nn",
    "import npconv.nn.functional as F": "import torch.nn.functional as F",
    "import npconv.optim as optim": "import torch.optim as optim",
    "from npconv.utils.data import DataLoader": "from torch.utils.data import DataLoader",
    "from npconv.vision import datasets, transforms":
        "from torchvision import datasets, transforms",
}


def main(argv):
    use_torch = "--torch" in argv
    argv = [a for a in argv if a != "--torch"]
    savefig = None
    if "--savefig" in argv:
        i = argv.index("--savefig")
        savefig = argv[i + 1]
        del argv[i:i + 2]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for path in argv:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        if use_torch:
            source = "\n".join(TO_TORCH.get(line, line) for line in source.split("\n"))
        namespace["__file__"] = path
        exec(compile(source, path, "exec"), namespace)
        sys.stdout.flush()
        if savefig and "matplotlib.pyplot" in sys.modules:
            plt = sys.modules["matplotlib.pyplot"]
            stem = os.path.splitext(os.path.basename(path))[0]
            for n in plt.get_fignums():
                plt.figure(n).savefig(os.path.join(savefig, f"{stem}-{n}.png"))
            plt.close("all")


if __name__ == "__main__":
    main(sys.argv[1:])
