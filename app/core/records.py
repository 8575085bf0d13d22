"""The plain records that pass between the analysis workers and the catalog writer.

Workers fill them (in other processes: everything here pickles) and the writer stores them; neither
side needs the other's code. No logic and no imports of ours, so the catalog package never depends
on the analysis package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Analysis stages in run order. "metadata" is read at import.
STAGES: tuple[str, ...] = ("thumbnails", "colors", "hashes", "faces", "descriptors", "tags")
# The Metadata fields a sidecar can override (see xmp.sidecars.apply_sidecar)
SIDECAR_FIELDS: tuple[str, ...] = ("keywords", "rating", "label", "title", "picked", "place")
# EXIF groups as the reference documents' grouped object has them
EXIF_GROUPS: tuple[str, ...] = ("image", "exif", "gps", "interoperability", "thumbnail", "makernote")
# Categorization engines, as `show --json` names them under info.categorization
TAG_ENGINE = "efficientnet_lite0"  # the ImageNet classifier
FACE_ENGINE = "res10_faces"  # person/people/portrait/group from the face detector's count


@dataclass(frozen=True)
class FaceRegion:
    """A face region another app wrote in XMP (MWG or Microsoft Photo): top-left corner and size in
    0..1 of the frame it was drawn on (MWG's centre is converted on reading). That frame is the photo
    as displayed, unless `frame` (MWG's AppliedToDimensions) says it was the stored, unrotated one:
    see xmp.regions.displayed."""

    x: float
    y: float
    w: float
    h: float
    name: str | None = None
    scheme: str = "mwg"  # mwg | mp
    frame: tuple[int, int] | None = None  # AppliedToDimensions (w, h) in pixels, when given


@dataclass
class Metadata:
    groups: dict[str, dict[str, Any]] = field(default_factory=lambda: {g: {} for g in EXIF_GROUPS})
    flat: dict[str, str] = field(default_factory=dict)
    taken_at: str | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    iso: int | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    focal_length: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    orientation: int = 1
    keywords: list[str] = field(default_factory=list)
    title: str | None = None
    rating: int | None = None
    label: str | None = None
    picked: bool = False  # the pick flag (digiKam:PickLabel); a reject is rating -1
    # place names from IPTC/XMP: country, country_code, region, city, location (catalog.places)
    place: dict[str, str] = field(default_factory=dict)
    jpeg_quality: int | None = None
    density: float | None = None
    has_icc: bool = False
    face_regions: list[FaceRegion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SidecarState:
    """What a rescan compares to tell whether a sidecar changed, like the photo's own size + mtime."""

    path: str
    size: int
    mtime_ns: int


@dataclass
class SidecarData:
    keywords: list[str] = field(default_factory=list)  # flat leaf names
    hierarchical: list[str] = field(default_factory=list)  # "Places|France|Paris"
    rating: int | None = None  # -1 rejected, 0..5
    label: str | None = None  # color label name ("Red", "Green", ...)
    picked: bool | None = None  # digiKam:PickLabel accepted (True) or not (False); None: not said
    title: str | None = None
    description: str | None = None
    place: dict[str, str] = field(default_factory=dict)  # photoshop:City & co. (see Metadata.place)
    tessera_tags: list[str] = field(default_factory=list)  # the tags Tessera wrote (see xmp.sidecars.NS)
    face_regions: list[FaceRegion] = field(default_factory=list)
    error: str | None = None  # why the sidecar could not be read; the other fields are then empty


@dataclass(frozen=True)
class KnownFile:
    """A photo file as the catalog knows it: an analysis task whose file still has this size and
    modification time takes the stored SHA-256 instead of hashing the file again."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass
class Task:
    path: str
    stages: tuple[str, ...] = STAGES
    read_metadata: bool = True  # import: SHA-256, headers and metadata too
    thumbs_dir: str = ""
    # the import's scan already looked for the .xmp beside the photo: `sidecar` is what it found.
    # Otherwise the worker looks itself (one directory listing per photo).
    sidecar_scanned: bool = False
    sidecar: SidecarState | None = None
    known: KnownFile | None = None  # analysis of a photo in the catalog
    # quick stages first: slow stages whose photo is cheap to decode again are left for a later task
    # (Outcome.deferred) so that every photo's quick stages come before any photo's slow ones
    defer_slow: bool = False
    photo_id: int | None = None  # the catalog's photo, when it has one already (analysis claims by it)
    # faces in the catalog the descriptors stage describes besides this run's detections: (face id,
    # [x, y, w, h]) of all the photo's faces when "faces" does not run, else of those it keeps anyway
    known_faces: list[tuple[int, tuple[int, int, int, int]]] = field(default_factory=list)


@dataclass
class FaceVectors:
    """The descriptors stage's result: one descriptor per face (float16 bytes; None where the face
    could not be described) and its 5 landmarks in the photo's displayed pixels."""

    engine: str
    detected: list[tuple[bytes | None, list[tuple[int, int]] | None]] = field(default_factory=list)  # as faces
    known: dict[int, tuple[bytes | None, list[tuple[int, int]] | None]] = field(default_factory=dict)  # by face id


@dataclass
class Outcome:
    path: str
    size: int = 0
    mtime_ns: int = 0
    sha256: str | None = None
    error: str | None = None  # the file could not be read or decoded: an error row with this reason
    imported: bool = False  # the outcome (re)imports the file: headers and metadata; else it analyzes a known photo
    decoded: dict[str, Any] = field(default_factory=dict)  # format, width, height, frames, ...
    metadata: Metadata | None = None
    results: dict[str, Any] = field(default_factory=dict)  # stage -> result
    stage_errors: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)  # stage -> algorithm version that ran
    # engine -> [(tag, confidence)] to store as the photo's categorization; None: the engine failed
    categorizations: dict[str, list[tuple[str, float]] | None] = field(default_factory=dict)
    sidecar_error: str | None = None  # the .xmp beside the photo could not be read: it was ignored
    sidecar: SidecarState | None = None  # the .xmp found beside the photo, read or not
    own_facts: dict[str, Any] | None = None  # the photo file's own SIDECAR_FIELDS, before its sidecar's
    timings_ms: dict[str, float] = field(default_factory=dict)
    deferred: tuple[str, ...] = ()  # stages of the task left for a later task (see Task.defer_slow)
