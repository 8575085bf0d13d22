"""Perceptual and cryptographic hashes.

pHash is `imagehash.phash` on the oriented image, kept as an unsigned 64-bit int (16 hex digits for
display). We also keep the pHash of the 7 other rotations/mirrors (the dihedral group D4), so a
rotated or mirrored copy can be matched by taking the minimum distance over them. All eight come
from one resize and one DCT: rotating or mirroring the 32x32 image transposes its DCT and flips the
sign of the odd rows or columns, so each orientation's 8x8 low-frequency block is the photo's,
transposed and signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
import scipy.fftpack
from PIL import Image

# 2: detail and lightness, the duplicate finder's guards against flat and inverted images.
# 3: from the reduced decode (long side 512-2047 px instead of a 2048 px Lanczos image) and the eight
#    pHashes from one DCT: the pHash and its orientations are unchanged where the 32x32 gray is
#    (corpus/exif: all); detail and lightness move in their last digits; dHash from the 32x32 gray
#    (a second Lanczos pass over the whole image cost as much as the pHash).
VERSION = 3
_CHUNK = 1 << 20
_SIDE = 32  # imagehash.phash: hash_size 8 x highfreq_factor 4
_ODD = (-1.0) ** np.arange(8)  # DCT of a reversed sequence: coefficient k changes sign when k is odd

# The 8 orientations of the photo (the dihedral group D4) in stored order, index 0 as shown, as PIL
# transposes of the 32x32 image would make them: FLIP_LEFT_RIGHT then ROTATE_90/180/270 for the
# mirrored four. Each is (transposed, rows reversed, columns reversed) of the image, where
# ROTATE_90 (counter-clockwise) = transpose then reverse the rows.
_D4: tuple[tuple[bool, bool, bool], ...] = (
    (False, False, False),  # as shown
    (True, True, False),  # ROTATE_90
    (False, True, True),  # ROTATE_180
    (True, False, True),  # ROTATE_270
    (False, False, True),  # FLIP_LEFT_RIGHT
    (True, False, False),  # FLIP_LEFT_RIGHT + ROTATE_90: the transpose
    (False, True, False),  # FLIP_LEFT_RIGHT + ROTATE_180
    (True, True, True),  # FLIP_LEFT_RIGHT + ROTATE_270: the transverse
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


def _bits_to_int(bits: np.ndarray) -> int:
    return int(np.packbits(bits.flatten()).view(">u8")[0])


def _above_median(block: np.ndarray) -> int:
    return _bits_to_int(block > np.median(block))  # imagehash.phash's test


def orientation_blocks(low: np.ndarray) -> list[np.ndarray]:
    """The 8x8 low-frequency DCT block of each orientation in _D4, from the block of the image as shown."""
    blocks = []
    for transposed, rows_reversed, columns_reversed in _D4:
        block = low.T if transposed else low
        if rows_reversed:
            block = block * _ODD[:, None]
        if columns_reversed:
            block = block * _ODD[None, :]
        blocks.append(block)
    return blocks


def compute_hashes(image: Image.Image) -> ImageHashes:
    """Hashes of an oriented image: one 32x32 grayscale, one DCT for the eight pHashes."""
    gray = image.convert("L").resize((_SIDE, _SIDE), Image.Resampling.LANCZOS)  # what imagehash.phash does
    pixels = np.asarray(gray)
    low = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)[:8, :8]  # as imagehash.phash, to the bit
    phashes = tuple(_above_median(block) for block in orientation_blocks(low))
    dhash = _bits_to_int(imagehash.dhash(gray).hash)
    pixels = pixels.astype(np.float32)
    return ImageHashes(
        phash=phashes[0],
        dhash=dhash,
        orientation_phashes=phashes,
        detail=round(float(pixels.std()), 3),
        lightness=round(float(pixels.mean()), 3),
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
