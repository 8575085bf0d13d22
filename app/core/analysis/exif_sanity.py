"""A pre-flight check of an EXIF (TIFF-structured) blob before piexif reads it: piexif allocates as
many values as an entry *claims*, so a 6 KB file claiming 2^28 values costs gigabytes. We walk the IFD
chain ourselves and refuse any entry whose data could not fit in the blob."""

from __future__ import annotations

import struct

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_SUB_IFDS = {0x8769, 0x8825, 0xA005}  # Exif, GPS, Interoperability pointers
MAX_IFDS = 16


def exif_problem(blob: bytes) -> str | None:
    """None when every entry's data fits in the blob, else what is wrong."""
    start = blob.find(b"Exif\x00\x00", 0, 65536) if blob[:2] == b"\xff\xd8" else 0  # a whole JPEG file
    tiff = blob[start + 6 :] if blob[start : start + 6] == b"Exif\x00\x00" else blob
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None  # not TIFF-structured: piexif refuses it by itself, cheaply
    end = "<" if tiff[:2] == b"II" else ">"
    pending = [struct.unpack_from(end + "I", tiff, 4)[0]]
    seen: set[int] = set()
    while pending:
        offset = pending.pop()
        # broken offsets are common in real files and harmless (piexif stops there): not followed
        if offset in seen or offset == 0 or len(seen) >= MAX_IFDS or offset + 2 > len(tiff):
            continue
        seen.add(offset)
        (count,) = struct.unpack_from(end + "H", tiff, offset)
        if offset + 2 + 12 * count + 4 > len(tiff):
            continue
        for i in range(count):
            tag, kind, n, value = struct.unpack_from(end + "HHII", tiff, offset + 2 + 12 * i)
            if n * _TYPE_SIZES.get(kind, 1) > len(tiff):
                return f"tag 0x{tag:04x} claims {n} values"
            if tag in _SUB_IFDS:
                pending.append(value)
        pending.append(struct.unpack_from(end + "I", tiff, offset + 2 + 12 * count)[0])  # next IFD (thumbnail)
    return None
