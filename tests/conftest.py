"""Shared fixtures: where the read-only test corpus lives, a headless Qt platform, and a temporary
system trash."""

from __future__ import annotations

import os
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
