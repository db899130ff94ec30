"""python -m npconv: the npconv command line (see npconv.cli)."""
import sys

from npconv.cli import main

if __name__ == "__main__":
    sys.exit(main())
