"""Thumbnails made on this workstation when its cache lacks them. Thumbnails are content-addressed
(the file's SHA-256), so where the library folder is shared every workstation reads the same ones;
where each workstation keeps its own library folder (a studio catalog opened with --catalog), the
ones another workstation's analysis wrote are not here, and are made again from the photo the first
time they are shown."""

from __future__ import annotations

from pathlib import Path

from app.core.analysis.decode import DecodeError, decode_image
from app.core.analysis.thumbnails import SIZES, thumb_path, write_thumbnails
from app.core.ingest.filetypes import SNIFF_BYTES, sniff_format


def ensure_thumbnails(thumbs_dir: Path, key: str, photo_path: str) -> bool:
    """True when both sizes of `key` are in the cache, made from `photo_path` if they were not."""
    if all(thumb_path(thumbs_dir, key, size).is_file() for size in SIZES):
        return True
    try:
        data = Path(photo_path).read_bytes()
        decoded = decode_image(data, sniff_format(data[:SNIFF_BYTES]))
    except (OSError, DecodeError):
        return False  # the share is not mounted here, or the file went: the grid shows no thumbnail
    write_thumbnails(decoded.image, decoded.alpha, thumbs_dir, key)
    return True
