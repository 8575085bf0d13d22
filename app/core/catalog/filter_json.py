"""A Filter as JSON, for smart collections. Generic over the dataclass's fields and their type hints,
so fields added to `Filter` later (people, places, ...) round-trip without a change here: tuples
become lists and come back as tuples, nested dataclasses become objects and come back as themselves.
Fields left at their defaults are not written; fields a newer Tessera wrote and this one does not
know are ignored when read, and fields missing from the JSON take their defaults."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from app.core.catalog.queries import Filter


def to_json(f: Filter) -> str:
    changed = {
        field.name: _plain(getattr(f, field.name))
        for field in dataclasses.fields(f)
        if getattr(f, field.name) != _default(field)
    }
    return json.dumps(changed, sort_keys=True, ensure_ascii=False)


def from_json(text: str) -> Filter:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a saved filter is a JSON object, not {type(data).__name__}")
    hints = typing.get_type_hints(Filter)
    known = {field.name for field in dataclasses.fields(Filter)}
    return Filter(**{name: _typed(value, hints[name]) for name, value in data.items() if name in known})


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any, hint: Any) -> Any:
    """`value` from JSON shaped as the type hint says: lists to tuples, objects to dataclasses."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None: the first member the value fits
        members = [a for a in args if a is not type(None)]
        return _typed(value, members[0]) if len(members) == 1 else _loose(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        inner = typing.get_type_hints(hint)
        return hint(**{k: _typed(v, inner[k]) for k, v in value.items() if k in inner})
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_typed(v, args[0]) for v in value)
        if args and len(args) == len(value):
            return tuple(_typed(v, a) for v, a in zip(value, args, strict=True))
        return _loose(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def _loose(value: Any) -> Any:
    """Without a usable hint: every list a tuple (the Filter is frozen and hashable)."""
    return tuple(_loose(v) for v in value) if isinstance(value, list) else value
