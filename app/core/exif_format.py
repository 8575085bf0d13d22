"""EXIF values as a photographer reads them: 1/250 s, f/2.8, 35 mm, ISO 400, "Flash did not fire"."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

_FLASH = {
    0: "No flash",
    1: "Fired",
    5: "Fired, return not detected",
    7: "Fired, return detected",
    9: "Fired, compulsory",
    16: "Off, did not fire",
    24: "Auto, did not fire",
    25: "Auto, fired",
    32: "No flash function",
    65: "Fired, red-eye reduction",
    89: "Auto, fired, red-eye reduction",
}
_ENUMS: dict[str, dict[int, str]] = {
    "Orientation": {
        1: "Normal",
        2: "Mirrored",
        3: "Rotated 180°",
        4: "Mirrored vertically",
        5: "Mirrored, rotated 90° CCW",
        6: "Rotated 90° CW",
        7: "Mirrored, rotated 90° CW",
        8: "Rotated 90° CCW",
    },
    "MeteringMode": {
        0: "Unknown",
        1: "Average",
        2: "Center-weighted",
        3: "Spot",
        4: "Multi-spot",
        5: "Matrix",
        6: "Partial",
    },
    "ExposureProgram": {
        0: "Not defined",
        1: "Manual",
        2: "Program",
        3: "Aperture priority",
        4: "Shutter priority",
        5: "Creative",
        6: "Action",
        7: "Portrait",
        8: "Landscape",
    },
    "ExposureMode": {0: "Auto", 1: "Manual", 2: "Auto bracket"},
    "WhiteBalance": {0: "Auto", 1: "Manual"},
    "SceneCaptureType": {0: "Standard", 1: "Landscape", 2: "Portrait", 3: "Night"},
    "ColorSpace": {1: "sRGB", 2: "Adobe RGB", 65535: "Uncalibrated"},
    "ResolutionUnit": {1: "none", 2: "inch", 3: "cm"},
    "FocalPlaneResolutionUnit": {1: "none", 2: "inch", 3: "cm"},
    "SensingMethod": {1: "Not defined", 2: "One-chip color area", 3: "Two-chip", 7: "Trilinear", 8: "Color sequential"},
    "CustomRendered": {0: "Normal", 1: "Custom"},
    "YCbCrPositioning": {1: "Centered", 2: "Co-sited"},
    "Compression": {1: "Uncompressed", 6: "JPEG", 7: "JPEG", 8: "Deflate", 34892: "Lossy JPEG"},
    "Flash": _FLASH,
}
_DATE_KEYS = {"DateTime", "ModifyDate", "DateTimeOriginal", "CreateDate", "DateTimeDigitized", "GPSDateStamp"}
MAX_TEXT = 120


def exposure(seconds: float) -> str:
    if seconds <= 0:
        return f"{seconds} s"
    if seconds >= 1:
        return f"{seconds:g} s"
    denominator = round(1 / seconds)
    return (
        f"1/{denominator} s"
        if abs(1 / denominator - seconds) / seconds < 0.05
        else f"{Fraction(seconds).limit_denominator(8000)} s"
    )


def f_number(value: float) -> str:
    return f"f/{value:.1f}".replace(".0", "") if value else "-"


def focal_length(mm: float) -> str:
    return f"{mm:.0f} mm" if mm >= 10 else f"{mm:.1f} mm"


def bias(ev: float) -> str:
    return "0 EV" if ev == 0 else f"{ev:+.1f} EV"


def coordinate(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):.6f}° {positive if value >= 0 else negative}"


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


_FORMATTERS = {
    "ExposureTime": exposure,
    "FNumber": f_number,
    "ApertureValue": lambda v: f"f/{2 ** (v / 2):.1f}",
    "MaxApertureValue": lambda v: f"f/{2 ** (v / 2):.1f}",
    "FocalLength": focal_length,
    "FocalLengthIn35mmFilm": lambda v: f"{v} mm (35 mm equivalent)",
    "ISO": lambda v: f"ISO {v}",
    "ISOSpeedRatings": lambda v: f"ISO {v}",
    "ExposureBiasValue": bias,
    "ShutterSpeedValue": lambda v: exposure(2**-v),
    "GPSAltitude": lambda v: f"{v:.1f} m",
}


def human_value(key: str, value: Any) -> str:
    """A display string for one EXIF tag's value (numbers stay exact in the stored JSON)."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if key in _FORMATTERS:
                return _FORMATTERS[key](value)
            if key in _ENUMS and int(value) in _ENUMS[key]:
                return _ENUMS[key][int(value)]
        if key in _DATE_KEYS and isinstance(value, str) and len(value) >= 10:
            return value[:10].replace(":", "-") + value[10:]
    except (ArithmeticError, ValueError, OverflowError):
        pass  # odd values from odd cameras: show them as stored
    return _plain(value)


def summary_line(iso: int | None, exposure_s: float | None, f: float | None, mm: float | None) -> str:
    """'1/250 s · f/2.8 · 35 mm · ISO 400' with whatever is known."""
    parts = []
    if exposure_s:
        parts.append(exposure(exposure_s))
    if f:
        parts.append(f_number(f))
    if mm:
        parts.append(focal_length(mm))
    if iso:
        parts.append(f"ISO {iso}")
    return " · ".join(parts)
