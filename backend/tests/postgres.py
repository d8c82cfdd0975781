"""A throwaway PostgreSQL server for the tests: its own cluster, on a free local port.

`make test` installs Debian's postgresql when it is missing. The cluster lives in a temporary
folder and is stopped when the tests end. PostgreSQL refuses to run as root, so as root the
server runs as the `postgres` system user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

from tests.running_app import free_port


def _bin_dir() -> Path:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists():
            return root
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("PostgreSQL is not installed: run `make install-dev`")
    return Path(found).parent


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Generator[str]:
    """Yield a `postgresql://` URL of a fresh database; stop the server afterwards."""
    binaries = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="gatehouse-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    run = _as_server_user
    subprocess.run(
        run([str(binaries / "initdb"), "-D", str(data), "-U", "gatehouse", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    log_file = folder / "server.log"  # the server must not hold our pipes open
    subprocess.run(
        run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log_file),
                "-o",
                options,
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [
                str(binaries / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "gatehouse",
                "gh",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://gatehouse@127.0.0.1:{port}/gh"
    finally:
        subprocess.run(
            run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
