"""Walking folders for photos. Reads only directory entries and stat(): never file contents. Each
photo comes with the stat of its .xmp sidecar, taken from the same directory listing, so a rescan
notices an edited sidecar without one more listdir per photo."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.core.ingest.filetypes import IGNORED_EXTENSIONS, UNSUPPORTED_MEDIA_EXTENSIONS
from app.core.records import SidecarState
from app.core.xmp.sidecars import choose_sidecar, find_sidecar, sidecar_names, sidecar_state


@dataclass(frozen=True)
class ScanEntry:
    path: str  # absolute, as found under the root (symlinked folders keep their link path)
    size: int
    mtime_ns: int
    sidecar: SidecarState | None = None


@dataclass
class ScanSummary:
    skipped_media: int = 0  # videos/audio we do not manage yet
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


NOT_UTF8 = "file name is not valid UTF-8 (an old camera's or Windows encoding): rename the file to import it"


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:  # os.fsdecode left surrogates for undecodable bytes
        return False


def printable(path: str) -> str:
    """The path with undecodable bytes shown as \\xNN, safe to print and to store."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _ignored(name: str) -> bool:
    ext = os.path.splitext(name)[1].lower()
    return ext in IGNORED_EXTENSIONS or name in {"Thumbs.db", "desktop.ini"}


def _sidecar_of(name: str, xmp_entries: dict[str, os.DirEntry[str]], by_base: dict[str, str]) -> SidecarState | None:
    """The state of photo `name`'s sidecar among its folder's .xmp entries (see find_sidecar)."""
    chosen = choose_sidecar(name, by_base, lambda n: xmp_entries[n].is_file())
    return None if chosen is None else sidecar_state(xmp_entries[chosen].path)


def scan(
    roots: Iterable[Path],
    exclude: Iterable[Path] = (),
    summary: ScanSummary | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[ScanEntry]:
    """Yield candidate photo files under `roots`, depth first, sorted by name for a stable order.

    Hidden folders/files and the library folder itself are skipped. Folder symlinks are followed
    but each real folder is visited once, so link loops end. A file reached twice (hard links,
    links to files) is yielded once.
    """
    summary = summary if summary is not None else ScanSummary()
    excluded = {os.path.realpath(p) for p in exclude}
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    for root in roots:
        root = Path(os.path.abspath(root))
        try:
            st = root.stat()
        except OSError as exc:
            summary.unreadable.append((str(root), exc.strerror or str(exc)))
            continue
        if stat.S_ISREG(st.st_mode):
            if (st.st_dev, st.st_ino) not in seen_files:
                seen_files.add((st.st_dev, st.st_ino))
                yield ScanEntry(str(root), st.st_size, st.st_mtime_ns, sidecar_state(find_sidecar(root)))
            continue
        stack = [str(root)]
        while stack:
            if cancelled():
                return
            folder = stack.pop()
            try:
                fst = os.stat(folder)
            except OSError as exc:
                summary.unreadable.append((folder, exc.strerror or str(exc)))
                continue
            if (fst.st_dev, fst.st_ino) in seen_dirs or os.path.realpath(folder) in excluded:
                continue
            seen_dirs.add((fst.st_dev, fst.st_ino))
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                summary.unreadable.append((folder, exc.strerror or str(exc)))
                continue
            xmp_entries = {e.name: e for e in entries if e.name[-4:].lower() == ".xmp"}
            by_base = sidecar_names(xmp_entries)
            subdirs: list[str] = []
            for entry in entries:
                if _is_hidden(entry.name):
                    continue
                try:
                    est = entry.stat()  # follows symlinks
                except OSError as exc:  # dangling link, vanished file, no permission
                    summary.unreadable.append((entry.path, exc.strerror or str(exc)))
                    continue
                if stat.S_ISDIR(est.st_mode):
                    subdirs.append(entry.path)
                elif stat.S_ISREG(est.st_mode) and not _ignored(entry.name):
                    if not _utf8(entry.path):
                        summary.unreadable.append((printable(entry.path), NOT_UTF8))
                        continue
                    if os.path.splitext(entry.name)[1].lower() in UNSUPPORTED_MEDIA_EXTENSIONS:
                        summary.skipped_media += 1
                        continue
                    key = (est.st_dev, est.st_ino)
                    if key in seen_files:
                        continue
                    seen_files.add(key)
                    sidecar = _sidecar_of(entry.name, xmp_entries, by_base)
                    yield ScanEntry(entry.path, est.st_size, est.st_mtime_ns, sidecar)
            stack.extend(reversed(subdirs))
