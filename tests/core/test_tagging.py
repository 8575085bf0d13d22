"""Content tagging: the restricted unpickler, the ONNX EfficientNet-Lite0 against the authors' PyTorch
model (tests/fixtures/tagging_reference.json, made by scripts/make_tagging_reference.py), tags a
person would agree with on corpus photos, and parent tags."""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.analysis.decode import decode_image
from app.core.analysis.efficientnet import Tagger, preprocess, same_pads, weights_path
from app.core.analysis.tagging import (
    FEATURE_DIM,
    MAX_TAGS,
    MIN_CONFIDENCE,
    face_tags,
    imagenet_labels,
    normalized_f16,
    tag_parents,
    tags_from_probs,
)
from app.core.analysis.torch_pickle import LEGACY_MAGIC, LEGACY_PROTOCOL, RestrictedUnpickler, load_state_dict
from app.core.similar import rank

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tagging_reference.json"


# ---- restricted unpickler ----------------------------------------------------------------------


class _Evil:
    def __init__(self, func: object, arg: str) -> None:
        self.func, self.arg = func, arg

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return self.func, (self.arg,)


@pytest.mark.parametrize("func", [os.system, eval, exec, __import__])
def test_hostile_pickle_is_refused(tmp_path: Path, func: object) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(OrderedDict(w=_Evil(func, f"open({str(marker)!r}, 'w').close()")))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        RestrictedUnpickler(io.BytesIO(payload)).load()
    assert not marker.exists()


def test_hostile_checkpoints_are_refused_in_both_layouts(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"w": _Evil(os.system, f"touch {marker}")}, protocol=2)
    legacy = tmp_path / "legacy.pth"
    header = b"".join(pickle.dumps(v, protocol=2) for v in (LEGACY_MAGIC, LEGACY_PROTOCOL, {"little_endian": True}))
    legacy.write_bytes(header + evil + pickle.dumps([], protocol=2))
    zipped = tmp_path / "zipped.pth"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("archive/data.pkl", evil)
    for path in (legacy, zipped):
        with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global (posix|os|nt)\.system"):
            load_state_dict(path)
    assert not marker.exists()


STORAGE_DTYPES = {"FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8"}


def _fake_torch(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, type], object]:
    """Stand-ins named like torch's globals, so the test writes a checkpoint without torch."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    storages = {name: type(name, (), {"__module__": "torch"}) for name in STORAGE_DTYPES}

    def _rebuild_tensor_v2(*args: object) -> None: ...

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    for name, storage in storages.items():
        setattr(torch, name, storage)
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return storages, _rebuild_tensor_v2


def _checkpoint_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storages: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    """(tensor factory, write) for zip checkpoints laid out as torch 2 saves them: `name/data.pkl`
    whose tensors point at storages `name/data/KEY`, plus torch's version and byte-order entries."""
    storage_types, rebuild = _fake_torch(monkeypatch)

    class _Tensor:
        def __init__(self, key: str, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
            self.key, self.args = key, (offset, size, stride)

        def __reduce__(self) -> tuple[object, tuple[object, ...]]:
            return rebuild, (("STORAGE", self.key), *self.args, False, OrderedDict())

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> tuple[object, ...] | None:
            if not (isinstance(obj, tuple) and obj[:1] == ("STORAGE",)):
                return None
            array = storages[obj[1]]
            kind = next(name for name, dtype in STORAGE_DTYPES.items() if np.dtype(dtype) == array.dtype)
            return ("storage", storage_types[kind], obj[1], "cpu", array.size)

    def write(name: str, tensors: OrderedDict[str, _Tensor]) -> Path:
        buf = io.BytesIO()
        _Pickler(buf, protocol=2).dump(tensors)
        path = tmp_path / f"{name}.pth"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(f"{name}/data.pkl", buf.getvalue())
            for entry, value in ((".format_version", "1"), (".storage_alignment", "64"), ("byteorder", "little")):
                zf.writestr(f"{name}/{entry}", value)
            for key, array in storages.items():
                zf.writestr(f"{name}/data/{key}", array.tobytes())
            zf.writestr(f"{name}/version", "3\n")
            zf.writestr(f"{name}/.data/serialization_id", "0123456789")
        return path

    return _Tensor, write


def test_zip_checkpoint_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = np.arange(12, dtype="<f4")
    tensor, write = _checkpoint_writer(tmp_path, monkeypatch, {"0": data})
    good = write("tiny", OrderedDict(a=tensor("0", 0, (3, 4), (4, 1)), b=tensor("0", 2, (2, 2), (1, 4))))
    huge = write("huge", OrderedDict(a=tensor("0", 0, (10**6, 10**6), (0, 0))))  # 4 TB from 48 bytes
    outside = write("outside", OrderedDict(a=tensor("0", 10, (4,), (1,))))
    monkeypatch.undo()  # the loader must not need (even a fake) torch
    state = load_state_dict(good)
    np.testing.assert_array_equal(state["a"], data.reshape(3, 4))
    np.testing.assert_array_equal(state["b"], np.array([[2, 6], [3, 7]], dtype=np.float32))
    for path in (huge, outside):
        with pytest.raises(pickle.UnpicklingError, match="exceeds storage"):
            load_state_dict(path)


def test_checkpoint_in_torch_2_zip_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the entries and tensor kinds `torch.save` 2.x writes for a small state dict: a strided
    # (transposed) view, a half tensor and a 0-d int64 scalar, each on its own storage
    storages = {
        "0": np.arange(12, dtype="<f4"),
        "1": np.array([1.5, -2.0], dtype="<f2"),
        "2": np.array([7], dtype="<i8"),
    }
    tensor, write = _checkpoint_writer(tmp_path, monkeypatch, storages)
    path = write(
        "torch_zip_state_dict",
        OrderedDict(
            matrix=tensor("0", 0, (3, 4), (4, 1)),
            transposed_view=tensor("0", 1, (2, 3), (1, 4)),
            half=tensor("1", 0, (2,), (1,)),
            count=tensor("2", 0, (), ()),
        ),
    )
    monkeypatch.undo()
    state = load_state_dict(path)
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(state["matrix"], base)
    np.testing.assert_array_equal(state["transposed_view"], base[:, 1:3].T)
    assert state["half"].dtype == np.float16 and state["half"].tolist() == [1.5, -2.0]
    assert state["count"].shape == () and int(state["count"]) == 7


def test_truncated_legacy_storage_is_an_error(tmp_path: Path) -> None:
    raw = weights_path().read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(pickle.UnpicklingError):
        load_state_dict(cut)
    cut.write_bytes(raw[:5000])  # inside the pickle itself
    with pytest.raises(pickle.UnpicklingError):
        load_state_dict(cut)


# ---- the network -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.shared()


def test_no_torch_at_run_time(tagger: Tagger) -> None:
    assert "torch" not in sys.modules


def test_real_weights_load() -> None:
    state = load_state_dict(weights_path())
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, FEATURE_DIM)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert all(v.dtype in (np.float32, np.int64) for v in state.values())


def test_same_padding_matches_tensorflow() -> None:
    assert same_pads(224, 3, 2) == (0, 1)
    assert same_pads(56, 5, 2) == (1, 2)
    assert same_pads(14, 5, 1) == (2, 2)


def test_network_runs(tagger: Tagger) -> None:
    probs, feature = tagger.classify(Image.new("RGB", (640, 480), (90, 140, 200)))
    assert probs.shape == (1000,) and probs.dtype == np.float32
    assert feature.shape == (FEATURE_DIM,) and feature.dtype == np.float32
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    assert (feature >= 0).all() and (feature <= 6).all()  # pooled ReLU6 activations


def test_preprocess_handles_any_mode_and_shape() -> None:
    for image in (Image.new("L", (30, 900)), Image.new("RGBA", (3000, 20)), Image.new("P", (1, 1))):
        x = preprocess(image)
        assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32


def test_matches_the_pytorch_reference(tagger: Tagger, corpus: Path) -> None:
    reference = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for photo in reference["photos"]:
        with Image.open(corpus / photo["file"]) as image:
            logits, feature = tagger.forward(preprocess(image))
        # measured: max |diff| 1.2e-5 on the logits, 7e-6 on the features
        assert list(np.argsort(-logits)[:10]) == photo["top_indices"]
        np.testing.assert_allclose(logits[photo["top_indices"]], photo["top_logits"], atol=1e-3)
        np.testing.assert_allclose(feature[:16], photo["feature_head"], atol=1e-3)
        assert np.linalg.norm(feature) == pytest.approx(photo["feature_norm"], abs=1e-3)


def _tags(tagger: Tagger, path: Path) -> dict[str, float]:
    return dict(tagger.tag(decode_image(path.read_bytes()).image).tags)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("dupes/g01_chelsea.jpg", {"cat": 0.8, "animal": 0.8}),
        ("dupes/g02_coffee.jpg", {"espresso": 0.8, "coffee": 0.8, "drink": 0.8}),
        ("formats/heic_pug.heic", {"pug": 0.8, "dog": 0.9}),
        ("faces/kpa_pool.jpg", {"pool table": 0.8}),
        ("faces/kpa_sunset.jpg", {"volcano": 0.3, "landscape": 0.5}),
        ("dupes/g03_rocket.jpg", {"missile": 0.3}),
        ("dupes/g13_flower.jpg", {"daisy": 0.2, "flower": 0.2}),
    ],
)
def test_tags_match_what_a_person_sees(tagger: Tagger, corpus: Path, rel: str, expected: dict[str, float]) -> None:
    tags = _tags(tagger, corpus / rel)
    for name, minimum in expected.items():
        assert tags.get(name, 0.0) > minimum, (name, tags)


def test_top5_of_the_cat_photo_are_cats(tagger: Tagger, corpus: Path) -> None:
    probs, _ = tagger.classify(decode_image((corpus / "dupes/g01_chelsea.jpg").read_bytes()).image)
    top5 = [imagenet_labels()[i] for i in np.argsort(-probs)[:5]]
    assert {"tabby", "tiger cat", "egyptian cat"} <= set(top5)
    assert "dog" not in _tags(tagger, corpus / "dupes/g01_chelsea.jpg")


# ---- tags from probabilities ------------------------------------------------------------------


def test_label_files() -> None:
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert all(label == label.lower() and "_" not in label for label in labels)
    assert labels[285] == "egyptian cat" and labels[207] == "golden retriever"
    parents = tag_parents()
    assert all(((v >= 0) & (v < 1000)).all() for v in parents.values())
    assert set(parents["dog"]) <= set(parents["mammal"]) <= set(parents["animal"])


def test_parent_tags_sum_their_children() -> None:
    dogs = tag_parents()["dog"]
    probs = np.zeros(1000, np.float32)
    probs[dogs[:3]] = [0.2, 0.15, 0.1]  # three breeds, none sure on its own
    probs[[285]] = 0.05  # egyptian cat
    probs[np.flatnonzero(probs == 0)] = (1 - probs.sum()) / np.count_nonzero(probs == 0)
    tags = dict(tags_from_probs(probs))
    assert tags["dog"] == pytest.approx(0.45, abs=0.01)
    assert tags["animal"] == pytest.approx(0.5, abs=0.01)  # dogs + the cat
    assert tags["cat"] == pytest.approx(0.05, abs=0.01)
    assert "person" not in tags


def test_face_count_tags() -> None:
    assert {"person", "portrait"} == dict(face_tags(1)).keys()
    assert {"person", "people"} == dict(face_tags(2)).keys()
    assert {"person", "people", "group"} == dict(face_tags(5)).keys()
    assert face_tags(0) == [] and face_tags(None) == []
    assert tags_from_probs(np.full(1000, 1e-3, np.float32)) == []  # nothing sure: no tags at all


def test_tags_are_sorted_clean_and_bounded(tagger: Tagger, corpus: Path) -> None:
    tags = tagger.tag(decode_image((corpus / "faces/group_poker.jpg").read_bytes()).image).tags
    confidences = [c for _, c in tags]
    assert confidences == sorted(confidences, reverse=True)
    assert len(tags) <= MAX_TAGS and min(confidences) >= MIN_CONFIDENCE
    assert all(name == name.lower() and "_" not in name for name, _ in tags)


# ---- similar photos ------------------------------------------------------------------------------


def test_similar_photos_share_content(tagger: Tagger, corpus: Path) -> None:
    names = ["g01_chelsea.jpg", "g01_chelsea_mirror.jpg", "g02_coffee.jpg", "g03_rocket.jpg", "g00_astronaut.jpg"]
    features = np.stack(
        [normalized_f16(tagger.classify(decode_image((corpus / "dupes" / n).read_bytes()).image)[1]) for n in names]
    )
    assert features.dtype == np.float16
    assert np.linalg.norm(features.astype(np.float32), axis=1) == pytest.approx(1.0, abs=1e-3)
    order, scores = rank(features, features[0].astype(np.float32), top=3)
    assert list(order[:2]) == [0, 1] and scores[0] == pytest.approx(1.0, abs=1e-3)  # itself, then its mirror
    assert list(scores) == sorted(scores, reverse=True)
    order, _ = rank(features, features[0], top=50, exclude=0)
    assert len(order) == len(names) - 1 and 0 not in order
