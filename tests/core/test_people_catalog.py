"""The people schema arrives by migration (after a backup, every face kept), and face regions are read
in the RDF spellings apps use besides exiftool's (Lightroom's attributes), skipping broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.catalog.connection import SCHEMA_VERSION, current_version, open_catalog
from app.core.catalog.models import DETECTED, Face, FaceRejection, FaceVector, Person
from app.core.xmp.sidecars import read_sidecar

OLD_FACE = (
    'CREATE TABLE "face" ("id" INTEGER NOT NULL PRIMARY KEY, "photo_id" INTEGER NOT NULL, "x" INTEGER NOT NULL,'
    ' "y" INTEGER NOT NULL, "w" INTEGER NOT NULL, "h" INTEGER NOT NULL, "score" REAL NOT NULL, "landmarks_json" TEXT,'
    ' FOREIGN KEY ("photo_id") REFERENCES "photo" ("id") ON DELETE CASCADE)'
)


def test_a_catalog_from_before_people_is_migrated_after_a_backup(tmp_path: Path) -> None:
    catalog, backups = tmp_path / "catalog.sqlite", tmp_path / "backups"
    database = open_catalog(catalog, backups)
    for table in ("face_vector", "face_rejection", "face", "person"):  # the schema before people
        database.execute_sql(f"DROP TABLE {table}")
    database.execute_sql(OLD_FACE)
    database.execute_sql(f"UPDATE schema_version SET version = {SCHEMA_VERSION - 1}")  # the one before people
    database.execute_sql(
        "INSERT INTO photo (path, folder, filename, size, mtime_ns, status, truncated, picked, imported_at, updated_at)"
        " VALUES ('/p/a.jpg', '/p', 'a.jpg', 1, 1, 'ok', 0, 0, 'then', 'then')"
    )
    database.execute_sql("INSERT INTO face (photo_id, x, y, w, h, score) VALUES (1, 10, 20, 30, 40, 0.9)")
    database.close()

    database = open_catalog(catalog, backups)
    assert current_version(database) == SCHEMA_VERSION
    assert [p.name for p in backups.iterdir() if f"before-migration-{SCHEMA_VERSION - 1}" in p.name]
    face = Face.get()
    assert (face.x, face.y, face.w, face.h, face.source, face.person_id, face.person_state) == (
        10, 20, 30, 40, DETECTED, None, None
    )  # fmt: skip
    person = Person.create(name="Anne", created_at="now")
    Face.update(person=person.id, person_state="confirmed").execute()
    FaceVector.create(face=face.id, engine="test", vector=b"\0" * 256)
    FaceRejection.create(face=face.id, person=person.id, decided_at="now")
    assert Face.get().person.name == "Anne"
    database.close()


LIGHTROOM_REGIONS = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li><rdf:Description mwg-rs:Name="Anne" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.1" stArea:h="0.2" stArea:unit="normalized"/>
      </rdf:Description></rdf:li>
      <rdf:li><rdf:Description mwg-rs:Name="Rex" mwg-rs:Type="Pet">
        <mwg-rs:Area stArea:x="0.2" stArea:y="0.8" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>
      </rdf:Description></rdf:li>
      <rdf:li><rdf:Description mwg-rs:Name="Broken" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="left" stArea:y="0.4" stArea:w="0.1" stArea:h="0.2"/>
      </rdf:Description></rdf:li>
      <rdf:li><rdf:Description mwg-rs:Name="Huge" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="7" stArea:h="0.2"/>
      </rdf:Description></rdf:li>
      <rdf:li><rdf:Description mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="2000" stArea:y="600" stArea:w="400" stArea:h="600" stArea:unit="pixel"/>
      </rdf:Description></rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def test_lightroom_attribute_regions_are_read_and_broken_ones_skipped(tmp_path: Path) -> None:
    sidecar = tmp_path / "IMG_1.xmp"
    sidecar.write_text(LIGHTROOM_REGIONS, encoding="utf-8")
    data = read_sidecar(sidecar)
    assert data.error is None
    anne, unnamed = data.face_regions  # the pet, the unparsable and the impossible one are left out
    assert anne.name == "Anne" and anne.scheme == "mwg" and anne.frame == (4000, 3000)
    assert (anne.x, anne.y, anne.w, anne.h) == pytest.approx((0.45, 0.3, 0.1, 0.2))  # MWG's x, y: the centre
    assert unnamed.name is None  # pixel units, turned into 0..1 of AppliedToDimensions
    assert (unnamed.x, unnamed.y, unnamed.w, unnamed.h) == pytest.approx((0.45, 0.1, 0.1, 0.2))
