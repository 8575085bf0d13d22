"""Export: photos to a folder for someone else, as JPEG, PNG, WebP or the original file; resized to a
long edge or a number of megapixels, sharpened for screens or not, colours converted to sRGB, with
all metadata, all but the location, the copyright only or none, named by a template. Nothing is ever
overwritten (a name taken gets "-2", "-3", ...) and originals are only read.

The work runs in background processes, one per core; progress has a rate and an ETA, Cancel stops
at the files in progress, and every file that fails is listed with its reason. Settings can be kept
as named presets (in the library's settings)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import io
import json
import math
import multiprocessing as mp
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from PIL import Image, ImageCms, ImageFilter, PngImagePlugin

from app.core.analysis.decode import RAW_FORMATS, apply_orientation, decode_image
from app.core.analysis.pipeline import Progress
from app.core.catalog.models import Photo, PhotoTag, Setting, Tag
from app.core.xmp import packet as xmp
from app.core.xmp.sidecars import merge_into, packet_bytes

FORMATS = ("jpeg", "png", "webp", "original")
METADATA = ("all", "no-location", "copyright", "none")
SHARPENING = ("off", "low")
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
TEMPLATE_FIELDS = ("name", "seq", "date", "id", "camera", "rating", "label", "folder")
PRESETS_SETTING = "export_presets"
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SRGB_ICC = _SRGB.tobytes()
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_LOW_SHARPEN = ImageFilter.UnsharpMask(radius=0.8, percent=60, threshold=2)  # Lightroom's "screen, low"
_IN_FLIGHT_PER_PROCESS = 2  # queued ahead per process: keeps them busy, lets Cancel stop soon

# EXIF: GPS IFD pointer; the owner fields kept by "copyright only"
_GPS_IFD, _ARTIST, _COPYRIGHT, _ORIENTATION = 0x8825, 0x013B, 0x8298, 0x0112
# XMP properties that say where a photo was taken (namespace URI, local name or None for all of it)
_EXIF_NS = "http://ns.adobe.com/exif/1.0/"
_LOCATION_XMP = (
    (_EXIF_NS, "GPS"),  # every exif:GPS* property
    ("http://ns.adobe.com/photoshop/1.0/", "City"),
    ("http://ns.adobe.com/photoshop/1.0/", "State"),
    ("http://ns.adobe.com/photoshop/1.0/", "Country"),
    ("http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/", "Location"),
    ("http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/", "CountryCode"),
    ("http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "Location"),  # LocationCreated, LocationShown
)
_COPYRIGHT_XMP = (
    ("http://purl.org/dc/elements/1.1/", "rights"),
    ("http://purl.org/dc/elements/1.1/", "creator"),
    ("http://ns.adobe.com/xap/1.0/rights/", ""),  # xmpRights: UsageTerms, Marked, WebStatement
)
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_SEGMENT = 65533


@dataclass(frozen=True)
class ExportSettings:
    format: str = "jpeg"
    long_edge: int | None = None  # pixels on the long side, at most (never enlarged)
    megapixels: float | None = None  # or at most this many megapixels
    quality: int = 85  # JPEG and WebP
    sharpen: str = "off"
    metadata: str = "all"
    template: str = "{name}"

    def check(self) -> ExportSettings:
        if self.format not in FORMATS:
            raise ValueError(f"format is one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.metadata not in METADATA:
            raise ValueError(f"metadata is one of {', '.join(METADATA)}, not {self.metadata!r}")
        if self.sharpen not in SHARPENING:
            raise ValueError(f"sharpening is off or low, not {self.sharpen!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality is 1-100, not {self.quality}")
        if self.long_edge is not None and self.long_edge < 16:
            raise ValueError(f"a long edge of {self.long_edge} px is too small (16 at least)")
        if self.megapixels is not None and not 0.01 <= self.megapixels <= 500:
            raise ValueError(f"megapixels between 0.01 and 500, not {self.megapixels}")
        if self.long_edge is not None and self.megapixels is not None:
            raise ValueError("resize to a long edge or to megapixels, not both")
        if self.format == "original" and (self.long_edge or self.megapixels or self.sharpen != "off"):
            raise ValueError("an original is copied as it is: resizing and sharpening need jpeg, png or webp")
        render_name(self.template, _SAMPLE, 1)  # raises ValueError on a bad template
        return self


def settings_from_options(base: ExportSettings, options: dict[str, Any]) -> ExportSettings:
    """`base` with the command line's options that were given (None: not given)."""
    changes = {k: options[k] for k in ("format", "long_edge", "megapixels", "quality", "sharpen", "metadata",
                                       "template") if options.get(k) is not None}  # fmt: skip
    strip = options.get("strip")
    if strip is not None:
        changes["metadata"] = {"location": "no-location", "all": "none"}[strip]
    if "long_edge" in changes:
        changes.setdefault("megapixels", None)
    elif "megapixels" in changes:
        changes["long_edge"] = None
    return dataclasses.replace(base, **changes).check()


# -- presets ----------------------------------------------------------------------------------------------
def presets() -> dict[str, ExportSettings]:
    row = Setting.get_or_none(Setting.key == PRESETS_SETTING)
    stored = json.loads(row.value) if row else {}
    known = {f.name for f in dataclasses.fields(ExportSettings)}
    return {name: ExportSettings(**{k: v for k, v in values.items() if k in known}) for name, values in stored.items()}


def save_preset(lib: Any, name: str, settings: ExportSettings) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a preset needs a name")
    stored = {n: dataclasses.asdict(s) for n, s in presets().items()}
    stored[name] = dataclasses.asdict(settings.check())
    lib.set_setting(PRESETS_SETTING, json.dumps(stored, ensure_ascii=False))


def load_preset(lib: Any, name: str) -> ExportSettings:
    found = presets().get(name)
    if found is None:
        raise ValueError(f"no export preset {name!r} (saved ones: {', '.join(presets()) or 'none'})")
    return found


# -- names --------------------------------------------------------------------------------------------------
_SAMPLE = {"name": "IMG_0001", "date": datetime(2024, 5, 17, 14, 30), "id": 1, "camera": "X100V", "rating": 5,
           "label": "Red", "folder": "Budapest"}  # fmt: skip


def render_name(template: str, values: dict[str, Any], seq: int) -> str:
    """A file name (without extension) from the template; ValueError names what is wrong with it."""
    try:
        text = template.format(**values, seq=seq)
    except KeyError as exc:
        raise ValueError(f"unknown field {exc} in the name template; fields: {', '.join(TEMPLATE_FIELDS)}") from exc
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        raise ValueError(f"bad name template {template!r}: {exc}") from exc
    text = _UNSAFE.sub("_", text).strip(" .")
    return text or "photo"


def template_values(photo: Photo) -> dict[str, Any]:
    date = None
    if photo.taken_at:
        try:
            date = datetime.fromisoformat(photo.taken_at)
        except ValueError:
            date = None
    if date is None:  # as Lightroom: the file's date when the photo has no capture date
        date = datetime.fromtimestamp(photo.mtime_ns / 1e9)
    return {"name": Path(photo.filename).stem, "date": date, "id": photo.id, "camera": photo.model or "",
            "rating": photo.rating or 0, "label": photo.label or "", "folder": Path(photo.folder).name}  # fmt: skip


def _free_name(folder: Path, stem: str, ext: str, taken: set[str]) -> str:
    """stem + ext, or stem-2 + ext, ...: never a file that is there, nor one this export chose already."""
    n = 1
    while True:
        name = f"{stem}{ext}" if n == 1 else f"{stem}-{n}{ext}"
        if name.lower() not in taken and not (folder / name).exists():
            taken.add(name.lower())
            return name
        n += 1


# -- one file (runs in a worker process) -------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    photo_id: int
    source: str
    format: str  # of the source, as the catalog detected it
    width: int | None
    height: int | None
    target: str
    settings: ExportSettings
    tags: tuple[str, ...]
    rating: int | None
    label: str | None
    picked: bool


def _target_long_side(job: _Job) -> int | None:
    s = job.settings
    w, h = job.width or 0, job.height or 0
    if s.long_edge:
        return s.long_edge if max(w, h) == 0 or s.long_edge < max(w, h) else None
    if s.megapixels and w and h and w * h > s.megapixels * 1e6:
        return max(1, int(max(w, h) * math.sqrt(s.megapixels * 1e6 / (w * h))))
    return None


def _pixels(job: _Job, long_side: int | None) -> tuple[Image.Image, Image.Image | None, Image.Image | None]:
    """(RGB in sRGB, alpha or None, the opened source for its metadata) at the export size."""
    with open(job.source, "rb") as fh:
        data = fh.read()
    if job.format in RAW_FORMATS:  # LibRaw through the decoder: the camera's own rendering
        d = decode_image(data, job.format, long_side or max(job.width or 0, job.height or 0) or 8192)
        return d.image, None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(io.BytesIO(data))
    if long_side and im.format == "JPEG":
        scale = long_side / max(im.size)
        im.draft(im.mode, (math.ceil(im.size[0] * scale), math.ceil(im.size[1] * scale)))  # >= the size asked
    im.load()
    source = im
    alpha = None
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        alpha = im.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
    rgb = _to_srgb(im, source.info.get("icc_profile"))
    orientation = source.getexif().get(_ORIENTATION, 1)
    rgb, alpha = _oriented(rgb, orientation), (None if alpha is None else _oriented(alpha, orientation))
    if long_side and max(rgb.size) > long_side:
        size = _fit(rgb.size, long_side)
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        alpha = None if alpha is None else alpha.resize(size, Image.Resampling.LANCZOS)
    return rgb, alpha, source


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = long_side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _oriented(im: Image.Image, orientation: int) -> Image.Image:
    return apply_orientation(im, orientation if isinstance(orientation, int) else 1)


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    rgb = im.convert("RGB") if im.mode not in ("RGB", "CMYK", "L") else im
    if icc:
        # a broken profile: the colours as stored, which is what every viewer shows
        with contextlib.suppress(Exception):
            rgb = ImageCms.profileToProfile(rgb, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode="RGB")
    return rgb if rgb.mode == "RGB" else rgb.convert("RGB")


def _exif(source: Image.Image | None, mode: str, size: tuple[int, int]) -> bytes | None:
    """The source's EXIF for the copy: upright now (orientation 1), new pixel size, no thumbnail of
    the old pixels; without the GPS block for "no-location", only artist and copyright for "copyright"."""
    if source is None or mode == "none":
        return None
    old = source.getexif()
    if mode == "copyright":
        exif = Image.Exif()
        for tag in (_ARTIST, _COPYRIGHT):
            if tag in old:
                exif[tag] = old[tag]
        return exif.tobytes() if len(exif) else None
    for ifd in (0x8769, 0xA005):  # Exif and Interop blocks: read them in, or tobytes() drops them
        old.get_ifd(ifd)
    if mode == "no-location":
        old.pop(_GPS_IFD, None)
        old._ifds.pop(_GPS_IFD, None)
    else:
        old.get_ifd(_GPS_IFD)
    old[_ORIENTATION] = 1
    exif_ifd = old.get_ifd(0x8769)
    if exif_ifd:
        exif_ifd[0xA002], exif_ifd[0xA003] = size  # PixelXDimension, PixelYDimension
    try:
        return old.tobytes()
    except Exception:  # an EXIF block Pillow cannot write back: none rather than a broken one
        return None


def _xmp(source: Image.Image | None, job: _Job) -> bytes | None:
    """The photo's XMP with Tessera's tags, rating, flag and label merged in (what Lightroom's export
    carries), less what the metadata choice leaves out."""
    mode = job.settings.metadata
    if mode == "none":
        return None
    raw = source.info.get("xmp") or source.info.get("XML:com.adobe.xmp") if source is not None else None
    root = None
    if raw:
        try:
            root = xmp.parse_tree(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
        except xmp.XmpError:
            root = None
    if root is None:
        root = ET.fromstring(_EMPTY_XMP)
    if mode == "copyright":
        _keep_only(root, _COPYRIGHT_XMP)
    else:
        merge_into(root, list(job.tags), job.rating, job.label, picked=job.picked)
        if mode == "no-location":
            _drop(root, _LOCATION_XMP)
    if not any(len(d) or len(d.attrib) > 1 for d in root.iter(_RDF_DESC)):
        return None
    return packet_bytes(root)


_RDF_NS = xmp.NS["rdf"]
_RDF_DESC = "{" + _RDF_NS + "}Description"
_EMPTY_XMP = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{_RDF_NS}">'
              '<rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>')  # fmt: skip


def _matches(key: str, names: Sequence[tuple[str, str]]) -> bool:
    return any(key.startswith("{" + uri + "}" + local) for uri, local in names)


def _drop(root: ET.Element, names: Sequence[tuple[str, str]]) -> None:
    for desc in root.iter(_RDF_DESC):
        for key in [k for k in desc.attrib if _matches(k, names)]:
            del desc.attrib[key]
        for prop in [p for p in desc if _matches(p.tag, names)]:
            desc.remove(prop)


def _keep_only(root: ET.Element, names: Sequence[tuple[str, str]]) -> None:
    about = "{" + _RDF_NS + "}about"
    for desc in root.iter(_RDF_DESC):
        for key in [k for k in desc.attrib if k != about and not _matches(k, names)]:
            del desc.attrib[key]
        for prop in [p for p in desc if not _matches(p.tag, names)]:
            desc.remove(prop)


def _jpeg_with_metadata(jpeg: bytes, segments: Sequence[tuple[int, bytes]]) -> bytes:
    """`jpeg` without its EXIF, XMP and IPTC segments (APP1, APP13), with `segments` (marker,
    payload) in their place, after JFIF. The compressed pixels are copied as they are."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    pos, kept, insert_at = 2, [], 0
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        segment = jpeg[pos : pos + 2 + length]
        if marker not in (0xE1, 0xED):
            kept.append(segment)
            if marker == 0xE0:
                insert_at = len(kept)
        pos += 2 + length
    ours = [bytes((0xFF, m)) + (len(p) + 2).to_bytes(2, "big") + p for m, p in segments if len(p) <= _MAX_SEGMENT]
    kept[insert_at:insert_at] = ours
    return b"\xff\xd8" + b"".join(kept) + jpeg[pos:]


def _metadata_segments(exif: bytes | None, xmp_packet: bytes | None, iptc: bytes | None) -> list[tuple[int, bytes]]:
    out = []
    if exif:
        out.append((0xE1, exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif))
    if xmp_packet:
        out.append((0xE1, _XMP_APP1 + xmp_packet))
    if iptc:
        out.append((0xED, iptc))
    return out


def _app13(source: Image.Image | None) -> bytes | None:
    """The IPTC block of a JPEG, copied whole for "all" (it may name places: "no-location" drops it)."""
    for marker, payload in getattr(source, "applist", []) or []:
        if marker == "APP13":
            return payload
    return None


def _encode(job: _Job) -> bytes:
    s = job.settings
    with open(job.source, "rb") as fh:
        original = fh.read()
    if s.format == "original":
        if s.metadata == "all":
            return original
        if job.format not in ("JPEG", "MPO"):
            raise ValueError(f"an original {job.format} keeps its metadata: export as jpeg, png or webp to strip it")
        with Image.open(io.BytesIO(original)) as source:
            exif = _exif(source, s.metadata, source.size)
            exif = _keep_orientation(exif, source)
            return _jpeg_with_metadata(original, _metadata_segments(exif, _xmp(source, job), None))
    rgb, alpha, source = _pixels(job, _target_long_side(job))
    if s.sharpen == "low":
        rgb = rgb.filter(_LOW_SHARPEN)
    exif = _exif(source, s.metadata, rgb.size)
    packet = _xmp(source, job)
    out = io.BytesIO()
    if s.format == "jpeg":
        rgb.save(out, "JPEG", quality=s.quality, optimize=True, icc_profile=_SRGB_ICC)
        iptc = _app13(source) if s.metadata == "all" else None
        return _jpeg_with_metadata(out.getvalue(), _metadata_segments(exif, packet, iptc))
    image = rgb if alpha is None else Image.merge("RGBA", (*rgb.split(), alpha))
    extra: dict[str, Any] = {"icc_profile": _SRGB_ICC}
    if exif:
        extra["exif"] = exif
    if s.format == "png":
        if packet:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8"))
            extra["pnginfo"] = info
        image.save(out, "PNG", optimize=False, **extra)
    else:
        if packet:
            extra["xmp"] = packet
        image.save(out, "WEBP", quality=s.quality, method=4, **extra)
    return out.getvalue()


def _keep_orientation(exif: bytes | None, source: Image.Image) -> bytes | None:
    """An original's pixels are not turned: its EXIF keeps saying how to show them."""
    orientation = source.getexif().get(_ORIENTATION, 1)
    if exif is None or orientation == 1:
        return exif
    fixed = Image.Exif()
    fixed.load(exif)
    fixed[_ORIENTATION] = orientation
    return fixed.tobytes()


def _write_new(target: Path, data: bytes) -> Path:
    """Write `data` to `target` or, if someone made that file meanwhile, to the next free name:
    exclusive creation, so nothing is ever overwritten."""
    stem, ext, n = target.stem, target.suffix, 1
    while True:
        try:
            with open(target, "xb") as fh:
                fh.write(data)
            return target
        except FileExistsError:
            n += 1
            target = target.with_name(f"{stem}-{n}{ext}")


def export_one(job: _Job) -> tuple[int, str | None, str | None]:
    """(photo id, path written, None) or (photo id, None, why not). Never raises."""
    try:
        data = _encode(job)
        return job.photo_id, str(_write_new(Path(job.target), data)), None
    except Exception as exc:
        return job.photo_id, None, _reason(exc)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)


# -- many files ---------------------------------------------------------------------------------------------
@dataclass
class ExportReport:
    folder: str
    written: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (photo path, reason)
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"{len(self.written)} photo(s) exported to {self.folder}"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text + (" (cancelled)" if self.cancelled else "")

    def as_json(self) -> dict[str, Any]:
        return {"folder": self.folder, "written": self.written, "cancelled": self.cancelled,
                "failed": [{"path": p, "reason": r} for p, r in self.failed]}  # fmt: skip


def plan(photo_ids: Sequence[int], folder: Path, settings: ExportSettings) -> tuple[list[_Job], list[tuple[str, str]]]:
    """The jobs, each with the file name it will get, and the photos that cannot be exported."""
    ids = list(dict.fromkeys(photo_ids))
    photos: dict[int, Photo] = {}
    for i in range(0, len(ids), 500):
        photos.update({p.id: p for p in Photo.select().where(Photo.id.in_(ids[i : i + 500]))})
    tags = _tags(ids)
    jobs, failed, taken = [], [], set()
    for seq, pid in enumerate(ids, 1):
        photo = photos.get(pid)
        if photo is None:
            failed.append((str(pid), "no such photo in the library"))
            continue
        if photo.status != "ok":
            failed.append((photo.path, f"photo is {photo.status}: nothing to export"))
            continue
        ext = EXTENSIONS.get(settings.format) or Path(photo.filename).suffix.lower()
        name = _free_name(folder, render_name(settings.template, template_values(photo), seq), ext, taken)
        facts = (photo.rating, photo.label, bool(photo.picked))
        jobs.append(_Job(pid, photo.path, photo.format or "", photo.width, photo.height, str(folder / name),
                         settings, tuple(tags.get(pid, ())), *facts))  # fmt: skip
    return jobs, failed


def _tags(ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        rows = PhotoTag.select(PhotoTag.photo, Tag.name).join(Tag).where(PhotoTag.photo.in_(ids[i : i + 500]))
        for pid, name in rows.order_by(Tag.name).tuples():
            if name not in out.setdefault(pid, []):
                out[pid].append(name)
    return out


def export_photos(
    photo_ids: Sequence[int],
    folder: Path,
    settings: ExportSettings,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    processes: int | None = None,
) -> ExportReport:
    """Export photos (in this order: {seq} counts them) into `folder`, made if missing."""
    settings = settings.check()
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    jobs, failed = plan(photo_ids, folder, settings)
    report = ExportReport(str(folder), failed=failed)
    paths = {job.photo_id: job.source for job in jobs}
    state = Progress(phase="exporting", total=len(jobs))
    started = time.monotonic()
    workers = max(1, min(processes or os.cpu_count() or 1, len(jobs) or 1))
    pending = list(reversed(jobs))
    written: dict[int, str] = {}
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        running: dict[cf.Future[tuple[int, str | None, str | None]], int] = {}
        while pending or running:
            while pending and len(running) < workers * _IN_FLIGHT_PER_PROCESS and not cancelled():
                job = pending.pop()
                running[pool.submit(export_one, job)] = job.photo_id
            if cancelled():
                report.cancelled = True
                pending.clear()
            if not running:
                break
            done, _ = cf.wait(running, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for future in done:
                pid = running.pop(future)
                try:
                    _, path, error = future.result()
                except Exception as exc:  # the worker process died (a decoder crashed on a hostile file)
                    path, error = None, f"export process crashed: {type(exc).__name__}"
                if path is not None:
                    written[pid] = path
                else:
                    report.failed.append((paths[pid], error or "failed"))
                state.done += 1
                state.current = paths[pid]
            state.failed = len(report.failed) - len(failed)
            elapsed = time.monotonic() - started
            state.rate = state.done / elapsed if elapsed > 0 else 0.0
            state.eta_s = (state.total - state.done) / state.rate if state.rate else None
            if progress is not None and done:
                progress(state)
    report.written = [written[job.photo_id] for job in jobs if job.photo_id in written]  # in export order
    report.seconds = time.monotonic() - started
    return report
