"""``python -m scalargrad``: the command line (see :mod:`scalargrad.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
