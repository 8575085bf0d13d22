"""`tessera` and `python -m app`: with no command, the desktop app; with one, the command line."""

import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    from app import cli

    parser = cli.build_parser()
    args = cli.parse_args(parser, argv)
    if getattr(args, "func", None) is None:
        from app.gui.app import run_gui

        return run_gui(Path(args.library) if args.library else None, args.catalog)
    return cli.run(parser, args)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes of a frozen (PyInstaller) build
    sys.exit(main())
