"""`tessera people`: list the persons and unnamed groups, and take the decisions only a person
takes (name, merge, confirm, reject, name one face). app/cli.py registers it; no GUI module here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


class PeopleUsage(Exception):
    """Bad arguments found while running: app.cli turns it into exit 2 with the message."""


def add_parser(add: Callable[..., argparse.ArgumentParser], func: Callable[[argparse.Namespace], int]) -> None:
    from app.core.people.grouping import DEFAULT_THRESHOLD

    p = add("people", func, "persons and unnamed groups of faces; name, merge, confirm, reject")
    p.add_argument(
        "--json", action="store_true", help="print JSON: [{id, name, faces: [{face_id, photo, box, state}]}]"
    )
    p.add_argument("--all", action="store_true", help="also list the faces in no group (under id null)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    a = actions.add_parser("name", help="name a group (its faces become that person's) or rename a person")
    a.add_argument("id", type=int, help="person or group id (from tessera people)")
    a.add_argument("name")
    a = actions.add_parser("merge", help="merge persons or groups into the first (a named one gives the name)")
    a.add_argument("ids", type=int, nargs="+", metavar="ID")
    a = actions.add_parser("confirm", help="yes, these suggestions are the person (all of them without FACE)")
    a.add_argument("id", type=int)
    a.add_argument("faces", type=int, nargs="*", metavar="FACE")
    a = actions.add_parser("reject", help="not this person: the faces leave and are never suggested to it again")
    a.add_argument("id", type=int)
    a.add_argument("faces", type=int, nargs="+", metavar="FACE")
    a = actions.add_parser("name-face", help="say who one face is (face ids: tessera show PHOTO --json)")
    a.add_argument("face", type=int)
    a.add_argument("name")
    a = actions.add_parser("forget", help="forget a person or dissolve a group: its faces become unnamed")
    a.add_argument("id", type=int)
    a = actions.add_parser("regroup", help="group the unnamed faces again (names and confirmed faces stay)")
    a.add_argument(
        "--threshold", type=float, help=f"new grouping distance (default {DEFAULT_THRESHOLD}; lower: stricter)"
    )


def run(lib: Any, args: argparse.Namespace, sidecars: Any = None) -> str | None:
    """Do the action (None: list). Returns what to print, or None when the listing was printed. The
    sidecars a decision auto-writes are reported into `sidecars` (an ExportReport)."""
    from peewee import DoesNotExist

    from app.core.people import persons

    lib.place_new_faces()  # faces an interrupted analysis left unplaced
    report = {"sidecars": sidecars}
    actions: dict[str, Callable[[], str]] = {
        "name": lambda: f"{args.name}: person {persons.name(lib, args.id, args.name, **report)}",
        "merge": lambda: f"merged into {persons.merge(lib, args.ids, **report)}",
        "confirm": lambda: f"{persons.confirm(lib, args.id, args.faces or None, **report)} face(s) confirmed",
        "reject": lambda: f"{persons.reject(lib, args.id, args.faces, **report)} face(s) taken out of {args.id}",
        "name-face": lambda: f"face {args.face}: person {persons.name_faces(lib, [args.face], args.name, **report)}",
        "forget": lambda: f"{persons.forget(lib, args.id, **report)} face(s) unnamed",
        "regroup": lambda: (
            persons.set_threshold(lib, args.threshold) if args.threshold else persons.update_people(lib, regroup=True)
        ).summary(),
    }
    if args.action is None:
        _print_listing(args.json, args.all)
        return None
    try:
        return actions[args.action]()
    except DoesNotExist as exc:
        raise PeopleUsage(f"no person, group or face {getattr(args, 'id', getattr(args, 'face', ''))}") from exc
    except ValueError as exc:
        raise PeopleUsage(str(exc)) from exc


def _print_listing(as_json: bool, include_loose: bool) -> None:
    import json

    from app.core.catalog import people

    if as_json:
        json.dump(people.people_listing(include_loose), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    summaries = people.person_summaries()
    for s in summaries:
        ask = f"   {s.suggested} to confirm: tessera people confirm {s.id}" if s.suggested else ""
        photos = f"{s.photos:>6} photos" if s.name else ""
        print(f"{s.id:>6}  {s.label[:32]:32}  {s.faces:>6} faces {photos}{ask}")
    named = sum(1 for s in summaries if s.name)
    loose = people.loose_count()
    print(f"{named} persons, {len(summaries) - named} unnamed groups, {loose} faces in no group", file=sys.stderr)
