"""peewee models of the catalog. The database is bound at run time through `db` (a DatabaseProxy).

The same models run on SQLite and on PostgreSQL (see dialect.py), so: BigIntegerField for anything
that can pass 2**31 (sizes, nanosecond times, hashes: PostgreSQL's INTEGER is 32-bit), DoubleField for
floats (its REAL is single precision), BytesField for blobs. Hashes are unsigned 64-bit values stored
as signed integers (see `to_signed`/`to_unsigned`).
"""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CompositeKey,
    DatabaseProxy,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

db = DatabaseProxy()

# Photo.status values
OK = "ok"
ERROR = "error"
MISSING = "missing"
TRASHED = "trashed"

# PhotoTag.source values
USER = "user"
AUTO = "auto"
XMP = "xmp"

# Face.person_state values (NULL: not placed yet, e.g. no descriptor). Unnamed faces are in an unnamed
# group (Person without a name) or in none; suggested and confirmed ones belong to a named person.
UNNAMED = "unnamed"
SUGGESTED = "suggested"
CONFIRMED = "confirmed"
# Face.source values: found by the detector, or read from a face region in XMP where it found none
DETECTED = "detected"


def to_signed(value: int | None) -> int | None:
    return None if value is None else (value - (1 << 64) if value >= (1 << 63) else value)


def to_unsigned(value: int | None) -> int | None:
    return None if value is None else value & 0xFFFFFFFFFFFFFFFF


class BytesField(BlobField):
    """Blobs read back as bytes on both engines (psycopg2 hands out memoryviews)."""

    def python_value(self, value: object) -> object:
        return bytes(value) if isinstance(value, memoryview) else value


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()


class Setting(BaseModel):
    key = TextField(primary_key=True)
    value = TextField()


class Photo(BaseModel):
    path = TextField(unique=True)
    folder = TextField(index=True)
    filename = TextField()
    size = BigIntegerField()
    mtime_ns = BigIntegerField()
    sha256 = TextField(null=True, index=True)
    status = TextField(default=OK, index=True)
    error = TextField(null=True)
    truncated = BooleanField(default=False)
    imported_at = TextField()
    updated_at = TextField()
    # decode facts
    format = TextField(null=True, index=True)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    frames = IntegerField(null=True)
    has_alpha = BooleanField(null=True)
    has_icc = BooleanField(null=True)
    # normalized metadata, indexed where people filter
    taken_at = TextField(null=True, index=True)
    make = TextField(null=True)
    model = TextField(null=True, index=True)
    lens = TextField(null=True)
    iso = IntegerField(null=True)
    exposure_time = DoubleField(null=True)
    f_number = DoubleField(null=True)
    focal_length = DoubleField(null=True)
    gps_lat = DoubleField(null=True)
    gps_lon = DoubleField(null=True)
    gps_alt = DoubleField(null=True)
    orientation = IntegerField(null=True)
    jpeg_quality = IntegerField(null=True)
    density = DoubleField(null=True)
    title = TextField(null=True)
    rating = IntegerField(null=True, index=True)  # 1-5 stars, -1 rejected (flags.REJECTED), None unrated
    label = TextField(null=True, index=True)  # colour label as XMP names it: Red, Yellow, Green, Blue, Purple
    picked = BooleanField(default=False, index=True)  # the pick flag (a reject is rating -1, see flags.py)
    # analysis results that are one value per photo (the JSON ones are in PhotoDetail)
    face_count = IntegerField(null=True, index=True)
    phash = BigIntegerField(null=True, index=True)
    dhash = BigIntegerField(null=True)
    orientation_phashes = BytesField(null=True)  # 8 x big-endian uint64
    detail = DoubleField(null=True)  # see hashing.ImageHashes
    lightness = DoubleField(null=True)
    thumb_key = TextField(null=True)
    # the .xmp sidecar last merged (None: there was none), compared on rescan like size + mtime_ns
    sidecar_path = TextField(null=True)
    sidecar_size = BigIntegerField(null=True)
    sidecar_mtime_ns = BigIntegerField(null=True)
    # keywords, rating, label, title as the photo file has them, before its sidecar's (JSON; None
    # for photos imported before schema 4): lets a changed sidecar be merged again without the photo
    own_facts_json = TextField(null=True)

    class Meta:
        indexes = ((("make", "model"), False),)


class PhotoDetail(BaseModel):
    """What is read one photo at a time (inspector, `show --json`, the duplicate review): ~3 KB of
    JSON a photo, kept out of `photo` so that its scans (text search, filters without an index) read
    a few hundred bytes a row instead: 100k photos are ~30 MB to scan, not ~320 MB."""

    photo = ForeignKeyField(Photo, primary_key=True, on_delete="CASCADE", backref="details")
    exif_json = TextField(null=True)  # grouped EXIF object
    flat_exif_json = TextField(null=True)  # flat image_metadata view
    colors_json = TextField(null=True)  # the 32-colour histogram
    predominant_json = TextField(null=True)


DETAIL_COLUMNS = ("exif_json", "flat_exif_json", "colors_json", "predominant_json")


class PhotoColor(BaseModel):
    """One row per (photo, palette name): makes "blue >= 20%" an indexed range query."""

    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="palette")
    name = TextField()
    share = DoubleField()

    class Meta:
        primary_key = CompositeKey("photo", "name")
        indexes = ((("name", "share"), False),)


class Person(BaseModel):
    """A named person, or an unnamed group of faces that look alike (name NULL) the user may name."""

    name = TextField(null=True, unique=True)
    cover_face = IntegerField(null=True)  # a face id (no foreign key: faces and persons point at each other)
    created_at = TextField()


class Face(BaseModel):
    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="faces")
    x = IntegerField()
    y = IntegerField()
    w = IntegerField()
    h = IntegerField()
    score = DoubleField()
    landmarks_json = TextField(null=True)
    # who it is: names are user data, kept through re-analysis (see catalog/faces_store.py)
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL", backref="faces", index=False)
    person_state = TextField(null=True)  # UNNAMED | SUGGESTED | CONFIRMED; NULL: not placed yet
    suggest_distance = DoubleField(null=True)  # a suggestion's distance to its person: best first
    source = TextField(default=DETECTED)  # DETECTED, or "xmp:mwg" / "xmp:mp" / "user"

    class Meta:
        indexes = ((("person", "person_state"), False),)


class FaceVector(BaseModel):
    """A face's descriptor (float16 bytes, 256 for dlib's 128-d); vector NULL: it could not be described."""

    face = ForeignKeyField(Face, primary_key=True, on_delete="CASCADE", backref="vectors")
    engine = TextField()
    vector = BytesField(null=True)


class FaceRejection(BaseModel):
    """ "Not this person": the face is never suggested to (or grouped into) that person again."""

    face = ForeignKeyField(Face, on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="CASCADE")
    decided_at = TextField()

    class Meta:
        primary_key = CompositeKey("face", "person")


class Tag(BaseModel):
    name = TextField(unique=True)


class PhotoTag(BaseModel):
    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="photo_tags")
    tag = ForeignKeyField(Tag, on_delete="CASCADE", backref="photo_tags")
    source = TextField()
    confidence = DoubleField(null=True)

    class Meta:
        primary_key = CompositeKey("photo", "tag", "source")
        indexes = ((("tag", "source"), False),)


class RejectedTag(BaseModel):
    """An auto tag the user removed: never applied again to that photo."""

    photo = ForeignKeyField(Photo, on_delete="CASCADE")
    tag = ForeignKeyField(Tag, on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("photo", "tag")


class Categorization(BaseModel):
    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="categorizations")
    engine = TextField()
    status = TextField()  # pending | complete | failed
    data_json = TextField(null=True)  # [{"tag": ..., "confidence": ...}]

    class Meta:
        primary_key = CompositeKey("photo", "engine")


class Feature(BaseModel):
    photo = ForeignKeyField(Photo, on_delete="CASCADE", primary_key=True)
    engine = TextField()
    vector = BytesField()  # float16, L2-normalised


class StageState(BaseModel):
    """Per photo and analysis stage: which algorithm version produced the stored result."""

    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="stages")
    stage = TextField()
    version = IntegerField()
    status = TextField()  # done | failed
    error = TextField(null=True)
    updated_at = TextField()

    class Meta:
        primary_key = CompositeKey("photo", "stage")


class NotDuplicate(BaseModel):
    a = IntegerField()  # photo ids, a < b
    b = IntegerField()
    decided_at = TextField()

    class Meta:
        primary_key = CompositeKey("a", "b")


class PhotoPlace(BaseModel):
    """The "places" stage (app/core/places/stage.py): where a photo was taken, as names and as a
    unit vector for exact great-circle distance in plain SQL arithmetic (see places.sphere).
    `named_json` holds the place names the photo or its sidecar carry (IPTC/XMP), used where it has
    no GPS; `version` 0 marks a row to compute again."""

    photo = ForeignKeyField(Photo, primary_key=True, on_delete="CASCADE", backref="place")
    lat = DoubleField(null=True)  # the GPS position the names were computed from
    lon = DoubleField(null=True)
    x = DoubleField(null=True)
    y = DoubleField(null=True)
    z = DoubleField(null=True)
    country = TextField(null=True)
    country_code = TextField(null=True)
    region = TextField(null=True)
    city = TextField(null=True)
    named_json = TextField(null=True)
    version = IntegerField(default=0)

    class Meta:
        # the tree's grouping, and one index per name for the name and text searches (catalog.places)
        indexes = (
            (("lat", "lon"), False),
            (("country", "region", "city"), False),
            (("country_code",), False),
            (("region",), False),
            (("city",), False),
        )


class EditCheck(BaseModel):
    """The edited tier's geometric check of two photos, keyed by content (the SHA-256 of both files,
    sha_a < sha_b): done once, redone only when a file changes (a new SHA-256) or the check's
    algorithm version does (app/core/edit_match.py VERSION)."""

    sha_a = TextField()
    sha_b = TextField()
    version = IntegerField()
    matched = BooleanField()
    inliers = IntegerField()
    matrix_json = TextField(null=True)  # 2x3 similarity from a's oriented pixels to b's
    edits = TextField(default="")  # comma-separated: crop, watermark, colour
    checked_at = TextField()

    class Meta:
        primary_key = CompositeKey("sha_a", "sha_b")


class TrashRecord(BaseModel):
    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="trash_records")
    path = TextField()
    sha256 = TextField(null=True)
    trashed_at = TextField()
    restored_at = TextField(null=True)


class Collection(BaseModel):
    """A collection (photos gathered by hand, in their own order), a smart collection (a saved Filter,
    live) or a collection set (holds the others), nested through `parent` as in Lightroom."""

    name = TextField()
    kind = TextField()  # collection | smart | set
    parent = ForeignKeyField("self", null=True, on_delete="CASCADE", backref="children")
    filter_json = TextField(null=True)  # smart collections: the saved Filter (catalog.filter_json)
    sort = TextField(default="manual")  # collections: "manual" (by hand) or a queries.SORTS key
    descending = BooleanField(default=False)
    created_at = TextField()


class CollectionPhoto(BaseModel):
    """A photo in a collection, at its place in the collection's own order. Photo rows are never
    deleted (a missing or trashed photo keeps its id and comes back), and when one is, its rows go too."""

    collection = ForeignKeyField(Collection, on_delete="CASCADE", backref="members", index=False)  # see indexes
    photo = ForeignKeyField(Photo, on_delete="CASCADE", backref="memberships")
    position = IntegerField()

    class Meta:
        primary_key = CompositeKey("collection", "photo")
        # the collection's order straight off an index (photo last: no table row, no sort); the photo's
        # own index comes with its foreign key
        indexes = ((("collection", "position", "photo"), False),)


class ChangeLog(BaseModel):
    """One row per committed writer batch that changed photos: other processes and workstations poll
    it to refresh their views (see changes.py)."""

    at = DoubleField(index=True)  # the server's clock, Unix seconds
    origin = TextField()  # workstation/pid of the writer
    what = TextField()  # edit | import | analysis | ... (comma-separated)
    photo_ids = TextField(null=True)  # JSON list; NULL: too many to list, refresh everything


class AnalysisClaim(BaseModel):
    """A photo an analyser is working on, until `expires_at` (server clock) unless renewed: analysers
    on several workstations split the work without doing a photo twice (see claims.py)."""

    photo = ForeignKeyField(Photo, primary_key=True, on_delete="CASCADE")
    worker = TextField(index=True)
    expires_at = DoubleField()


class LibraryRoot(BaseModel):
    """A top folder of imported photos, by the path stored in the catalog (the first workstation's)."""

    path = TextField(unique=True)


class RootMount(BaseModel):
    """Where a workstation finds a root: /Volumes/Photos on one, /mnt/photos on another."""

    root = ForeignKeyField(LibraryRoot, on_delete="CASCADE", backref="mounts")
    workstation = TextField()
    path = TextField()

    class Meta:
        primary_key = CompositeKey("root", "workstation")


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion,
    Setting,
    Photo,
    PhotoDetail,
    PhotoColor,
    Person,
    Face,
    FaceVector,
    FaceRejection,
    Tag,
    PhotoTag,
    RejectedTag,
    Categorization,
    Feature,
    StageState,
    NotDuplicate,
    TrashRecord,
    Collection,
    CollectionPhoto,
    ChangeLog,
    AnalysisClaim,
    LibraryRoot,
    RootMount,
    PhotoPlace,
    EditCheck,
)
STUDIO_MODELS = (ChangeLog, AnalysisClaim, LibraryRoot, RootMount)
