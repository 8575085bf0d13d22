"""Shared fixtures: where the read-only test corpus lives, and a headless Qt platform."""

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
