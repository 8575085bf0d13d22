"""XMP sidecars: finding, reading and writing the `.xmp` files that Lightroom, darktable and digiKam
keep beside photos. Reading never raises (a broken or hostile sidecar becomes `SidecarData.error`).
Writing merges into the existing sidecar's XML tree, so fields and namespaces we do not know
survive, and replaces the file atomically. The photo itself is never opened for writing.

Hierarchical tags use "|" as separator ("Places|France|Paris"), like lr:hierarchicalSubject."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypedDict, Unpack
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from app.core.records import Metadata, SidecarData, SidecarState
from app.core.xmp import packet as xmp
from app.core.xmp import regions

MAX_SIDECAR = 16 << 20  # darktable histories can be long; anything beyond this is not a sidecar
# tessera:tags lists the keywords Tessera itself put in the sidecar: the only ones it may take out
NS = {**xmp.NS, **regions.NS, "darktable": "http://darktable.sf.net/", "tessera": "http://ns.tessera.photo/1.0/"}
_RDF = "{" + NS["rdf"] + "}"
_DESC = _RDF + "Description"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DT_INTERNAL = "darktable|"  # darktable's bookkeeping tags (darktable|format|cr2), not the user's
# darktable:colorlabels stores indexes, Lightroom/digiKam store the color name in xmp:Label
_DT_LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")
_PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_END = '\n<?xpacket end="w"?>\n'
_NS_LOCK = threading.Lock()  # ElementTree's prefix registry is module-global
_RESERVED_PREFIX = re.compile(r"ns\d+$")


class SidecarError(Exception):
    """A sidecar we refuse to read or merge into (malformed, hostile, too large, unreadable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- finding -------------------------------------------------------------------------------------
def sidecar_candidates(photo_path: Path) -> tuple[str, str]:
    """The two conventional names: darktable's `IMG_1.CR2.xmp`, Lightroom's `IMG_1.xmp`."""
    return photo_path.name + ".xmp", photo_path.stem + ".xmp"


def sidecar_names(names: Iterable[str]) -> dict[str, str]:
    """Base name -> file name of the `.xmp` files among `names` (the extension in any case)."""
    by_base: dict[str, str] = {}
    for name in names:
        if name[-4:].lower() == ".xmp":
            by_base.setdefault(name[:-4], name)
    return by_base


def choose_sidecar(photo_name: str, by_base: dict[str, str], is_file: Callable[[str], bool]) -> str | None:
    """Which of a folder's sidecars (`sidecar_names`) belongs to the photo, darktable style first:
    `IMG_1.CR2.xmp` names one photo, while `IMG_1.xmp` may be shared by IMG_1.CR2 and IMG_1.JPG."""
    for candidate in sidecar_candidates(Path(photo_name)):
        name = by_base.get(candidate[:-4])
        if name is not None and name != photo_name and is_file(name):
            return name
    return None


def find_sidecar(photo_path: Path) -> Path | None:
    """The sidecar beside `photo_path` (see `choose_sidecar`)."""
    photo_path = Path(photo_path)
    folder = photo_path.parent
    try:
        by_base = sidecar_names(os.listdir(folder))
    except OSError:
        return None
    name = choose_sidecar(photo_path.name, by_base, lambda n: (folder / n).is_file())
    return None if name is None else folder / name


def sidecar_state(path: Path | str | None) -> SidecarState | None:
    """The sidecar's stat, or None when there is none (or it vanished since it was found)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return SidecarState(str(path), st.st_size, st.st_mtime_ns)


# -- reading -------------------------------------------------------------------------------------
def _load_tree(path: Path) -> Element:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIDECAR + 1)
    except OSError as exc:
        raise SidecarError(f"cannot read sidecar: {exc.strerror or exc}") from exc
    if len(data) > MAX_SIDECAR:
        raise SidecarError(f"sidecar larger than {MAX_SIDECAR >> 20} MB")
    try:
        root = SafeET.fromstring(data.strip(b"\x00 \r\n\t"))
    except Exception as exc:  # defusedxml's refusals (entities, DTDs) and syntax errors alike
        raise SidecarError(f"unreadable XMP sidecar: {type(exc).__name__}: {exc}") from exc
    if root.tag not in (_q("x", "xmpmeta"), _RDF + "RDF"):
        raise SidecarError(f"not an XMP sidecar: root element is {root.tag}")
    return root


def _q(prefix: str, name: str) -> str:
    return "{" + NS[prefix] + "}" + name


def _darktable_label(root: Element) -> str | None:
    key = _q("darktable", "colorlabels")
    for desc in root.iter(_DESC):
        for prop in desc.findall(key):
            for li in prop.iter(_RDF + "li"):
                text = (li.text or "").strip()
                if text.isdigit() and int(text) < len(_DT_LABELS):
                    return _DT_LABELS[int(text)]
    return None


def _without_internal(facts: xmp.XmpFacts) -> tuple[list[str], list[str]]:
    """Keywords and hierarchical tags minus darktable's bookkeeping ones."""
    internal = [h for h in facts.hierarchical if h.startswith(_DT_INTERNAL)]
    hierarchical = [h for h in facts.hierarchical if not h.startswith(_DT_INTERNAL)]
    if not internal:
        return facts.keywords, hierarchical
    # darktable also flattens its own paths into dc:subject: drop words that only come from them
    user_parts = {p for h in hierarchical for p in h.split("|")}
    internal_parts = {p for h in internal for p in h.split("|")} - user_parts
    return [k for k in facts.keywords if k not in internal_parts], hierarchical


def parse_sidecar(root: Element) -> SidecarData:
    facts = xmp.parse_root(root)
    keywords, hierarchical = _without_internal(facts)
    rating = facts.rating if facts.rating is not None and -1 <= facts.rating <= 5 else None
    return SidecarData(
        keywords=keywords,
        hierarchical=hierarchical,
        rating=rating,
        label=facts.label or _darktable_label(root),
        picked=facts.picked,
        title=facts.title,
        description=facts.description,
        place=facts.place,
        tessera_tags=_existing(list(root.iter(_DESC)), _q("tessera", "tags")),
        face_regions=facts.face_regions,
    )


def read_sidecar(path: Path) -> SidecarData:
    """What a sidecar says about its photo. Never raises: failures come back in `.error`."""
    try:
        return parse_sidecar(_load_tree(Path(path)))
    except SidecarError as exc:
        return SidecarData(error=exc.reason)
    except Exception as exc:  # a tree shape nobody expected is still just a bad sidecar
        return SidecarData(error=f"unreadable XMP sidecar: {type(exc).__name__}: {exc}")


def apply_sidecar(data: SidecarData, md: Metadata) -> None:
    """What Lightroom, darktable or digiKam wrote in the photo's .xmp sidecar: its keywords join the
    embedded ones (source xmp in the catalog), and its rating, label and title win, as they are the
    newer edit. Keywords Tessera itself wrote there are left out: they come from the catalog, and
    reading them back would make a removed auto tag come back as a keyword."""
    ours = set(data.tessera_tags)
    leaves = [h.rsplit("|", 1)[-1] for h in data.hierarchical]
    md.keywords = list(dict.fromkeys(k for k in [*md.keywords, *data.keywords, *leaves] if k not in ours))
    md.rating = data.rating if data.rating is not None else md.rating
    md.picked = data.picked if data.picked is not None else md.picked and md.rating != -1
    md.label = data.label or md.label
    md.title = data.title or md.title
    md.place = {**md.place, **data.place}
    md.face_regions = [*data.face_regions, *md.face_regions]  # names go to faces nobody named yet: first wins


# -- writing -------------------------------------------------------------------------------------
def _empty_tree() -> Element:
    root = Element(_q("x", "xmpmeta"))
    rdf = ET.SubElement(root, _RDF + "RDF")
    ET.SubElement(rdf, _DESC, {_RDF + "about": ""})
    return root


def _descriptions(root: Element) -> list[Element]:
    descs = list(root.iter(_DESC))
    if not descs:
        rdf = root if root.tag == _RDF + "RDF" else root.find(_RDF + "RDF")
        if rdf is None:
            rdf = ET.SubElement(root, _RDF + "RDF")
        descs = [ET.SubElement(rdf, _DESC, {_RDF + "about": ""})]
    return descs


def _holder(descs: list[Element], key: str) -> Element:
    """The rdf:Description that already holds `key` (as element or attribute), else the first."""
    for desc in descs:
        if key in desc.attrib or desc.find(key) is not None:
            return desc
    return descs[0]


def _remove(descs: list[Element], key: str) -> None:
    for desc in descs:
        desc.attrib.pop(key, None)
        for prop in desc.findall(key):
            desc.remove(prop)


def _set_array(descs: list[Element], key: str, kind: str, values: list[str]) -> None:
    """Replace property `key` by an rdf:Bag/Seq of `values` (removed when empty), in place."""
    desc = _holder(descs, key)
    index = next((i for i, child in enumerate(desc) if child.tag == key), len(desc))
    _remove(descs, key)
    if not values:
        return
    prop = Element(key)
    array = ET.SubElement(prop, _RDF + kind)
    for value in values:
        ET.SubElement(array, _RDF + "li").text = value
    desc.insert(min(index, len(desc)), prop)


def _set_simple(descs: list[Element], key: str, value: str | None) -> None:
    """Set a simple property, keeping the file's form (attribute or element)."""
    desc = _holder(descs, key)
    as_attribute = key in desc.attrib
    elements = desc.findall(key)
    if value is None:
        _remove(descs, key)
    elif as_attribute:
        _remove([d for d in descs if d is not desc], key)
        for prop in elements:
            desc.remove(prop)
        desc.set(key, value)
    elif elements:
        _remove([d for d in descs if d is not desc], key)
        for prop in elements[1:]:
            desc.remove(prop)
        elements[0].clear()  # also drops a stray rdf:parseType or qualifiers
        elements[0].text = value
    else:
        ET.SubElement(desc, key).text = value


def _existing(descs: list[Element], key: str) -> list[str]:
    out: list[str] = []
    for desc in descs:
        for prop in desc.findall(key):
            out.extend((li.text or "").strip() for li in prop.iter(_RDF + "li"))
    return [v for v in out if v]


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = ("|".join(p.strip() for p in t.split("|") if p.strip()) for t in tags)
    return list(dict.fromkeys(t for t in cleaned if t))


def _simple_value(descs: list[Element], key: str) -> str | None:
    for desc in descs:
        if key in desc.attrib:
            return desc.attrib[key].strip()
        prop = desc.find(key)
        if prop is not None:
            return (prop.text or "").strip()
    return None


def _merge_flag(descs: list[Element], rating: int | None, picked: bool) -> None:
    """digiKam's PickLabel beside xmp:Rating (-1 is the reject Lightroom reads): 1 rejected, 3 picked;
    unflagged clears a pick or reject there but leaves its "pending" (2), which Tessera has no word for."""
    key = _q("digiKam", "PickLabel")
    if rating == -1:
        _set_simple(descs, key, str(xmp.PICK_REJECTED))
    elif picked:
        _set_simple(descs, key, str(xmp.PICK_ACCEPTED))
    elif _simple_value(descs, key) in (str(xmp.PICK_REJECTED), str(xmp.PICK_ACCEPTED)):
        _set_simple(descs, key, str(xmp.PICK_NONE))


def _merge_digikam_colour(descs: list[Element], label: str | None) -> None:
    """digiKam reads its own ColorLabel before xmp:Label: where it wrote one, keep it in step."""
    key = _q("digiKam", "ColorLabel")
    if _simple_value(descs, key) is not None:
        number = next((n for n, name in xmp.DIGIKAM_COLORS.items() if name == label), 0)
        _set_simple(descs, key, str(number))


class MergeOptions(TypedDict, total=False):
    """What a merge writes besides tags, rating and label. `ours`: which of the tags Tessera
    contributed (tessera:tags). `place`: names added where the tree names no place yet, never over
    what the user or an app set."""

    ours: list[str] | None
    picked: bool
    place: dict[str, str | None] | None


def merge_into(
    root: Element, tags: list[str], rating: int | None, label: str | None, **options: Unpack[MergeOptions]
) -> None:
    """Write tags, rating, pick flag, label and `options` into a parsed sidecar tree, leaving
    everything else alone."""
    ours, picked, place = options.get("ours"), options.get("picked", False), options.get("place")
    if rating is not None and not -1 <= rating <= 5:
        raise ValueError(f"rating must be between -1 (rejected) and 5, not {rating}")
    tags = _clean_tags(tags)
    descs = _descriptions(root)
    hier_key, dk_key = _q("lr", "hierarchicalSubject"), _q("digiKam", "TagsList")
    # darktable regenerates its bookkeeping tags, but it expects them to be there; keep them
    internal = [h for h in _existing(descs, hier_key) if h.startswith(_DT_INTERNAL)]
    leaves = [t.split("|")[-1] for t in tags]
    internal_words = [p for h in internal for p in h.split("|")]
    _set_array(descs, _q("dc", "subject"), "Bag", list(dict.fromkeys(leaves + internal_words)))
    hierarchical = any("|" in t for t in tags)
    _set_array(descs, hier_key, "Bag", (tags if hierarchical else []) + internal)
    if any(d.find(dk_key) is not None or dk_key in d.attrib for d in descs):
        # digiKam prefers its own list over dc:subject, so a stale one would resurrect old tags
        _set_array(descs, dk_key, "Seq", [t.replace("|", "/") for t in tags])
    _set_simple(descs, _q("xmp", "Rating"), None if rating is None else str(rating))
    _set_simple(descs, _q("xmp", "Label"), label)
    _merge_flag(descs, rating, picked)
    _merge_digikam_colour(descs, label)
    dt_key = _q("darktable", "colorlabels")
    if any(d.find(dt_key) is not None for d in descs):
        index = _DT_LABELS.index(label) if label in _DT_LABELS else None
        _set_array(descs, dt_key, "Seq", [] if index is None else [str(index)])
    if ours is not None:
        _set_array(descs, _q("tessera", "tags"), "Bag", _clean_tags(ours))
    if place and not xmp.parse_root(root).place:
        for key, (prefix, name) in xmp.PLACE_PROPERTIES.items():
            if place.get(key):
                _set_simple(descs, _q(prefix, name), place[key])


def _prefixes(path: Path) -> dict[str, str]:
    """The file's own prefix -> URI declarations, so a merge writes `darktable:` not `ns3:`."""
    found: dict[str, str] = {}
    try:
        for _event, (prefix, uri) in SafeET.iterparse(str(path), events=("start-ns",)):
            if prefix and not _RESERVED_PREFIX.match(prefix):
                found.setdefault(prefix, uri)
    except Exception:  # the tree already parsed; prefixes are cosmetic
        pass
    return found


def _serialize(root: Element, prefixes: dict[str, str]) -> bytes:
    with _NS_LOCK:
        for prefix, uri in {**NS, **prefixes}.items():
            ET.register_namespace(prefix, uri)
        ET.indent(root, space=" ")
        body = ET.tostring(root, encoding="unicode")
    return (_PACKET_BEGIN + body + _PACKET_END).encode("utf-8")


def packet_bytes(root: Element) -> bytes:
    """A parsed XMP tree as a packet to embed in an image (export) or write as a sidecar."""
    return _serialize(root, {})


def _atomic_write(target: Path, data: bytes) -> None:
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sidecar(
    photo_path: Path,
    tags: list[str],
    rating: int | None,
    label: str | None,
    *,
    faces: regions.FaceExport | None = None,
    **options: Unpack[MergeOptions],
) -> Path:
    """Write tags, rating and color label to the photo's sidecar and return its path.

    Merges into the existing sidecar (found by `find_sidecar`) or creates `<photo name>.xmp`; with
    `faces`, its MWG face regions become the named faces (see regions.merge_regions).
    Raises SidecarError, without touching anything, when the existing sidecar is unreadable:
    overwriting it would lose whatever it held."""
    photo_path = Path(photo_path)
    target = find_sidecar(photo_path)
    if target is None:
        target, root, prefixes = photo_path.with_name(sidecar_candidates(photo_path)[0]), _empty_tree(), {}
    else:
        root, prefixes = _load_tree(target), _prefixes(target)
    merge_into(root, tags, rating, label, **options)
    if faces is not None:
        regions.merge_regions(_descriptions(root), faces.faces, faces.size)
    _atomic_write(target, _serialize(root, prefixes))
    return target
