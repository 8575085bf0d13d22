"""The analysis stages: what each one needs from a photo and how it runs.

A worker decodes a photo once, at the largest size its stages ask for (the cheapest decode that
gives it: see decode.decode_reduced), and runs the stages in this order on that one image; a stage
that needs more pixels on some photos only (the faces' zoom passes) asks for its detail size then
(Inputs.detail: from the pixels already loaded where they suffice, see decode.decode_larger). Quick
stages make the grid, colour filters and duplicates usable; slow ones (faces, tags) follow, at a
lower priority (see pipeline.Schedule). A stage that needs no pixels (size 0) runs without a decode.

Adding a stage: an entry in REGISTRY (after the stages whose results it reads), its name in
records.STAGES, and its storage in catalog.store.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.analysis.decode import DRAFT_FLOOR

if TYPE_CHECKING:
    from PIL import Image

QUICK, SLOW = "quick", "slow"
TIER_NAMES = {QUICK: "Quick analysis", SLOW: "Faces & tags"}  # as the GUI and the CLI progress say them


@dataclass
class Inputs:
    """What a stage works from: one photo's decoded image and what is known of the photo."""

    image: Image.Image | None  # RGB, oriented, sRGB, long side >= the stage's size (or the whole photo)
    alpha: Image.Image | None  # "L" mask at the same size, when the photo has transparency
    # the photo at the stage's detail size (RGB, oriented, sRGB), made when first asked for: a view of
    # the decode when that is large enough, else a second, larger decode of the file
    detail: Callable[[], Image.Image]
    full_size: tuple[int, int]  # the photo as displayed, in pixels
    sha256: str
    thumbs_dir: Path
    results: dict[str, Any]  # what the stages before it found in this photo (descriptors read the faces)
    known_faces: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)  # Task.known_faces


@dataclass(frozen=True)
class Stage:
    name: str
    versioned_by: str  # "module:ATTRIBUTE" of the algorithm version: resolved when asked (faces imports ONNX)
    size: int  # long side, in pixels, of the image the stage works from; 0: it needs no pixels
    tier: str  # QUICK or SLOW
    run: Callable[[Inputs], Any]
    detail: int = 0  # long side of the larger image it asks for on some photos only (Inputs.detail)

    @property
    def quick(self) -> bool:
        return self.tier == QUICK


# The stages import their modules when they first run: the main process (planning, the schedule, the
# GUI) reads this registry without loading OpenCV, SciPy or ONNX.
def _thumbnails(x: Inputs) -> Any:
    from app.core.analysis import thumbnails

    return thumbnails.write_thumbnails(x.image, x.alpha, x.thumbs_dir, x.sha256)


def _colors(x: Inputs) -> Any:
    from app.core.analysis import colors

    return colors.analyze_colors(x.image, x.alpha)


def _hashes(x: Inputs) -> Any:
    from app.core.analysis import hashing

    return hashing.compute_hashes(x.image)


@cache
def _face_detector() -> Any:
    from app.core.analysis.faces import FaceDetector  # loaded once per worker, only when needed

    return FaceDetector()


def _faces(x: Inputs) -> Any:
    return _face_detector().detect(x.image, x.full_size, x.detail)


def _descriptors(x: Inputs) -> Any:
    """People: a descriptor for this run's faces (when "faces" ran) and the catalog's other faces,
    from the detail image (the overview is enough to say there are none)."""
    from app.core.analysis import face_vectors

    detected = [f.as_list() for f in x.results.get("faces", [])]
    image = x.detail() if detected or x.known_faces else x.image
    return face_vectors.describe_photo(image, x.full_size, detected, x.known_faces)


def _tags(x: Inputs) -> Any:
    from app.core.analysis.efficientnet import Tagger  # the model is built once per worker, when needed

    return Tagger.shared().tag(x.image)


# Sizes: thumbnails are written at up to 1024 px (thumbnails.LARGE); colours sample 128 px
# (colors.SAMPLE_SIDE) from twice that; the pHash stays bit-identical to imagehash on the full photo
# from 512 px on (corpus/exif: 0 of 55 differ), but not from every view of a larger decode (a HEIC
# at 500 px: 2 bits), so it takes the thumbnails' 1024 (see tests/core/test_hashing.py);
# faces look at 1024 px and cut their zoom passes from a 2048 px detail image (faces.DETAIL_SIDE;
# cut from the 1024 px image they found 46/52 faces instead of 48/52, bench/faces_eval.py), which
# is decoded only for the photos with a zoom pass to run (a 12 MP JPEG: a second decode at 1/2 scale,
# ~16 ms, on ~1 photo in 8 of bench/analyze_bench.py's); descriptors describe faces on the same
# detail image, so a photo with faces pays that decode once; tags were measured on the reduced
# decode: at 1024 px the same top tag on 255 of 255 corpus photos as at 2048 (largest probability
# change 0.016); at 384 px the top tag changed on 11 photos.
REGISTRY: tuple[Stage, ...] = (
    Stage("thumbnails", "app.core.analysis.thumbnails:VERSION", 1024, QUICK, _thumbnails),
    Stage("colors", "app.core.analysis.colors:VERSION", 256, QUICK, _colors),
    Stage("hashes", "app.core.analysis.hashing:VERSION", 1024, QUICK, _hashes),
    Stage("faces", "app.core.analysis.faces:VERSION", 1024, SLOW, _faces, detail=2048),
    Stage("descriptors", "app.core.analysis.face_descriptor:DESCRIPTOR_VERSION", 1024, SLOW, _descriptors,
          detail=2048),
    Stage("tags", "app.core.analysis.tagging:TAGGER_VERSION", 1024, SLOW, _tags),
)  # fmt: skip
BY_NAME: dict[str, Stage] = {s.name: s for s in REGISTRY}  # the same names as records.STAGES, in its order


@cache
def stage_versions() -> dict[str, int]:
    """Algorithm version of every stage: bump one and only that stage re-runs."""
    versions = {"metadata": _resolve("app.core.analysis.metadata:VERSION")}
    versions.update((s.name, _resolve(s.versioned_by)) for s in REGISTRY)
    return versions


def _resolve(reference: str) -> int:
    """A module's integer constant, read from its source without importing it where it is not
    loaded yet: the faces module pulls in ONNX (1-2 s), which the catalog's planning and the GUI
    have no use for."""
    module, attribute = reference.split(":")
    if module not in sys.modules:
        spec = importlib.util.find_spec(module)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        # a frozen build names a .py origin for modules in its archive but has no such file: import it
        if origin is not None and origin.suffix == ".py" and origin.is_file():
            for node in ast.parse(origin.read_text(encoding="utf-8")).body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == attribute for t in targets):
                    return int(ast.literal_eval(node.value))
    return int(getattr(importlib.import_module(module), attribute))


def view_factor(long_side: int, size: int) -> int:
    """The whole factor by which a stage that works at `size` reduces a decode of `long_side`, down to
    DRAFT_FLOOR of its size as a JPEG decode goes: a 2000 px decode (a detail image) gives the
    thumbnails, hashes and tags 1000 px, as the quick stages' own decode of a 12 MP JPEG does."""
    return max(1, int(long_side / (size * DRAFT_FLOOR)))


def in_order(names: tuple[str, ...] | list[str]) -> list[Stage]:
    return [s for s in REGISTRY if s.name in names]


def tiers(names: tuple[str, ...] | list[str]) -> set[str]:
    return {s.tier for s in in_order(names)}


def size_needed(stages: list[Stage]) -> int:
    return max((s.size for s in stages), default=0)


def detail_needed(stages: list[Stage]) -> int:
    return max((s.detail for s in stages), default=0)
