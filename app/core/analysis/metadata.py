"""Metadata: EXIF grouped like the reference documents (image / exif / gps / interoperability /
thumbnail / makernote, numbers as numbers), normalized columns for filtering, IPTC/XMP keywords,
title, rating, JPEG quality and density. piexif parses first; where it raises, Pillow's getexif().
Never raises: anything wrong becomes a warning and a missing field."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import piexif
from PIL import Image, IptcImagePlugin

from app.core.analysis.exif_sanity import exif_problem
from app.core.records import EXIF_GROUPS, Metadata
from app.core.xmp import packet as xmp

VERSION = 1
_IFD_GROUP = {"0th": "image", "Exif": "exif", "GPS": "gps", "Interop": "interoperability", "1st": "thumbnail"}
_PIEXIF_IFD = {"0th": "Image", "Exif": "Exif", "GPS": "GPS", "Interop": "Interop", "1st": "Image"}
# piexif names -> the exiftool names the reference documents use
_RENAME = {
    "ISOSpeedRatings": "ISO",
    "DateTimeDigitized": "CreateDate",
    "DateTime": "ModifyDate",
    "ExifTag": "ExifOffset",
    "GPSTag": "GPSInfo",
    "InteroperabilityTag": "InteropOffset",
    "PixelXDimension": "ExifImageWidth",
    "PixelYDimension": "ExifImageHeight",
    "JPEGInterchangeFormat": "ThumbnailOffset",
    "JPEGInterchangeFormatLength": "ThumbnailLength",
    "InteroperabilityIndex": "InteropIndex",
    "InteroperabilityVersion": "InteropVersion",
    "FocalLengthIn35mmFilm": "FocalLengthIn35mmFormat",
}
_MAX_LIST = 64  # longer arrays (tables, curves) say nothing to a person
_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


# -- value conversion ---------------------------------------------------------------------------
def _rational(value: Any) -> float | int | None:
    num, den = value
    if den == 0:
        return None
    q = num / den
    return int(q) if q == int(q) and abs(q) < 1e15 else round(q, 10)


def _is_rational(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)


def _text(raw: bytes) -> str | None:
    """EXIF ASCII/UNDEFINED bytes -> text, or None for binary and empty values."""
    if raw.startswith((b"ASCII\0\0\0", b"UNICODE\0", b"\0" * 8)):
        raw = raw[8:]
    raw = raw.split(b"\0")[0].strip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text if text and text.isprintable() else None


def _value(value: Any) -> Any:
    """EXIF value -> JSON: rationals as numbers, text as str, binary dropped (None)."""
    if isinstance(value, bytes):
        return _text(value) if len(value) <= 1024 else None
    if _is_rational(value):
        return _rational(value)
    if isinstance(value, tuple | list):
        if len(value) > _MAX_LIST:
            return None
        items = [_value(v) for v in value]
        if any(i is None for i in items):
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, int | float | str):
        return value
    return None


def _display(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- reading EXIF -----------------------------------------------------------------------------------
def _exif_blob(data: bytes, image: Image.Image | None) -> bytes | None:
    if data[:2] == b"\xff\xd8" or data[:4] in (b"II*\x00", b"MM\x00*") or data[8:12] == b"WEBP":
        return data
    blob = image.info.get("exif") if image is not None else None
    if isinstance(blob, bytes) and blob:
        return blob if blob.startswith(b"Exif") else b"Exif\x00\x00" + blob
    return None


def _groups_from_piexif(raw: dict[str, Any], md: Metadata) -> dict[tuple[str, str], Any]:
    """Fill md.groups; return (group, name) -> raw value for normalization."""
    raws: dict[tuple[str, str], Any] = {}
    for ifd, group in _IFD_GROUP.items():
        for tag, value in (raw.get(ifd) or {}).items():
            info = piexif.TAGS.get(_PIEXIF_IFD[ifd], {}).get(tag)
            name = _RENAME.get(info["name"], info["name"]) if info else f"Tag0x{tag:04X}"
            if name == "MakerNote":
                continue
            raws[(group, name)] = value
            converted = _value(value)
            if converted is not None:
                md.groups[group][name] = converted
    return raws


def _groups_from_pillow(image: Image.Image, md: Metadata) -> dict[tuple[str, str], Any]:
    from PIL.ExifTags import GPSTAGS, TAGS

    exif = image.getexif()
    raws: dict[tuple[str, str], Any] = {}
    sources = [("image", dict(exif), TAGS)]
    for ifd_id, group, names in ((0x8769, "exif", TAGS), (0x8825, "gps", GPSTAGS), (0xA005, "interoperability", TAGS)):
        try:
            sources.append((group, dict(exif.get_ifd(ifd_id)), names))
        except Exception as exc:
            md.warnings.append(f"{group} IFD unreadable: {exc}")
    for group, tags, names in sources:
        for tag, value in tags.items():
            name = _RENAME.get(names.get(tag, ""), names.get(tag) or f"Tag0x{tag:04X}")
            if name == "MakerNote":
                continue
            if hasattr(value, "numerator") and hasattr(value, "denominator"):
                value = (int(value.numerator), int(value.denominator))
            elif isinstance(value, tuple):
                value = tuple((int(v.numerator), int(v.denominator)) if hasattr(v, "denominator") else v for v in value)
            raws[(group, name)] = value
            converted = _value(value)
            if converted is not None:
                md.groups[group][name] = converted
    return raws


def _read_exif(data: bytes, image: Image.Image | None, md: Metadata) -> list[dict[tuple[str, str], Any]]:
    """Raw tag values, piexif's first, then Pillow's: piexif silently mangles some files (strings
    whose count misses the terminator), so fields it leaves empty are taken from Pillow."""
    sources = []
    blob = _exif_blob(data, image)
    problem = exif_problem(blob) if blob is not None else None
    if problem is not None:
        md.warnings.append(f"EXIF structure is damaged ({problem}); used Pillow")
    elif blob is not None:
        try:
            sources.append(_groups_from_piexif(piexif.load(blob), md))
        except Exception as exc:  # piexif raises all sorts on hostile EXIF
            md.warnings.append(f"piexif could not parse EXIF ({type(exc).__name__}); used Pillow")
            md.groups = {g: {} for g in EXIF_GROUPS}
    if image is not None:
        try:
            pillow = Metadata()
            sources.append(_groups_from_pillow(image, pillow))
            for group in EXIF_GROUPS:
                for name, value in pillow.groups[group].items():
                    md.groups[group].setdefault(name, value)
        except Exception as exc:
            md.warnings.append(f"EXIF unreadable by Pillow: {exc}")
    return sources


# -- normalization ------------------------------------------------------------------------------------
def _clean_str(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = _text(value)
    if not isinstance(value, str):
        return None
    value = value.strip("\0 ").strip()
    return value or None


def _number(value: Any) -> float | None:
    value = _value(value)
    if isinstance(value, list):
        value = value[0] if value else None
    return float(value) if isinstance(value, int | float) and value == value else None


def _date(value: Any) -> str | None:
    text = _clean_str(value)
    m = _DATE.match(text or "")
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    if not (1800 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def _dms(value: Any) -> float | None:
    """Degrees from 3 rationals, or from a string of numbers (some phones store it as text)."""
    if isinstance(value, bytes | str):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        parts = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)][:3]
    elif isinstance(value, tuple) and len(value) == 3 and all(_is_rational(v) for v in value):
        parts = [_rational(v) for v in value]  # type: ignore[misc]
    else:
        return None
    if len(parts) != 3 or any(p is None or p < 0 for p in parts) or parts[1] >= 60 or parts[2] >= 60:
        return None
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _gps(raws: dict[tuple[str, str], Any], md: Metadata) -> None:
    lat, lon = _dms(raws.get(("gps", "GPSLatitude"))), _dms(raws.get(("gps", "GPSLongitude")))
    if lat is None or lon is None or lat > 90 or lon > 180:
        return
    if (_clean_str(raws.get(("gps", "GPSLatitudeRef"))) or "N").upper().startswith("S"):
        lat = -lat
    if (_clean_str(raws.get(("gps", "GPSLongitudeRef"))) or "E").upper().startswith("W"):
        lon = -lon
    md.gps_lat, md.gps_lon = round(lat, 7), round(lon, 7)
    alt = _number(raws.get(("gps", "GPSAltitude")))
    if alt is not None and abs(alt) < 100_000:
        ref = raws.get(("gps", "GPSAltitudeRef"))
        below = ref in (1, b"\x01") or (isinstance(ref, tuple | list) and ref and ref[0] == 1)
        md.gps_alt = -alt if below else alt


def _first_present(raws: dict[tuple[str, str], Any], name: str) -> Any:
    """IFD0's tag wins even when empty (as exiftool does); the Exif IFD only when IFD0 lacks it."""
    return raws[("image", name)] if ("image", name) in raws else raws.get(("exif", name))


def _normalize(raws: dict[tuple[str, str], Any], md: Metadata) -> None:
    def get(key: tuple[str, str]) -> Any:  # TIFF files keep Exif tags in IFD0 itself
        return raws[key] if key in raws else raws.get(("image", key[1]))

    md.make = _clean_str(_first_present(raws, "Make"))
    md.model = _clean_str(_first_present(raws, "Model"))
    lens = _clean_str(get(("exif", "LensModel")))
    lens_make = _clean_str(get(("exif", "LensMake")))
    md.lens = f"{lens_make} {lens}" if lens and lens_make and not lens.startswith(lens_make) else lens
    for key in (("exif", "DateTimeOriginal"), ("exif", "CreateDate")):  # capture time, not edit time
        md.taken_at = _date(get(key))
        if md.taken_at:
            break
    iso = _number(get(("exif", "ISO")))
    md.iso = int(iso) if iso and 0 < iso < 10_000_000 else None
    md.exposure_time = _number(get(("exif", "ExposureTime")))
    md.f_number = _number(get(("exif", "FNumber")))
    md.focal_length = _number(get(("exif", "FocalLength")))
    orientation = _number(get(("image", "Orientation")))
    md.orientation = int(orientation) if orientation in range(1, 9) else 1  # type: ignore[operator]
    rating = _number(get(("image", "Rating")))
    md.rating = int(rating) if rating is not None and -1 <= rating <= 5 else None
    _gps(raws, md)


_NORMALIZED = ("make", "model", "lens", "taken_at", "iso", "exposure_time", "f_number", "focal_length",
               "gps_lat", "gps_lon", "gps_alt", "rating")  # fmt: skip


def _normalize_all(sources: list[dict[tuple[str, str], Any]], md: Metadata) -> None:
    if not sources:
        return
    _normalize(sources[0], md)
    for extra in sources[1:]:
        other = Metadata()
        _normalize(extra, other)
        for name in _NORMALIZED:
            if getattr(md, name) is None:
                setattr(md, name, getattr(other, name))
        if md.orientation == 1:
            md.orientation = other.orientation


# IPTC-IIM place datasets (record 2), by Metadata.place key
_IPTC_PLACE = {"city": 90, "location": 92, "region": 95, "country_code": 100, "country": 101}


def _iptc(image: Image.Image | None, md: Metadata) -> None:
    if image is None or image.format not in ("JPEG", "TIFF", "MPO"):
        return
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except Exception as exc:
        md.warnings.append(f"IPTC unreadable: {exc}")
        return
    words = info.get((2, 25), [])
    words = words if isinstance(words, list) else [words]
    md.keywords.extend(w for w in (_clean_str(x) for x in words) if w)
    if md.title is None:
        md.title = _clean_str(info.get((2, 5)))
    for key, dataset in _IPTC_PLACE.items():
        value = _clean_str(info.get((2, dataset)))
        if value:
            md.place[key] = value


@cache
def _ijg_luma_sums() -> np.ndarray:
    """The sum of the IJG luminance table scaled to each quality 1-100 (index 0 is quality 1)."""
    sums = []
    for q in range(1, 101):
        scale = 5000 / q if q < 50 else 200 - 2 * q
        sums.append(sum(min(255, max(1, (v * scale + 50) // 100)) for v in _IJG_LUMA))
    return np.array(sums)


def _jpeg_quality(image: Image.Image | None) -> int | None:
    """Estimate the IJG quality from the luminance table, like ImageMagick: the quality whose scaled
    standard table is closest to the stored one."""
    tables = getattr(image, "quantization", None) if image is not None else None
    if not tables or 0 not in tables:
        return None
    return int(np.argmin(np.abs(_ijg_luma_sums() - sum(tables[0])))) + 1  # the first (lowest) on a tie


def _density(image: Image.Image | None, md: Metadata) -> float | None:
    dpi = image.info.get("dpi") if image is not None else None
    if isinstance(dpi, tuple) and dpi and isinstance(dpi[0], int | float) and dpi[0] > 0:
        return round(float(dpi[0]), 2)
    x = md.groups["image"].get("XResolution")
    if isinstance(x, int | float) and x > 0:
        unit = md.groups["image"].get("ResolutionUnit", 2)
        return round(float(x) * (2.54 if unit == 3 else 1.0), 2)
    return None


def extract_metadata(data: bytes, image: Image.Image | None, fmt: str) -> Metadata:
    md = Metadata()
    try:
        _normalize_all(_read_exif(data, image, md), md)
        _iptc(image, md)
        packet = xmp.find_packet(data, image)
        if packet:
            try:
                found = xmp.parse(packet)
            except xmp.XmpError as exc:
                md.warnings.append(str(exc))
                found = xmp.XmpFacts()
            md.keywords.extend(found.keywords)
            md.title = md.title or found.title
            md.rating = found.rating if found.rating is not None else md.rating
            md.label = found.label
            md.picked = bool(found.picked)
            md.place = {**md.place, **found.place}  # XMP is the newer of the two (MWG's rule)
            md.face_regions = found.face_regions
        md.keywords = list(dict.fromkeys(md.keywords))
        md.jpeg_quality = _jpeg_quality(image) if fmt in ("JPEG", "MPO") else None
        md.density = _density(image, md)
        md.has_icc = bool(image is not None and image.info.get("icc_profile"))
        md.flat = {name: _display(v) for group in EXIF_GROUPS for name, v in md.groups[group].items()}
    except Exception as exc:  # the contract: metadata problems never fail an import
        md.warnings.append(f"metadata partly unreadable: {type(exc).__name__}: {exc}")
    return md
