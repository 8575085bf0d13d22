"""Export Tessera's tags, rating and color label to XMP sidecars, on request or as the user edits.

Which tags: the user's own, the applied auto tags and the photo's embedded keywords (source xmp),
plus every keyword the existing sidecar holds that Tessera did not put there. The sidecar records
Tessera's own contribution (tessera:tags), so a later export takes out exactly those of them that are
gone from the catalog (a removed tag, an auto tag under a raised threshold) and nothing else: a
Lightroom keyword that happens to be a classifier word ("flower") survives every export. A tag the
user removes in Tessera (`removed`) leaves the sidecar whoever wrote it.

Rating, pick flag and label: the catalog's value. Where the catalog has no rating or label, the
sidecar's own stays, unless the catalog has read the sidecar as it is now: then the user cleared it
in Tessera, and it goes from the sidecar too. After writing, the catalog remembers the sidecar's new
state, as if it had read it (it holds what the catalog holds).

Place names (photoshop:City/State/Country, Iptc4xmpCore:CountryCode): the ones the places stage
found from GPS, written only where neither the photo (embedded IPTC/XMP) nor its sidecar names a
place already: a name the user or another app set is never replaced, nor mixed with ours.

Faces: the confirmed named faces become the sidecar's MWG face regions (see regions.merge_regions),
for photos whose size is known (an unreadable image keeps the regions its sidecar has).

Per-file problems (read-only folder, a malformed sidecar we refuse to overwrite, a file gone) are
reported, never raised. The photo itself is never opened for writing (see `sidecars`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.analysis.pipeline import Progress
from app.core.catalog.models import CONFIRMED, ERROR, OK, Face, Person, Photo, PhotoTag, Tag
from app.core.catalog.places import named_places, place_of
from app.core.catalog.roots import local_path
from app.core.records import SidecarData, SidecarState
from app.core.xmp.regions import FaceExport, NamedFace
from app.core.xmp.sidecars import SidecarError, find_sidecar, read_sidecar, sidecar_state, write_sidecar

EXPORTABLE = (OK, ERROR)  # an unreadable image can still carry tags; missing or trashed files cannot
_CHUNK = 500


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)  # sidecar paths
    failed: list[tuple[str, str]] = field(default_factory=list)  # (photo path, reason)
    cancelled: bool = False

    def summary(self) -> str:
        text = f"{len(self.written)} sidecar(s) written"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text + (" (cancelled)" if self.cancelled else "")


def _leaf(tag: str) -> str:
    return tag.split("|")[-1].strip().lower()


def merged_tags(
    catalog: Sequence[str], existing: SidecarData, removed: Collection[str] = ()
) -> tuple[list[str], list[str]]:
    """(all tags to write, the ones Tessera contributes). Other apps' tags come first, as the sidecar
    had them (hierarchical paths where it has them), minus `removed`; then the catalog's tags they
    do not already cover. Tags only Tessera had put there and the catalog no longer has drop out."""
    paths = {_leaf(h) for h in existing.hierarchical}
    in_sidecar = existing.hierarchical + [k for k in existing.keywords if _leaf(k) not in paths]
    previous = {_leaf(t) for t in existing.tessera_tags}
    gone = {r.lower() for r in removed}
    foreign = [t for t in in_sidecar if _leaf(t) not in previous and _leaf(t) not in gone]
    have = {_leaf(t) for t in foreign}
    ours: list[str] = []
    for tag in catalog:
        if _leaf(tag) not in have:
            ours.append(tag)
            have.add(_leaf(tag))
    return foreign + ours, ours


def _tags_by_photo(ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {pid: [] for pid in ids}
    rows = (
        PhotoTag.select(PhotoTag.photo, Tag.name)
        .join(Tag)
        .where(PhotoTag.photo.in_(ids))
        .order_by(PhotoTag.photo, Tag.name)
        .tuples()
    )
    for pid, name in rows:
        if name not in out[pid]:  # the same tag from two sources is one keyword
            out[pid].append(name)
    return out


def _named_faces(ids: list[int]) -> dict[int, list[NamedFace]]:
    out: dict[int, list[NamedFace]] = {pid: [] for pid in ids}
    rows = (
        Face.select(Face.photo, Person.name, Face.x, Face.y, Face.w, Face.h)
        .join(Person, on=(Face.person == Person.id))
        .where(Face.photo.in_(ids) & (Face.person_state == CONFIRMED) & Person.name.is_null(False))
        .order_by(Face.photo, Face.x)
        .tuples()
    )
    for pid, name, x, y, w, h in rows:
        out[pid].append(NamedFace(name, (x, y, w, h)))
    return out


def export_photo(
    photo: Photo, tags: list[str], removed: Collection[str] = (), faces: list[NamedFace] | None = None
) -> str:
    """Write one photo's sidecar and return its path. Raises SidecarError or OSError."""
    path = Path(local_path(photo.path))
    if not path.is_file():
        raise FileNotFoundError(f"photo file not found: {path}")
    current = find_sidecar(path)
    existing = read_sidecar(current) if current is not None else SidecarData()
    if existing.error:
        raise SidecarError(f"existing sidecar {current.name} left untouched: {existing.error}")  # type: ignore[union-attr]
    everything, ours = merged_tags(tags, existing, removed)
    known = _catalog_read(photo, sidecar_state(current))
    rating = photo.rating if photo.rating is not None or known else existing.rating
    label = photo.label if photo.label is not None or known else existing.label
    place = None if named_places(photo.id) else place_of(photo.id)
    regions = FaceExport(tuple(faces or ()), (photo.width, photo.height)) if photo.width and photo.height else None
    return str(
        write_sidecar(path, everything, rating, label, ours=ours, picked=bool(photo.picked), place=place, faces=regions)
    )


def _catalog_read(photo: Photo, state: SidecarState | None) -> bool:
    """Whether the catalog's values came from this sidecar as it is now (or were written into it)."""
    return state is not None and (photo.sidecar_path, photo.sidecar_size, photo.sidecar_mtime_ns) == (
        state.path, state.size, state.mtime_ns)  # fmt: skip


def _remember(lib: Any, written: list[tuple[int, str]]) -> None:
    """The sidecars just written hold what the catalog holds: a rescan need not read them again."""
    states = [(pid, sidecar_state(path)) for pid, path in written]

    def op() -> None:
        for pid, state in states:
            if state is not None:
                Photo.update(sidecar_path=state.path, sidecar_size=state.size,
                             sidecar_mtime_ns=state.mtime_ns).where(Photo.id == pid).execute()  # fmt: skip

    if states:
        lib.writer.call(op)


def _reason(exc: Exception) -> str:
    if isinstance(exc, SidecarError):
        return exc.reason
    if isinstance(exc, OSError):
        where = exc.filename or ""
        return f"cannot write sidecar: {exc.strerror or exc}" + (f" ({where})" if where else "")
    return f"{type(exc).__name__}: {exc}"


def export_sidecars(
    lib: Any,
    photo_ids: Sequence[int] | None = None,
    *,
    removed: Collection[str] = (),
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ExportReport:
    """Write sidecars for `photo_ids` (default: every photo whose file is there). `removed` names
    tags the user has just taken off these photos: they leave the sidecar too."""
    report = ExportReport()
    if photo_ids is None:
        query = Photo.select(Photo.id).where(Photo.status.in_(EXPORTABLE)).order_by(Photo.id)
        ids = [pid for (pid,) in query.tuples()]
    else:
        ids = list(dict.fromkeys(photo_ids))
    state = Progress(phase="exporting sidecars", total=len(ids))
    started = time.monotonic()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        photos = {p.id: p for p in Photo.select().where(Photo.id.in_(chunk))}
        tags = _tags_by_photo(chunk)
        faces = _named_faces(chunk)
        written: list[tuple[int, str]] = []
        for pid in chunk:
            if cancelled():
                report.cancelled = True
                break
            photo = photos.get(pid)
            if photo is None:
                report.failed.append((str(pid), "no such photo in the library"))
            elif photo.status not in EXPORTABLE:
                report.failed.append((photo.path, f"photo is {photo.status}"))
            else:
                try:
                    written.append((pid, export_photo(photo, tags[pid], removed, faces[pid])))
                except Exception as exc:  # one bad file never stops the rest
                    report.failed.append((photo.path, _reason(exc)))
            state.done += 1
            state.failed = len(report.failed)
            state.current = photo.path if photo is not None else str(pid)
            elapsed = time.monotonic() - started
            state.rate = state.done / elapsed if elapsed > 0 else 0.0
            state.eta_s = (state.total - state.done) / state.rate if state.rate else None
            if progress is not None:
                progress(state)
        report.written.extend(path for _, path in written)
        _remember(lib, written)
        if report.cancelled:
            break
    return report


def auto_write(lib: Any, photo_ids: Sequence[int], removed: Collection[str] = ()) -> ExportReport | None:
    """After a user edit: update those photos' sidecars when the library asks for it."""
    if not lib.auto_write_sidecars:
        return None
    return export_sidecars(lib, photo_ids, removed=removed)
