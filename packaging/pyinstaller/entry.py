"""PyInstaller entry point: the same ``main`` as the ``placeseg-review`` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # The window validates in a spawned process (placeseg_core.isolated): in the bundle that
    # process is this executable again, which must run the work, not a second window.
    multiprocessing.freeze_support()
    from placeseg_review.main import main

    sys.exit(main())
