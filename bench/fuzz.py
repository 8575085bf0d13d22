"""Seeded fuzz of the decode + metadata path on mutated real corpus files.

Every case is reproducible on its own from (seed, index): `make_case(seed, index)`. A case passes
when the file decodes (and its metadata extracts) or when decoding raises DecodeError with a
non-empty reason; any other exception is a bug. Prints outcome counts and memory.

    python -m bench.fuzz --cases 2000 --seed 1 [--out DIR]   # DIR receives the files of any bugs
"""

from __future__ import annotations

import argparse
import io
import random
import re
import resource
import struct
import sys
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import piexif
from PIL import Image, ImageCms

from app.core.analysis.decode import DecodeError, decode_image
from app.core.analysis.metadata import extract_metadata
from app.core.ingest.filetypes import SNIFF_BYTES, describe_non_image, sniff_format

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()
# small real files covering every container and the EXIF shapes we parse (makernotes, GPS, IPTC)
SEEDS = (
    "formats/jpeg_baseline.jpg", "formats/jpeg_progressive.jpg", "formats/jpeg_cmyk.jpg",
    "formats/jpeg_gray.jpg", "formats/png_rgb.png", "formats/png_palette_trns.png",
    "formats/png_gray16.png", "formats/gif_still.gif", "formats/bmp_rgb.bmp", "formats/bmp_rle8.bmp",
    "formats/tiff_lzw.tif", "formats/tiff_icc.tif", "formats/tiff_multipage.tiff",
    "formats/tiff_ccitt_g4.tiff", "formats/webp_lossy.webp", "formats/webp_alpha.webp",
    "formats/heif_rgb8.heif", "formats/avif_basic.avif", "formats/mpo_stereo.mpo",
    "exif/camera_r_sigma.jpg", "exif/phone_kddi_a5301t_gps.jpg", "exif/camera_nikon_d2h_gps.jpg",
    "exif/iptc.jpg", "exif/hopper_orientation_6.jpg", "exif/hopper_orientation_6.webp", "exif/exif_gps.jpg",
)  # fmt: skip
HUGE_COUNTS = (0xFFFFFFFF, 0x7FFFFFFF, 0x10000000, 0x00FFFFFF, 65536)
# piexif.load builds a struct format string of `count` characters for BYTE/SHORT/LONG and their
# signed kinds, so a 6 KB JPEG claiming 2**28 values costs ~9 GB and 20 s before it fails
PIEXIF_FORMAT_STRING_TYPES = frozenset({1, 3, 4, 6, 8, 9})
PIEXIF_BOMB_COUNT = 1 << 20
PIEXIF_BUG = "metadata: piexif.load allocates per declared EXIF value count (huge count -> GBs, seconds)"
_SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@dataclass
class Mutation:
    detail: str  # enough to rebuild the mutation by hand
    data: bytes
    known_bug: str | None = None


@dataclass
class Case:
    index: int
    kind: str
    detail: str  # enough to rebuild the mutation by hand
    data: bytes
    known_bug: str | None = None  # a reported bug this case would trigger (slow, huge memory)


def _seed_bytes(name: str, _cache: dict[str, bytes] = {}) -> bytes:  # noqa: B006 - a deliberate cache
    if name not in _cache:
        _cache[name] = (CORPUS / name).read_bytes()
    return _cache[name]


# -- mutations -----------------------------------------------------------------------------------
def _bitflip(rng: random.Random) -> Mutation:
    name = rng.choice(SEEDS)
    data = bytearray(_seed_bytes(name))
    start = 0 if rng.random() < 0.2 else min(16, len(data) - 1)  # mostly keep the magic
    offsets = sorted(rng.randrange(start, len(data)) for _ in range(rng.randint(1, 32)))
    for off in offsets:
        data[off] ^= 1 << rng.randrange(8)
    return Mutation(f"{name}: flip one bit at offsets {offsets}", bytes(data))


def _truncate(rng: random.Random) -> Mutation:
    name = rng.choice(SEEDS)
    data = _seed_bytes(name)
    cut = rng.randrange(1, len(data))
    return Mutation(f"{name}: keep first {cut} of {len(data)} bytes", data[:cut])


def _splat(rng: random.Random) -> Mutation:
    name = rng.choice(SEEDS)
    data = bytearray(_seed_bytes(name))
    off = rng.randrange(min(16, len(data) - 1), len(data))
    size = rng.randint(1, 64)
    data[off : off + size] = rng.randbytes(size)
    return Mutation(f"{name}: {size} random bytes at offset {off} (rng seed in case)", bytes(data))


def _ifd_entries(tiff: bytes, order: str) -> list[tuple[int, int]]:
    """(offset in `tiff`, TIFF type) of every 12-byte entry of IFD0 and the Exif, GPS and Interop IFDs."""
    found: list[tuple[int, int]] = []
    todo, seen = [struct.unpack(order + "I", tiff[4:8])[0]], set()
    while todo:
        ifd = todo.pop()
        if ifd in seen or ifd + 2 > len(tiff):
            continue
        seen.add(ifd)
        count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
        for i in range(count):
            entry = ifd + 2 + 12 * i
            if entry + 12 > len(tiff):
                break
            tag, typ, _n, value = struct.unpack(order + "HHII", tiff[entry : entry + 12])
            found.append((entry, typ))
            if tag in (0x8769, 0x8825, 0xA005):  # Exif, GPS and Interop IFD pointers
                todo.append(value)
    return found


def _exif_counts(rng: random.Random) -> Mutation:
    """A piexif-built EXIF block whose entries claim absurd value counts."""
    exif = {
        "0th": {piexif.ImageIFD.Make: b"Fuzz", piexif.ImageIFD.Model: b"Model X" * rng.randint(1, 8),
                piexif.ImageIFD.XResolution: (72, 1), piexif.ImageIFD.Orientation: rng.randint(1, 8),
                piexif.ImageIFD.DateTime: b"2021:02:03 04:05:06"},
        "Exif": {piexif.ExifIFD.ISOSpeedRatings: 200, piexif.ExifIFD.ExposureTime: (1, 250),
                 piexif.ExifIFD.FNumber: (28, 10), piexif.ExifIFD.UserComment: b"ASCII\0\0\0" + b"x" * 40,
                 piexif.ExifIFD.DateTimeOriginal: b"2021:02:03 04:05:06"},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"S", piexif.GPSIFD.GPSLatitude: ((33, 1), (52, 1), (0, 1)),
                piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: ((151, 1), (12, 1), (0, 1))},
    }  # fmt: skip
    block = bytearray(piexif.dump(exif))
    tiff = memoryview(block)[6:]  # after "Exif\0\0"
    order = "<" if tiff[:2] == b"II" else ">"
    entries = _ifd_entries(bytes(tiff), order)
    patched = rng.sample(entries, rng.randint(1, min(4, len(entries))))
    notes = []
    known_bug = None
    for entry, typ in patched:
        count = rng.choice(HUGE_COUNTS) if rng.random() < 0.8 else rng.randrange(1 << 32)
        struct.pack_into(order + "I", tiff, entry + 4, count)
        notes.append(f"entry@{entry}(type {typ}):count={count:#x}")
        if typ in PIEXIF_FORMAT_STRING_TYPES and count >= PIEXIF_BOMB_COUNT:
            known_bug = PIEXIF_BUG
    del tiff
    out = io.BytesIO()
    base = _seed_bytes(rng.choice(("formats/jpeg_baseline.jpg", "exif/hopper_orientation_6.jpg")))
    piexif.insert(bytes(block), base, out)
    return Mutation("piexif IFD0/Exif/GPS with " + ", ".join(notes), out.getvalue(), known_bug)


def _icc_garbage(rng: random.Random) -> Mutation:
    """A real image saved with a broken ICC profile: random bytes, a cut or a bit-flipped sRGB."""
    how = rng.choice(("random", "cut", "flipped"))
    if how == "random":
        icc = rng.randbytes(rng.randint(1, 4096))
    elif how == "cut":
        icc = _SRGB_ICC[: rng.randrange(1, len(_SRGB_ICC))]
    else:
        icc = bytearray(_SRGB_ICC)
        for _ in range(rng.randint(1, 16)):
            icc[rng.randrange(len(icc))] ^= 1 << rng.randrange(8)
        icc = bytes(icc)
    fmt = rng.choice(("JPEG", "PNG", "TIFF", "WEBP"))
    with Image.open(io.BytesIO(_seed_bytes("formats/jpeg_baseline.jpg"))) as im:
        out = io.BytesIO()
        im.convert("RGB").save(out, fmt, icc_profile=icc)
    detail = f"formats/jpeg_baseline.jpg re-saved as {fmt} with a {how} ICC profile of {len(icc)} bytes"
    return Mutation(detail, out.getvalue())


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def deflate_bomb_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A 1-bit grayscale PNG of zeros: a few KB on disk for `width` x `height` pixels. With `rows`
    only that many rows of data are present (enough for a header-level refusal)."""
    row = b"\0" * ((width + 7) // 8 + 1)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height if rows is None else rows)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _png_bomb(rng: random.Random) -> Mutation:
    # within the pixel limit only moderate sizes: see test_fuzz for the near-limit memory case
    if rng.random() < 0.5:
        w, h = rng.choice(((100_000, 100_000), (65_535, 65_535), (1, 1 << 30), (50_000, 20_000)))
        return Mutation(f"deflate-bomb PNG {w}x{h}, first 64 rows only", deflate_bomb_png(w, h, rows=64))
    w, h = rng.randint(1000, 6000), rng.randint(1000, 6000)
    rows = None if rng.random() < 0.7 else rng.randrange(h)
    return Mutation(f"deflate-bomb PNG {w}x{h}, rows={rows or 'all'}", deflate_bomb_png(w, h, rows))


def _claim_png(data: bytes, w: int, h: int) -> bytes:
    ihdr = struct.pack(">II", w, h) + data[24:29]
    return data[:8] + _png_chunk(b"IHDR", ihdr) + data[33:]


def _claim_jpeg(data: bytes, w: int, h: int) -> bytes:
    out = bytearray(data)
    pos = 2
    while pos + 4 <= len(out) and out[pos] == 0xFF:
        marker, length = out[pos + 1], struct.unpack(">H", out[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", out, pos + 5, h, w)
            break
        pos += 2 + length
    return bytes(out)


def _huge_header(rng: random.Random) -> Mutation:
    w, h = rng.choice(((100_000, 100_000), (65_535, 65_535), (0, 480), (640, 0), (1, 200_000), (20_000, 20_000)))
    kind = rng.choice(("png", "jpeg", "gif", "bmp"))
    if kind == "png":
        name = rng.choice(("formats/png_rgb.png", "formats/png_palette_trns.png"))
        data = _claim_png(_seed_bytes(name), w, h)
    elif kind == "jpeg":
        w, h = min(w, 65_535), min(h, 65_535)  # 16-bit fields
        name = rng.choice(("formats/jpeg_baseline.jpg", "formats/jpeg_progressive.jpg"))
        data = _claim_jpeg(_seed_bytes(name), w, h)
    elif kind == "gif":
        w, h = min(w, 65_535), min(h, 65_535)
        name = "formats/gif_still.gif"
        data = _seed_bytes(name)
        data = data[:6] + struct.pack("<HH", w, h) + data[10:]
    else:
        name = "formats/bmp_rgb.bmp"
        data = _seed_bytes(name)
        data = data[:18] + struct.pack("<ii", w, h) + data[26:]
    return Mutation(f"{name}: header claims {w}x{h}", data)


MUTATIONS: dict[str, Callable[[random.Random], Mutation]] = {
    "bitflip": _bitflip,
    "truncate": _truncate,
    "splat": _splat,
    "exif_counts": _exif_counts,
    "icc_garbage": _icc_garbage,
    "png_bomb": _png_bomb,
    "huge_header": _huge_header,
}
# bit flips and cuts find the most; the structured cases need fewer draws
_WEIGHTS = {"bitflip": 4, "truncate": 3, "splat": 2, "exif_counts": 2, "icc_garbage": 1, "png_bomb": 1,
            "huge_header": 1}  # fmt: skip
_SCHEDULE = [k for k, w in _WEIGHTS.items() for _ in range(w)]


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}:{index}")
    kind = _SCHEDULE[index % len(_SCHEDULE)]
    mutation = MUTATIONS[kind](rng)
    return Case(index, kind, mutation.detail, mutation.data, mutation.known_bug)


# -- running -------------------------------------------------------------------------------------
def _reason_class(reason: str) -> str:
    """`damaged JPEG file: broken data stream at 1234` -> `damaged JPEG file`: counts without noise."""
    return re.sub(r"\d+", "N", reason.split(":")[0].split("(")[0].strip())[:80]


def run_case(data: bytes) -> str:
    """The pipeline's own sequence: sniff, decode, metadata. Returns the outcome; raises on a bug."""
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        reason = describe_non_image(data[:SNIFF_BYTES])
        if not reason:
            raise AssertionError("refused without a reason")
        return f"refused: {_reason_class(reason)}"
    try:
        decoded = decode_image(data, fmt)
    except DecodeError as exc:
        if not exc.reason or not exc.reason.strip():
            raise AssertionError("DecodeError without a reason") from exc
        return f"DecodeError: {_reason_class(exc.reason)}"
    extract_metadata(data, decoded.source, decoded.format)
    return "ok (truncated)" if decoded.truncated else "ok"


def peak_rss_mb() -> float:
    """Peak resident memory since the last reset_peak_rss(); ru_maxrss where that is not possible."""
    try:
        with open("/proc/self/status") as fh:
            found = re.search(r"VmHWM:\s+(\d+)", fh.read())
        if found:
            return int(found.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak_rss() -> bool:
    """Linux resets VmHWM to the current RSS on "5" > clear_refs (4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="folder for the files that triggered bugs")
    parser.add_argument("--memory-bound", type=float, default=500, help="MB a single case may add (report)")
    parser.add_argument("--include-known-bugs", action="store_true", help="also run cases of reported bugs")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag; the counts say enough

    make_case(args.seed, 0)  # warm imports and caches before the memory baseline
    reset_peak_rss()
    base = current_rss_mb()
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    bugs: list[str] = []
    slowest = (0.0, "")
    hungriest = (0.0, "")
    over_bound: list[str] = []
    overall_peak = current_rss_mb()  # the resets below also reset ru_maxrss: keep our own maximum
    started = time.perf_counter()
    for index in range(args.cases):
        case = make_case(args.seed, index)
        kinds[case.kind] += 1
        if case.known_bug and not args.include_known_bugs:
            outcomes[f"skipped, known bug: {case.known_bug}"] += 1
            continue
        reset_peak_rss()
        before = current_rss_mb()
        t0 = time.perf_counter()
        try:
            outcome = run_case(case.data)
        except Exception as exc:  # the point of the fuzz: anything but DecodeError is a bug
            outcome = f"BUG {type(exc).__name__}"
            bugs.append(f"seed {args.seed} case {index} [{case.kind}] {case.detail}: {type(exc).__name__}: {exc}")
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                (args.out / f"case_{args.seed}_{index}.bin").write_bytes(case.data)
        elapsed = time.perf_counter() - t0
        overall_peak = max(overall_peak, peak_rss_mb())
        growth = peak_rss_mb() - before
        if growth > args.memory_bound:
            over_bound.append(f"case {index} [{case.kind}] +{growth:.0f} MB in {elapsed:.1f} s: {case.detail}")
        if growth > hungriest[0]:
            hungriest = (growth, f"case {index} [{case.kind}] {case.detail[:100]}")
        if elapsed > slowest[0]:
            slowest = (elapsed, f"case {index} [{case.kind}] {case.detail[:100]}")
        outcomes[outcome] += 1

    total = time.perf_counter() - started
    print(f"{args.cases} cases, seed {args.seed}, {total:.1f} s ({args.cases / total:.0f} cases/s)")
    print("mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("outcomes:")
    for outcome, n in outcomes.most_common():
        print(f"  {n:6d}  {outcome}")
    print(f"slowest case: {slowest[0]:.2f} s, {slowest[1]}")
    print(f"most memory: +{hungriest[0]:.0f} MB over the RSS before it, {hungriest[1]}")
    print(f"max RSS: {overall_peak:.0f} MB (baseline {base:.0f} MB, growth {overall_peak - base:.0f} MB)")
    for line in over_bound:
        print(f"OVER {args.memory_bound:.0f} MB:", line)
    for bug in bugs:
        print("BUG:", bug)
    return 1 if bugs or over_bound else 0


if __name__ == "__main__":
    sys.exit(main())
