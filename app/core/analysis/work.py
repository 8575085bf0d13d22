"""What a worker process does with one photo: read it once, decode it once, run the stages asked for.

Everything here runs in worker processes and returns plain picklable data; nothing touches the
catalog (the single writer stores results) or any widget.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import cache
from pathlib import Path
from typing import Any

from app.core.analysis import colors, face_vectors, hashing, thumbnails
from app.core.analysis.decode import Decoded, DecodeError, decode_image
from app.core.analysis.metadata import extract_metadata
from app.core.analysis.tagging import face_tags
from app.core.ingest.filetypes import SNIFF_BYTES, describe_non_image, sniff_format
from app.core.records import FACE_ENGINE, SIDECAR_FIELDS, TAG_ENGINE, Metadata, Outcome, SidecarData, SidecarState, Task
from app.core.xmp.sidecars import apply_sidecar, find_sidecar, read_sidecar, sidecar_state

MAX_FILE_BYTES = 2 << 30  # 2 GiB: beyond any real photo; refuse before reading it into memory


@cache
def stage_versions() -> dict[str, int]:
    """Algorithm version of every stage: bump one and only that stage re-runs."""
    from app.core.analysis import face_descriptor, faces, metadata, tagging

    return {
        "metadata": metadata.VERSION,
        "thumbnails": thumbnails.VERSION,
        "colors": colors.VERSION,
        "hashes": hashing.VERSION,
        "faces": faces.VERSION,
        "descriptors": face_descriptor.DESCRIPTOR_VERSION,  # people
        "tags": tagging.TAGGER_VERSION,
    }


@cache
def _face_detector() -> Any:
    from app.core.analysis.faces import FaceDetector  # loaded once per worker, only when needed

    return FaceDetector()


def _run_stage(stage: str, decoded: Decoded, out: Outcome, task: Task) -> Any:
    if stage == "thumbnails":
        return thumbnails.write_thumbnails(decoded.image, decoded.alpha, Path(task.thumbs_dir), out.sha256 or "")
    if stage == "colors":
        return colors.analyze_colors(decoded.image, decoded.alpha)
    if stage == "hashes":
        return hashing.compute_hashes(decoded.image)
    if stage == "faces":
        return _face_detector().detect(decoded.image, (decoded.width, decoded.height))
    if stage == "descriptors":  # people: this run's faces (when "faces" ran) and the catalog's others
        detected = [f.as_list() for f in out.results.get("faces", [])]
        return face_vectors.describe_photo(decoded.image, (decoded.width, decoded.height), detected, task.known_faces)
    if stage == "tags":
        from app.core.analysis.efficientnet import Tagger  # the model is built once per worker, when needed

        return Tagger.shared().tag(decoded.image)
    raise ValueError(f"unknown stage {stage!r}")


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


def decode(data: bytes, out: Outcome) -> Decoded | None:
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        out.error = describe_non_image(data[:SNIFF_BYTES])
        return None
    try:
        decoded = decode_image(data, fmt)
    except DecodeError as exc:
        out.error = exc.reason
        return None
    out.decoded = {
        "format": decoded.format,
        "width": decoded.width,
        "height": decoded.height,
        "frames": decoded.frames,
        "has_alpha": decoded.has_alpha,
        "has_icc": decoded.has_icc,
        "orientation": decoded.orientation,
        "truncated": decoded.truncated,
        "warnings": list(decoded.warnings),
    }
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


def process(task: Task) -> Outcome:
    out = Outcome(path=task.path)
    t0 = time.perf_counter()
    data = read_file(task.path, out)
    if data is None:
        return out
    out.sha256 = hashlib.sha256(data).hexdigest()
    t1 = time.perf_counter()
    decoded = decode(data, out)
    t2 = time.perf_counter()
    out.timings_ms.update(read=(t1 - t0) * 1000, decode=(t2 - t1) * 1000)
    if decoded is None:
        return out
    versions = stage_versions()
    if task.read_metadata:
        out.versions["metadata"] = versions["metadata"]
        out.metadata = extract_metadata(data, decoded.source, decoded.format)
        out.own_facts = own_facts(out.metadata)
        out.sidecar, out.sidecar_error = merge_sidecar(task, out.metadata)
        out.timings_ms["metadata"] = (time.perf_counter() - t2) * 1000
    del data
    decoded.source = None  # the full-size pixels: the stages need only the working image
    for stage in task.stages:
        start = time.perf_counter()
        try:
            out.results[stage] = _run_stage(stage, decoded, out, task)
        except Exception as exc:  # one failing stage must not lose the others
            out.stage_errors[stage] = f"{type(exc).__name__}: {exc}"
        out.versions[stage] = versions[stage]
        out.timings_ms[stage] = (time.perf_counter() - start) * 1000
    categorize(out)
    return out


def categorize(out: Outcome) -> None:
    """The categorization engines' matches as the catalog stores them (None: the engine failed)."""
    if "faces" in out.results:
        out.categorizations[FACE_ENGINE] = face_tags(len(out.results["faces"]))
    if "tags" in out.results:
        out.categorizations[TAG_ENGINE] = out.results["tags"].tags
    elif "tags" in out.stage_errors:
        out.categorizations[TAG_ENGINE] = None
