"""Import throughput: first import of a >= 2,000-file tree, then a no-change rescan.

Prints files/s of the first import, the ratio rescan time / first import time (a rescan reads no
file contents, so it should be a small fraction), and peak RSS. Usage:
    .venv/bin/python bench/import_bench.py [FOLDER] [--min-files N] [--analyze]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.library import Library
from bench._common import CORPUS, peak_rss_mb, repeat_tree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder", nargs="?", default=str(CORPUS))
    ap.add_argument("--min-files", type=int, default=2000)
    ap.add_argument("--analyze", action="store_true", help="run the analysis stages too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "photos"
        files = repeat_tree(Path(args.folder), tree, args.min_files)
        with Library.open(Path(tmp) / "lib") as lib:
            t0 = time.perf_counter()
            first = lib.import_folders([tree], analyze=args.analyze)
            t1 = time.perf_counter()
            again = lib.import_folders([tree], analyze=args.analyze)
            t2 = time.perf_counter()
        first_s, rescan_s = t1 - t0, t2 - t1
        own, child = peak_rss_mb()
        print(f"files in tree:              {files}")
        print(f"first import:               {first.summary()}")
        print(f"first import time:          {first_s:.1f} s  ({first.scanned / first_s:.1f} files/s)")
        print(f"no-change rescan:           {rescan_s:.2f} s  ({again.unchanged} unchanged, {again.run.done} read)")
        print(f"rescan / first import:      {rescan_s / first_s:.4f}")
        print(f"peak RSS: main {own:.0f} MB, largest worker {child:.0f} MB")


if __name__ == "__main__":
    main()
