"""The descriptors stage: a descriptor for every face of the photo, from the same decoded working
image the face detector saw. Boxes are stored in the photo's displayed pixels; the working image
is smaller (long side <= 2048), so they are scaled to it and the landmarks back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from app.core.records import FaceVectors

MIN_SIDE = 8  # a face smaller than this in the working image has too few pixels to describe


def pack(vector: np.ndarray) -> bytes:
    """float16: 256 bytes for 128 numbers; the distances move by < 1e-3, far below the 0.1s that matter."""
    return np.asarray(vector, np.float16).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, np.float16).astype(np.float32)


def describe_photo(
    image: Image.Image,
    full_size: tuple[int, int],
    detected: Sequence[Sequence[int]],
    known: Sequence[tuple[int, Sequence[int]]],
) -> FaceVectors:
    """Descriptors of this run's detected boxes (in order) and of the `known` (face id, box) faces."""
    from app.core.analysis.face_descriptor import DESCRIPTOR_ENGINE, describe_faces

    scale = image.width / max(1, full_size[0])
    boxes = [*detected, *(box for _, box in known)]
    scaled = [[round(v * scale) for v in box] for box in boxes]
    usable = [i for i, b in enumerate(scaled) if min(b[2], b[3]) >= MIN_SIDE]
    described = describe_faces(image, [scaled[i] for i in usable]) if usable else []
    results: list[tuple[bytes | None, list[tuple[int, int]] | None]] = [(None, None)] * len(boxes)
    for i, d in zip(usable, described, strict=True):
        points = [(round(x / scale), round(y / scale)) for x, y in d.landmarks]
        results[i] = (pack(d.vector), points)
    out = FaceVectors(engine=DESCRIPTOR_ENGINE, detected=results[: len(detected)])
    out.known = {fid: results[len(detected) + k] for k, (fid, _) in enumerate(known)}
    return out
