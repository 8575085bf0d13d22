"""XMP face regions, the standard the other apps share: MWG regions (mwg-rs:RegionInfo, written by
Lightroom, digiKam, Picasa and exiftool) and Microsoft Photo regions (MP:RegionInfo, Windows Photo
Gallery, Picasa, digiKam). Read from embedded XMP and sidecars on import; MWG written by export-xmp.

MWG's Area is normalized to the frame the regions were drawn on, x and y being the region's
*centre*; MP's Rectangle is "left, top, width, height", normalized too. Both frames are the photo as
displayed (EXIF orientation applied); an AppliedToDimensions with the stored, unrotated aspect tells
of a writer that used the stored frame instead, and such regions are turned upright on reading.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element

from app.core.records import FaceRegion

NS = {
    "mwg-rs": "http://www.metadataworkinggroup.com/schemas/regions/",
    "stArea": "http://ns.adobe.com/xmp/sType/Area#",
    "stDim": "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "MP": "http://ns.microsoft.com/photo/1.2/",
    "MPRI": "http://ns.microsoft.com/photo/1.2/t/RegionInfo#",
    "MPReg": "http://ns.microsoft.com/photo/1.2/t/Region#",
}
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_IGNORED_MP_NAME = "ffffffffffffffff"  # Windows Photo Gallery's "ignored face"
Field = str | Element
Area = tuple[float, float, float, float]  # x, y, w, h in 0..1


def _q(prefix: str, name: str) -> str:
    return "{" + NS[prefix] + "}" + name


# -- reading -------------------------------------------------------------------------------------------
def _fields(node: Element) -> dict[str, Field]:
    """A struct's fields whatever its RDF spelling: attributes, child elements (rdf:parseType
    Resource) or a nested rdf:Description. Simple fields come back as text, structs and arrays as
    their element."""
    out: dict[str, Field] = {k: v for k, v in node.attrib.items() if not k.startswith(_RDF)}
    for child in node:
        if child.tag == _RDF + "Description":
            out.update(_fields(child))
        elif len(child) or any(not k.startswith(_RDF) for k in child.attrib):
            out[child.tag] = child
        else:
            out[child.tag] = (child.text or "").strip()
    return out


def _struct(value: Field | None) -> dict[str, Field]:
    return _fields(value) if isinstance(value, Element) else {}


def _lis(array: Element) -> list[Element]:
    """The items of an array property (its rdf:Bag or rdf:Seq), not those of arrays inside them."""
    return array.findall(f"{_RDF}Bag/{_RDF}li") + array.findall(f"{_RDF}Seq/{_RDF}li")


def _items(value: Field | None) -> list[dict[str, Field]]:
    """The structs of an array property."""
    return [_fields(li) for li in _lis(value)] if isinstance(value, Element) else []


def _text(fields: dict[str, Field], key: str) -> str | None:
    value = fields.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _number(fields: dict[str, Field], key: str) -> float | None:
    text = _text(fields, key)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _plausible(x: float, y: float, w: float, h: float) -> bool:
    return 0 < w <= 1.01 and 0 < h <= 1.01 and -0.01 <= x <= 1 and -0.01 <= y <= 1


def _mwg_regions(info: dict[str, Field]) -> list[FaceRegion]:
    dims = _struct(info.get(_q("mwg-rs", "AppliedToDimensions")))
    dw, dh = _number(dims, _q("stDim", "w")), _number(dims, _q("stDim", "h"))
    frame = (round(dw), round(dh)) if dw and dh and dw > 0 and dh > 0 else None
    out = []
    for region in _items(info.get(_q("mwg-rs", "RegionList"))):
        kind = _text(region, _q("mwg-rs", "Type"))
        if kind is not None and kind.lower() != "face":
            continue  # pets, focus points, bar codes
        area = _struct(region.get(_q("mwg-rs", "Area")))
        cx, cy, w, h = (_number(area, _q("stArea", k)) for k in ("x", "y", "w", "h"))
        if cx is None or cy is None or not w or not h:
            continue
        if (_text(area, _q("stArea", "unit")) or "normalized").lower() == "pixel" and frame:
            cx, cy, w, h = cx / frame[0], cy / frame[1], w / frame[0], h / frame[1]
        x, y = cx - w / 2, cy - h / 2
        if _plausible(x, y, w, h):
            out.append(FaceRegion(x, y, w, h, _text(region, _q("mwg-rs", "Name")), "mwg", frame))
    return out


def _mp_regions(info: dict[str, Field]) -> list[FaceRegion]:
    out = []
    for region in _items(info.get(_q("MPRI", "Regions"))):
        name = _text(region, _q("MPReg", "PersonDisplayName"))
        rect = _text(region, _q("MPReg", "Rectangle")) or ""
        with contextlib.suppress(ValueError):
            x, y, w, h = (float(v) for v in rect.split(","))
            if name != _IGNORED_MP_NAME and _plausible(x, y, w, h):
                out.append(FaceRegion(x, y, w, h, name, "mp"))
    return out


def parse_regions(root: Element) -> list[FaceRegion]:
    """The face regions of a parsed XMP tree: MWG's where there are any (the apps that write both
    keep them in step), else Microsoft Photo's. Malformed regions are skipped, never raised."""
    mwg: list[FaceRegion] = []
    mp: list[FaceRegion] = []
    for desc in root.iter(_RDF + "Description"):
        fields = _fields(desc)
        mwg += _mwg_regions(_struct(fields.get(_q("mwg-rs", "Regions"))))
        mp += _mp_regions(_struct(fields.get(_q("MP", "RegionInfo"))))
    return mwg or mp


# Orientations whose display swaps width and height, and how a normalized box drawn on the stored
# pixels lands on the displayed photo (EXIF's 5-8: transpose, rotate 90 CW, transverse, rotate 90 CCW).
_UPRIGHT = {
    5: lambda x, y, w, h: (y, x, h, w),
    6: lambda x, y, w, h: (1 - y - h, x, h, w),
    7: lambda x, y, w, h: (1 - y - h, 1 - x - w, h, w),
    8: lambda x, y, w, h: (y, 1 - x - w, h, w),
}


def displayed(
    region: FaceRegion, width: int, height: int, orientation: int | None
) -> tuple[float, float, float, float]:
    """The region in 0..1 of the photo as displayed (`width` x `height`)."""
    box = (region.x, region.y, region.w, region.h)
    turn = _UPRIGHT.get(orientation or 1)
    if turn is not None and region.frame is not None:
        fw, fh = region.frame
        if (fw > fh) != (width > height) and fw != fh and width != height:
            return turn(*box)  # drawn on the stored pixels, sideways to the displayed photo
    return box


# -- writing -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NamedFace:
    name: str
    box: tuple[int, int, int, int]  # x, y, w, h in the photo's displayed pixels


@dataclass(frozen=True)
class FaceExport:
    """What export-xmp writes of a photo's faces: its named ones, on its displayed size."""

    faces: tuple[NamedFace, ...]
    size: tuple[int, int]


def _remove_property(descs: Sequence[Element], key: str) -> tuple[Element, int] | None:
    """Take `key` out of the descriptions; returns where it was (description, index) if anywhere."""
    where = None
    for desc in descs:
        for i, child in enumerate(list(desc)):
            if child.tag == key:
                where = where or (desc, i)
                desc.remove(child)
    return where


def _li(parent: Element) -> Element:
    return ET.SubElement(parent, _RDF + "li", {_RDF + "parseType": "Resource"})


def _keep_foreign(existing: list[tuple[Element, dict[str, Field]]], ours: list[Area]) -> list[Element]:
    """Regions to keep as the file has them: non-face ones (pets, focus) and unnamed faces none of
    ours covers. Named faces are all in the catalog (read on import), which is their truth now."""
    kept = []
    for element, fields in existing:
        kind = (_text(fields, _q("mwg-rs", "Type")) or "face").lower()
        named = _text(fields, _q("mwg-rs", "Name"))
        if kind == "face" and named:
            continue
        if kind == "face":
            area = _struct(fields.get(_q("mwg-rs", "Area")))
            cx, cy = _number(area, _q("stArea", "x")), _number(area, _q("stArea", "y"))
            if cx is not None and cy is not None and any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in ours):
                continue
        kept.append(element)
    return kept


def _existing_mwg(descs: Sequence[Element]) -> list[tuple[Element, dict[str, Field]]]:
    found = []
    for desc in descs:
        info = _struct(_fields(desc).get(_q("mwg-rs", "Regions")))
        region_list = info.get(_q("mwg-rs", "RegionList"))
        if isinstance(region_list, Element):
            found += [(li, _fields(li)) for li in _lis(region_list)]
    return found


def merge_regions(descs: list[Element], faces: Sequence[NamedFace], size: tuple[int, int]) -> None:
    """Write the named faces as MWG face regions into a sidecar's rdf:Descriptions, in place: other
    apps' non-face regions and unnamed faces stay; Microsoft Photo regions, where the file has them,
    are rewritten to match (so Windows and Picasa see the same names). No named face: MWG face
    regions go, the rest stays."""
    width, height = size
    ours = [(f.box[0] / width, f.box[1] / height, f.box[2] / width, f.box[3] / height) for f in faces]
    kept = _keep_foreign(_existing_mwg(descs), ours)
    where = _remove_property(descs, _q("mwg-rs", "Regions"))
    if faces or kept:
        desc, index = where or (descs[0], len(descs[0]))
        regions = Element(_q("mwg-rs", "Regions"), {_RDF + "parseType": "Resource"})
        dims = ET.SubElement(regions, _q("mwg-rs", "AppliedToDimensions"), {_RDF + "parseType": "Resource"})
        for key, value in (("w", str(width)), ("h", str(height)), ("unit", "pixel")):
            ET.SubElement(dims, _q("stDim", key)).text = value
        bag = ET.SubElement(ET.SubElement(regions, _q("mwg-rs", "RegionList")), _RDF + "Bag")
        for face, (x, y, w, h) in zip(faces, ours, strict=True):
            li = _li(bag)
            area = ET.SubElement(li, _q("mwg-rs", "Area"), {_RDF + "parseType": "Resource"})
            values = {"x": x + w / 2, "y": y + h / 2, "w": w, "h": h}
            for key, value in values.items():
                ET.SubElement(area, _q("stArea", key)).text = f"{value:.6f}"
            ET.SubElement(area, _q("stArea", "unit")).text = "normalized"
            ET.SubElement(li, _q("mwg-rs", "Name")).text = face.name
            ET.SubElement(li, _q("mwg-rs", "Type")).text = "Face"
        for element in kept:
            bag.append(element)
        desc.insert(min(index, len(desc)), regions)
    mp_where = _remove_property(descs, _q("MP", "RegionInfo"))
    if mp_where is not None and faces:
        desc, index = mp_where
        info = Element(_q("MP", "RegionInfo"), {_RDF + "parseType": "Resource"})
        bag = ET.SubElement(ET.SubElement(info, _q("MPRI", "Regions")), _RDF + "Bag")
        for face, (x, y, w, h) in zip(faces, ours, strict=True):
            li = _li(bag)
            ET.SubElement(li, _q("MPReg", "Rectangle")).text = f"{x:.6f}, {y:.6f}, {w:.6f}, {h:.6f}"
            ET.SubElement(li, _q("MPReg", "PersonDisplayName")).text = face.name
        desc.insert(min(index, len(desc)), info)
