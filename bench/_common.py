"""Helpers shared by the benchmarks: where the corpus is, building file trees, peak memory."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp", ".heic", ".heif",
                  ".hif", ".avif", ".mpo", ".dng", ".apng"}  # fmt: skip


def corpus_images(root: Path = CORPUS) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def repeat_tree(src: Path, dst: Path, min_files: int) -> int:
    """Copy `src` into dst/copy-N/ until at least `min_files` files exist (real copies: the scanner
    treats hard links as one file)."""
    n = copies = 0
    while n < min_files:
        target = dst / f"copy-{copies:03d}"
        shutil.copytree(src, target)
        n += sum(1 for p in target.rglob("*") if p.is_file())
        copies += 1
    return n


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children
