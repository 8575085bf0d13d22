"""What a worker process does with one photo: read it once, decode it once, run the stages asked for.

An import reads the file's bytes (for the SHA-256), its headers and its metadata: no pixel is
decoded for that. The stages of the task then share one decode at the largest size any of them needs
(see stages.REGISTRY), reduced while decoding where the format allows it.

Everything here runs in worker processes and returns plain picklable data; nothing touches the
catalog (the single writer stores results) or any widget.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from app.core.analysis.decode import DRAFT_FLOOR, Decoded, DecodeError, Header, decode_larger, decode_reduced, probe
from app.core.analysis.metadata import extract_metadata
from app.core.analysis.stages import (
    SLOW,
    Inputs,
    Stage,
    detail_needed,
    in_order,
    size_needed,
    stage_versions,
    view_factor,
)
from app.core.analysis.tagging import face_tags
from app.core.ingest.filetypes import SNIFF_BYTES, describe_non_image, sniff_format
from app.core.records import FACE_ENGINE, SIDECAR_FIELDS, TAG_ENGINE, Metadata, Outcome, SidecarData, SidecarState, Task
from app.core.xmp.sidecars import apply_sidecar, find_sidecar, read_sidecar, sidecar_state

MAX_FILE_BYTES = 2 << 30  # 2 GiB: beyond any real photo; refuse before reading it into memory
# A photo whose decode produced at most this many pixels (a 12 MP JPEG at 1/4 scale: 0.75 MP, ~7 ms)
# is decoded again for its slow stages, so every photo's quick stages come first. A larger decode
# (a 15 MP PNG: ~200 ms, a progressive JPEG) is not repeated: its slow stages run at once.
REDECODE_MAX_PIXELS = 3_000_000


def read_file(path: str, out: Outcome) -> bytes | None:
    try:
        st = os.stat(path)
        out.size, out.mtime_ns = st.st_size, st.st_mtime_ns
        if st.st_size > MAX_FILE_BYTES:
            out.error = f"file too large to be a photo ({st.st_size / 2**30:.1f} GiB)"
            return None
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        out.error = f"cannot read the file: {exc.strerror or exc}"
        return None


def _container(data: bytes, out: Outcome) -> str | None:
    """The container by content; a file that is no image we read sets out.error."""
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        out.error = describe_non_image(data[:SNIFF_BYTES])
    return fmt


def read_header(data: bytes, out: Outcome) -> Header | None:
    """The file's headers (no pixels); an unreadable file sets out.error."""
    fmt = _container(data, out)
    if fmt is None:
        return None
    try:
        header = probe(data, fmt)
    except DecodeError as exc:
        out.error = exc.reason
        return None
    out.decoded.update(
        format=header.format,
        width=header.width,
        height=header.height,
        frames=header.frames,
        has_alpha=header.has_alpha,
        has_icc=header.has_icc,
        orientation=header.orientation,
    )
    return header


def decode_pixels(data: bytes, need: int, out: Outcome, detail: int = 0) -> Decoded | None:
    """The stages' image. Headers that read fine in front of pixel data that does not (a JPEG cut
    after its headers, a crafted TIFF tile) are found out only here: the photo then becomes an error
    row with the decoder's reason, at import when it analyzes, or at `analyze` after an import with
    --no-analyze (the metadata read at import stays). Either way it is reported with the run's failures."""
    fmt = _container(data, out)
    if fmt is None:
        return None
    try:
        decoded = decode_reduced(data, fmt, need, detail)
    except DecodeError as exc:
        out.error = exc.reason
        return None
    if not detail:  # the pixels it loaded (full-size for a PNG) and the file: kept to make the detail from
        decoded.source = None
    out.decoded.update(truncated=decoded.truncated, warnings=list(decoded.warnings))
    if decoded.has_alpha:  # a fully opaque alpha channel counts only when the headers say so
        out.decoded["has_alpha"] = True
    return decoded


def own_facts(md: Metadata) -> dict[str, Any]:
    """The fields a sidecar overrides, as the photo file itself has them: kept in the catalog so a
    rescan can merge a changed sidecar again without reading the photo."""
    return {name: getattr(md, name) for name in SIDECAR_FIELDS}


def load_sidecar(state: SidecarState | None) -> tuple[SidecarData | None, str | None]:
    """The sidecar's contents, or None and why it was ignored (None, None: there is no sidecar)."""
    if state is None:
        return None, None
    data = read_sidecar(Path(state.path))
    if data.error is not None:
        return None, f"{Path(state.path).name} ignored: {data.error}"
    return data, None


def merge_sidecar(task: Task, md: Metadata) -> tuple[SidecarState | None, str | None]:
    """Merge the sidecar beside the photo into `md` (see `apply_sidecar`); returns the sidecar's
    state, stat'ed before reading so a later edit is never mistaken for the one read, and the reason
    an unreadable sidecar was ignored."""
    state = task.sidecar if task.sidecar_scanned else sidecar_state(find_sidecar(Path(task.path)))
    data, problem = load_sidecar(state)
    if data is not None:
        apply_sidecar(data, md)
    return state, problem


def _sha256(task: Task, data: bytes, out: Outcome) -> str:
    """The file's SHA-256; an analysis task whose file kept the catalog's size and modification time
    takes the catalog's (as a rescan trusts them), saving ~5 ms a 12 MP photo."""
    known = task.known
    if known is not None and (known.size, known.mtime_ns) == (out.size, out.mtime_ns):
        return known.sha256
    return hashlib.sha256(data).hexdigest()


def _register(task: Task, data: bytes, out: Outcome) -> Header | None:
    """Headers and metadata, for an import (or an analysis that found the file changed)."""
    start = time.process_time()
    header = read_header(data, out)
    if header is None:
        return None
    out.versions["metadata"] = stage_versions()["metadata"]
    out.metadata = extract_metadata(data, header.source, header.format)
    out.own_facts = own_facts(out.metadata)
    out.sidecar, out.sidecar_error = merge_sidecar(task, out.metadata)
    out.timings_ms["metadata"] = (time.process_time() - start) * 1000
    return header


def process(task: Task) -> Outcome:
    out = Outcome(path=task.path, imported=task.read_metadata)
    t0 = time.process_time()
    data = read_file(task.path, out)
    if data is None:
        return out
    out.sha256 = _sha256(task, data, out)
    out.timings_ms["read"] = (time.process_time() - t0) * 1000
    # a file changed since it was imported is imported again, so that its row matches its pixels
    out.imported = out.imported or (task.known is not None and out.sha256 != task.known.sha256)
    if out.imported and _register(task, data, out) is None:
        return out
    stages = in_order(task.stages)
    pixels = None
    if any(s.size > 0 for s in stages):
        t1 = time.process_time()
        needing = [s for s in stages if s.size > 0]
        decoded = decode_pixels(data, size_needed(needing), out, detail_needed(needing))
        out.timings_ms["decode"] = (time.process_time() - t1) * 1000
        if decoded is None:
            return out
        pixels = Pixels(decoded, data)
    quick = [s for s in stages if s.tier != SLOW]
    if pixels is not None and task.defer_slow and quick and pixels.decoded.decoded_pixels <= REDECODE_MAX_PIXELS:
        out.deferred = tuple(s.name for s in stages if s.tier == SLOW)
        stages = quick
    run_stages(stages, pixels, out, Path(task.thumbs_dir), task.known_faces)
    categorize(out)
    return out


class Pixels:
    """A photo's one decode and what the stages take from it: whole-factor views at their sizes (see
    view_factor), each made once, and, for the stages that ask, the photo at a larger size: a view
    too where the decode is large enough, else made from the pixels the decoder loaded or decoded
    again from the file (see decode_larger)."""

    def __init__(self, decoded: Decoded, data: bytes) -> None:
        self.decoded = decoded
        self._data = data
        self._views: dict[int, tuple[Image.Image, Image.Image | None]] = {}
        self._larger: dict[int, Image.Image] = {}

    def view(self, size: int) -> tuple[Image.Image, Image.Image | None]:
        """The decoded image (and alpha) reduced for a stage that works at `size`."""
        factor = view_factor(max(self.decoded.image.size), size)
        if factor not in self._views:
            image, alpha = self.decoded.image, self.decoded.alpha
            reduced = (image, alpha) if factor == 1 else (image.reduce(factor), alpha and alpha.reduce(factor))
            self._views[factor] = reduced
        return self._views[factor]

    def larger(self, size: int) -> Image.Image:
        """The photo with a long side of at least DRAFT_FLOOR x `size` (or all of it). Raises DecodeError."""
        decoded = self.decoded
        long_side = max(decoded.image.size)
        if long_side >= size * DRAFT_FLOOR or long_side >= max(decoded.width, decoded.height):
            return self.view(size)[0]
        if size not in self._larger:
            self._larger[size] = decode_larger(decoded, self._data, size)
        return self._larger[size]


def run_stages(
    stages: list[Stage],
    pixels: Pixels | None,
    out: Outcome,
    thumbs_dir: Path,
    known_faces: list[tuple[int, tuple[int, int, int, int]]] | None = None,
) -> None:
    """Run `stages` in order on the one decoded image, each on a whole-factor reduction of it to about
    the stage's size (a stage never pays for a larger decode another stage needed); one failing
    stage must not lose the others."""
    inputs = Inputs(
        image=None,
        alpha=None,
        detail=_no_pixels,
        full_size=(out.decoded.get("width") or 0, out.decoded.get("height") or 0),
        sha256=out.sha256 or "",
        thumbs_dir=thumbs_dir,
        results=out.results,
        known_faces=known_faces or [],
    )
    if pixels is not None:
        inputs.full_size = (pixels.decoded.width, pixels.decoded.height)
    versions = stage_versions()
    for stage in stages:
        start = time.process_time()
        if pixels is not None and stage.size:
            inputs.image, inputs.alpha = pixels.view(stage.size)
            inputs.detail = partial(pixels.larger, stage.detail or stage.size)
        try:
            out.results[stage.name] = stage.run(inputs)
        except Exception as exc:
            out.stage_errors[stage.name] = f"{type(exc).__name__}: {exc}"
        out.versions[stage.name] = versions[stage.name]
        out.timings_ms[stage.name] = (time.process_time() - start) * 1000


def _no_pixels() -> Image.Image:
    raise ValueError("this stage was given no pixels")


def categorize(out: Outcome) -> None:
    """The categorization engines' matches as the catalog stores them (None: the engine failed)."""
    if "faces" in out.results:
        out.categorizations[FACE_ENGINE] = face_tags(len(out.results["faces"]))
    if "tags" in out.results:
        out.categorizations[TAG_ENGINE] = out.results["tags"].tags
    elif "tags" in out.stage_errors:
        out.categorizations[TAG_ENGINE] = None
