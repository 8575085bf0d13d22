"""`tessera` command line (imports no GUI module: app.__main__ opens the desktop app when no command is given).

Exit codes: 0 ok, 1 some files failed or a problem was found (listed on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app import __version__, cli_people
from app.cli_studio import add_studio_commands
from app.core.catalog.claims import LEASE_S
from app.core.errors import TesseraError
from app.core.library import PLACES_STAGE
from app.core.records import STAGES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class StderrProgress:
    """One self-updating line on a terminal; a line every few seconds when stderr is a log."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p: Any) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        final = p.total and p.done >= p.total
        if not self.tty and now - self._last < 2.0 and not final:
            return
        self._last = now
        line = p.describe()
        if self.tty:
            sys.stderr.write("\r\033[K" + line[:200])
            if final:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _report_failures(failed: Sequence[tuple[str, str]]) -> None:
    for path, reason in failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)


def library_root(args: argparse.Namespace) -> Path:
    from app.core.library import default_library_path

    return (Path(args.library) if args.library else default_library_path()).expanduser().resolve()


def _open_library(args: argparse.Namespace):  # -> Library
    from app.core.library import Library

    lib = Library.open(Path(args.library) if args.library else None, catalog=args.catalog)
    lib.on_writer_wait = lambda message: print(f"tessera: {message}", file=sys.stderr)
    return lib


# -- commands ----------------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise UsageFailure(f"no such file or folder: {p}")
    with _open_library(args) as lib:
        report = lib.import_folders(
            paths, analyze=not args.no_analyze, progress=StderrProgress(args.quiet), processes=args.jobs
        )
    _report_failures(report.failed)
    for path, stage, reason in report.run.stage_failures:
        print(f"warning: {path}: {stage} failed: {reason}", file=sys.stderr)
    if args.json:
        _print_json(
            {
                "scanned": report.scanned,
                "new": report.count("new"),
                "changed": report.count("changed"),
                "moved": report.count("moved"),
                "unchanged": report.unchanged,
                "sidecars_reread": report.sidecars_reread,
                "missing": report.missing,
                "failed": [{"path": p, "reason": r} for p, r in report.failed],
                "cancelled": report.cancelled,
                "seconds": round(report.run.seconds, 2),
                # CPU ms each step took in the workers, summed over the photos (bench/peer_bench.py)
                "stage_ms": {stage: round(ms, 1) for stage, ms in report.run.stage_ms.items()},
            }
        )
    else:
        print(report.summary())
    return EXIT_FAILED if report.failed else EXIT_OK


ANALYZE_STAGES = (*STAGES, PLACES_STAGE)


def cmd_analyze(args: argparse.Namespace) -> int:
    stages = args.stages.split(",") if args.stages else None
    with _open_library(args) as lib:
        if args.auto_tagging is not None:
            from app.core.tags import retag_library

            lib.set_setting("auto_tagging", str(args.auto_tagging))
            changed = retag_library(lib, args.auto_tagging)
            print(f"auto_tagging threshold {args.auto_tagging}: tags re-applied to {changed} photos")
        try:
            stats = lib.analyze(
                stages, force=args.force, progress=StderrProgress(args.quiet), processes=args.jobs, lease_s=args.lease
            )
        except ValueError as exc:
            raise UsageFailure(str(exc)) from exc
    _report_failures(stats.failed)
    for path, stage, reason in stats.stage_failures:
        print(f"warning: {path}: {stage} failed: {reason}", file=sys.stderr)
    print(f"analyzed {stats.done} photos in {stats.seconds:.1f} s" + (" (cancelled)" if stats.cancelled else ""))
    return EXIT_FAILED if stats.failed else EXIT_OK


def _parse_colors(values: Sequence[str]) -> tuple[tuple[str, float], ...]:
    from app.core.palette import PALETTE

    out = []
    for value in values:
        name, _, share = value.partition(":")
        name = name.strip().lower()
        if name not in PALETTE:
            raise UsageFailure(f"unknown color {name!r}; choose from {', '.join(PALETTE)}")
        try:
            out.append((name, float(share) if share else 1.0))
        except ValueError as exc:
            raise UsageFailure(f"color share must be a number: {value!r} (e.g. blue:20)") from exc
    return tuple(out)


def _parse_faces(value: str | None) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    try:
        if value.endswith("+"):
            return int(value[:-1]), None
        if "-" in value:
            lo, hi = value.split("-", 1)
            return int(lo), int(hi)
        return int(value), int(value)
    except ValueError as exc:
        raise UsageFailure(f"--faces takes N, N-M or N+ (e.g. 1, 2-5, 6+), not {value!r}") from exc


def _person_ids(names: Sequence[str]) -> tuple[int, ...]:
    from app.core.catalog.people import find_person, person_names

    ids = []
    for name in names:
        person = find_person(name)
        if person is None:
            known = ", ".join(person_names()[:20]) or "none yet: tessera people"
            raise UsageFailure(f"no person named {name!r} (named: {known})")
        ids.append(person.id)
    return tuple(ids)


def _parse_near(args: argparse.Namespace, lib: Any) -> tuple[float, float, float] | None:
    """--near LAT,LON or --near-photo PHOTO, with --within KM (default 1)."""
    near, photo_ref, within = getattr(args, "near", None), getattr(args, "near_photo", None), args.within
    if near and photo_ref:
        raise UsageFailure("give --near or --near-photo, not both")
    if not near and not photo_ref:
        if within is not None:
            raise UsageFailure("--within needs --near LAT,LON or --near-photo PHOTO")
        return None
    km = 1.0 if within is None else within
    if km <= 0:
        raise UsageFailure(f"--within takes a distance in km above 0, not {km:g}")
    if photo_ref:
        photo = lib.resolve_photo(photo_ref)
        if photo.gps_lat is None or photo.gps_lon is None:
            raise UsageFailure(f"photo {photo_ref} has no GPS position")
        return photo.gps_lat, photo.gps_lon, km
    try:
        lat, lon = (float(v) for v in near.split(","))
    except ValueError as exc:
        raise UsageFailure(f"--near takes LAT,LON in decimal degrees (e.g. 48.8584,2.2945), not {near!r}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UsageFailure(f"--near: latitude is -90..90 and longitude -180..180, not {near!r}")
    return lat, lon, km


def build_filter(args: argparse.Namespace, lib: Any = None):  # -> Filter
    from app.core.catalog.queries import SORTS, Filter

    min_faces, max_faces = _parse_faces(getattr(args, "faces", None))
    if args.sort not in SORTS:
        raise UsageFailure(f"--sort takes one of {', '.join(SORTS)}")
    f = Filter(
        text=" ".join(getattr(args, "text", []) or []),
        tags=tuple(getattr(args, "tag", None) or ()),
        any_tag=getattr(args, "any_tag", False),
        colors=_parse_colors(getattr(args, "color", None) or ()),
        camera=args.camera or "",
        since=args.since or "",
        until=args.until or "",
        has_gps=True if args.has_gps else None,
        min_faces=min_faces,
        max_faces=max_faces,
        formats=tuple(f.upper() for f in (args.format or ())),
        min_rating=getattr(args, "rating", None),
        flags=_flags_and_labels(getattr(args, "flag", None), "flag"),
        labels=_flags_and_labels(getattr(args, "label", None), "label"),
        folder=args.folder or "",
        statuses=("ok", "error", "missing") if getattr(args, "all", False) else ("ok",),
        person_ids=_person_ids(getattr(args, "person", None) or ()),
        any_person=getattr(args, "any_person", False),
        sort=args.sort,
        descending=args.desc,
        place=args.place or "",
        near=_parse_near(args, lib),
    )
    if getattr(args, "collection", None):
        from app.core.collections import within

        f = within(f, args.collection)
    return f


def _flags_and_labels(values: Sequence[str] | None, kind: str) -> tuple[str, ...]:
    from app.core.flags import NO_LABEL, parse_flag, parse_label

    try:
        if kind == "flag":
            return tuple(parse_flag(v) for v in values or ())
        return tuple(parse_label(v) or NO_LABEL for v in values or ())
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc


def _row_json(photo: Any) -> dict[str, Any]:
    return {
        "id": photo.id,
        "path": photo.path,
        "status": photo.status,
        "format": photo.format,
        "width": photo.width,
        "height": photo.height,
        "bytes": photo.size,
        "taken_at": photo.taken_at,
        "make": photo.make,
        "model": photo.model,
        "gps": [photo.gps_lat, photo.gps_lon] if photo.gps_lat is not None else None,
        "faces": photo.face_count,
        "error": photo.error,
    }


def _rows_json(photos: Sequence[Any]) -> list[dict[str, Any]]:
    """`_row_json` of each photo with its place (one query for all of them)."""
    from app.core.catalog.places import places_of

    found = places_of([p.id for p in photos])
    return [{**_row_json(p), "place": found.get(p.id)} for p in photos]


def cmd_list(args: argparse.Namespace) -> int:
    from app.core.catalog import queries

    with _open_library(args) as lib:
        try:
            f = build_filter(args, lib)
            rows = list(queries.query(f).limit(args.limit) if args.limit else queries.query(f))
        except ValueError as exc:
            raise UsageFailure(str(exc)) from exc
        if args.json:
            _print_json(_rows_json(rows))
            return EXIT_OK
        for p in rows:
            size = f"{p.width}x{p.height}" if p.width else "-"
            camera = " ".join(x for x in (p.make, p.model) if x) or "-"
            print(f"{p.id:>7}  {p.taken_at or '-':19}  {camera[:28]:28}  {size:>11}  {p.format or '-':5}  {p.path}")
        print(f"{len(rows)} photos", file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from app.core.catalog.present import photo_json

    with _open_library(args) as lib:
        info = photo_json(lib.resolve_photo(args.photo))
    if args.json:
        _print_json(info)
    else:
        for key in ("public_id", "path", "status", "error", "format", "width", "height", "bytes", "created_at"):
            print(f"{key:12} {info[key]}")
        print(f"{'camera':12} {' '.join(v for v in info['camera'].values() if v)}")
        print(f"{'predominant':12} {', '.join(f'{n} {s}%' for n, s in info['predominant']['google'])}")
        print(f"{'faces':12} {info['faces']}")
        print(f"{'pHash':12} {info['phash']}")
        print(f"{'tags':12} {', '.join(info['tags'])}")
        place = info["place"] or {}
        print(f"{'place':12} {', '.join(place[k] for k in ('city', 'region', 'country') if place.get(k)) or '-'}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from app.core.stats import library_stats

    with _open_library(args) as lib:
        stats = library_stats(lib)
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            if isinstance(value, dict):
                print(f"{key}:")
                for k, v in value.items():
                    print(f"  {k:30} {v}")
            else:
                print(f"{key:32} {value}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    with _open_library(args) as lib:
        result = lib.check()
    ok = result["quick_check"] == "ok" and result["integrity_check"] == "ok"
    if args.json:
        _print_json(result)
    else:
        print(f"catalog integrity: {result['integrity_check']}")
        missing = result["files_not_found"]
        print(f"photo files not found on disk: {len(missing)}")
        for path in missing:
            print(f"  {path}")
    return EXIT_OK if ok else EXIT_FAILED


def cmd_backup(args: argparse.Namespace) -> int:
    with _open_library(args) as lib:
        path = lib.backup()
    print(path)
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from app.core.catalog.backups import list_backups, restore_backup, restore_postgres
    from app.core.library import CATALOG, resolve_location

    root = library_root(args)
    if args.backup is None:
        for b in list_backups(root / "backups"):
            print(b)
        return EXIT_OK
    backup = Path(args.backup)
    if not backup.is_file():
        raise UsageFailure(f"no such backup file: {backup}")
    location = resolve_location(root, args.catalog)
    if location.is_postgres:  # a pg_dump into the studio catalog, in one transaction
        try:
            restore_postgres(backup, location)
        except ValueError as exc:
            raise UsageFailure(str(exc)) from exc
        print(f"restored {backup} into {location.display}")
        return EXIT_OK
    try:
        safety = restore_backup(backup, root / CATALOG, root / "backups")
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc
    print(f"restored {backup} into {root / CATALOG}")
    if safety:
        print(f"the catalog it replaced was kept as {safety}")
    return EXIT_OK


def cmd_phash_distance(args: argparse.Namespace) -> int:
    from app.core.analysis.hashing import from_hex, hamming, similarity

    try:
        a, b = from_hex(args.a), from_hex(args.b)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc
    d = hamming(a, b)
    if args.json:
        _print_json({"distance": d, "similarity": similarity(d)})
    else:
        print(f"distance {d}")
        print(f"similarity {similarity(d):g}")
    return EXIT_OK


def cmd_similar(args: argparse.Namespace) -> int:
    from app.core.similar import SimilarityIndex

    with _open_library(args) as lib:
        photo = lib.resolve_photo(args.photo)
        index = SimilarityIndex.load()
        try:
            hits = index.query(photo.id, args.top)
        except KeyError as exc:
            print(f"tessera: {exc.args[0]}", file=sys.stderr)
            return EXIT_FAILED
        paths = dict(_photo_paths([pid for pid, _ in hits]))
    if args.json:
        _print_json([{"id": pid, "path": paths.get(pid), "similarity": round(score, 4)} for pid, score in hits])
    else:
        for pid, score in hits:
            print(f"{score:6.3f}  {pid:>7}  {paths.get(pid)}")
    return EXIT_OK


def _photo_paths(ids: Sequence[int]) -> list[tuple[int, str]]:
    from app.core.catalog.models import Photo

    return list(Photo.select(Photo.id, Photo.path).where(Photo.id.in_(list(ids))).tuples())


def cmd_trashed(args: argparse.Namespace) -> int:
    from app.core.trash import trashed

    with _open_library(args) as lib:
        records = trashed(lib)
        rows = [{"record": r.id, "photo": r.photo_id, "path": r.path, "trashed_at": r.trashed_at} for r in records]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"{r['record']:>6}  {r['trashed_at']}  {r['path']}")
        print(f"{len(rows)} photos in the trash (restore one with: tessera untrash RECORD)", file=sys.stderr)
    return EXIT_OK


def cmd_untrash(args: argparse.Namespace) -> int:
    from app.core.trash import restore

    with _open_library(args) as lib:
        try:
            path = restore(lib, args.record)
        except ValueError as exc:
            print(f"tessera: {exc}", file=sys.stderr)
            return EXIT_FAILED
    print(f"restored {path}")
    return EXIT_OK


def cmd_export_xmp(args: argparse.Namespace) -> int:
    from app.core.xmp.export import export_sidecars

    if bool(args.photos) == args.all:
        raise UsageFailure("name photos (ids or paths) or give --all, not both")
    with _open_library(args) as lib:
        ids = None if args.all else [lib.resolve_photo(ref).id for ref in args.photos]
        report = export_sidecars(lib, ids, progress=StderrProgress(args.quiet or not args.all))
    _report_failures(report.failed)
    if args.json:
        _print_json({"written": report.written, "failed": [{"path": p, "reason": r} for p, r in report.failed]})
    else:
        for path in report.written:
            print(path)
        print(report.summary(), file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def cmd_tag(args: argparse.Namespace) -> int:
    from app.core import tags

    if not args.add and not args.remove:
        raise UsageFailure("say what to do: --add TAG and/or --remove TAG")
    with _open_library(args) as lib:
        ids = [lib.resolve_photo(ref).id for ref in args.photos]
        reports = [tags.add_user_tag(lib, ids, name) for name in args.add]
        reports += [tags.remove_tag(lib, ids, name) for name in args.remove]
    return _edited(f"{len(ids)} photo(s) tagged", reports)


# what `tessera rate` takes besides 1-5, as Lightroom names them
_RATING_WORDS = {"0": None, "none": None, "x": -1, "reject": -1, "rejected": -1}


def cmd_rate(args: argparse.Namespace) -> int:
    from app.core import tags

    word = args.rating.strip().lower()
    if word in _RATING_WORDS:
        rating = _RATING_WORDS[word]
    elif word in {"1", "2", "3", "4", "5"}:
        rating = int(word)
    else:
        raise UsageFailure(f"a rating is 1-5, 0 or none (clear), x or reject; not {args.rating!r}")
    with _open_library(args) as lib:
        ids = [lib.resolve_photo(ref).id for ref in args.photos]
        report = tags.set_rating(lib, ids, rating)
    return _edited(f"{len(ids)} photo(s) rated {args.rating}", [report])


def cmd_people(args: argparse.Namespace) -> int:
    from app.core.xmp.export import ExportReport

    sidecars = ExportReport()  # written as the user decides, where the library asks for it
    with _open_library(args) as lib:
        try:
            message = cli_people.run(lib, args, sidecars)
        except cli_people.PeopleUsage as exc:
            raise UsageFailure(str(exc)) from exc
    if message:
        print(message)
    _report_failures(sidecars.failed)
    return EXIT_FAILED if sidecars.failed else EXIT_OK


def _edited(summary: str, reports: list[Any]) -> int:
    """An edit is stored in the catalog; sidecars auto-written with it may have failed (exit 1)."""
    failed = [f for r in reports if r is not None for f in r.failed]
    _report_failures(failed)
    print(summary, file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


# -- parser --------------------------------------------------------------------------------------------
class UsageFailure(Exception):
    """Bad arguments found after parsing: exit 2 with the message."""


def _add_filter_args(p: argparse.ArgumentParser, full: bool) -> None:
    p.add_argument("--folder", help="only photos under this folder")
    p.add_argument("--camera", help="camera make or model contains this text")
    p.add_argument("--since", help="taken on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", help="taken on or before YYYY[-MM[-DD]]")
    p.add_argument("--format", action="append", help="container format, e.g. JPEG, PNG, HEIC (repeatable)")
    p.add_argument("--has-gps", action="store_true", help="only photos with a GPS position")
    p.add_argument("--place", help="taken in this country (name or code), region or city")
    p.add_argument("--near", metavar="LAT,LON", help="taken within --within km of this position")
    p.add_argument("--near-photo", metavar="PHOTO", help="taken within --within km of this photo (id or path)")
    p.add_argument("--within", type=float, metavar="KM", help="distance for --near/--near-photo (default 1 km)")
    if full:
        p.add_argument("text", nargs="*", help="words matched against file name, folder, camera, tags and places")
        p.add_argument("--tag", action="append", help="has this tag (repeatable; all must match)")
        p.add_argument("--any-tag", action="store_true", help="tags match if any of them does")
        p.add_argument("--color", action="append", help="palette color with minimum share, e.g. blue:20")
        p.add_argument("--faces", help="number of faces: N, N-M or N+ (e.g. 1, 2-5, 6+)")
        p.add_argument("--rating", type=int, help="minimum star rating")
        p.add_argument("--flag", action="append", help="pick, reject or none (repeatable: any of them)")
        p.add_argument("--label", action="append", help="colour label: red, yellow, green, blue, purple or none")
        p.add_argument("--collection", metavar="NAME", help="only photos in this collection")
        p.add_argument("--person", action="append", help="a named person is in the photo (repeatable; all must be)")
        p.add_argument("--any-person", action="store_true", help="persons match if any of them is in the photo")
    p.add_argument("--all", action="store_true", help="include failed and missing files")
    p.add_argument("--sort", default="date", help="date, name, size, rating or imported (default date)")
    p.add_argument("--desc", action="store_true", help="newest/largest first")
    p.add_argument("--limit", type=int, help="at most this many rows")
    p.add_argument("--json", action="store_true", help="print JSON")


def _find_cluster(clusters: Sequence[Any], cluster_id: int) -> Any:
    for c in clusters:
        if c.id == cluster_id:
            return c
    raise UsageFailure(f"no duplicate cluster {cluster_id} with these settings (run 'tessera dupes' to list them)")


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageFailure("not asking on a non-interactive input: add --yes to confirm")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_dupes(args: argparse.Namespace) -> int:
    from app.core import find_duplicates, trash
    from app.core.catalog import duplicates
    from app.core.dupes import find_clusters

    tiers = args.tier or find_duplicates.DEFAULT_TIERS
    with _open_library(args) as lib:
        hashes, facts, sha = duplicates.load()
        edited = find_duplicates.library_links(lib, facts, sha, tiers, progress=StderrProgress())
        clusters = find_clusters(
            hashes, facts, sha, tiers=tiers, threshold=args.threshold, rotations=args.rotations,
            not_duplicates=duplicates.not_duplicate_pairs(), edited=edited,
        )  # fmt: skip
        if args.not_duplicates is not None:
            c = _find_cluster(clusters, args.not_duplicates)
            n = duplicates.mark_not_duplicates(lib, [m.id for m in c.members])
            print(f"remembered {n} pair(s) as different photos; cluster {c.id} will not be proposed again")
            return EXIT_OK
        if args.trash_others is not None:
            c = _find_cluster(clusters, args.trash_others)
            others = [m for m in c.members if m.id != c.keeper]
            print(f"keep:  {facts[c.keeper].path}  ({c.keeper_reason})")
            for m in others:
                print(f"trash: {facts[m.id].path}  ({facts[m.id].size:,} bytes, similarity {m.similarity:.3f})")
            print(f"{len(others)} file(s), {c.reclaimable_bytes / 1e6:.1f} MB to the system trash (restorable)")
            if not _confirm("Move them to the trash?", args.yes):
                print("nothing moved")
                return EXIT_OK
            results = trash.trash_photos(lib, [m.id for m in others])
            _report_failures([(r.path, r.error) for r in results if r.error])
            print(f"moved {sum(1 for r in results if not r.error)} file(s) to the trash ('tessera trashed' lists them)")
            return EXIT_FAILED if any(r.error for r in results) else EXIT_OK
    if args.json:
        _print_json([duplicates.cluster_json(c, facts) for c in clusters])
        return EXIT_OK
    for c in clusters:
        print(f"cluster {c.id}  [{c.tier}]  {len(c.members)} photos, {c.reclaimable_bytes / 1e6:.1f} MB reclaimable")
        for m in c.members:
            mark = "keep " if m.id == c.keeper else "     "
            print(f"  {mark} d={m.distance:<2} sim={m.similarity:.3f}  {facts[m.id].path}{_geometry(m)}")
        print(f"        keeper: {c.keeper_reason}")
    total = sum(c.reclaimable_bytes for c in clusters)
    print(f"{len(clusters)} cluster(s), {total / 1e6:.1f} MB reclaimable", file=sys.stderr)
    return EXIT_OK


def _geometry(m: Any) -> str:
    """A member's edited-tier match with its keeper, in a few words ("" when there is none)."""
    t = m.transform
    if t is None:
        return ""
    x, y, w, h = t.crop
    kinds = ", ".join(t.edits) or "no edit"
    where = f"at {x},{y} {w}x{h} on the keeper, scale {t.scale:g}, {t.rotation:g}°"
    return f"  [{m.tier}: {kinds}; {where}, {t.inliers} inliers]"


def _tiers(value: str) -> list[str]:
    """--tier exact,similar (a comma list; the option also repeats)."""
    from app.core.dupes import TIERS

    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in TIERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TIERS)} (not {', '.join(unknown) or 'nothing'})")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Tessera: photo library with offline analysis and duplicate finding. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"tessera {__version__}")
    parser.add_argument("--library", help="library folder (default: $TESSERA_LIBRARY or the user data dir)")
    parser.add_argument(
        "--catalog",
        help="studio catalog postgresql://user@host:port/db (default: $TESSERA_CATALOG, the library's setting, "
        "or its catalog.sqlite)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("import", cmd_import, "import folders or files into the library (and analyze them)")
    p.add_argument("paths", nargs="+", help="folders or files")
    p.add_argument("--no-analyze", action="store_true", help="only read files and metadata; analyze later")
    p.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add("analyze", cmd_analyze, "run analysis stages on photos that need them (resumes)")
    p.add_argument("--stages", help=f"comma-separated: {','.join(ANALYZE_STAGES)} (default all)")
    p.add_argument("--force", action="store_true", help="re-run even where results are current")
    p.add_argument("--auto-tagging", type=float, help="new auto_tagging threshold (0-1), re-applied to all")
    p.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    lease = f"seconds before a killed analyser's photos go to other analysers (default {LEASE_S:.0f})"
    p.add_argument("--lease", type=float, default=LEASE_S, metavar="S", help=lease)

    _add_filter_args(add("list", cmd_list, "list photos"), full=False)
    _add_filter_args(add("search", cmd_list, "search photos with the GUI's filters"), full=True)

    p = add("show", cmd_show, "show one photo (id or path)")
    p.add_argument("photo", help="photo id or file path")
    p.add_argument("--json", action="store_true", help="print JSON in the reference documents' shapes")

    p = add("stats", cmd_stats, "library statistics")
    p.add_argument("--json", action="store_true")
    p = add("check", cmd_check, "check catalog integrity and that photo files exist")
    p.add_argument("--json", action="store_true")
    add("backup", cmd_backup, "back up the catalog now")
    p = add("restore", cmd_restore, "restore the catalog from a backup (without BACKUP: list backups)")
    p.add_argument("backup", nargs="?", help="backup file to restore")

    p = add("similar", cmd_similar, "photos that look like PHOTO (by the classifier's features)")
    p.add_argument("photo", help="photo id or file path")
    p.add_argument("--top", type=int, default=20, help="how many (default 20)")
    p.add_argument("--json", action="store_true")

    from app.core.dupes import DEFAULT_THRESHOLD, MAX_THRESHOLD, TIERS

    p = add("dupes", cmd_dupes, "duplicate clusters: exact copies, similar-looking photos and edited copies")
    p.add_argument(
        "--tier",
        type=_tiers,
        action="extend",
        help=f"{', '.join(TIERS)}: one or several (comma list or repeated; default all); exact copies are in all",
    )
    p.add_argument(
        "--threshold",
        type=int,
        default=DEFAULT_THRESHOLD,
        choices=range(MAX_THRESHOLD + 1),
        metavar="N",
        help=f"max pHash distance in bits, 0-{MAX_THRESHOLD} (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--rotations",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="match rotated and mirrored copies (default on)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--trash-others", type=int, metavar="CLUSTER_ID", help="keep the proposed keeper, trash the rest")
    p.add_argument("--not-duplicates", type=int, metavar="CLUSTER_ID", help="remember a cluster as different photos")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add("export-xmp", cmd_export_xmp, "write tags, rating and color label to XMP sidecars (merged in place)")
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="photo ids or file paths")
    p.add_argument("--all", action="store_true", help="every photo in the library")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add("tag", cmd_tag, "add or remove your own tags on photos (an auto tag you remove stays removed)")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photo ids or file paths")
    p.add_argument("--add", action="append", default=[], metavar="TAG", help="tag to add (repeat for more)")
    p.add_argument("--remove", action="append", default=[], metavar="TAG", help="tag to remove (repeat for more)")

    p = add("rate", cmd_rate, "set the star rating of photos")
    p.add_argument("rating", help="1-5 stars, 0 or none to clear, x or reject")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photo ids or file paths")

    cli_people.add_parser(add, cmd_people)

    p = add("trashed", cmd_trashed, "photos Tessera moved to the system trash")
    p.add_argument("--json", action="store_true")
    p = add("untrash", cmd_untrash, "put a trashed photo back where it was")
    p.add_argument("record", type=int, help="record number from 'tessera trashed'")

    from app.cli_organize import register

    register(add)
    add_studio_commands(add)

    p = add("phash-distance", cmd_phash_distance, "Hamming distance and similarity of two 64-bit pHashes")
    p.add_argument("a", help="16 hex digits")
    p.add_argument("b", help="16 hex digits")
    p.add_argument("--json", action="store_true")
    return parser


def glue_negative_positions(argv: Sequence[str]) -> list[str]:
    """`--near -22.95,-43.21` as `--near=-22.95,-43.21`: argparse would take a southern or western
    position for an option of its own."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--near" and arg[:1] == "-" and arg[1:2].isdigit():
            out[-1] = f"--near={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (`tessera` without a command opens the desktop app: see app.__main__)."""
    parser = build_parser()
    return run(parser, parse_args(parser, argv))


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """parser.parse_args, except that search arguments follow `--` in `collection create --smart`."""
    from app.cli_organize import split_search_args

    return split_search_args(parser, glue_negative_positions(sys.argv[1:] if argv is None else argv))


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if getattr(args, "func", None) is None:
        parser.error("choose a command (run tessera without one to open the desktop app)")

    if getattr(args, "limit", None) is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    try:
        return args.func(args)
    except UsageFailure as exc:
        parser.error(str(exc))  # exits 2
    except TesseraError as exc:
        print(f"tessera: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `tessera list | head`
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("\ntessera: interrupted; work done so far is saved, run the command again to resume", file=sys.stderr)
        return 130
    return EXIT_OK
