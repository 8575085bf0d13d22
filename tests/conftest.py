"""Shared fixtures: where the read-only test corpus lives, a headless Qt platform, and a temporary
system trash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"test corpus not found at {CORPUS} (expected ../shared/corpus beside the repo)")
    return CORPUS


def _fingerprints(root: Path) -> dict[str, tuple[str, int]]:
    import hashlib

    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def originals_untouched():
    """Every corpus file has the same bytes and modification time after the whole suite."""
    if not CORPUS.is_dir():
        yield
        return
    before = _fingerprints(CORPUS)
    yield
    after = _fingerprints(CORPUS)
    changed = sorted(p for p in before if after.get(p) != before[p])
    assert not changed, f"the tests changed original photos: {changed[:10]}"


@pytest.fixture
def trash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """send2trash's home trash moved into tmp_path. It reads XDG_DATA_HOME at import time, so setting
    the environment variable in a test is too late: patch the module's copies instead."""
    import send2trash.plat_other as plat_other

    data = tmp_path / "xdg"
    data.mkdir()
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", bytes(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", bytes(data / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data / "Trash"))
    return data / "Trash"


# -- the catalog's two engines ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster for the whole run (tests/pg.py), removed at the end."""
    from tests.pg import PgServer

    try:
        server = PgServer.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"cannot start a test PostgreSQL server: {exc} {detail.decode(errors='replace')}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty database on the test server, dropped after the test."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Runs a test on both engines: None for SQLite (each library's catalog.sqlite), or the URL of a
    fresh PostgreSQL database, also set as TESSERA_CATALOG so that every Library.open in the test and
    every `tessera` it starts opens it."""
    if request.param == "sqlite":
        monkeypatch.delenv("TESSERA_CATALOG", raising=False)
        return None
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("TESSERA_CATALOG", url)
    return url
