"""One safe decode per photo: container by content, size checked before any pixel memory is
allocated, JPEG draft() so we never decode more pixels than the working image needs, EXIF
orientation applied, colors converted to sRGB. Every failure becomes a DecodeError with a reason a
person can read."""

from __future__ import annotations

import io
import struct
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # HEIC then fails with a clear reason instead of at import
    pillow_heif = None

WORKING_LONG_SIDE = 2048
MAX_PIXELS = 200_000_000  # 200 MP: beyond any camera; refuses decompression bombs
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow raises DecompressionBombError past twice this

RAW_FORMATS = frozenset({"DNG", "CR2", "CR3", "NEF", "ARW", "ORF", "RAF", "RW2", "PEF", "SRW"})
_TRUNCATED_LOCK = threading.Lock()  # LOAD_TRUNCATED_IMAGES is a Pillow global
_SRGB = ImageCms.createProfile("sRGB")

# EXIF orientation -> transposes that show the photo upright
_ORIENT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_TIFF_MAKERS = {"NIKON": "NEF", "SONY": "ARW", "PENTAX": "PEF", "SAMSUNG": "SRW"}


class DecodeError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Decoded:
    image: Image.Image  # RGB, oriented, sRGB, long side <= WORKING_LONG_SIDE
    alpha: Image.Image | None  # "L" mask at the same size, when the source has transparency
    width: int  # full size as displayed (after orientation)
    height: int
    format: str
    frames: int
    mode: str
    has_alpha: bool
    has_icc: bool
    orientation: int
    truncated: bool = False
    source: Image.Image | None = None  # the opened source, for metadata (.info, getexif)
    warnings: list[str] = field(default_factory=list)


def _oriented_size(w: int, h: int, orientation: int) -> tuple[int, int]:
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _check_size(w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise DecodeError(f"corrupt image: declares {w}x{h} pixels")
    if w * h > MAX_PIXELS:
        raise DecodeError(
            f"image too large: declares {w}x{h} pixels ({w * h / 1e6:.0f} MP, limit {MAX_PIXELS // 1_000_000} MP)"
        )


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except Exception:  # broken EXIF never blocks the pixels
        return 1


def _tiff_refine(data: bytes) -> str:
    """DNG and TIFF-based RAWs look like TIFF at the head: read IFD0's DNGVersion and Make tags."""
    try:
        order = "<" if data[:2] == b"II" else ">"
        offset = struct.unpack(order + "I", data[4:8])[0]
        count = struct.unpack(order + "H", data[offset : offset + 2])[0]
        make = ""
        for i in range(min(count, 512)):
            entry = data[offset + 2 + 12 * i : offset + 14 + 12 * i]
            tag, typ, n, value = struct.unpack(order + "HHI4s", entry)
            if tag == 0xC612:
                return "DNG"
            if tag == 0x010F and typ == 2:
                raw = value if n <= 4 else data[struct.unpack(order + "I", value)[0] :][:n]
                make = raw.split(b"\0")[0].decode("latin-1").strip().upper()
        for prefix, fmt in _TIFF_MAKERS.items():
            if make.startswith(prefix):
                return fmt
    except (struct.error, IndexError, UnicodeDecodeError):
        pass
    return "TIFF"


def _to_rgb(im: Image.Image, warn: list[str]) -> tuple[Image.Image, Image.Image | None]:
    """Any Pillow mode -> (RGB in sRGB, optional alpha)."""
    alpha = None
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float32)
        # 16-bit data spans 0..65535; some writers store 8-bit values in a 16-bit container, and
        # scaling those by 1/257 would show a black frame, so keep them as they are
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        im = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        im = Image.fromarray(np.clip(arr * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8))
    if im.mode in ("P", "PA") or (im.mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA")
    if im.mode in ("LA", "RGBa", "La"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        alpha = im.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
        im = im.convert("RGB")
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "CMYK", "L"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, src, _SRGB, outputMode="RGB")
        except Exception as exc:  # a broken profile: colors as stored, with a note
            warn.append(f"ICC profile ignored ({exc})")
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im, alpha


def _shrink(im: Image.Image, long_side: int) -> Image.Image:
    if max(im.size) > long_side:
        im = im.copy() if im.readonly else im
        im.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return im


def _apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    for op in _ORIENT.get(orientation, ()):
        im = im.transpose(op)
    return im


def _load(im: Image.Image) -> bool:
    """Load pixels; returns True when it only worked with truncated-data tolerance."""
    try:
        im.load()
        return False
    except (OSError, SyntaxError, ValueError) as exc:
        text = str(exc).lower()
        if not any(w in text for w in ("truncat", "broken data stream", "image file is", "premature")):
            raise
    with _TRUNCATED_LOCK:
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            im.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
    return True


def _decode_pillow(data: bytes, fmt: str, long_side: int) -> Decoded:
    warn: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(io.BytesIO(data))
    declared = im.size
    _check_size(*declared)
    frames = int(getattr(im, "n_frames", 1) or 1)
    orientation = _orientation(im)
    fmt = _refine_format(im, fmt, frames)
    mode = im.mode
    has_icc = bool(im.info.get("icc_profile"))
    if im.format == "JPEG" and max(im.size) > long_side:
        scale = long_side / max(im.size)
        im.draft(im.mode, (max(1, int(im.size[0] * scale)), max(1, int(im.size[1] * scale))))
    source = im
    truncated = _load(im)
    full_w, full_h = _oriented_size(*declared, orientation)  # draft() shrank im.size, not the photo
    rgb, alpha = _to_rgb(im, warn)
    rgb = _shrink(rgb, long_side)
    if alpha is not None:
        alpha = _apply_orientation(alpha.resize(rgb.size), orientation)
    rgb = _apply_orientation(rgb, orientation)
    return Decoded(
        image=rgb,
        alpha=alpha,
        width=full_w,
        height=full_h,
        format=fmt,
        frames=frames,
        mode=mode,
        has_alpha=alpha is not None or "A" in mode or "transparency" in source.info,
        has_icc=has_icc,
        orientation=orientation,
        truncated=truncated,
        source=source,
        warnings=warn,
    )


def _refine_format(im: Image.Image, sniffed: str, frames: int) -> str:
    if im.format == "PNG" and frames > 1:
        return "APNG"
    if im.format == "MPO":
        return "MPO"
    return sniffed


def _decode_raw(data: bytes, fmt: str, long_side: int) -> Decoded:
    try:
        import rawpy
    except ImportError as exc:
        raise DecodeError(f"camera RAW ({fmt}) needs the rawpy package") from exc
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sizes = raw.sizes
            orientation = {3: 3, 5: 8, 6: 6}.get(sizes.flip, 1)
            full = _oriented_size(sizes.width, sizes.height, orientation)
            try:
                thumb = raw.extract_thumb()
                if thumb.format == rawpy.ThumbFormat.JPEG:
                    preview = Image.open(io.BytesIO(thumb.data))
                    preview.load()
                else:
                    preview = Image.fromarray(thumb.data)
                warn = ["pixels from the embedded preview"]
            except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
                preview = Image.fromarray(raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8))
                warn = ["no embedded preview: half-size demosaic"]
    except DecodeError:
        raise
    except Exception as exc:  # LibRaw errors and anything else from a damaged file
        raise DecodeError(f"unreadable camera RAW ({fmt}): {exc}") from exc
    rgb, _ = _to_rgb(preview, warn)
    rgb = _apply_orientation(_shrink(rgb, long_side), orientation)
    return Decoded(rgb, None, full[0], full[1], fmt, 1, "RAW", False, False, orientation, False, None, warn)


def decode_image(data: bytes, fmt: str | None = None, long_side: int = WORKING_LONG_SIDE) -> Decoded:
    """Decode `data` (the whole file) to the working image (the viewer asks for a larger
    `long_side`). Raises DecodeError only."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    fmt = fmt or "unknown"
    if fmt == "TIFF":
        fmt = _tiff_refine(data)
    try:
        if fmt in RAW_FORMATS:
            return _decode_raw(data, fmt, long_side)
        return _decode_pillow(data, fmt, long_side)
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"image too large (decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise DecodeError(f"not a readable {fmt} image: the file's structure is damaged or unsupported") from exc
    except MemoryError as exc:
        raise DecodeError("not enough memory to decode this image") from exc
    except Exception as exc:  # OSError, SyntaxError, TypeError, struct.error ... from hostile files
        raise DecodeError(f"damaged {fmt} file: {_readable(exc)}") from exc


def _readable(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
