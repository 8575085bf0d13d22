"""Perceptual and cryptographic hashes.

pHash is `imagehash.phash` on the oriented image, kept as an unsigned 64-bit int (16 hex digits for
display). We also keep the pHash of the 7 other rotations/mirrors (the dihedral group D4), so a
rotated or mirrored copy can be matched by taking the minimum distance over them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

VERSION = 2  # 2: detail and lightness, the duplicate finder's guards against flat and inverted images
_CHUNK = 1 << 20

# The 8 orientations as PIL transposes; index 0 is the image as shown.
_D4: tuple[tuple[Image.Transpose, ...], ...] = (
    (),
    (Image.Transpose.ROTATE_90,),
    (Image.Transpose.ROTATE_180,),
    (Image.Transpose.ROTATE_270,),
    (Image.Transpose.FLIP_LEFT_RIGHT,),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270),
)


@dataclass(frozen=True)
class ImageHashes:
    phash: int  # unsigned 64-bit
    dhash: int  # unsigned 64-bit
    orientation_phashes: tuple[int, ...]  # 8 values, [0] == phash
    detail: float  # std-dev of the 32x32 gray: near 0 for flat pictures, whose pHash is noise
    lightness: float  # mean of the 32x32 gray (0-255): tells a dark design from its light twin

    @property
    def phash_hex(self) -> str:
        return to_hex(self.phash)


def to_hex(value: int) -> str:
    return f"{value:016x}"


def from_hex(text: str) -> int:
    text = text.strip().lower()
    if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"not a 64-bit hash in hex (16 hex digits): {text!r}")
    return int(text, 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def similarity(distance: int) -> float:
    """The reference documents' similarity score: 1 - d/64."""
    return 1.0 - distance / 64.0


def _bits_to_int(h: imagehash.ImageHash) -> int:
    return int(np.packbits(h.hash.flatten()).view(">u8")[0])


def compute_hashes(image: Image.Image) -> ImageHashes:
    """Hashes of an oriented image. The 32x32 grayscale is computed once and transposed 8 ways."""
    full_gray = image.convert("L")  # once for both hashes (imagehash converts again, a cheap copy of "L")
    gray = full_gray.resize((32, 32), Image.Resampling.LANCZOS)  # what imagehash.phash does
    phashes = []
    for ops in _D4:
        variant = gray
        for op in ops:
            variant = variant.transpose(op)
        phashes.append(_bits_to_int(imagehash.phash(variant)))
    dhash = _bits_to_int(imagehash.dhash(full_gray))
    pixels = np.asarray(gray, dtype=np.float32)
    return ImageHashes(
        phash=phashes[0],
        dhash=dhash,
        orientation_phashes=tuple(phashes),
        detail=round(float(pixels.std()), 3),
        lightness=round(float(pixels.mean()), 3),
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
