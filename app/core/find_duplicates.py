"""The duplicate finder over a library: the catalog's hashes and facts (catalog/duplicates.py), the
edited tier's candidates checked on the cached thumbnails with every decision kept in the catalog
(catalog/edit_checks.py; the candidate search itself is kept in the library folder by
edited_candidates.py), and the clusters (dupes.find_clusters). The CLI and the review window
call this."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from app.core import dupes, edit_match, edited_tier
from app.core.analysis.pipeline import Cancelled, Progress, ProgressCallback
from app.core.analysis.thumbnails import LARGE, thumb_path
from app.core.catalog import duplicates
from app.core.catalog.edit_checks import cached_decisions, store_decisions, thumbnail_keys
from app.core.edit_match import PairKey
from app.core.edited_links import EditedLinks, EditLink
from app.core.similar import SimilarityIndex

DEFAULT_TIERS = dupes.TIERS  # what `tessera dupes` and the review window show unless told otherwise
_STORE_EVERY = 256  # decisions per write
CANDIDATE_CACHE = "cache/edited-candidates.npz"  # in the library folder; see edited_candidates.py


def library_clusters(
    lib: Any,
    *,
    tiers: str | Iterable[str] = DEFAULT_TIERS,
    threshold: int = dupes.DEFAULT_THRESHOLD,
    rotations: bool = True,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
) -> list[dupes.Cluster]:
    """The library's clusters; the edited tier checks the candidates it has not decided yet."""
    hashes, facts, sha = duplicates.load()
    edited = library_links(lib, facts, sha, tiers, progress=progress, cancelled=cancelled)
    return dupes.find_clusters(hashes, facts, sha, tiers=tiers, threshold=threshold, rotations=rotations,
                               not_duplicates=duplicates.not_duplicate_pairs(), edited=edited)  # fmt: skip


def library_links(
    lib: Any,
    facts: Mapping[int, dupes.PhotoFacts],
    sha: Mapping[int, str],
    tiers: str | Iterable[str],
    *,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
) -> EditedLinks | None:
    """The edited tier's verified pairs among the photos in `facts` when `tiers` has it (else None),
    checking the candidates not decided yet."""
    if dupes.EDITED not in dupes.tier_set(tiers):
        return None
    index = SimilarityIndex.load()
    rows = [i for i, pid in enumerate(index.ids.tolist()) if pid in facts and pid in sha]
    vectors = index.vectors if len(rows) == len(index) else index.vectors[rows]  # no copy of them all
    checker = Checker(lib, facts, sha, progress, cancelled)
    cache = lib.root / CANDIDATE_CACHE
    pairs = edited_tier.candidates(index.ids[rows], vectors, facts, cache) if len(rows) > 1 else []
    return EditedLinks(checker(pairs), check=checker)


class Checker:
    """Decisions for pairs of photo ids: from the catalog's cache, else checked and stored."""

    def __init__(
        self,
        lib: Any,
        facts: Mapping[int, dupes.PhotoFacts],
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
        jobs: dict[PairKey, tuple[edited_tier.PhotoRef, edited_tier.PhotoRef]] = {}
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

    def _ordered(self, a: int, b: int) -> tuple[PairKey, int, int]:
        """The cache key and the two ids in its order (the smaller SHA-256 first)."""
        first, second = (a, b) if self.sha[a] < self.sha[b] else (b, a)
        return (self.sha[first], self.sha[second]), first, second

    def _ref(self, pid: int) -> edited_tier.PhotoRef:
        thumb = self._thumbs[pid]
        assert thumb is not None
        return edited_tier.PhotoRef(self.sha[pid], thumb, self.facts[pid].size_px)

    def _load_thumbs(self, ids: set[int]) -> None:
        wanted = sorted(ids - set(self._thumbs))
        keys = thumbnail_keys(wanted)
        for pid in wanted:
            key = keys.get(pid)
            self._thumbs[pid] = str(thumb_path(self.lib.thumbs_dir, key, LARGE)) if key else None

    def _run(self, jobs: list[tuple[edited_tier.PhotoRef, edited_tier.PhotoRef]]) -> None:
        start = time.monotonic()
        buffer: list[tuple[PairKey, edit_match.PairResult]] = []

        def report(done: int, total: int) -> None:
            if self.progress is not None:
                rate = done / max(time.monotonic() - start, 1e-6)
                eta = (total - done) / rate if rate > 0 else None
                self.progress(Progress("checking edited copies", done, total, rate=rate, eta_s=eta))

        for key, result in edited_tier.check(jobs, progress=report, cancelled=self.cancelled):
            self.decided[key] = result
            buffer.append((key, result))
            if len(buffer) >= _STORE_EVERY:
                store_decisions(self.lib, buffer)
                buffer = []
        if buffer:
            store_decisions(self.lib, buffer)
        self.lib.writer.flush()
