"""The user's tag, rating, flag and colour label edits, and re-applying the auto_tagging threshold.
Writes go through the writer; with the library's auto-write setting on, an edit also updates the
photos' XMP sidecars (the returned ExportReport says how that went; None when the setting is off)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.catalog import changes
from app.core.catalog.models import AUTO, USER, Categorization, Photo, PhotoTag, RejectedTag, Tag
from app.core.catalog.store import apply_auto_tags, tag_id
from app.core.flags import PICK, REJECT, REJECTED, parse_flag, parse_label
from app.core.xmp.export import ExportReport, auto_write


def add_user_tag(lib: Any, photo_ids: list[int], name: str) -> ExportReport | None:
    name = name.strip()
    if not name:
        raise ValueError("a tag needs a name")

    def op() -> None:
        tid = tag_id(name)
        for pid in photo_ids:
            RejectedTag.delete().where((RejectedTag.photo == pid) & (RejectedTag.tag == tid)).execute()
            PhotoTag.insert(photo=pid, tag=tid, source=USER, confidence=None).on_conflict_ignore().execute()
        changes.note(photo_ids, "edit")

    lib.writer.call(op)
    return auto_write(lib, photo_ids)


def remove_tag(lib: Any, photo_ids: list[int], name: str) -> ExportReport | None:
    """Remove a tag as the user sees it: the user's own, and an auto tag, which is then remembered as
    rejected so re-tagging never brings it back. Keywords from sidecars (source xmp) stay: they
    belong to the sidecar and come back on the next import otherwise."""

    def op() -> None:
        tag = Tag.get_or_none(Tag.name == name)
        if tag is None:
            return
        for pid in photo_ids:
            had_auto = (
                PhotoTag.delete()
                .where((PhotoTag.photo == pid) & (PhotoTag.tag == tag.id) & (PhotoTag.source == AUTO))
                .execute()
            )
            PhotoTag.delete().where(
                (PhotoTag.photo == pid) & (PhotoTag.tag == tag.id) & (PhotoTag.source == USER)
            ).execute()
            if had_auto:
                RejectedTag.insert(photo=pid, tag=tag.id).on_conflict_ignore().execute()
        changes.note(photo_ids, "edit")

    lib.writer.call(op)
    return auto_write(lib, photo_ids, removed=[name])


def set_rating(lib: Any, photo_ids: list[int], rating: int | None) -> ExportReport | None:
    """Stars 0-5, -1 for rejected (the same as `set_flag(..., "reject")`), None to clear."""
    if rating == REJECTED:
        return set_flag(lib, photo_ids, REJECT)
    if rating is not None and not 0 <= rating <= 5:
        raise ValueError(f"rating must be between -1 (rejected) and 5, not {rating}")

    def op() -> None:
        Photo.update(rating=rating).where(Photo.id.in_(list(photo_ids))).execute()
        changes.note(photo_ids, "edit")

    lib.writer.call(op)
    return auto_write(lib, photo_ids)


def set_flag(lib: Any, photo_ids: Sequence[int], flag: str) -> ExportReport | None:
    """Pick, reject or unflag photos. A pick or unflag takes back a reject (its stars were already
    gone: a reject replaces the rating, as in Lightroom's XMP); a reject takes back a pick."""
    flag = parse_flag(flag)
    ids = list(photo_ids)

    def op() -> None:
        chosen = Photo.id.in_(ids)
        if flag == REJECT:
            Photo.update(rating=REJECTED, picked=False).where(chosen).execute()
            return
        Photo.update(rating=None).where(chosen & (Photo.rating == REJECTED)).execute()
        Photo.update(picked=flag == PICK).where(chosen).execute()

    lib.writer.call(op)
    return auto_write(lib, ids)


def set_label(lib: Any, photo_ids: Sequence[int], label: str | None) -> ExportReport | None:
    """Give photos a colour label (by name, any case), or take it off (None or "none")."""
    value = None if label is None else parse_label(label)
    ids = list(photo_ids)
    lib.writer.call(lambda: Photo.update(label=value).where(Photo.id.in_(ids)).execute())
    return auto_write(lib, ids)


def retag_library(lib: Any, threshold: float, batch: int = 5000) -> int:
    """Re-apply the threshold to every photo's stored categorizations: no model run needed. Returns
    how many photos were re-tagged."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"auto_tagging threshold must be between 0 and 1, not {threshold}")
    ids = [
        pid
        for (pid,) in Categorization.select(Categorization.photo)
        .where(Categorization.status == "complete")
        .distinct()
        .order_by(Categorization.photo)
        .tuples()
    ]
    for start in range(0, len(ids), batch):  # one transaction a batch: the GUI's reads stay quick
        lib.writer.submit(lambda c=ids[start : start + batch]: apply_auto_tags(c, threshold))
    lib.writer.flush()
    return len(ids)
