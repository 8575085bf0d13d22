"""A workstation's editing session for the concurrency tests: run as
`python -m tests.studio_edits LIBRARY LABEL PARITY`. For every photo, one small transaction each: tag
it LABEL-<id>; rate the photos whose id has this parity (id % 2) with (id % 5) + 1 stars."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core import tags
from app.core.catalog.models import Photo
from app.core.library import Library


def main(library: str, label: str, parity: int) -> int:
    with Library.open(Path(library), auto_backup=False) as lib:
        ids = [pid for (pid,) in Photo.select(Photo.id).order_by(Photo.id).tuples()]
        for pid in ids:
            tags.add_user_tag(lib, [pid], f"{label}-{pid}")
            if pid % 2 == parity:
                tags.set_rating(lib, [pid], pid % 5 + 1)
    print(len(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
