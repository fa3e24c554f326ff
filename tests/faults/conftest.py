"""Real faults for the fault tier: tmpfs mounts (full, read-only), a private PostgreSQL cluster to
stop and start, damaged database files. Mounting needs root: elsewhere those tests are skipped
(CI, which runs as root with IKM_REQUIRE_E2E=1, must run them)."""

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest


def missing(reason: str) -> None:
    if os.environ.get("IKM_REQUIRE_E2E") == "1":
        pytest.fail(f"the fault tier is required (IKM_REQUIRE_E2E=1) but {reason}",
                    pytrace=False)
    pytest.skip(reason)


@contextmanager
def tmpfs(path: Path, size_kb: int):
    """A small tmpfs mounted at `path` (created), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, *options: str) -> None:
    subprocess.run(["mount", "-o", ",".join(("remount", *options)), str(path)], check=True)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder` to the last byte; returns the filler to delete."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    for size in (4096, 512, 1):  # the last blocks too
        try:
            with open(filler, "ab") as out:
                while True:
                    out.write(b"\0" * size)
                    out.flush()
        except OSError:
            continue
    return filler


def damage(path: Path, *, seed: int = 7) -> None:
    """Write random bytes over pages in the middle of a database file (not its header)."""
    import random

    rng = random.Random(seed)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        for _ in range(8):
            f.seek(rng.randrange(8192, max(8193, size - 4096)))
            f.write(bytes(rng.randrange(256) for _ in range(4096)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A throw-away PostgreSQL cluster of the test's own, on a free port."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins or shutil.which("su") is None:
            missing("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
        if os.geteuid() != 0:
            missing("starting a private PostgreSQL cluster here needs root (it runs as postgres)")
        self.bin = bins[-1]
        self.data = Path(tempfile.mkdtemp(prefix="ikm-fault-pg-"))
        shutil.chown(self.data, "postgres", "postgres")
        self.port = free_port()
        self._su(f"{self.bin}/initdb -D {self.data} -A trust -U postgres -E UTF8")
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ikm_{uuid.uuid4().hex[:6]}"
        self._su(f"{self.bin}/createdb -h 127.0.0.1 -p {self.port} -U postgres "
                 f"{self.url.rsplit('/', 1)[1]}")

    def _su(self, command: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True,
                       capture_output=True)

    def start(self) -> None:
        self._su(f"{self.bin}/pg_ctl -D {self.data} -l {self.data}/log -w start "
                 f"-o '-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off'")

    def stop(self) -> None:
        self._su(f"{self.bin}/pg_ctl -D {self.data} -m immediate -w stop")

    def remove(self) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c",
                        f"{self.bin}/pg_ctl -D {self.data} -m immediate -w stop"],
                       capture_output=True)
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture
def cluster():
    pg = Cluster()
    yield pg
    pg.remove()
