"""Thumbnails: oriented JPEGs at two sizes, content-addressed by the file's SHA-256 so copies share
them and a moved file keeps them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

# 2: from the reduced decode (768-2047 px) by area averaging (a box filter, no longer OpenCV's), so a
#    12 MP JPEG's large thumbnail is its 1/4-scale decode (1000 px), and baseline JPEG (a progressive
#    one took 4x as long to write)
VERSION = 2
SIZES = (320, 1024)
SMALL, LARGE = SIZES
_BACKDROP = (128, 128, 128)  # transparent areas show as neutral gray, never as black


def thumb_path(thumbs_dir: Path, key: str, size: int) -> Path:
    return thumbs_dir / key[:2] / f"{key}-{size}.jpg"


def _flatten(image: Image.Image, alpha: Image.Image | None) -> Image.Image:
    if alpha is None:
        return image
    backdrop = Image.new("RGB", image.size, _BACKDROP)
    backdrop.paste(image, mask=alpha)
    return backdrop


def _shrink(image: Image.Image, size: int) -> Image.Image:
    """Long side down to `size` by area averaging: a whole-factor reduce, then a box filter for the
    rest (1.2 ms from 1000 to 320 px; OpenCV's INTER_AREA took 2.8, Lanczos ~4). An image already
    smaller stays as it is: a reduced decode gives 768-1024 px for a 12 MP JPEG."""
    scale = size / max(image.size)
    if scale >= 1:
        return image
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, Image.Resampling.BOX, reducing_gap=1.0)


def write_thumbnails(image: Image.Image, alpha: Image.Image | None, thumbs_dir: Path, key: str) -> str:
    """Write both sizes (atomically: a reader never sees half a file) and return the key."""
    flat = _flatten(image, alpha)
    for size in sorted(SIZES, reverse=True):  # shrink the shrunk copy: cheaper
        flat = _shrink(flat, size)
        target = thumb_path(thumbs_dir, key, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            flat.save(fh, "JPEG", quality=85)
        os.replace(tmp, target)
    return key
