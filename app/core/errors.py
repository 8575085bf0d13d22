"""Errors the user sees. Each carries a message that says what happened and what to do."""

from __future__ import annotations

from pathlib import Path


class TesseraError(Exception):
    """Base class: `str(error)` is a complete sentence for the user."""


class CatalogCorruptError(TesseraError):
    def __init__(self, path: Path, problem: str, newest_backup: Path | None) -> None:
        self.path = path
        self.problem = problem
        self.newest_backup = newest_backup
        if newest_backup is not None:
            advice = f"restore the newest backup with: tessera restore '{newest_backup}'"
        else:
            advice = "no backup exists; keep a copy of the file and try 'sqlite3 .recover'"
        super().__init__(f"the catalog {path} is damaged ({problem}); {advice}")


class CatalogLockedError(TesseraError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the catalog {path} is busy: another Tessera process has been writing to it for over a "
            "minute; try again when it has finished"
        )


class PhotoNotFoundError(TesseraError):
    pass


class UsageError(TesseraError):
    pass


class CatalogUnavailableError(TesseraError):
    """A studio catalog's server cannot be reached, or refuses us."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"cannot open the studio catalog {where}: {problem.strip()}")
