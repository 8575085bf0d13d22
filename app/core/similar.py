"""Find similar photos: cosine similarity of the classifier's pooled features (L2-normalised, float16).

The matrix is loaded once and kept (100k photos x 1280 x 2 bytes = 256 MB); a query is one
matrix-vector product done in float32 chunks, so memory stays bounded and 100k rows take a few tens
of milliseconds (bench/tagging_bench.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.catalog.models import OK, Feature, Photo

_CHUNK = 4096


def rank(vectors: np.ndarray, query: np.ndarray, top: int, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the `top` rows most cosine-similar to `query` (best first) and their scores.
    Rows are unit length. numpy has no fast float16 product and its float16 -> float32 cast is slow,
    so chunks are widened by OpenCV (F16C, 2x faster) and multiplied in float32."""
    q = (query / (np.linalg.norm(query) or 1.0)).astype(np.float32)
    scores = np.empty(len(vectors), np.float32)
    for start in range(0, len(vectors), _CHUNK):
        block = vectors[start : start + _CHUNK]
        wide = cv2.convertFp16(block) if block.dtype == np.float16 else block.astype(np.float32, copy=False)
        scores[start : start + _CHUNK] = wide @ q
    if exclude is not None:
        scores[exclude] = -np.inf
    k = min(top, len(scores) - (exclude is not None))
    if k <= 0:
        return np.empty(0, np.intp), np.empty(0, np.float32)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best])]
    return best, scores[best]


class SimilarityIndex:
    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.ids = ids  # int64 (n,)
        self.vectors = vectors  # float16 (n, d), rows unit length
        self._row = {int(pid): i for i, pid in enumerate(ids)}

    @classmethod
    def load(cls) -> SimilarityIndex:
        rows = (
            Feature.select(Feature.photo, Feature.vector)
            .join(Photo)
            .where(Photo.status == OK)
            .order_by(Feature.photo)
            .tuples()
        )
        ids, blobs = [], []
        for pid, blob in rows:
            ids.append(pid)
            blobs.append(blob)
        if not ids:
            return cls(np.zeros(0, np.int64), np.zeros((0, 0), np.float16))
        vectors = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(ids), -1)
        return cls(np.asarray(ids, np.int64), vectors)

    def __len__(self) -> int:
        return len(self.ids)

    def query(self, photo_id: int, top: int = 20) -> list[tuple[int, float]]:
        """The `top` most similar other photos as (photo_id, cosine similarity), best first."""
        row = self._row.get(photo_id)
        if row is None:
            raise KeyError(f"photo {photo_id} has no feature yet (run: tessera analyze --stages tags)")
        return self.query_vector(self.vectors[row].astype(np.float32), top, exclude=row)

    def query_vector(self, vec: np.ndarray, top: int, exclude: int | None = None) -> list[tuple[int, float]]:
        rows, scores = rank(self.vectors, vec, top, exclude)
        return [(int(self.ids[i]), float(s)) for i, s in zip(rows, scores, strict=True)]
