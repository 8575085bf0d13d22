"""Read a PyTorch state dict (.pth) into numpy arrays without torch and without trusting pickle.

A .pth file is a pickle, and unpickling can call any importable function. The restricted unpickler
below resolves only the handful of globals a plain state dict needs (OrderedDict, the tensor
rebuild helpers, the storage type names) and refuses everything else, so a hostile file fails with
UnpicklingError instead of running code.

Two on-disk layouts exist:
- legacy (torch < 1.6): five pickles in a row (magic, protocol, sys info, the object, the storage
  keys), then for each storage an int64 element count followed by its raw little-endian bytes;
- zip (torch >= 1.6): ``<prefix>/data.pkl`` plus one ``<prefix>/data/<key>`` entry per storage.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch storage class name -> numpy dtype (little-endian, as torch writes them)
STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass
class _Storage:
    dtype: np.dtype
    key: str
    numel: int
    data: np.ndarray | None = None  # filled once the bytes are read


@dataclass(frozen=True)
class _StorageType:
    name: str


@dataclass
class _LazyTensor:
    """A tensor whose storage bytes may not have been read yet (legacy files put them last)."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialize(self) -> np.ndarray:
        base = self.storage.data
        if base is None:
            raise pickle.UnpicklingError(f"storage {self.storage.key!r} has no data in the file")
        itemsize = base.dtype.itemsize
        if not self.size:  # a scalar, e.g. num_batches_tracked
            if not 0 <= self.offset < base.size:
                raise pickle.UnpicklingError(f"tensor view exceeds storage {self.storage.key!r}")
            return base[self.offset : self.offset + 1].reshape(())
        # a view must stay inside its storage, and (no broadcast views in a state dict) hold no more
        # elements than it: a hostile file cannot make us read out of bounds or allocate gigabytes
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True)) + 1
        fits = needed <= base.size and min(self.stride) >= 0 and self.offset >= 0 and math.prod(self.size) <= base.size
        if min(self.size) < 0 or (min(self.size) > 0 and not fits):
            raise pickle.UnpicklingError(f"tensor view exceeds storage {self.storage.key!r}")
        view = np.lib.stride_tricks.as_strided(
            base[self.offset :],
            shape=self.size,
            strides=tuple(s * itemsize for s in self.stride),
            writeable=False,
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(
    storage: _Storage, storage_offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_rest: Any
) -> _LazyTensor:
    # _rest: requires_grad, backward_hooks and (newer torch) metadata; none matter for inference
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("tensor rebuilt from something that is not a storage")
    return _LazyTensor(storage, int(storage_offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


def _rebuild_parameter(data: _LazyTensor, *_rest: Any) -> _LazyTensor:
    return data


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only state-dict globals; storages come back as `_Storage` records."""

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: not part of a state dict") from None

    def persistent_load(self, pid: Any) -> _Storage:
        # legacy: ('storage', type, key, location, numel, view_metadata); zip: the same without the view
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("persistent id names no known storage type")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        key = str(key)
        storage = self.storages.get(key)
        if storage is None:
            storage = _Storage(STORAGE_DTYPES[storage_type.name], key, int(numel))
            self.storages[key] = storage
        return storage


def _tensors(obj: Any) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise pickle.UnpicklingError(f"expected a state dict, found {type(obj).__name__}")
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):  # training checkpoints wrap it
        obj = obj["state_dict"]
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if isinstance(value, _LazyTensor):
            out[str(name)] = value.materialize()
    return out


def _load_legacy(f: IO[bytes]) -> dict[str, np.ndarray]:
    magic, protocol, sys_info = (RestrictedUnpickler(f).load() for _ in range(3))
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        raise pickle.UnpicklingError("not a torch legacy checkpoint (bad magic number)")
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", True):
        raise pickle.UnpicklingError("big-endian checkpoints are not supported")
    unpickler = RestrictedUnpickler(f)
    result = unpickler.load()
    keys = RestrictedUnpickler(f).load()
    if not isinstance(keys, list):
        raise pickle.UnpicklingError("storage key list missing")
    for key in keys:
        storage = unpickler.storages.get(str(key))
        if storage is None:
            raise pickle.UnpicklingError(f"storage {key!r} listed but never referenced")
        header = f.read(8)
        count = struct.unpack("<q", header)[0] if len(header) == 8 else -1
        nbytes = count * storage.dtype.itemsize
        raw = f.read(nbytes) if count == storage.numel else b""
        if count != storage.numel or len(raw) != nbytes:
            raise pickle.UnpicklingError(f"storage {key!r} is truncated or has the wrong size")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _tensors(result)


def _load_zip(zf: zipfile.ZipFile) -> dict[str, np.ndarray]:
    pkl = next((n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
    if pkl is None:
        raise pickle.UnpicklingError("zip checkpoint without data.pkl")
    prefix = pkl[: -len("data.pkl")]
    if f"{prefix}byteorder" in zf.namelist() and zf.read(f"{prefix}byteorder") != b"little":
        raise pickle.UnpicklingError("big-endian checkpoints are not supported")
    unpickler = RestrictedUnpickler(io.BytesIO(zf.read(pkl)))
    result = unpickler.load()
    for key, storage in unpickler.storages.items():
        raw = zf.read(f"{prefix}data/{key}")
        nbytes = storage.numel * storage.dtype.itemsize
        if len(raw) < nbytes:
            raise pickle.UnpicklingError(f"storage {key!r} is truncated")
        storage.data = np.frombuffer(raw[:nbytes], dtype=storage.dtype)
    return _tensors(result)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Parameter name -> array for a torch state dict file, either layout. Raises UnpicklingError on
    anything that is not a plain state dict."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return _load_zip(zf)
        with path.open("rb") as f:
            return _load_legacy(f)
    except pickle.UnpicklingError:
        raise
    except (EOFError, TypeError, ValueError, KeyError, AttributeError, IndexError, zipfile.BadZipFile) as exc:
        raise pickle.UnpicklingError(f"damaged checkpoint {path.name}: {type(exc).__name__}: {exc}") from exc
