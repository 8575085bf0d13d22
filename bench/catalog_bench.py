"""SQLite and PostgreSQL side by side, in one run:

1. import: 10k synthetic photos stored through the catalog writer as an import stores them (rows,
   EXIF-sized details, colours, hashes, auto tags), photos per second on each engine;
2. filters: the grid's queries (ids in sort order + the match count) on a 100k-photo catalog, p95;
3. shared analysis: `tessera analyze` on the dupes corpus (a few copies), one analyser against two at
   once, each limited to one core (taskset) and one worker process, on PostgreSQL.

Targets: PostgreSQL's filter p95 within 2x of SQLite's; two analysers >= 1.7x the throughput of one.
A throwaway PostgreSQL server is started (tests/pg.py) unless --pg URL names an empty database.

    .venv/bin/python bench/catalog_bench.py [--import-photos 10000] [--photos 100000] [--copies 2]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.catalog import queries
from app.core.catalog.queries import Filter
from app.core.catalog.store import store_outcome
from app.core.library import Library
from app.core.palette import PALETTE
from app.core.records import TAG_ENGINE, Metadata, Outcome
from bench._common import CORPUS, ROOT
from bench.gui_bench import EXIF_FILLER, build_catalog, percentile

FILTERS = [
    Filter(colors=(("blue", 20.0),)), Filter(tags=("dog",)), Filter(camera="Canon", since="2019", until="2019",
    min_faces=1), Filter(text="IMG_0123"), Filter(has_gps=True, min_rating=3), Filter(),
    Filter(colors=(("red", 50.0),), tags=("beach",)), Filter(sort="name", descending=True),
    Filter(since="2010-06", until="2012"), Filter(formats=("JPEG",), max_faces=0),
    Filter(sort="rating", descending=True),
]  # fmt: skip
STAGES = "thumbnails,colors,hashes"


def synthetic_outcome(i: int, rng: random.Random) -> Outcome:
    md = Metadata(taken_at=f"20{10 + i % 15}-0{1 + i % 9}-01T12:00:00", make="Canon", model="Canon EOS R5",
                  iso=100 * (1 + i % 32), f_number=4.0, exposure_time=1 / 250, focal_length=35.0)  # fmt: skip
    md.groups["image"] = {"filler": EXIF_FILLER}
    versions = {"metadata": 1, "thumbnails": 1, "colors": 1, "hashes": 1, "tags": 1}
    shares = zip(rng.sample(PALETTE, 3), (55.0, 30.0, 15.0), strict=True)
    colors = SimpleNamespace(colors=[[f"#{c:06X}", 3.1] for c in range(32)], predominant=list(shares))
    hashes = SimpleNamespace(phash=rng.getrandbits(64), dhash=rng.getrandbits(64), detail=0.5, lightness=0.5,
                             orientation_phashes=[rng.getrandbits(64) for _ in range(8)])  # fmt: skip
    return Outcome(
        path=f"/photos/{i // 500:03d}/IMG_{i:06d}.jpg", size=4_000_000 + i, mtime_ns=i, sha256=f"{i:064x}",
        decoded={"format": "JPEG", "width": 6000, "height": 4000, "frames": 1}, metadata=md, own_facts={},
        results={"thumbnails": f"{i:064x}", "colors": colors, "hashes": hashes,
                 "tags": SimpleNamespace(feature=bytes(2560))},
        versions=versions, categorizations={TAG_ENGINE: [("dog", 0.8), ("animal", 0.9), ("beach", 0.2)]},
    )  # fmt: skip


def bench_import(root: Path, catalog: str | None, n: int) -> float:
    """Photos a second stored through the writer (batched transactions), as an import stores them."""
    rng = random.Random(3)
    outcomes = [synthetic_outcome(i, rng) for i in range(n)]
    with Library.open(root, catalog=catalog, auto_backup=False) as lib:
        start = time.perf_counter()
        for o in outcomes:
            lib.writer.submit(lambda o=o: store_outcome(o, 0.3))
        lib.writer.flush()
        return n / (time.perf_counter() - start)


def bench_filters(root: Path, catalog: str | None, n: int, rounds: int = 3) -> tuple[float, float]:
    """Median and p95 of the grid's queries for one filter (ids in order, then the count), in ms."""
    with Library.open(root, catalog=catalog, auto_backup=False) as lib:
        build_catalog(lib, n)
    with Library.open(root, catalog=catalog, auto_backup=False):
        times = []
        for _ in range(rounds):
            for f in FILTERS:
                t = time.perf_counter()
                queries.search_ids(f)
                queries.count(f)
                times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def _analyser(lib: Path, catalog: str, core: int, workstation: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TESSERA_CATALOG": catalog, "TESSERA_WORKSTATION": workstation, "PYTHONPATH": str(ROOT)}
    cmd = ["taskset", "-c", str(core), sys.executable, "-m", "app", "--library", str(lib), "analyze", "--stages",
           STAGES, "--jobs", "1", "--quiet"]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def bench_analysers(tmp: Path, catalog: str, count: int, copies: int) -> tuple[int, float]:
    """(photos, photos a second) of `count` analysers on one freshly imported library."""
    photos = tmp / f"photos-{count}"
    for c in range(copies):
        shutil.copytree(CORPUS / "dupes", photos / f"copy-{c}")
    lib = tmp / f"lib-{count}"
    env = {**os.environ, "TESSERA_CATALOG": catalog, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "app", "--library", str(lib), "import", "--no-analyze", "--quiet",
                    str(photos)], cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    runs = [_analyser(lib, catalog, core % (os.cpu_count() or 1), f"ws{core}") for core in range(count)]
    done, seconds = 0, 0.0
    for run in runs:
        out, err = run.communicate()
        found = re.search(r"analyzed (\d+) photos in ([\d.]+) s", out)
        if run.returncode != 0 or found is None:
            raise RuntimeError(f"analyser failed: {err[-1000:]}")
        done += int(found.group(1))
        seconds = max(seconds, float(found.group(2)))  # they start together: the last one to finish
    return done, done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-photos", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=100_000, help="catalog size for the filter queries")
    parser.add_argument("--copies", type=int, default=2, help="copies of corpus/dupes (148 photos) to analyse")
    parser.add_argument("--pg", help="postgresql:// URL of an empty database (default: a throwaway server)")
    args = parser.parse_args()
    server = None
    if args.pg is None:
        from tests.pg import PgServer

        server = PgServer.start()

    def fresh_pg() -> str:
        return args.pg if server is None else server.url(server.create_database())

    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            rates = {engine: bench_import(tmp / f"import-{engine}", url, args.import_photos)
                     for engine, url in (("SQLite", None), ("PostgreSQL", fresh_pg()))}  # fmt: skip
            for engine, rate in rates.items():
                print(f"import of {args.import_photos:,} photos, {engine:10}: {rate:7.0f} photos/s")
            lat = {engine: bench_filters(tmp / f"grid-{engine}", url, args.photos)
                   for engine, url in (("SQLite", None), ("PostgreSQL", fresh_pg()))}  # fmt: skip
            for engine, (median, p95) in lat.items():
                print(f"filters at {args.photos:,} photos, {engine:10}: median {median:5.0f} ms, p95 {p95:5.0f} ms")
            ratio = lat["PostgreSQL"][1] / lat["SQLite"][1]
            print(f"PostgreSQL p95 / SQLite p95: {ratio:.2f}   (target <= 2)")
            n1, one = bench_analysers(tmp, fresh_pg(), 1, args.copies)
            n2, two = bench_analysers(tmp, fresh_pg(), 2, args.copies)
            print(f"one analyser (1 core):   {one:5.1f} photos/s ({n1} photos, stages {STAGES})")
            print(f"two analysers (1 core each): {two:5.1f} photos/s ({n2} photos): {two / one:.2f}x   (target >= 1.7)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
