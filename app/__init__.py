"""Tessera: a desktop digital-asset manager for photographers."""

__version__ = "0.1.0"
