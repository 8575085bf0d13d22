"""Tessera side by side with a peer: `tessera import` with every stage against findimagedupes'
fingerprints, on the same folder of large wallpapers, in one run. Target: ratio <= 1.0.

The folder is made in a temp dir from the PNG and JPEG wallpapers of 3-20 MP that Debian packages
ship (copies, so both tools read the same files; nothing is committed). Install them and the peer:
    apt-get install -y findimagedupes plasma-workspace-wallpapers mate-backgrounds ukui-wallpapers
or point --folder at any folder of photos. Both tools start from a cold start of their own (a fresh
library; a fresh fingerprint database) with the files in the page cache (one untimed read first).

The machine may be shared: besides wall-clock times, each tool's CPU time (its processes and their
children) is printed, and the load average. findimagedupes runs on one core; Tessera's two worker
processes use both. Usage:
    .venv/bin/python bench/peer_bench.py [--folder DIR] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("plasma-workspace-wallpapers", "mate-backgrounds", "ukui-wallpapers")
MIN_MP, MAX_MP = 3, 20
INSTALL = "apt-get install -y findimagedupes " + " ".join(PACKAGES)


def wallpapers() -> list[Path]:
    """PNG and JPEG files of 3-20 MP installed by PACKAGES, each file once."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
        for line in listing.stdout.split():
            path = Path(line)
            if path.suffix.lower() not in (".png", ".jpg", ".jpeg") or not path.is_file():
                continue
            real = path.resolve()
            with Image.open(real) as im:
                if MIN_MP <= im.width * im.height / 1e6 <= MAX_MP:
                    found.setdefault(str(real), real)
    return sorted(found.values())


def make_folder(target: Path) -> list[Path]:
    target.mkdir(parents=True)
    copies = []
    for i, src in enumerate(wallpapers()):
        dst = target / f"{i:03d}-{src.parent.parent.parent.name if src.parent.name == 'images' else 'bg'}-{src.name}"
        shutil.copyfile(src, dst)
        copies.append(dst)
    return copies


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the command and its children) and stdout of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode not in (0, 1):  # 1: some files failed, listed on stderr
        raise SystemExit(f"{command[0]} failed ({run.returncode}): {run.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, run.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", help="photos to use instead of the Debian wallpapers")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two tools this many times, keep the best")
    args = ap.parse_args()
    if shutil.which("findimagedupes") is None:
        raise SystemExit(f"findimagedupes is not installed: {INSTALL}")
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if args.folder:
            folder = Path(args.folder).resolve()
            files = [p for p in folder.iterdir() if p.is_file()]
        else:
            folder = tmp / "wallpapers"
            files = make_folder(folder)
            if len(files) < 20:
                raise SystemExit(f"only {len(files)} wallpapers found: {INSTALL}")
        megabytes = sum(p.stat().st_size for p in files) / 1e6
        formats: dict[str, int] = {}
        for p in files:
            with Image.open(p) as im:
                formats[im.format] = formats.get(im.format, 0) + 1
        for p in files:  # into the page cache: both tools then read from memory
            p.read_bytes()
        print(f"folder: {len(files)} files, {megabytes:.0f} MB, {formats}; load average {os.getloadavg()}")
        peer: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        stage_ms: dict[str, float] = {}
        for r in range(args.rounds):
            wall, cpu, _ = timed(["findimagedupes", "-q", "-n", "-f", str(tmp / f"fp{r}.db"), str(folder)])
            peer.append((wall, cpu))
            command = [sys.executable, "-m", "app", "--library", str(tmp / f"lib{r}"), "import", str(folder)]
            wall, cpu, out = timed([*command, "--quiet", "--json"])
            ours.append((wall, cpu))
            stage_ms = json.loads(out)["stage_ms"]
        (peer_wall, peer_cpu), (our_wall, our_cpu) = min(peer), min(ours)
        print(f"findimagedupes fingerprints: {peer_wall:6.1f} s   (CPU {peer_cpu:6.1f} s)")
        print(f"tessera import, every stage: {our_wall:6.1f} s   (CPU {our_cpu:6.1f} s, 2 worker processes)")
        print(f"ratio tessera / findimagedupes: {our_wall / peer_wall:.2f} (target <= 1.0); "
              f"CPU time ratio {our_cpu / peer_cpu:.2f}; load average {os.getloadavg()}")  # fmt: skip
        print("tessera, CPU ms per photo by step (in the workers):")
        for stage, ms in sorted(stage_ms.items(), key=lambda kv: -kv[1]):
            print(f"      {stage:12} {ms / len(files):7.1f}")


if __name__ == "__main__":
    main()
