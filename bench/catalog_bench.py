"""SQLite and PostgreSQL side by side, in one run:

1. import: 10k synthetic photos stored through the catalog writer as an import stores them (rows,
   EXIF-sized details, colours, hashes, auto tags), photos per second on each engine;
2. filters: the grid's queries (ids in sort order + the match count) on a 100k-photo catalog, p95;
3. shared analysis: `tessera analyze` (stages thumbnails, colors, hashes) on the dupes corpus (a few
   copies), one analyser against two at once, each limited to one core (taskset) and one worker
   process, on PostgreSQL; with the CPU time of the analysers and of the server, and the two/one
   ratio that CPU time allows (on a machine other work loads, the wall-clock ratio says little).

Targets: PostgreSQL's filter p95 within 2x of SQLite's; two analysers >= 1.7x the throughput of one.
A throwaway PostgreSQL server is started (tests/pg.py) unless --pg URL names an empty database.

    .venv/bin/python bench/catalog_bench.py [--import-photos 10000] [--photos 100000] [--copies 4]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from peewee import Model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.catalog import queries
from app.core.catalog.models import Photo, PhotoColor, PhotoDetail, PhotoTag, Tag
from app.core.catalog.queries import Filter
from app.core.catalog.store import store_outcome
from app.core.library import Library
from app.core.palette import PALETTE
from app.core.records import TAG_ENGINE, Metadata, Outcome
from bench._common import CORPUS, ROOT
from bench.gui_bench import EXIF_FILLER, TAGS, percentile, synthetic_rows

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


def bulk_insert(lib: Library, model: type[Model], rows: list[dict]) -> None:
    """Rows in one statement stream: COPY on PostgreSQL, executemany on SQLite (peewee's insert_many
    builds a statement of every value: 100k photos took minutes)."""
    fields = [f for f in model._meta.sorted_fields if f.name in rows[0] or f.default is not None]
    columns = ", ".join(f.column_name for f in fields)
    values = ([f.db_value(row.get(f.name, f.default)) for f in fields] for row in rows)
    if not lib.is_studio:
        marks = ", ".join("?" * len(fields))
        lib.db.connection().executemany(f"INSERT INTO {model._meta.table_name} ({columns}) VALUES ({marks})", values)
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerows(values)  # None is an empty field: NULL in COPY's csv format
    buffer.seek(0)
    sql = f"COPY {model._meta.table_name} ({columns}) FROM STDIN WITH (FORMAT csv)"
    lib.db.connection().cursor().copy_expert(sql, buffer)


def fill_catalog(lib: Library, n: int) -> None:
    """The grid bench's synthetic library (bench/gui_bench.py) of `n` photos, in one transaction."""
    with lib.db.atomic():
        tag_ids = [Tag.create(name=t).id for t in TAGS]
        thumb_keys = [f"{i:064x}" for i in range(500)]
        for model, rows in zip(
            (Photo, PhotoDetail, PhotoColor, PhotoTag), synthetic_rows(n, thumb_keys, tag_ids), strict=True
        ):
            bulk_insert(lib, model, rows)
        if lib.is_studio:  # ids were given: the next photo's id comes after them
            lib.db.execute_sql("SELECT setval(pg_get_serial_sequence('photo', 'id'), (SELECT MAX(id) FROM photo))")
    lib.db.execute_sql("ANALYZE")
    if lib.is_studio:
        settle(lib)


def settle(lib: Library, tries: int = 10) -> None:
    """What autovacuum does to a table that stopped changing: the visibility map that lets index-only
    scans skip the table. A pass while autovacuum's own ANALYZE of the new rows holds a snapshot
    leaves pages unmarked, so vacuum until every page of `photo` is marked."""
    for _ in range(tries):
        lib.db.execute_sql("VACUUM")
        pages, visible = lib.db.execute_sql(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'photo'"
        ).fetchone()
        if visible >= pages:
            return
        time.sleep(0.5)


def bench_filters(root: Path, catalog: str | None, n: int, rounds: int = 3) -> tuple[float, float, float]:
    """Seconds to fill the catalog, then the median and p95 of the grid's queries for one filter (ids
    in order, then the count), in ms."""
    with Library.open(root, catalog=catalog, auto_backup=False) as lib:
        start = time.perf_counter()
        fill_catalog(lib, n)
        filled = time.perf_counter() - start
    with Library.open(root, catalog=catalog, auto_backup=False):
        times = []
        for _ in range(rounds):
            for f in FILTERS:
                t = time.perf_counter()
                queries.search_ids(f)
                queries.count(f)
                times.append((time.perf_counter() - t) * 1000)
    return filled, statistics.median(times), percentile(times, 0.95)


def _analyser(lib: Path, catalog: str, core: int, workstation: str, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TESSERA_CATALOG": catalog, "TESSERA_WORKSTATION": workstation, "PYTHONPATH": str(ROOT)}
    cmd = ["taskset", "-c", str(core), sys.executable, "-m", "app", "--library", str(lib), "analyze", "--stages",
           STAGES, "--jobs", "1", "--quiet"]  # fmt: skip
    with out.open("wb") as sink:  # a file, not a pipe: the process is reaped with os.wait4 for its CPU time
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _server_cpu(server: object) -> float:
    """CPU seconds of the test server's postmaster and its ended backends (0 without a local server)."""
    if server is None:
        return 0.0
    pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


@dataclass
class AnalyserRun:
    photos: int
    seconds: float  # from the first analyser's start of work to the last one's end (their own timing)
    cpu: list[float]  # CPU seconds of each analyser process with its worker
    server_cpu: float  # the PostgreSQL server's CPU seconds meanwhile
    load: float  # the machine's 1-minute load average at the end

    @property
    def rate(self) -> float:
        return self.photos / self.seconds

    @property
    def cpu_ms_per_photo(self) -> float:
        return 1000 * (sum(self.cpu) + self.server_cpu) / self.photos


def bench_analysers(tmp: Path, catalog: str, count: int, copies: int, server: object = None) -> AnalyserRun:
    """`count` analysers at once (analyser i pinned to core i) on one freshly imported library."""
    photos = tmp / f"photos-{count}"
    for c in range(copies):
        shutil.copytree(CORPUS / "dupes", photos / f"copy-{c}")
    lib = tmp / f"lib-{count}"
    env = {**os.environ, "TESSERA_CATALOG": catalog, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "app", "--library", str(lib), "import", "--no-analyze", "--quiet",
                    str(photos)], cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    server_before = _server_cpu(server)
    outs = [tmp / f"analyser-{count}-{core}.log" for core in range(count)]
    runs = [_analyser(lib, catalog, core % (os.cpu_count() or 1), f"ws{core}", out) for core, out in enumerate(outs)]
    done, seconds, cpu = 0, 0.0, []
    for run, out in zip(runs, outs, strict=True):
        _, status, usage = os.wait4(run.pid, 0)  # its usage includes the worker it waited for
        run.returncode = os.waitstatus_to_exitcode(status)
        text = out.read_text(errors="replace")
        found = re.search(r"analyzed (\d+) photos in ([\d.]+) s", text)
        if run.returncode != 0 or found is None:
            raise RuntimeError(f"analyser failed: {text[-1000:]}")
        done += int(found.group(1))
        seconds = max(seconds, float(found.group(2)))  # they start together: the last one to finish
        cpu.append(usage.ru_utime + usage.ru_stime)
    return AnalyserRun(done, seconds, cpu, _server_cpu(server) - server_before, os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-photos", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=100_000, help="catalog size for the filter queries")
    parser.add_argument("--copies", type=int, default=4, help="copies of corpus/dupes (148 photos) to analyse")
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
            for engine, (filled, median, p95) in lat.items():
                print(f"filters at {args.photos:,} photos, {engine:10}: median {median:5.0f} ms, p95 {p95:5.0f} ms"
                      f"  (filled in {filled:.0f} s)")  # fmt: skip
            ratio = lat["PostgreSQL"][2] / lat["SQLite"][2]
            print(f"PostgreSQL p95 / SQLite p95: {ratio:.2f}   (target <= 2)")
            one = bench_analysers(tmp, fresh_pg(), 1, args.copies, server)
            two = bench_analysers(tmp, fresh_pg(), 2, args.copies, server)
            for name, run in (("one analyser (1 core):", one), ("two analysers (1 core each):", two)):
                analysers = " + ".join(f"{c:.1f}" for c in run.cpu)
                print(f"{name:29} {run.rate:5.1f} photos/s ({run.photos} photos in {run.seconds:.1f} s); CPU"
                      f" {run.cpu_ms_per_photo:.0f} ms a photo (analysers {analysers} s, server {run.server_cpu:.1f} s)"
                      f", load {run.load:.1f}")  # fmt: skip
            print(f"two analysers / one: {two.rate / one.rate:.2f}x   (target >= 1.7)")
            # each analyser with a whole core of its own: the rate its CPU time allows (the claims
            # balance the split), the server's CPU counted against the analysers' cores
            cpu_one = sum(one.cpu) / one.photos
            cpu_two = (sum(two.cpu) + two.server_cpu) / two.photos / 2
            print(f"two / one by CPU time (the machine's load taken out): {cpu_one / cpu_two:.2f}x")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
