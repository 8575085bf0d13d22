"""XMP, the metadata other photo apps read and write: packets embedded in photos (`packet`), sidecar
files beside them (`sidecars`: read, merge, write) and writing the catalog's edits out (`export`)."""
