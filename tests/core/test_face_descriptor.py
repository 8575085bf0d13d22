"""Face descriptors (analysis/face_descriptor.py): our ONNX rebuild of dlib's ResNet against dlib
itself on corpus faces, landmarks where the eyes and nose are, distances that tell people apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.analysis.dlib_format import DlibFormatError, read_network
from app.core.analysis.face_descriptor import (
    CHIP_SIZE,
    DESCRIPTOR_DIM,
    RESNET_MODEL,
    SAME_PERSON_DISTANCE,
    FaceDescriber,
    describe_faces,
    describer,
    distance,
    distances,
    dlib_frame,
    models_dir,
)
from app.core.analysis.faces import FaceDetector

dlib = pytest.importorskip("dlib")


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def reference() -> object:
    """dlib's own face recognition model, on the same file."""
    return dlib.face_recognition_model_v1(str(models_dir() / RESNET_MODEL))


def _faces(detector: FaceDetector, path: Path) -> tuple[Image.Image, list[list[int]]]:
    image = Image.open(path).convert("RGB")
    return image, [f.as_list() for f in detector.detect(image, image.size)]


def test_descriptors_are_dlibs_own(detector: FaceDetector, reference: object, corpus: Path) -> None:
    """Ours against dlib's compute_face_descriptor with the same landmarks, on 14 corpus faces."""
    compared = 0
    for name in ("group_poker.jpg", "obama.jpg", "biden.jpg", "grace_hopper.jpg", "astronaut.png", "kpa_bar55.jpg"):
        image, boxes = _faces(detector, corpus / "faces" / name)
        ours = describe_faces(image, boxes)
        rgb = np.asarray(image)
        for face in ours:
            box = dlib.rectangle(*dlib_frame(face.box))
            shape = describer().landmarker(rgb, box)
            theirs = np.array(reference.compute_face_descriptor(rgb, shape), dtype=np.float32)
            assert np.abs(face.vector - theirs).max() < 1e-5, name
            cosine = float(face.vector @ theirs / np.linalg.norm(face.vector) / np.linalg.norm(theirs))
            assert cosine > 0.999999, name
            compared += 1
    assert compared >= 12


def test_shapes_and_types(detector: FaceDetector, corpus: Path) -> None:
    image, boxes = _faces(detector, corpus / "faces" / "group_poker.jpg")
    found = describe_faces(image, boxes)
    assert len(found) == len(boxes) == 6
    for face, box in zip(found, boxes, strict=True):
        assert face.vector.dtype == np.float32 and face.vector.shape == (DESCRIPTOR_DIM,)
        assert face.chip.dtype == np.uint8 and face.chip.shape == (CHIP_SIZE, CHIP_SIZE, 3)
        assert len(face.landmarks) == 5 and list(face.box) == box
    assert describe_faces(image, []) == []


def test_landmarks_sit_on_the_eyes_and_nose(corpus: Path) -> None:
    """obama.jpg: eye corners and nose tip checked by eye at (424-570, 216) and (496, 295)."""
    image = Image.open(corpus / "faces" / "obama.jpg").convert("RGB")
    (face,) = describe_faces(image, [[370, 75, 240, 352]])
    expected = [(570, 216), (528, 215), (424, 217), (463, 216), (496, 295)]
    for (x, y), (ex, ey) in zip(face.landmarks, expected, strict=True):
        assert abs(x - ex) <= 8 and abs(y - ey) <= 8
    # the chip is level: both eyes on one row, nose below them, centred
    chip = describer().landmarker(face.chip, dlib.rectangle(0, 0, CHIP_SIZE - 1, CHIP_SIZE - 1))
    points = [(p.x, p.y) for p in chip.parts()]
    assert abs(points[0][1] - points[2][1]) <= 3
    assert points[4][1] > points[0][1] + 15 and abs(points[4][0] - CHIP_SIZE / 2) <= 10


def test_same_person_close_others_far(detector: FaceDetector, corpus: Path) -> None:
    people = corpus / "people" / "face_recognition"
    vectors = {}
    for name in ("obama", "obama2", "obama3", "biden"):
        image, boxes = _faces(detector, people / f"{name}.jpg")
        vectors[name] = describe_faces(image, boxes[:1])[0].vector
    assert distance(vectors["obama"], vectors["obama2"]) < SAME_PERSON_DISTANCE
    assert distance(vectors["obama"], vectors["obama3"]) < SAME_PERSON_DISTANCE
    assert distance(vectors["obama"], vectors["biden"]) > SAME_PERSON_DISTANCE
    row = distances(np.stack([vectors["obama2"], vectors["biden"]]), vectors["obama"])
    assert row[0] == pytest.approx(distance(vectors["obama"], vectors["obama2"]), abs=1e-6)


def test_bad_boxes_are_refused(corpus: Path) -> None:
    image = Image.open(corpus / "faces" / "obama.jpg").convert("RGB")
    with pytest.raises(ValueError, match="positive size"):
        describe_faces(image, [[10, 10, 0, 50]])
    with pytest.raises(ValueError, match=r"\[x, y, w, h\]"):
        describe_faces(image, [[10, 10, 50]])


def test_model_loads_once_per_process() -> None:
    assert describer() is describer()
    assert isinstance(describer(), FaceDescriber)


def test_reader_refuses_a_damaged_file() -> None:
    data = (models_dir() / RESNET_MODEL).read_bytes()
    loss, input_layer, layers = read_network(data)
    assert input_layer.params["size"] == (150, 150)
    assert layers[-1].kind == "fc" and layers[-1].params["weights"].shape == (256, 128)
    assert loss.params["distance_threshold"] == pytest.approx(0.6)
    with pytest.raises(DlibFormatError):
        read_network(data[: len(data) // 2])
    with pytest.raises(DlibFormatError):
        read_network(b"\x01\x01\x05hello" + data[20:])
