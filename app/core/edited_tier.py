"""The edited tier: copies that were cropped, watermarked or heavily colour-edited, which a hash of
the whole frame cannot see. Two steps, neither a loop over all pairs:

1. Candidates: each photo's TOP nearest neighbours by the classifier features that Find Similar
   uses (cosine >= FLOOR; app/core/feature_neighbours.py), minus frames of a burst (same camera,
   another capture time: dupes.is_burst).
2. Checks, only on candidates: keypoints matched on the cached 1024 px thumbnails and one similarity
   transform fitted (app/core/edit_match.py), in PROCESSES worker processes. The caller caches every
   decision by the SHA-256 of both files, so a pair is checked once until one of them changes.

FLOOR and TOP, measured on ../shared/corpus/dupes (bench/dupes_eval.py): every crop, crop16x9 and
watermark copy is >= 0.86 from its original (colour edits >= 0.67, rotations >= 0.50, "heavy" copies
down to 0.15: the similar tier finds those, 8 orientations and gray-proof pHash), and the partner of
every crop or watermark copy is among its 2 nearest. Unrelated pairs reach 0.72 (two wallpapers),
flat pictures and dark/light twins 0.95: those are what the geometric and photometric checks turn
away (0 false matches over all 10,878 pairs of the corpus). 0.7 keeps a margin under the crops
(a crop that is also colour-graded moves further) while keeping the checks to a few per photo.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.core import edit_match
from app.core.analysis.thumbnails import LARGE
from app.core.dupes import PhotoFacts, is_burst
from app.core.edited_candidates import neighbour_pairs_cached
from app.core.feature_neighbours import neighbour_pairs

FLOOR = 0.7
TOP = 8
PROCESSES = 2
IN_PROCESS_BELOW = 16  # fewer pairs are checked here: a worker process takes ~1 s to start
CHUNK = 24  # pairs per task; a task's pairs share photos (sorted), decoded once per worker
_PICTURES = 256  # per worker: decoded pictures kept (~70 KB each)


@dataclass(frozen=True)
class PhotoRef:
    """One side of a check: where its 1024 px thumbnail is and the photo's oriented size."""

    sha256: str
    thumbnail: str
    size: tuple[int, int]


def candidates(
    ids: np.ndarray, vectors: np.ndarray, facts: Mapping[int, PhotoFacts], cache: Path | None = None
) -> list[tuple[int, int]]:
    """Photo id pairs worth a geometric check, best first. With `cache` (a file in the library
    folder), the search of the last run is reused for the photos that did not change."""
    if cache is not None:
        pairs = neighbour_pairs_cached(cache, ids, vectors, top=TOP, floor=FLOOR)
    else:
        rows, _ = neighbour_pairs(vectors, top=TOP, floor=FLOOR)
        pairs = [(int(ids[i]), int(ids[j])) for i, j in rows.tolist()]
    return [(a, b) for a, b in pairs if a in facts and b in facts and not is_burst(facts[a], facts[b])]


def check(
    jobs: Sequence[tuple[PhotoRef, PhotoRef]],
    *,
    processes: int = PROCESSES,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[edit_match.PairKey, edit_match.PairResult]]:
    """Each pair's decision as it comes (a pair whose thumbnail cannot be read yields nothing).
    Pairs go to the workers sorted, so the pairs of one photo mostly meet in one worker."""
    ordered = sorted(jobs, key=lambda job: (job[0].sha256, job[1].sha256))
    chunks = [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]
    done = 0
    if len(ordered) < IN_PROCESS_BELOW or processes <= 1:
        for chunk in chunks:
            if cancelled():
                return
            results = check_chunk(chunk)
            done += len(chunk)
            if progress:
                progress(done, len(ordered))
            yield from results
        return
    with ProcessPoolExecutor(processes, mp_context=mp.get_context("spawn"), initializer=_quiet_worker) as pool:
        queue = iter(chunks)
        pending: dict[Future[list[tuple[edit_match.PairKey, edit_match.PairResult]]], int] = {}

        def top_up() -> None:  # a few tasks ahead per worker, so that cancelling stops soon
            for chunk in itertools.islice(queue, 3 * processes - len(pending)):
                pending[pool.submit(check_chunk, chunk)] = len(chunk)

        top_up()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done += pending.pop(future)
                yield from future.result()
            if progress:
                progress(done, len(ordered))
            if cancelled():
                pool.shutdown(wait=True, cancel_futures=True)
                return
            top_up()


def _quiet_worker() -> None:
    cv2.setNumThreads(1)  # one core per worker process: the pool is the parallelism


_pictures: OrderedDict[str, edit_match.Picture | None] = OrderedDict()


def _picture(ref: PhotoRef) -> edit_match.Picture | None:
    """The decoded picture of a thumbnail, kept in a small LRU (the worker's pairs are sorted)."""
    if ref.thumbnail in _pictures:
        _pictures.move_to_end(ref.thumbnail)
        return _pictures[ref.thumbnail]
    # a 1024 px thumbnail decodes straight at half size (JPEG DCT scaling): the work size
    half = min(LARGE, max(ref.size)) >= 2 * edit_match.WORK_SIZE
    flags = (cv2.IMREAD_REDUCED_COLOR_2 if half else cv2.IMREAD_COLOR) | cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imread(ref.thumbnail, flags) if Path(ref.thumbnail).is_file() else None
    picture = edit_match.picture(image, ref.size) if image is not None and image.size else None
    _pictures[ref.thumbnail] = picture
    if len(_pictures) > _PICTURES:
        _pictures.popitem(last=False)
    return picture


def check_chunk(jobs: Sequence[tuple[PhotoRef, PhotoRef]]) -> list[tuple[edit_match.PairKey, edit_match.PairResult]]:
    results = []
    for a, b in jobs:
        pa, pb = _picture(a), _picture(b)
        if pa is not None and pb is not None:
            results.append(((a.sha256, b.sha256), edit_match.compare(pa, pb)))
    return results
