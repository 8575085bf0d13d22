"""XMP packets: finding them in a file and reading the fields people use (keywords, hierarchical
keywords, title, rating, color label). Parsed with defusedxml: entity bombs and external entities
are refused."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from app.core.records import FaceRegion
from app.core.xmp.regions import parse_regions

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "digiKam": "http://www.digikam.org/ns/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
}
# Metadata.place key -> the XMP property Lightroom, digiKam, Photo Mechanic and exiftool use
PLACE_PROPERTIES = {
    "city": ("photoshop", "City"),
    "region": ("photoshop", "State"),
    "country": ("photoshop", "Country"),
    "country_code": ("Iptc4xmpCore", "CountryCode"),
    "location": ("Iptc4xmpCore", "Location"),
}
_RDF = "{" + NS["rdf"] + "}"
# digiKam's PickLabel and ColorLabel numbers (Lightroom keeps the pick flag in its catalog only)
PICK_NONE, PICK_REJECTED, PICK_PENDING, PICK_ACCEPTED = 0, 1, 2, 3
DIGIKAM_COLORS = {1: "Red", 3: "Yellow", 4: "Green", 5: "Blue", 6: "Purple"}  # 6 is its "Magenta"
MAX_PACKET = 4 << 20


class XmpError(Exception):
    """Malformed or hostile XMP."""


@dataclass
class XmpFacts:
    keywords: list[str] = field(default_factory=list)
    hierarchical: list[str] = field(default_factory=list)  # "Places|Europe|Paris"
    title: str | None = None
    description: str | None = None
    rating: int | None = None  # -1: rejected (Lightroom's convention, also digiKam's PickLabel 1)
    label: str | None = None
    picked: bool | None = None  # digiKam's PickLabel 3 (accepted); None: the packet says nothing
    place: dict[str, str] = field(default_factory=dict)  # see PLACE_PROPERTIES
    face_regions: list[FaceRegion] = field(default_factory=list)  # MWG or Microsoft Photo (xmp.regions)


def find_packet(data: bytes, image: Any = None) -> bytes | None:
    """The XMP packet of a file: from Pillow's info when it has one, else by scanning the bytes."""
    if image is not None:
        for key in ("xmp", "XML:com.adobe.xmp"):
            value = image.info.get(key)
            if isinstance(value, str):
                value = value.encode("utf-8")
            if isinstance(value, bytes) and b"xmpmeta" in value:
                return value[:MAX_PACKET]
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = data.find(b"</x:xmpmeta>", start)
    return data[start : end + len(b"</x:xmpmeta>")] if 0 <= end - start < MAX_PACKET else None


def _q(prefix: str, name: str) -> str:
    return "{" + NS[prefix] + "}" + name


def _values(desc: Element, prefix: str, name: str) -> list[str]:
    """A property's values, whether an attribute, a simple element or an rdf:Bag/Seq/Alt."""
    key = _q(prefix, name)
    if key in desc.attrib:
        return [desc.attrib[key]]
    out: list[str] = []
    for prop in desc.findall(key):
        items = prop.findall(f"{_RDF}Bag/{_RDF}li") + prop.findall(f"{_RDF}Seq/{_RDF}li")
        items += prop.findall(f"{_RDF}Alt/{_RDF}li")
        if items:
            out.extend((li.text or "").strip() for li in items)
        elif prop.text and prop.text.strip():
            out.append(prop.text.strip())
    return [v for v in out if v]


def _number(values: list[str]) -> int | None:
    with contextlib.suppress(ValueError, IndexError):
        return int(float(values[0]))
    return None


def parse_root(root: Element) -> XmpFacts:
    facts = XmpFacts()
    for desc in root.iter(f"{_RDF}Description"):
        facts.keywords += _values(desc, "dc", "subject")
        facts.hierarchical += _values(desc, "lr", "hierarchicalSubject")
        facts.hierarchical += [v.replace("/", "|") for v in _values(desc, "digiKam", "TagsList")]
        title = _values(desc, "dc", "title")
        facts.title = facts.title or (title[0] if title else None)
        description = _values(desc, "dc", "description")
        facts.description = facts.description or (description[0] if description else None)
        rating = _values(desc, "xmp", "Rating")
        if rating:
            with contextlib.suppress(ValueError):
                facts.rating = int(float(rating[0]))
        label = _values(desc, "xmp", "Label")
        facts.label = facts.label or (label[0] if label else None)
        for key, (prefix, name) in PLACE_PROPERTIES.items():
            found = _values(desc, prefix, name)
            if found and key not in facts.place:
                facts.place[key] = found[0]
        pick = _number(_values(desc, "digiKam", "PickLabel"))
        if pick is not None:
            facts.rating = -1 if pick == PICK_REJECTED else facts.rating
            facts.picked = pick == PICK_ACCEPTED
        colour = _number(_values(desc, "digiKam", "ColorLabel"))
        facts.label = facts.label or DIGIKAM_COLORS.get(colour or 0)
    if facts.rating == -1:
        facts.picked = False
    leaves = [h.split("|")[-1].strip() for h in facts.hierarchical]
    facts.keywords = list(dict.fromkeys(k for k in facts.keywords + leaves if k))
    facts.hierarchical = list(dict.fromkeys(facts.hierarchical))
    facts.face_regions = parse_regions(root)
    return facts


def parse_tree(packet: bytes) -> Element:
    try:
        return SafeET.fromstring(packet.strip(b"\x00 \r\n\t"))
    except Exception as exc:  # defusedxml's refusals and plain syntax errors alike
        raise XmpError(f"unreadable XMP: {type(exc).__name__}: {exc}") from exc


def parse(packet: bytes) -> XmpFacts:
    return parse_root(parse_tree(packet))
