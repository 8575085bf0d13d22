"""`python -m app` is the same as `tessera`."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes of a frozen (PyInstaller) build
    sys.exit(main())
