"""`tessera flag`, `label`, `collection` and `export`: the organizing and delivering commands, beside
app/cli.py's (which registers them through `register`)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.cli import (
    EXIT_FAILED,
    EXIT_OK,
    StderrProgress,
    UsageFailure,
    _add_filter_args,
    _edited,
    _open_library,
    _print_json,
    _report_failures,
    _row_json,
    build_filter,
)

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _ids(lib: Any, refs: Sequence[str]) -> list[int]:
    return [lib.resolve_photo(ref).id for ref in refs]


def search_filter(words: Sequence[str]):  # -> Filter
    """The Filter that `tessera search WORDS...` would use (for smart collections and export)."""
    parser = argparse.ArgumentParser(prog="tessera search", add_help=False, exit_on_error=False)
    _add_filter_args(parser, full=True)
    try:
        args = parser.parse_args(list(words))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise UsageFailure(f"not search arguments: {shlex.join(words)} ({exc})") from exc
    return build_filter(args)


# -- flags and labels ---------------------------------------------------------------------------------
def _set(args: argparse.Namespace, value: str, parse: Callable[[str], Any], edit: str, done: str) -> int:
    """`tessera flag` and `tessera label`: parse the value, set it on the photos (tags.set_flag/set_label)."""
    from app.core import tags

    try:
        parsed = parse(value)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc
    with _open_library(args) as lib:
        ids = _ids(lib, args.photos)
        report = getattr(tags, edit)(lib, ids, parsed)
    return _edited(f"{len(ids)} photo(s) {done} {parsed or 'none'}", [report])


def cmd_flag(args: argparse.Namespace) -> int:
    from app.core.flags import parse_flag

    return _set(args, args.flag, parse_flag, "set_flag", "flagged")


def cmd_label(args: argparse.Namespace) -> int:
    from app.core.flags import parse_label

    return _set(args, args.label, parse_label, "set_label", "labelled")


# -- collections -----------------------------------------------------------------------------------------
def cmd_collection(args: argparse.Namespace) -> int:
    from app.core import collections

    with _open_library(args) as lib:
        action = args.action
        if action == "create":
            kind = collections.SMART if args.smart else (collections.SET if args.set else collections.COLLECTION)
            if args.search_args and not args.smart:
                raise UsageFailure("search arguments after -- are for --smart collections")
            saved = search_filter(args.search_args or []) if args.smart else None
            cid = collections.create(lib, args.name, kind=kind, parent=getattr(args, "in"), saved=saved)
            print(f"created {collections.resolve(cid).name!r} (id {cid})", file=sys.stderr)
            return EXIT_OK
        if action == "list":
            return _list_collections(collections.listing(), args.json)
        c = collections.resolve(args.name)
        if action == "show":
            f = collections.filter_of(c).with_(statuses=("ok",))
            from app.core.catalog import queries

            rows = list(queries.query(f))
            if args.json:
                _print_json([_row_json(p) for p in rows])
            else:
                for p in rows:
                    print(f"{p.id:>7}  {p.taken_at or '-':19}  {p.path}")
                print(f"{len(rows)} photos in {c.name!r}", file=sys.stderr)
            return EXIT_OK
        if action in ("add", "remove"):
            ids = _ids(lib, args.photos)
            if action == "add":
                n = collections.add(lib, c.id, ids)
                print(f"added {n} photo(s) to {c.name!r} ({len(ids) - n} were in it already)", file=sys.stderr)
            else:
                n = collections.remove(lib, c.id, ids)
                print(f"removed {n} photo(s) from {c.name!r}", file=sys.stderr)
            return EXIT_OK
        if action == "rename":
            collections.rename(lib, c.id, args.new_name)
        elif action == "delete":
            collections.delete(lib, c.id)
        elif action == "edit":
            collections.save_filter(lib, c.id, search_filter(args.search_args or []))
        elif action == "sort":
            collections.set_sort(lib, c.id, args.sort, args.desc)
        print(f"{action}: done", file=sys.stderr)
    return EXIT_OK


def _list_collections(rows: list[Any], as_json: bool) -> int:
    if as_json:
        _print_json([r.as_json() for r in rows])
        return EXIT_OK
    marks = {"set": "▸ ", "smart": "⚙ ", "collection": "  "}
    for r in rows:
        count = "" if r.count is None else f"  ({r.count:,})"
        print(f"{'    ' * r.depth}{marks[r.kind]}{r.name}{count}")
    if not rows:
        print("no collections yet: tessera collection create NAME", file=sys.stderr)
    return EXIT_OK


# -- export ------------------------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from app.core import collections, export
    from app.core.catalog import queries

    sources = [bool(args.photos), bool(args.collection), args.search is not None]
    if sum(sources) != 1:
        raise UsageFailure("say what to export: PHOTO..., --collection NAME or --search 'ARGS'")
    with _open_library(args) as lib:
        try:
            base = export.load_preset(lib, args.preset) if args.preset else export.ExportSettings()
            settings = export.settings_from_options(base, vars(args))
            if args.save_preset:
                export.save_preset(lib, args.save_preset, settings)
        except ValueError as exc:
            raise UsageFailure(str(exc)) from exc
        if args.photos:
            ids = _ids(lib, args.photos)
        elif args.collection:
            ids = collections.photo_ids(collections.resolve(args.collection))
        else:
            ids = queries.search_ids(search_filter(shlex.split(args.search)))
        report = export.export_photos(ids, Path(args.to), settings, progress=StderrProgress(args.quiet))
    _report_failures(report.failed)
    if args.json:
        _print_json(report.as_json())
    else:
        for path in report.written:
            print(path)
        print(report.summary(), file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


# -- parser ------------------------------------------------------------------------------------------------
def register(add: Add) -> None:
    p = add("flag", cmd_flag, "flag photos: pick, reject or none (Lightroom's P, X, U)")
    p.add_argument("flag", help="pick, reject or none")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photo ids or file paths")

    p = add("label", cmd_label, "set the colour label of photos: red, yellow, green, blue, purple or none")
    p.add_argument("label", help="red, yellow, green, blue, purple or none")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photo ids or file paths")

    p = add("collection", cmd_collection, "collections, smart collections and collection sets")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="a new collection (--smart: from search arguments after --; --set: a set)")
    c.add_argument("name")
    c.add_argument("--in", metavar="SET", help="inside this collection set")
    kind = c.add_mutually_exclusive_group()
    kind.add_argument("--smart", action="store_true", help="a smart collection: search arguments follow --")
    kind.add_argument("--set", action="store_true", help="a collection set, to hold collections")
    c.set_defaults(search_args=None)
    for verb, text in (("add", "put photos into a collection"), ("remove", "take photos out of a collection")):
        c = sub.add_parser(verb, help=text)
        c.add_argument("name", help="collection name or path (Set/Name) or id")
        c.add_argument("photos", nargs="+", metavar="PHOTO", help="photo ids or file paths")
    c = sub.add_parser("list", help="every collection with its photo count")
    c.add_argument("--json", action="store_true")
    c = sub.add_parser("show", help="the photos of a collection, in its order (JSON as tessera search --json)")
    c.add_argument("name")
    c.add_argument("--json", action="store_true")
    c = sub.add_parser("rename", help="rename a collection")
    c.add_argument("name")
    c.add_argument("new_name")
    c = sub.add_parser("delete", help="delete a collection (the photos stay in the library)")
    c.add_argument("name")
    c = sub.add_parser("edit", help="new criteria for a smart collection: search arguments after --")
    c.add_argument("name")
    c.set_defaults(search_args=None)
    c = sub.add_parser("sort", help="order a collection: manual (by hand) or date, name, size, rating, imported")
    c.add_argument("name")
    c.add_argument("sort")
    c.add_argument("--desc", action="store_true")

    from app.core.export import FORMATS, METADATA, SHARPENING

    p = add("export", cmd_export, "export photos to a folder: resized, converted, metadata stripped")
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="photo ids or file paths")
    p.add_argument("--collection", metavar="NAME", help="the photos of this collection, in its order")
    p.add_argument("--search", metavar="'ARGS'", help="the photos this search finds, e.g. '--tag dog --rating 4'")
    p.add_argument("--to", required=True, metavar="DIR", help="folder to write into (made if missing)")
    p.add_argument("--format", choices=FORMATS, help="jpeg (default), png, webp or original (the file as is)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--long-edge", type=int, metavar="N", help="resize so the long edge is at most N pixels")
    size.add_argument("--megapixels", type=float, metavar="MP", help="resize to at most this many megapixels")
    p.add_argument("--quality", type=int, metavar="Q", help="JPEG/WebP quality 1-100 (default 85)")
    p.add_argument("--sharpen", choices=SHARPENING, help="output sharpening (default off)")
    p.add_argument("--metadata", choices=METADATA, help="what metadata to keep (default all)")
    p.add_argument("--strip", choices=("location", "all"), help="shorthand: --metadata no-location / none")
    p.add_argument("--template", metavar="T", help="file name template, e.g. '{date:%%Y%%m%%d}_{name}_{seq:03}'")
    p.add_argument("--preset", metavar="NAME", help="start from a saved preset")
    p.add_argument("--save-preset", metavar="NAME", help="save these settings as a preset")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def split_search_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`tessera collection create NAME --smart -- SEARCH ARGS`: what follows `--` are search arguments
    for commands that take them, and keeps its usual meaning (end of options) for the others."""
    if "--" in argv:
        at = argv.index("--")
        head = argv[:at]
        if "collection" in head and head.index("collection") + 1 < at and head[head.index("collection") + 1] in (
            "create", "edit"):  # fmt: skip
            args = parser.parse_args(head)
            args.search_args = argv[at + 1 :]
            return args
    return parser.parse_args(argv)
