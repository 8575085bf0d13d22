"""Qt-free domain layer: catalog, import, analysis, duplicates. Usable from scripts and tests."""
