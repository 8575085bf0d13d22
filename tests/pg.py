"""A throwaway PostgreSQL server for the tests: a cluster made with initdb in a temporary folder,
started with pg_ctl on a free port of 127.0.0.1, and removed afterwards. PostgreSQL refuses to run as
root, so as root the cluster belongs to a system user made for it (tessera-test) and its tools run
through `runuser`. The binaries come from Debian's `postgresql` package (packaging/install.sh --test)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TEST_USER = "tessera-test"
_names = itertools.count()


def pg_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/NN/bin with initdb (Debian), or the folder of initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner() -> list[str]:
    """The command prefix that runs a PostgreSQL tool as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", "-u", TEST_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=True, capture_output=True)  # fmt: skip
    return ["runuser", "-u", TEST_USER, "--"]


@dataclass
class PgServer:
    folder: Path
    port: int
    bin_dir: Path

    @classmethod
    def start(cls) -> PgServer:
        """In a new folder of the system's temporary folder (pytest's are private to root)."""
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: run packaging/install.sh --test (Debian's postgresql)")
        folder = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        prefix = _as_owner()
        if prefix:
            shutil.chown(folder, TEST_USER, TEST_USER)
        server = cls(folder, _free_port(), bin_dir)
        data = folder / "data"
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True)  # fmt: skip
        # Durability off (a test server dies with its folder) and the socket in our folder, not /run
        options = (f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                        "-o", options, "-w", "-t", "60", "start"], check=True, capture_output=True)  # fmt: skip
        return server

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg2

        con = psycopg2.connect(self.url())
        try:
            con.autocommit = True
            con.cursor().execute(sql)
        finally:
            con.close()

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(_names)}"
        self._admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        subprocess.run([*_as_owner(), str(self.bin_dir / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)
