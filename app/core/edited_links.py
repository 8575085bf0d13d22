"""The edited tier's verified pairs as the clustering reads them: the similarity transform between two
photos (from app/core/edit_match.py), turned toward a keeper: scale, rotation, and where the other
photo's frame lies in the keeper's pixels; and which photo is a crop of which. Pure: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

# A frame that shows less than this share of the other's is cropped (a 5 % border cut leaves 0.90;
# alignment error on a plain resize stays above 0.99).
CROP_COVER = 0.97


@dataclass(frozen=True)
class EditLink:
    """Photo `b` is an edited copy of photo `a`: b's oriented pixels are `matrix` (2x3, row-major, a
    similarity) applied to a's."""

    a: int
    b: int
    inliers: int
    matrix: tuple[float, ...]
    edits: tuple[str, ...] = ()

    def toward(self, keeper: int) -> np.ndarray:
        """2x3 mapping the keeper's pixels to the other photo's."""
        m = np.asarray(self.matrix, dtype=np.float64).reshape(2, 3)
        return m if keeper == self.a else inverted(m)


def inverted(m: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(m[:, :2])
    return np.hstack((linear, -linear @ m[:, 2:]))


@dataclass(frozen=True)
class Transform:
    """Where a member lies on its keeper. `crop`: the member's frame in the keeper's pixels (x, y, w,
    h; its bounding box, clipped to the keeper); `scale`: member pixels per keeper pixel;
    `rotation`: degrees; `keeper_cover`: share of the keeper's frame the member shows;
    `member_cover`: share of the member's frame that lies inside the keeper."""

    scale: float
    rotation: float
    crop: tuple[int, int, int, int]
    inliers: int
    edits: tuple[str, ...]
    keeper_cover: float
    member_cover: float

    @property
    def is_crop(self) -> bool:
        """The member shows part of the keeper and nothing else."""
        return self.keeper_cover < CROP_COVER <= self.member_cover

    def as_json(self) -> dict[str, Any]:
        return {"scale": self.scale, "rotation": self.rotation, "crop": list(self.crop)}


def transform(link: EditLink, keeper: int, keeper_size: tuple[int, int], member_size: tuple[int, int]) -> Transform:
    m = link.toward(keeper)  # keeper pixels -> member pixels
    back = inverted(m)
    w, h = member_size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    in_keeper = corners @ back[:, :2].T + back[:, 2]
    lo, hi = in_keeper.min(axis=0), in_keeper.max(axis=0)
    box_area = float(np.prod(hi - lo))
    kw, kh = keeper_size
    x0, y0 = max(0.0, lo[0]), max(0.0, lo[1])
    x1, y1 = min(float(kw), hi[0]), min(float(kh), hi[1])
    shown = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    crop = (round(x0), round(y0), max(0, round(x1 - x0)), max(0, round(y1 - y0)))
    return Transform(
        scale=round(math.sqrt(abs(np.linalg.det(m[:, :2]))), 4),
        rotation=round(math.degrees(math.atan2(m[1, 0], m[0, 0])), 1) + 0.0,  # + 0.0: no -0.0
        crop=crop,
        inliers=link.inliers,
        edits=link.edits,
        keeper_cover=round(shown / max(1.0, kw * kh), 4),
        member_cover=round(shown / max(1.0, box_area), 4),
    )


Check = Callable[[list[tuple[int, int]]], Iterable[EditLink]]


class EditedLinks:
    """The verified pairs by photo ids, and `check` for pairs that were no candidates (a keeper and
    a member that joined its cluster through another photo): each pair is asked at most once."""

    def __init__(self, links: Iterable[EditLink], check: Check | None = None) -> None:
        self._links: dict[tuple[int, int], EditLink] = {}
        self._adjacent: dict[int, set[int]] = {}
        for link in links:
            self._add(link)
        self._asked = set(self._links)
        self._check = check

    def _add(self, link: EditLink) -> None:
        self._links[_key(link.a, link.b)] = link
        self._adjacent.setdefault(link.a, set()).add(link.b)
        self._adjacent.setdefault(link.b, set()).add(link.a)

    def neighbours(self, pid: int) -> set[int]:
        return self._adjacent.get(pid, set())

    def __len__(self) -> int:
        return len(self._links)

    def pairs(self) -> list[tuple[int, int]]:
        return list(self._links)

    def get(self, a: int, b: int) -> EditLink | None:
        return self._links.get(_key(a, b))

    def ensure(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Check the pairs never asked before (all at once: the checker runs them in parallel)."""
        new = sorted({_key(a, b) for a, b in pairs if a != b} - self._asked)
        if not new or self._check is None:
            return
        self._asked.update(new)
        for link in self._check(new):
            self._add(link)


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)
