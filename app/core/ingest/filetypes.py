"""Format detection by content (magic bytes), never by extension: a PNG named .jpg is a PNG."""

from __future__ import annotations

SNIFF_BYTES = 64

# Companion and bookkeeping files that live beside photos: never imported, never reported.
IGNORED_EXTENSIONS = frozenset(
    {".xmp", ".json", ".csv", ".md", ".txt", ".thm", ".aae", ".pp3", ".dop", ".ini", ".db", ".sqlite",
     ".sqlite-wal", ".sqlite-shm", ".lock", ".log", ".pdf", ".html", ".htm", ".xml", ".yaml", ".yml"}
)  # fmt: skip
# Media we do not manage yet: counted as skipped, not errors.
UNSUPPORTED_MEDIA_EXTENSIONS = frozenset(
    {".mov", ".mp4", ".avi", ".mkv", ".mts", ".m2ts", ".m4v", ".3gp", ".wmv", ".mpg", ".mpeg", ".webm",
     ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg"}
)  # fmt: skip

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_GENERIC = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _tiff_kind(head: bytes) -> str | None:
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        if head[8:10] == b"CR":
            return "CR2"
        return "TIFF"  # NEF/ARW/DNG are TIFF containers too; decode refines them from their tags
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return "BTF"
    if head[:4] == b"IIRO" or head[:4] == b"IIRS":
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RW2"
    return None


def _isobmff_kind(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    major = head[8:12]
    brands = {head[i : i + 4] for i in range(16, min(len(head), 64) - 3, 4)} | {major}
    if major == b"crx ":
        return "CR3"
    if brands & _AVIF_BRANDS and major in _AVIF_BRANDS | _HEIF_GENERIC:
        return "AVIF"
    if major in _HEIF_BRANDS:
        return "HEIC"
    if brands & _HEIF_BRANDS:
        return "HEIC"
    if major in _HEIF_GENERIC or brands & _HEIF_GENERIC:
        return "HEIF"
    return None


def sniff_format(head: bytes) -> str | None:
    """The container by its first bytes, or None when it is not an image we read."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM" and len(head) >= 18:
        return "BMP"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    return _tiff_kind(head) or _isobmff_kind(head)


_NON_IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office (OLE2) document"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg media file"),
    (b"<?xml", "an XML document"),
    (b"<svg", "an SVG drawing (vector images are not supported)"),
)


def describe_non_image(head: bytes) -> str:
    """Why a file that does not sniff as an image was refused, in words."""
    if not head:
        return "empty file (0 bytes)"
    for magic, what in _NON_IMAGES:
        if head.startswith(magic):
            return f"not an image: {what}"
    if head[4:8] == b"ftyp":
        return "not an image: a video or an unsupported ISO media file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "not an image: unrecognised content"
    return "not an image: a text file"
