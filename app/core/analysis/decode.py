"""One safe decode per photo: container by content, size checked before any pixel memory is
allocated, JPEG draft() so we never decode more pixels than the working image needs, mode and
color conversions done on bands while shrinking (never on a full-size copy), EXIF orientation
applied, colors converted to sRGB. Every failure becomes a DecodeError with a reason a person can
read.

Entry points: `probe` reads the headers only (what an import keeps: no pixel is decoded),
`decode_reduced` gives analysis the cheapest image at least as large as its stages need (reduced
by whole factors: JPEG DCT scaling, HEIC thumbnails, RAW previews, a box reduce for the rest),
`decode_larger` the same photo larger for a stage that asks (from the pixels already loaded where
they suffice), and `decode_image` gives an exact size (the viewer)."""

from __future__ import annotations

import io
import math
import struct
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import numpy as np
from PIL import Image, ImageCms, ImageFile, PngImagePlugin, UnidentifiedImageError

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # HEIC then fails with a clear reason instead of at import
    pillow_heif = None

WORKING_LONG_SIDE = 2048
DRAFT_FLOOR = 0.75  # JPEGs may decode to 1536-2048 px on the long side: see _decode_pillow
MAX_PIXELS = 200_000_000  # 200 MP: beyond any camera; refuses decompression bombs
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow raises DecompressionBombError past twice this
REDUCING_GAP = 3.0  # box-reduce to >= 3x the working size, then Lanczos (as thumbnail(reducing_gap=3))
BAND_PIXELS = 4_000_000  # source pixels converted at a time: <= ~40 MB of transient copies
# Formats without draft() (PNG, TIFF, WebP, GIF, BMP, HEIF) are decoded whole, in their native mode:
# Pillow's decoders fill one full-size buffer in a single load() and cannot resume from a band. That
# buffer is the memory floor (1 byte a pixel for 1-bit, L and P; 4 for RGB and RGBA: <= 800 MB under
# MAX_PIXELS); everything after it is band- or working-size. Not chosen: a lower pixel limit for those
# formats (it would refuse real 100-150 MP medium-format TIFFs and stitched panoramas) and our own
# banded PNG inflate + unfilter (a second PNG decoder to keep safe, for one format of several).

RAW_FORMATS = frozenset({"DNG", "CR2", "CR3", "NEF", "ARW", "ORF", "RAF", "RW2", "PEF", "SRW"})
_TRUNCATED_LOCK = threading.Lock()  # LOAD_TRUNCATED_IMAGES is a Pillow global
_SRGB = ImageCms.createProfile("sRGB")
_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})  # scaled to "L" by _normalize
_FILTERABLE = frozenset({"L", "RGB", "CMYK", "YCbCr", "LAB", "RGBX"})  # reduce() and resize() take them

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
class Header:
    """What a file's headers say, read without decoding a pixel: the facts an import keeps."""

    format: str
    width: int  # full size as displayed (after orientation)
    height: int
    frames: int
    mode: str
    has_alpha: bool
    has_icc: bool
    orientation: int
    source: Image.Image | None = None  # the opened file (Pillow reads lazily), for metadata; None for RAW


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
    decoded_pixels: int = 0  # what the decoder had to produce: the cost of decoding this photo again

    @classmethod
    def of(
        cls, header: Header, image: Image.Image, alpha: Image.Image | None, truncated: bool, warn: list[str], cost: int
    ) -> Decoded:
        return cls(
            image=image,
            alpha=alpha,
            width=header.width,
            height=header.height,
            format=header.format,
            frames=header.frames,
            mode=header.mode,
            has_alpha=header.has_alpha or alpha is not None,
            has_icc=header.has_icc,
            orientation=header.orientation,
            truncated=truncated,
            source=header.source,
            warnings=warn,
            decoded_pixels=cost,
        )


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


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int] | None:
    """The size Image.thumbnail((long_side, long_side)) would give (same rounding), None if no shrink."""
    w, h = size
    if w <= long_side and h <= long_side:
        return None

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    aspect = w / h
    if aspect <= 1:
        return round_aspect(long_side * aspect, key=lambda n: abs(aspect - n / long_side)), long_side
    return long_side, round_aspect(long_side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - long_side / n))


def _wide_peak(im: Image.Image) -> float:
    """Largest value of a 16/32-bit or float image, a band at a time (getextrema refuses I;16B)."""
    rows = max(1, BAND_PIXELS // im.width)
    return max(
        float(np.asarray(im.crop((0, y, im.width, min(im.height, y + rows)))).max(initial=0))
        for y in range(0, im.height, rows)
    )


def _normalize(im: Image.Image, peak: float) -> tuple[Image.Image, Image.Image | None]:
    """Per-pixel part of the conversion, safe to run on bands: any Pillow mode -> a mode the filters
    take (colors as stored) and the alpha channel if any. `peak` is the whole image's _wide_peak."""
    alpha = None
    if im.mode in _WIDE_MODES:
        arr = np.asarray(im, dtype=np.float32)
        if im.mode == "F":
            arr = np.clip(arr * (255.0 if peak <= 1.0 else 1.0), 0, 255)
        else:
            # 16-bit data spans 0..65535; some writers store 8-bit values in a 16-bit container,
            # and scaling those by 1/257 would show a black frame, so keep them as they are
            top = 65535.0 if peak > 255 else 255.0
            arr = np.clip(arr / top * 255.0 + 0.5, 0, 255)
        im = Image.fromarray(arr.astype(np.uint8), "L")
    if im.mode == "P" and "transparency" not in im.info:
        im = im.convert("RGB")
    elif im.mode in ("P", "PA", "LA", "RGBa", "La") or (im.mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        alpha = im.getchannel("A")
        im = im.convert("RGB")
    if im.mode not in _FILTERABLE:  # "1" would be resized NEAREST; the rest are not filterable
        im = im.convert("L" if im.mode == "1" else "RGB")
    return im, alpha


def _shrink_in_bands(
    im: Image.Image, factor: tuple[int, int], width: int | None, peak: float
) -> tuple[Image.Image, Image.Image | None]:
    """_normalize, reduce(factor) and, with `width`, the horizontal Lanczos pass, a band of rows at
    a time: the result is `width` wide and as tall as the reduced image, ready for the vertical
    pass. Pillow resizes in two separable passes (horizontal, then vertical, each rounded to 8
    bits), so this gives the same pixels as converting and resizing the whole image, without the
    full-size converted copy."""
    w, h = im.size
    rows = max(1, BAND_PIXELS // w // factor[1]) * factor[1]  # bands start on reduce-block rows
    reduced_w = -(-w // factor[0])

    def band(y: int) -> tuple[Image.Image, Image.Image | None]:
        part, alpha = _normalize(im if rows >= h else im.crop((0, y, w, min(h, y + rows))), peak)
        if factor != (1, 1):
            part, alpha = part.reduce(factor), None if alpha is None else alpha.reduce(factor)
        if width is not None:
            box = (0.0, 0.0, w / factor[0], part.height)  # the source's extent in reduced pixels
            part = part.resize((width, part.height), Image.Resampling.LANCZOS, box=box)
            alpha = None if alpha is None else alpha.resize((width, part.height), box=box)
        return part, alpha

    work, alpha = band(0)
    if rows >= h:
        return work, alpha
    size = (reduced_w if width is None else width, -(-h // factor[1]))
    out, out_alpha = Image.new(work.mode, size), None if alpha is None else Image.new("L", size)
    for y in range(0, h, rows):
        part, part_alpha = (work, alpha) if y == 0 else band(y)
        out.paste(part, (0, y // factor[1]))
        if out_alpha is not None and part_alpha is not None:
            out_alpha.paste(part_alpha, (0, y // factor[1]))
    return out, out_alpha


def _working(im: Image.Image, long_side: int) -> tuple[Image.Image, Image.Image | None]:
    """The loaded full-size image -> (working image in a filterable mode, colors as stored; alpha).
    Pillow's thumbnail recipe (box-reduce by an integer factor to >= REDUCING_GAP x the target,
    then Lanczos), with everything up to the vertical pass done on bands: beside the decoded
    image only band-size and working-width memory is used."""
    w, h = im.size
    final = _fit(im.size, long_side)
    factor = (1, 1)
    if final is not None:
        factor = (int(w / final[0] / REDUCING_GAP) or 1, int(h / final[1] / REDUCING_GAP) or 1)
    if factor == (1, 1) and im.mode in _FILTERABLE and "transparency" not in im.info:
        # nothing to convert or reduce: one resize() reads the decoded image directly
        work = im if final is None else im.resize(final, Image.Resampling.LANCZOS)
        return work, None
    peak = _wide_peak(im) if im.mode in _WIDE_MODES else 0.0
    work, alpha = _shrink_in_bands(im, factor, None if final is None else final[0], peak)
    if alpha is not None and alpha.getextrema() == (255, 255):
        alpha = None
    if final is not None:  # the vertical pass
        box = (0.0, 0.0, work.width, h / factor[1])
        work = work.resize(final, Image.Resampling.LANCZOS, box=box)
        alpha = None if alpha is None else alpha.resize(final, box=box)
    return work, alpha


def _reduced(im: Image.Image, need: int) -> tuple[Image.Image, Image.Image | None]:
    """The loaded image box-reduced by the largest whole factor that keeps its long side at least
    `need` (colors as stored; alpha). No resampling to an exact size: each stage resamples once,
    from here, to the size it works at."""
    k = max(1, max(im.size) // need)
    if im.mode in _FILTERABLE and "transparency" not in im.info:
        return (im if k == 1 else im.reduce(k)), None  # reads the decoded image, allocates the result only
    peak = _wide_peak(im) if im.mode in _WIDE_MODES else 0.0
    work, alpha = _shrink_in_bands(im, (k, k), None, peak)
    return work, None if alpha is None or alpha.getextrema() == (255, 255) else alpha


@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    """Building a transform costs more than applying it to a working image; photos from one camera
    share their profile."""
    return ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, mode, "RGB")


def _to_srgb(im: Image.Image, icc: bytes | None, warn: list[str]) -> Image.Image:
    """Working image (colors as stored) -> RGB in sRGB. Runs after the shrink: the transform then
    costs working-size memory and time, not full-size."""
    if icc and im.mode in ("RGB", "CMYK", "L"):
        try:
            im = ImageCms.applyTransform(im, _srgb_transform(icc, im.mode))
        except Exception as exc:  # a broken profile: colors as stored, with a note
            warn.append(f"ICC profile ignored ({exc})")
    return im if im.mode == "RGB" else im.convert("RGB")


def apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
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


def _png_late_chunks(data: bytes, im: Image.Image) -> None:
    """Text and EXIF chunks after the image data join `im.info` as a decode would put them there:
    Pillow reads them only once it has decoded the pixels (and getexif() decodes to find them)."""
    stream = PngImagePlugin.PngStream(io.BytesIO(data))
    stream.fp.seek(8)
    after_data = False
    try:
        while True:
            cid, pos, length = stream.read()
            if cid == b"IEND":
                break
            if after_data and cid in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
                stream.call(cid, pos, length)
            else:
                stream.fp.seek(pos + length)
            after_data = after_data or cid in (b"IDAT", b"fdAT")
            stream.fp.read(4)  # CRC
    except Exception:  # a damaged tail: keep what was read; the decode reports the damage
        pass
    for key, value in stream.im_info.items():
        im.info.setdefault(key, value)
    if "exif" not in im.info:  # nothing left for getexif() to find by decoding
        raw = im.info.get("Raw profile type exif")  # ImageMagick's hex text
        try:
            im.info["exif"] = bytes.fromhex("".join(raw.split("\n")[3:])) if isinstance(raw, str) else b""
        except ValueError:
            im.info["exif"] = b""


def _open(data: bytes, fmt: str) -> tuple[Image.Image, Header]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(io.BytesIO(data))
    _check_size(*im.size)
    if im.format == "PNG":
        _png_late_chunks(data, im)
    frames = int(getattr(im, "n_frames", 1) or 1)
    orientation = _orientation(im)
    width, height = _oriented_size(*im.size, orientation)
    header = Header(
        format=_refine_format(im, fmt, frames),
        width=width,
        height=height,
        frames=frames,
        mode=im.mode,
        has_alpha="A" in im.mode or "transparency" in im.info,
        has_icc=bool(im.info.get("icc_profile")),
        orientation=orientation,
        source=im,
    )
    return im, header


Shrink = Callable[[Image.Image, int], tuple[Image.Image, Image.Image | None]]


def _decode_pillow(data: bytes, fmt: str, long_side: int, shrink: Shrink, detail: int = 0) -> Decoded:
    im, header = _open(data, fmt)
    # a progressive JPEG entropy-decodes every coefficient of the full image whatever the draft scale:
    # drafted for the detail size, it costs about the same and a stage asking for it later costs no
    # second decode (3840 px: ~240 ms each)
    progressive = bool(im.info.get("progressive"))
    draft = max(long_side, detail) if progressive else long_side
    if max(im.size) > draft:
        # draft() decodes JPEGs at 1/2, 1/4 or 1/8 scale and HEICs from an embedded thumbnail, never
        # below the size asked for (other formats ignore it). Asking for the working size itself would
        # decode a 4000 px photo in full (1/2 gives 2000 < 2048): accept a working image down to
        # DRAFT_FLOOR of it, which halves the decode time of 12 MP photos.
        scale = draft * DRAFT_FLOOR / max(im.size)
        im.draft(im.mode, (max(1, int(im.size[0] * scale)), max(1, int(im.size[1] * scale))))
    truncated = _load(im)
    cost = header.width * header.height if progressive else im.width * im.height
    warn: list[str] = []
    work, alpha = shrink(im, long_side)
    rgb = _upright(work, im, header.orientation, warn)
    if alpha is not None:
        alpha = apply_orientation(alpha, header.orientation)
    return Decoded.of(header, rgb, alpha, truncated, warn, cost)


def _upright(work: Image.Image, source: Image.Image, orientation: int, warn: list[str]) -> Image.Image:
    """A reduced image of `source` (colors as stored) in sRGB RGB, turned as displayed."""
    return apply_orientation(_to_srgb(work, source.info.get("icc_profile"), warn), orientation)


def _refine_format(im: Image.Image, sniffed: str, frames: int) -> str:
    if im.format == "PNG" and frames > 1:
        return "APNG"
    if im.format == "MPO":
        return "MPO"
    return sniffed


def _rawpy(fmt: str) -> object:
    try:
        import rawpy
    except ImportError as exc:
        raise DecodeError(f"camera RAW ({fmt}) needs the rawpy package") from exc
    return rawpy


def _raw_header(raw: object, fmt: str) -> Header:
    sizes = raw.sizes  # type: ignore[attr-defined]
    orientation = {3: 3, 5: 8, 6: 6}.get(sizes.flip, 1)
    width, height = _oriented_size(sizes.width, sizes.height, orientation)
    return Header(fmt, width, height, 1, "RAW", False, False, orientation)


def _raw_pixels(raw: object, rawpy: object, header: Header, long_side: int) -> tuple[Image.Image, list[str], int]:
    """The embedded preview when it is large enough for `long_side` (a JPEG preview decoded reduced),
    else a half-size demosaic; with the pixels the decoder had to produce."""
    enough = min(long_side * DRAFT_FLOOR, max(header.width, header.height) / 2)
    try:
        thumb = raw.extract_thumb()  # type: ignore[attr-defined]
        if thumb.format == rawpy.ThumbFormat.JPEG:  # type: ignore[attr-defined]
            preview = Image.open(io.BytesIO(thumb.data))
            if max(preview.size) >= enough:
                scale = long_side * DRAFT_FLOOR / max(preview.size)
                preview.draft("RGB", (max(1, int(preview.size[0] * scale)), max(1, int(preview.size[1] * scale))))
        else:
            preview = Image.fromarray(thumb.data)
        if max(preview.size) >= enough:
            preview.load()
            return preview, ["pixels from the embedded preview"], preview.width * preview.height
        warn = ["embedded preview too small: half-size demosaic"]
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):  # type: ignore[attr-defined]
        warn = ["no embedded preview: half-size demosaic"]
    half = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)  # type: ignore[attr-defined]
    return Image.fromarray(half), warn, header.width * header.height


def _decode_raw(data: bytes, fmt: str, long_side: int, shrink: Shrink) -> Decoded:
    rawpy = _rawpy(fmt)
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:  # type: ignore[attr-defined]
            header = _raw_header(raw, fmt)
            preview, warn, cost = _raw_pixels(raw, rawpy, header, long_side)
    except Exception as exc:  # LibRaw errors and anything else from a damaged file
        raise DecodeError(f"unreadable camera RAW ({fmt}): {exc}") from exc
    work, _ = shrink(preview, long_side)
    return Decoded.of(header, _upright(work, preview, header.orientation, warn), None, False, warn, cost)


def _probe_raw(data: bytes, fmt: str) -> Header:
    rawpy = _rawpy(fmt)
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:  # type: ignore[attr-defined]
            return _raw_header(raw, fmt)  # opening parses the structure; nothing is unpacked
    except Exception as exc:
        raise DecodeError(f"unreadable camera RAW ({fmt}): {exc}") from exc


T = TypeVar("T")


def _guarded(data: bytes, fmt: str | None, read: Callable[[str], T]) -> T:
    """Run `read(format)` with every failure turned into a DecodeError with a readable reason."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    fmt = fmt or "unknown"
    if fmt == "TIFF":
        fmt = _tiff_refine(data)
    try:
        return read(fmt)
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


def probe(data: bytes, fmt: str | None = None) -> Header:
    """The facts an import keeps, from the headers alone: no pixel is decoded. Raises DecodeError
    only. Headers that are sound in front of damaged pixel data pass here: such a file is found out
    when analysis decodes it."""
    return _guarded(data, fmt, lambda f: _probe_raw(data, f) if f in RAW_FORMATS else _open(data, f)[1])


def _decode(data: bytes, fmt: str | None, long_side: int, shrink: Shrink, detail: int = 0) -> Decoded:
    return _guarded(
        data,
        fmt,
        lambda f: (
            _decode_raw(data, f, long_side, shrink)
            if f in RAW_FORMATS
            else _decode_pillow(data, f, long_side, shrink, detail)
        ),
    )


def decode_image(data: bytes, fmt: str | None = None, long_side: int = WORKING_LONG_SIDE) -> Decoded:
    """Decode `data` (the whole file) to an image fitting `long_side` exactly as
    Image.thumbnail would size it (the viewer asks for a larger one). Raises DecodeError only."""
    return _decode(data, fmt, long_side, _working)


def decode_reduced(data: bytes, fmt: str | None, need: int, detail: int = 0) -> Decoded:
    """The cheapest decode for analysis stages that work at up to `need` px on the long side: long
    side at least DRAFT_FLOOR x `need` (JPEG, HEIC, RAW previews) or `need` (box-reduced formats),
    or the whole image when it is smaller. `detail`: a larger size some stage may ask for later
    (decode_larger), which a progressive JPEG is drafted for. Raises DecodeError only."""
    return _decode(data, fmt, need, _reduced, detail)


def decode_larger(decoded: Decoded, data: bytes, size: int) -> Image.Image:
    """The photo of `decoded` (from the file's bytes `data`) at a long side of at least DRAFT_FLOOR x
    `size`, or all of it: reduced from the pixels the decode loaded (its `source`) where they are
    enough (a PNG, a progressive JPEG), else decoded again (a JPEG drafted small, a RAW preview).
    Raises DecodeError only."""
    source = decoded.source
    full = max(decoded.width, decoded.height)
    if source is not None and max(source.size) >= min(size * DRAFT_FLOOR, full):  # loaded by the decode
        work, _ = _guarded(data, decoded.format, lambda _: _reduced(source, size))
        return _upright(work, source, decoded.orientation, [])
    return decode_reduced(data, decoded.format, size).image


def _readable(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
