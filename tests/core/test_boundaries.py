"""Architecture rules that code review alone would miss."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_qt() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "app" / "core").rglob("*.py")
        if p.name != "__init__.py" or p.parent != ROOT / "app" / "core"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m.removesuffix('.__init__'))\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"app.core pulled in Qt: {out.stdout}"
    assert len(modules) > 10


def test_nothing_deletes_files_outside_caches() -> None:
    """Originals are sacred: the only file removal in app/ is of our own backups and temp files."""
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            removes = any(s in line for s in ("os.remove(", "os.unlink(", "shutil.rmtree(", ".unlink("))
            if removes and not any(ok in line.lower() for ok in ("backup", "temp", "tmp")):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


def _imported_after(module: str) -> set[str]:
    """Every module of ours that importing `module` loads, in a fresh interpreter."""
    code = f"import sys, {module}\nprint(','.join(m for m in sys.modules if m.startswith('app.')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.strip().split(","))


def test_catalog_imports_no_analysis_code() -> None:
    """The workers and the writer share only app.core.records: the catalog stores plain records."""
    catalog = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "app/core/catalog").glob("[!_]*.py")
    )
    loaded = set().union(*(_imported_after(m) for m in catalog))
    assert "app.core.catalog.store" in loaded and "app.core.records" in loaded
    assert not [m for m in loaded if m.startswith("app.core.analysis")], sorted(loaded)


def test_command_line_imports_no_gui() -> None:
    loaded = _imported_after("app.cli")
    assert "app.cli" in loaded
    assert not [m for m in loaded if m.startswith("app.gui")], sorted(loaded)
