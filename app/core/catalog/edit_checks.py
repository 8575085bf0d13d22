"""The edited tier over the catalog: the stored classifier features and the cached thumbnails in, the
geometric checks kept in EditCheck (by the SHA-256 of both files, so a decision is never made twice
unless a file changed) and handed to the clustering as EditedLinks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from app.core import edit_match, edited_tier
from app.core.analysis.pipeline import Cancelled, Progress, ProgressCallback
from app.core.analysis.thumbnails import LARGE, thumb_path
from app.core.catalog.models import EditCheck, Photo
from app.core.catalog.store import now_iso
from app.core.dupes import PhotoFacts
from app.core.edited_links import EditedLinks, EditLink
from app.core.similar import SimilarityIndex

_IN_CHUNK = 900  # ids per IN (...) query: below SQLite's variable limit
_STORE_EVERY = 256  # decisions per write


def edited_links(
    lib: Any,
    facts: Mapping[int, PhotoFacts],
    sha: Mapping[int, str],
    *,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
) -> EditedLinks:
    """The verified edited copies among the photos in `facts`, checking the candidates not decided
    yet (in worker processes, written to the catalog as they come)."""
    index = SimilarityIndex.load()
    rows = [i for i, pid in enumerate(index.ids.tolist()) if pid in facts and pid in sha]
    checker = Checker(lib, facts, sha, progress, cancelled)
    pairs = edited_tier.candidates(index.ids[rows], index.vectors[rows], facts) if len(rows) > 1 else []
    return EditedLinks(checker(pairs), check=checker)


class Checker:
    """Decisions for pairs of photo ids: from the cache, else checked and stored."""

    def __init__(
        self,
        lib: Any,
        facts: Mapping[int, PhotoFacts],
        sha: Mapping[int, str],
        progress: ProgressCallback | None = None,
        cancelled: Cancelled = lambda: False,
    ) -> None:
        self.lib, self.facts, self.sha = lib, facts, sha
        self.progress, self.cancelled = progress, cancelled
        self.decided = cached_decisions()
        self._thumbs: dict[int, str | None] = {}

    def __call__(self, pairs: Iterable[tuple[int, int]]) -> list[EditLink]:
        pairs = [(a, b) for a, b in pairs if self.sha.get(a) and self.sha.get(b) and self.sha[a] != self.sha[b]]
        self._load_thumbs({pid for pair in pairs for pid in pair})
        jobs: dict[edited_tier.PairKey, tuple[edited_tier.PhotoRef, edited_tier.PhotoRef]] = {}
        for a, b in pairs:
            key, first, second = self._ordered(a, b)
            if key not in self.decided and key not in jobs and self._thumbs[first] and self._thumbs[second]:
                jobs[key] = (self._ref(first), self._ref(second))
        if jobs:
            self._run(list(jobs.values()))
        links = []
        for a, b in pairs:
            key, first, second = self._ordered(a, b)
            result = self.decided.get(key)
            if result is not None and result.matched and result.matrix is not None:
                links.append(EditLink(first, second, result.inliers, result.matrix, result.edits))
        return links

    def _ordered(self, a: int, b: int) -> tuple[edited_tier.PairKey, int, int]:
        """The cache key and the two ids in its order (the smaller SHA-256 first)."""
        first, second = (a, b) if self.sha[a] < self.sha[b] else (b, a)
        return (self.sha[first], self.sha[second]), first, second

    def _ref(self, pid: int) -> edited_tier.PhotoRef:
        thumb = self._thumbs[pid]
        assert thumb is not None
        return edited_tier.PhotoRef(self.sha[pid], thumb, self.facts[pid].size_px)

    def _load_thumbs(self, ids: set[int]) -> None:
        wanted = sorted(ids - set(self._thumbs))
        for lo in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[lo : lo + _IN_CHUNK]
            keys = dict(Photo.select(Photo.id, Photo.thumb_key).where(Photo.id.in_(chunk)).tuples())
            for pid in chunk:
                key = keys.get(pid)
                self._thumbs[pid] = str(thumb_path(self.lib.thumbs_dir, key, LARGE)) if key else None

    def _run(self, jobs: list[tuple[edited_tier.PhotoRef, edited_tier.PhotoRef]]) -> None:
        start = time.monotonic()
        buffer: list[tuple[edited_tier.PairKey, edit_match.PairResult]] = []

        def report(done: int, total: int) -> None:
            if self.progress is not None:
                rate = done / max(time.monotonic() - start, 1e-6)
                eta = (total - done) / rate if rate > 0 else None
                self.progress(Progress("checking edited copies", done, total, rate=rate, eta_s=eta))

        for key, result in edited_tier.check(jobs, progress=report, cancelled=self.cancelled):
            self.decided[key] = result
            buffer.append((key, result))
            if len(buffer) >= _STORE_EVERY:
                _store(self.lib, buffer)
                buffer = []
        if buffer:
            _store(self.lib, buffer)
        self.lib.writer.flush()


def cached_decisions() -> dict[edited_tier.PairKey, edit_match.PairResult]:
    """Every decision of the current check version."""
    rows = EditCheck.select(
        EditCheck.sha_a, EditCheck.sha_b, EditCheck.matched, EditCheck.inliers, EditCheck.matrix_json, EditCheck.edits
    ).where(EditCheck.version == edit_match.VERSION)
    return {
        (a, b): edit_match.PairResult(
            bool(matched), inliers, tuple(json.loads(matrix)) if matrix else None, tuple(filter(None, edits.split(",")))
        )
        for a, b, matched, inliers, matrix, edits in rows.tuples()
    }


def _store(lib: Any, decisions: list[tuple[edited_tier.PairKey, edit_match.PairResult]]) -> None:
    stamp = now_iso()
    rows = [
        {"sha_a": a, "sha_b": b, "version": edit_match.VERSION, "matched": r.matched, "inliers": r.inliers,
         "matrix_json": json.dumps(r.matrix) if r.matrix else None, "edits": ",".join(r.edits), "checked_at": stamp}
        for (a, b), r in decisions
    ]  # fmt: skip
    kept = [EditCheck.version, EditCheck.matched, EditCheck.inliers, EditCheck.matrix_json, EditCheck.edits,
            EditCheck.checked_at]  # fmt: skip
    upsert = EditCheck.insert_many(rows).on_conflict(conflict_target=[EditCheck.sha_a, EditCheck.sha_b], preserve=kept)
    lib.writer.submit(upsert.execute)
