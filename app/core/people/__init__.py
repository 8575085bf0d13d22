"""People: face descriptors grouped into persons (Qt-free)."""
