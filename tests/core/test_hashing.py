"""The eight orientation pHashes from one DCT against imagehash on each transposed image (the way
they were computed before), and the pHash of the reduced decode against imagehash on the whole photo."""

from __future__ import annotations

from pathlib import Path

import imagehash
import pytest
from PIL import Image, ImageOps

from app.core.analysis.decode import decode_reduced
from app.core.analysis.hashing import compute_hashes, to_hex
from app.core.analysis.stages import BY_NAME, REGISTRY, detail_needed, size_needed, view_factor
from app.core.ingest.filetypes import SNIFF_BYTES, sniff_format
from bench._common import corpus_images

# index 0 as shown, then ROTATE_90/180/270, then mirrored and rotated the same ways
TRANSPOSES: tuple[tuple[Image.Transpose, ...], ...] = (
    (),
    (Image.Transpose.ROTATE_90,),
    (Image.Transpose.ROTATE_180,),
    (Image.Transpose.ROTATE_270,),
    (Image.Transpose.FLIP_LEFT_RIGHT,),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270),
)


def _photos(corpus: Path) -> list[Path]:
    return corpus_images(corpus / "dupes") + corpus_images(corpus / "exif")


def _reduced(path: Path, need: int, detail: int = 0) -> Image.Image:
    data = path.read_bytes()
    return decode_reduced(data, sniff_format(data[:SNIFF_BYTES]), need, detail).image


def test_eight_orientations_from_one_dct_equal_imagehash_on_each_transpose(corpus: Path) -> None:
    photos = _photos(corpus)
    assert len(photos) >= 180
    for path in photos:
        image = _reduced(path, BY_NAME["hashes"].size)
        gray = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
        expected = []
        for ops in TRANSPOSES:
            variant = gray
            for op in ops:
                variant = variant.transpose(op)
            expected.append(int(str(imagehash.phash(variant)), 16))
        assert compute_hashes(image).orientation_phashes == tuple(expected), path.name


def test_a_rotated_photo_hashes_like_the_matching_orientation(corpus: Path) -> None:
    image = _reduced(corpus / "dupes" / "g01_chelsea.jpg", 1024)
    hashes = compute_hashes(image)
    for index, ops in enumerate(TRANSPOSES):
        turned = image
        for op in ops:
            turned = turned.transpose(op)
        assert compute_hashes(turned).phash == hashes.orientation_phashes[index], index


@pytest.mark.parametrize(
    ("need", "detail"),
    [(512, 0), (BY_NAME["hashes"].size, 0), (size_needed(list(REGISTRY)), detail_needed(list(REGISTRY)))],
    ids=["512", "quick", "all"],
)
def test_phash_of_the_reduced_decode_is_imagehash_of_the_whole_photo(corpus: Path, need: int, detail: int) -> None:
    """The reference documents' value: `str(imagehash.phash(img))` of the oriented full-size photo,
    from the image the hashes stage gets: its own (the quick stages') decode, or its view of the
    decode for every stage (see work.run_stages); and from a 512 px decode."""
    photos = corpus_images(corpus / "exif")
    assert len(photos) >= 50
    for path in photos:
        with Image.open(path) as im:
            expected = str(imagehash.phash(ImageOps.exif_transpose(im).convert("RGB")))
        image = _reduced(path, need, detail)
        factor = view_factor(max(image.size), BY_NAME["hashes"].size)
        assert to_hex(compute_hashes(image.reduce(factor)).phash) == expected, path.name
