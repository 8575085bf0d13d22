"""The studio catalog's commands: `tessera catalog info|use|copy` and `tessera roots`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _location_arg(value: str):  # -> CatalogLocation
    """A postgresql:// URL, a SQLite catalog file, or a library folder (its catalog.sqlite)."""
    from app.core.catalog.engine import parse_location
    from app.core.library import CATALOG

    if "://" not in value and Path(value).expanduser().is_dir():
        value = str(Path(value).expanduser() / CATALOG)
    return parse_location(value)


def cmd_catalog_info(args: argparse.Namespace) -> int:
    from app.cli import _open_library, _print_json
    from app.core.catalog.connection import current_version
    from app.core.catalog.engine import describe

    with _open_library(args) as lib:
        info = {
            "library": str(lib.root),
            "catalog": lib.location.display,
            "engine": describe(lib.db),
            "schema_version": current_version(lib.db),
            "photos": lib.photo_count(),
        }
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:15} {value}")
    return 0


def cmd_catalog_use(args: argparse.Namespace) -> int:
    """Name the catalog the library folder opens from now on (tried first: a wrong URL is refused)."""
    from app.cli import UsageFailure, library_root
    from app.core.library import Library, set_catalog_setting

    root = library_root(args)
    if args.url == "sqlite":
        set_catalog_setting(root, None)
        print(f"{root} uses its own catalog.sqlite again")
        return 0
    if "://" not in args.url:
        raise UsageFailure("give a postgresql://user@host:port/db URL, or 'sqlite' for the folder's own catalog")
    with Library.open(root, catalog=args.url, auto_backup=False) as lib:
        where = lib.location.display
    set_catalog_setting(root, args.url)
    print(f"{root} now opens the studio catalog {where}")
    return 0


def cmd_catalog_copy(args: argparse.Namespace) -> int:
    from app.cli import library_root
    from app.core.catalog.copy import copy_catalog

    src, dst = _location_arg(args.src), _location_arg(args.dst)
    counts = copy_catalog(
        src, dst, library_root(args) / "backups", lambda table, n: print(f"  {table:18} {n:>9,} rows", file=sys.stderr)
    )
    print(
        f"copied {counts.get('photo', 0):,} photos ({sum(counts.values()):,} rows) from {src.display} to {dst.display}"
    )
    return 0


def cmd_roots(args: argparse.Namespace) -> int:
    from app.cli import UsageFailure, _open_library, _print_json
    from app.core.catalog import roots

    with _open_library(args) as lib:
        if args.map:
            ref, folder = args.map
            root = roots.find_root(ref)
            if root is None:
                raise UsageFailure(f"no library root {ref!r} (see: tessera roots)")
            local = os.path.abspath(os.path.expanduser(folder))  # as mounted here: no symlinks resolved
            if not Path(local).is_dir():
                raise UsageFailure(f"no such folder on this workstation: {local}")
            lib.writer.call(lambda: roots.map_root(root.id, local))
            roots.activate(roots.load_path_map())
            print(f"root {root.id} ({root.path}) is {local} on this workstation")
        listed = roots.list_roots()
    if args.json:
        _print_json([vars(r) for r in listed])
        return 0
    for r in listed:
        where = "" if r.local == r.path else f"  -> {r.local}"
        print(f"{r.id:>4}  {'ok     ' if r.found else 'MISSING'}  {r.path}{where}")
    missing = [r for r in listed if not r.found]
    if missing:
        print(f"{len(missing)} root(s) not found here: map each with: tessera roots --map ID FOLDER", file=sys.stderr)
    return 1 if missing else 0


def add_studio_commands(add: AddCommand) -> None:
    p = add("catalog", cmd_catalog_info, "where the library's catalog is; switch or copy it between engines")
    actions = p.add_subparsers(dest="catalog_action", metavar="ACTION")
    info = actions.add_parser("info", help="engine, location, schema version and photo count")
    info.set_defaults(func=cmd_catalog_info)
    info.add_argument("--json", action="store_true")
    p.set_defaults(json=False)
    use = actions.add_parser("use", help="make the library folder open this catalog by default")
    use.add_argument("url", help="postgresql://user@host:port/db, or 'sqlite' for the folder's own catalog.sqlite")
    use.set_defaults(func=cmd_catalog_use)
    copy = actions.add_parser("copy", help="copy a whole catalog into an empty one, e.g. SQLite -> PostgreSQL")
    copy.add_argument("src", help="postgresql:// URL, catalog .sqlite file or library folder")
    copy.add_argument("dst", help="the same forms; must hold no photos")
    copy.set_defaults(func=cmd_catalog_copy)

    p = add("roots", cmd_roots, "the library's top folders and where this workstation finds them")
    p.add_argument(
        "--map", nargs=2, metavar=("ROOT", "FOLDER"), help="this workstation finds ROOT (id or path) at FOLDER"
    )
    p.add_argument("--json", action="store_true")
