"""A throwaway PostgreSQL server for the tests that need one (import the ``postgres_url`` fixture).

Debian's ``postgresql`` package (``tools/install_postgres.sh``): ``initdb`` in a temporary folder as
an unprivileged user, password authentication, listening on 127.0.0.1 on a free port; stopped and
deleted after the test module. Skips, saying why, where the server or the Python client
(``pip install 'mmthink[postgres]'``) is not installed.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "s3cret-Pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of our own for this module, stopped and deleted afterwards."""
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'mmthink[postgres]')")
    pytest.importorskip(
        "langgraph.checkpoint.postgres",
        reason="langgraph-checkpoint-postgres is not installed (pip install 'mmthink[postgres]')",
    )
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server installed (Debian: apt-get install postgresql, or run tools/install_postgres.sh)"
        )
    user = None
    if os.getuid() == 0:  # the server refuses to run as root: use an unprivileged account
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if user is None:
            pytest.skip("running as root and there is no unprivileged 'postgres' or 'nobody' account for the server")
    base = Path(tempfile.mkdtemp(prefix="mmthink-pg-"))
    (base / "pw").write_text(PASSWORD + "\n")
    if user is not None:
        for p in (base, base / "pw"):
            os.chown(p, user.pw_uid, user.pw_gid)
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    port = free_port()
    proc = None
    try:
        init = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(base / "data"),
                "-U",
                "mmthink",
                "--pwfile",
                str(base / "pw"),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            cwd=base,
            **as_user,
        )
        if init.returncode != 0:
            pytest.skip(f"initdb could not make a database folder: {init.stderr.strip()[-400:]}")
        log = open(base / "server.log", "w")
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(base / "data"),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=60",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=base,
            **as_user,
        )
        url = f"postgresql://mmthink:{PASSWORD}@127.0.0.1:{port}/postgres"
        import psycopg

        deadline = time.time() + 30
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.skip(f"the PostgreSQL server did not start: {(base / 'server.log').read_text()[-400:]}")
                time.sleep(0.2)
        yield url
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(base, ignore_errors=True)
