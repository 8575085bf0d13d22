"""Pick flags and colour labels, as Lightroom has them beside the star rating.

A reject is the rating -1, as X has always stored it and as Lightroom writes it to XMP (xmp:Rating
-1); a pick is `Photo.picked`. A photo is picked, rejected or neither, never both. Colour labels are
stored under their XMP names (xmp:Label): Red, Yellow, Green, Blue, Purple. The edits are in tags.py."""

from __future__ import annotations

from peewee import Expression

from app.core.catalog.models import Photo

REJECTED = -1  # the rating that means rejected
PICK, REJECT, UNFLAGGED = "pick", "reject", "none"
FLAGS = (PICK, REJECT, UNFLAGGED)
LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")
NO_LABEL = "none"


def flag_of(rating: int | None, picked: bool) -> str:
    if rating == REJECTED:
        return REJECT
    return PICK if picked else UNFLAGGED


def parse_flag(word: str) -> str:
    """pick | reject | none, as the CLI and filters take them (also P, X, U and a few synonyms)."""
    value = {"p": PICK, "picked": PICK, "x": REJECT, "rejected": REJECT, "u": UNFLAGGED, "unflagged": UNFLAGGED,
             "clear": UNFLAGGED}.get(word.strip().lower(), word.strip().lower())  # fmt: skip
    if value not in FLAGS:
        raise ValueError(f"a flag is pick, reject or none, not {word!r}")
    return value


def parse_label(word: str) -> str | None:
    """A colour label by name in any case ("green" -> "Green"); "none" is no label (None)."""
    value = word.strip().capitalize()
    if value.lower() == NO_LABEL:
        return None
    if value not in LABELS:
        raise ValueError(f"a colour label is one of {', '.join(x.lower() for x in LABELS)} or none, not {word!r}")
    return value


def flag_condition(flag: str) -> Expression:
    """SQL for photos with this flag."""
    if flag == REJECT:
        return Photo.rating == REJECTED
    if flag == PICK:
        return Photo.picked == True  # noqa: E712 - peewee builds SQL from ==
    return (Photo.picked == False) & ((Photo.rating != REJECTED) | Photo.rating.is_null())  # noqa: E712


def label_condition(label: str) -> Expression:
    """SQL for photos with this label ("none": without one)."""
    if label.lower() == NO_LABEL:
        return Photo.label.is_null()
    return Photo.label == parse_label(label)
