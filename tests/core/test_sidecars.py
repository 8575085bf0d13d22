"""XMP sidecars: finding, reading real exiftool sidecars and Lightroom/darktable/digiKam shapes,
merging without losing what we do not know, and refusing hostile XML."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from app.core.xmp.sidecars import SidecarError, find_sidecar, read_sidecar, write_sidecar

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DARKTABLE_NS = "http://darktable.sf.net/"

LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmp:Rating="3" xmp:Label="Red" crs:Exposure2012="+0.35" crs:WhiteBalance="As Shot">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Eiffel at dusk</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">From the Trocadero</rdf:li></rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>Paris</rdf:li><rdf:li>dusk</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li><rdf:li>dusk</rdf:li>
   </rdf:Bag></lr:hierarchicalSubject>
   <crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 0</rdf:li><rdf:li>255, 255</rdf:li></rdf:Seq></crs:ToneCurvePV2012>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmp:Rating="-1"
    xmpMM:DerivedFrom="IMG_1.CR2"
    darktable:import_timestamp="63811234567000000"
    darktable:xmp_version="5"
    darktable:history_end="2">
   <darktable:colorlabels><rdf:Seq><rdf:li>3</rdf:li></rdf:Seq></darktable:colorlabels>
   <dc:subject><rdf:Bag>
     <rdf:li>changed</rdf:li><rdf:li>darktable</rdf:li><rdf:li>format</rdf:li><rdf:li>cr2</rdf:li>
     <rdf:li>Paris</rdf:li><rdf:li>river</rdf:li>
   </rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag>
     <rdf:li>darktable|changed</rdf:li><rdf:li>darktable|format|cr2</rdf:li>
     <rdf:li>Places|France|Paris</rdf:li><rdf:li>river</rdf:li>
   </rdf:Bag></lr:hierarchicalSubject>
   <darktable:history><rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1"
       darktable:params="0000000000000000" darktable:multi_name=""/>
     <rdf:li darktable:num="1" darktable:operation="colorin" darktable:enabled="1"
       darktable:params="gz48eJxjZBgFo2AU0AsAAAQQAAE="/>
   </rdf:Seq></darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

DIGIKAM = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"
    xmp:Rating="5"
    MicrosoftPhoto:Rating="99">
   <digiKam:TagsList><rdf:Seq>
     <rdf:li>People/Family/Alice</rdf:li><rdf:li>Events/Birthday</rdf:li>
   </rdf:Seq></digiKam:TagsList>
   <MicrosoftPhoto:LastKeywordXMP><rdf:Bag>
     <rdf:li>People/Family/Alice</rdf:li><rdf:li>Events/Birthday</rdf:li>
   </rdf:Bag></MicrosoftPhoto:LastKeywordXMP>
   <dc:subject><rdf:Bag><rdf:li>Alice</rdf:li><rdf:li>Birthday</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:subject><rdf:Bag><rdf:li>&lol9;</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:subject><rdf:Bag><rdf:li>&secret;</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _photo(folder: Path, name: str, corpus: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(corpus / "exif" / "flower.jpg", folder / name))


def _unknown_values(path: Path, uri: str) -> dict[str, str]:
    """Every attribute and leaf text in namespace `uri`, to compare before and after a merge."""
    root = SafeET.parse(str(path)).getroot()
    out: dict[str, str] = {}
    for i, el in enumerate(root.iter()):
        for key, value in el.attrib.items():
            if key.startswith("{" + uri + "}"):
                out[f"{i}:{el.tag}@{key}"] = value
        if el.tag.startswith("{" + uri + "}") and len(el) == 0:
            out[f"{el.tag}"] = (el.text or "").strip()
    return {k.split(":", 1)[-1]: v for k, v in out.items()}


# -- finding -------------------------------------------------------------------------------------
def test_find_sidecar_both_conventions_any_case(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "IMG_1.CR2", corpus)
    assert find_sidecar(photo) is None
    (tmp_path / "IMG_1.XMP").write_text(LIGHTROOM)
    assert find_sidecar(photo) == tmp_path / "IMG_1.XMP"
    (tmp_path / "IMG_1.CR2.xmp").write_text(DARKTABLE)
    assert find_sidecar(photo) == tmp_path / "IMG_1.CR2.xmp"  # darktable's name is the more specific
    other = _photo(tmp_path, "IMG_2.jpg", corpus)
    assert find_sidecar(other) is None


def test_find_sidecar_of_missing_folder_is_none(tmp_path: Path) -> None:
    assert find_sidecar(tmp_path / "nowhere" / "a.jpg") is None


# -- reading the real corpus sidecars -----------------------------------------------------------
def test_corpus_lightroom_named_sidecar(tmp_path: Path, corpus: Path) -> None:
    shutil.copy2(corpus / "exif" / "flower_sidecar.jpg", tmp_path)
    shutil.copy2(corpus / "exif" / "flower_sidecar.xmp", tmp_path)
    sidecar = find_sidecar(tmp_path / "flower_sidecar.jpg")
    assert sidecar == tmp_path / "flower_sidecar.xmp"
    data = read_sidecar(sidecar)
    assert data.error is None
    assert data.rating == 4 and data.label == "Green"
    assert data.title == "Flower in the garden"
    assert data.hierarchical == ["Nature|Plants|flower"]  # lr and digiKam forms agree, listed once
    assert data.keywords == ["flower", "garden"]


def test_corpus_darktable_named_sidecar(tmp_path: Path, corpus: Path) -> None:
    shutil.copy2(corpus / "exif" / "camera_canon_sx530hs.jpg", tmp_path)
    shutil.copy2(corpus / "exif" / "camera_canon_sx530hs.jpg.xmp", tmp_path)
    sidecar = find_sidecar(tmp_path / "camera_canon_sx530hs.jpg")
    assert sidecar == tmp_path / "camera_canon_sx530hs.jpg.xmp"
    data = read_sidecar(sidecar)
    assert (data.error, data.rating, data.label, data.hierarchical) == (None, 2, None, [])
    assert data.keywords == ["Brasilia", "family", "birthday party"]


@pytest.mark.parametrize("name", ["flower_sidecar", "camera_canon_sx530hs"])
def test_corpus_sidecar_round_trip_keeps_everything_else(tmp_path: Path, corpus: Path, name: str) -> None:
    originals = {p: _sha(p) for p in (corpus / "exif").glob(name + "*")}
    for p in originals:
        shutil.copy2(p, tmp_path)
    photo = tmp_path / (name + ".jpg")
    photo_sha = _sha(photo)
    sidecar = find_sidecar(photo)
    assert sidecar is not None
    before_exif = _unknown_values(sidecar, "http://ns.adobe.com/exif/1.0/")
    before_tiff = _unknown_values(sidecar, "http://ns.adobe.com/tiff/1.0/")
    assert before_exif and before_tiff

    written = write_sidecar(photo, ["Places|Brazil|Brasilia", "family"], 5, "Blue")

    assert written == sidecar
    data = read_sidecar(written)
    assert data.error is None
    assert data.keywords == ["Brasilia", "family"]
    assert data.hierarchical == ["Places|Brazil|Brasilia", "family"]
    assert (data.rating, data.label) == (5, "Blue")
    assert _unknown_values(written, "http://ns.adobe.com/exif/1.0/") == before_exif
    assert _unknown_values(written, "http://ns.adobe.com/tiff/1.0/") == before_tiff
    text = written.read_text("utf-8")
    assert "exif:DateTimeOriginal" in text and "aux:Lens" in text  # the file's own prefixes
    assert _sha(photo) == photo_sha
    assert {p: _sha(p) for p in originals} == originals  # the corpus itself is untouched


# -- reading the three application shapes --------------------------------------------------------
def test_lightroom_attribute_form(tmp_path: Path) -> None:
    path = tmp_path / "IMG_1.xmp"
    path.write_text(LIGHTROOM)
    data = read_sidecar(path)
    assert data.error is None
    assert (data.rating, data.label) == (3, "Red")
    assert (data.title, data.description) == ("Eiffel at dusk", "From the Trocadero")
    assert data.hierarchical == ["Places|France|Paris", "dusk"]
    assert data.keywords == ["Paris", "dusk"]


def test_darktable_shape_skips_its_bookkeeping_tags(tmp_path: Path) -> None:
    path = tmp_path / "IMG_1.CR2.xmp"
    path.write_text(DARKTABLE)
    data = read_sidecar(path)
    assert data.error is None
    assert data.rating == -1  # rejected
    assert data.label == "Blue"  # darktable:colorlabels index 3
    assert data.hierarchical == ["Places|France|Paris", "river"]
    assert data.keywords == ["Paris", "river"]


def test_digikam_tags_list(tmp_path: Path) -> None:
    path = tmp_path / "IMG_1.jpg.xmp"
    path.write_text(DIGIKAM)
    data = read_sidecar(path)
    assert data.error is None
    assert data.rating == 5
    assert data.hierarchical == ["People|Family|Alice", "Events|Birthday"]
    assert data.keywords == ["Alice", "Birthday"]


def test_out_of_range_rating_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "a.xmp"
    path.write_text(LIGHTROOM.replace('xmp:Rating="3"', 'xmp:Rating="42"'))
    assert read_sidecar(path).rating is None


# -- merging -------------------------------------------------------------------------------------
def test_write_merges_lightroom_keeping_develop_settings(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "IMG_1.CR2", corpus)
    sidecar = tmp_path / "IMG_1.xmp"
    sidecar.write_text(LIGHTROOM)
    crs = "http://ns.adobe.com/camera-raw-settings/1.0/"
    before = _unknown_values(sidecar, crs)

    assert write_sidecar(photo, ["Places|France|Lyon", "night"], 1, None) == sidecar

    data = read_sidecar(sidecar)
    assert (data.rating, data.label, data.title) == (1, None, "Eiffel at dusk")
    assert data.hierarchical == ["Places|France|Lyon", "night"]
    assert data.keywords == ["Lyon", "night"]
    assert _unknown_values(sidecar, crs) == before
    text = sidecar.read_text("utf-8")
    assert 'xmp:Rating="1"' in text  # attribute form stays attribute form
    assert "crs:Exposure2012" in text and "xmp:Label" not in text
    assert not list(tmp_path.glob("*.tmp"))


def test_write_merges_darktable_keeping_history(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "IMG_1.CR2", corpus)
    sidecar = tmp_path / "IMG_1.CR2.xmp"
    sidecar.write_text(DARKTABLE)
    before = _unknown_values(sidecar, DARKTABLE_NS)

    write_sidecar(photo, ["sunset"], 4, "Red")

    data = read_sidecar(sidecar)
    assert (data.keywords, data.hierarchical, data.rating, data.label) == (["sunset"], [], 4, "Red")
    after = _unknown_values(sidecar, DARKTABLE_NS)
    assert after.pop("{http://darktable.sf.net/}li", None) is None  # history entries have no text
    assert {k: v for k, v in after.items() if "colorlabels" not in k} == before
    text = sidecar.read_text("utf-8")
    assert "darktable|format|cr2" in text  # darktable's own tags are kept for darktable
    assert 'darktable:operation="colorin"' in text and "xmpMM:DerivedFrom" in text
    labels = SafeET.parse(str(sidecar)).getroot().find(f".//{{{DARKTABLE_NS}}}colorlabels")
    assert labels is not None
    assert [li.text for li in labels.iter(f"{{{RDF}}}li")] == ["0"]  # darktable's index for red


def test_write_merges_digikam_rewriting_its_tags_list(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "IMG_1.jpg", corpus)
    sidecar = tmp_path / "IMG_1.jpg.xmp"
    sidecar.write_text(DIGIKAM)

    write_sidecar(photo, ["People|Family|Bob"], None, None)

    data = read_sidecar(sidecar)
    assert (data.keywords, data.hierarchical, data.rating) == (["Bob"], ["People|Family|Bob"], None)
    text = sidecar.read_text("utf-8")
    assert "People/Family/Bob" in text and "Alice</rdf:li>\n" not in text.split("LastKeywordXMP")[0]
    assert 'MicrosoftPhoto:Rating="99"' in text  # unknown field survives


def test_write_creates_darktable_style_name(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "beach.jpg", corpus)
    photo_sha = _sha(photo)
    path = write_sidecar(photo, ["Places|Spain|Cadiz", "sea"], 0, "Yellow")
    assert path == tmp_path / "beach.jpg.xmp"
    assert find_sidecar(photo) == path
    data = read_sidecar(path)
    assert data.error is None
    assert (data.keywords, data.rating, data.label) == (["Cadiz", "sea"], 0, "Yellow")
    assert data.hierarchical == ["Places|Spain|Cadiz", "sea"]
    assert path.read_bytes().startswith(b"<?xpacket begin=")
    assert _sha(photo) == photo_sha
    # flat tags only: no lr:hierarchicalSubject, and a second write keeps the same file
    assert write_sidecar(photo, ["sea"], None, None) == path
    assert "hierarchicalSubject" not in path.read_text("utf-8")
    assert read_sidecar(path).keywords == ["sea"]


def test_write_refuses_to_overwrite_a_broken_sidecar(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "a.jpg", corpus)
    sidecar = tmp_path / "a.jpg.xmp"
    sidecar.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed>")
    before = sidecar.read_bytes()
    with pytest.raises(SidecarError) as err:
        write_sidecar(photo, ["x"], 1, None)
    assert err.value.reason
    assert sidecar.read_bytes() == before


def test_write_rejects_bad_rating(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "a.jpg", corpus)
    with pytest.raises(ValueError):
        write_sidecar(photo, [], 7, None)
    assert find_sidecar(photo) is None


# -- hostile and malformed -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "words"),
    [
        (BILLION_LAUGHS, "entit"),
        (EXTERNAL_ENTITY, "entit"),
        ("<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF", "unreadable"),
        ("\x00\x01\x02 not xml at all", "unreadable"),
        ("<html><body>hello</body></html>", "not an xmp"),
        ("", "unreadable"),
    ],
    ids=["billion-laughs", "external-entity", "truncated", "binary", "html", "empty"],
)
def test_hostile_or_malformed_sidecar_gives_reason(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "evil.xmp"
    path.write_text(text)
    data = read_sidecar(path)
    assert data.error and words in data.error.lower()
    assert (data.keywords, data.hierarchical, data.rating) == ([], [], None)


def test_hostile_sidecar_is_not_merged(tmp_path: Path, corpus: Path) -> None:
    photo = _photo(tmp_path, "a.jpg", corpus)
    (tmp_path / "a.xmp").write_text(BILLION_LAUGHS)
    with pytest.raises(SidecarError, match=r"(?i)entit"):
        write_sidecar(photo, ["x"], None, None)


def test_unreadable_path_gives_reason(tmp_path: Path) -> None:
    data = read_sidecar(tmp_path / "missing.xmp")
    assert data.error and "cannot read" in data.error


# -- on import -----------------------------------------------------------------------------------
def _xmp_tags(photo_id: int) -> set[str]:
    from app.core.catalog.models import XMP, PhotoTag, Tag

    rows = PhotoTag.select(PhotoTag, Tag).join(Tag).where((PhotoTag.photo == photo_id) & (PhotoTag.source == XMP))
    return {r.tag.name for r in rows}


def test_import_reads_sidecars_of_both_conventions(tmp_path: Path, corpus: Path) -> None:
    from app.core.catalog.models import Photo
    from app.core.library import Library

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("flower_sidecar.jpg", "flower_sidecar.xmp", "camera_canon_sx530hs.jpg",
                 "camera_canon_sx530hs.jpg.xmp", "flower.jpg"):  # fmt: skip
        shutil.copy2(corpus / "exif" / name, photos)
    (photos / "flower.xmp").write_text("<x:xmpmeta><not closed", encoding="utf-8")  # a broken one
    with Library.open(tmp_path / "lib") as lib:
        report = lib.import_folders([photos], analyze=False)
        assert not report.failed and lib.photo_count() == 3  # sidecars are not photos
        flower = Photo.get(Photo.filename == "flower_sidecar.jpg")
        assert (flower.rating, flower.label, flower.title) == (4, "Green", "Flower in the garden")
        assert {"flower", "garden"} <= _xmp_tags(flower.id)
        canon = Photo.get(Photo.filename == "camera_canon_sx530hs.jpg")
        assert canon.rating == 2 and {"Brasilia", "family", "birthday party"} <= _xmp_tags(canon.id)
        plain = Photo.get(Photo.filename == "flower.jpg")
        assert plain.status == "ok"  # imported, the unreadable sidecar ignored and reported
        notes = [(Path(p).name, stage) for p, stage, _ in report.run.stage_failures]
        assert ("flower.jpg", "sidecar") in notes


def test_tags_tessera_wrote_do_not_come_back_as_keywords(tmp_path: Path, corpus: Path) -> None:
    from app.core.catalog.models import Photo
    from app.core.library import Library
    from app.core.tags import add_user_tag, remove_tag
    from app.core.xmp.export import export_sidecars

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy2(corpus / "exif" / "flower_sidecar.jpg", photos)
    shutil.copy2(corpus / "exif" / "flower_sidecar.xmp", photos)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([photos], analyze=False)
        photo = Photo.get(Photo.filename == "flower_sidecar.jpg")
        add_user_tag(lib, [photo.id], "macro")
        export_sidecars(lib, [photo.id])
        assert "macro" in read_sidecar(photos / "flower_sidecar.xmp").keywords
        remove_tag(lib, [photo.id], "macro")
        (photos / "flower_sidecar.jpg").touch()  # force a re-read on the next import
        lib.import_folders([photos], analyze=False)
        assert "macro" not in _xmp_tags(photo.id) and {"flower", "garden"} <= _xmp_tags(photo.id)
