"""PyInstaller entry point: the same ``main`` as the ``placeseg-review`` console script."""

import sys

from placeseg_review.main import main

if __name__ == "__main__":
    sys.exit(main())
