"""A LangGraph checkpointer chosen by a URL, so runs can outlive the process (and the machine) that started them.

    with checkpointer_from_url("postgresql://mmthink:***@db:5432/mmthink") as saver:
        agent = Agent.from_profile("embedded", checkpointer=saver)

``MMTHINK_CHECKPOINT_URL`` set in the environment does the same for every Agent built without a
checkpointer (see :func:`shared_checkpointer`). Accepted URLs:

- ``postgresql://user:password@host:port/db`` (or ``postgres://``): LangGraph's PostgresSaver over a
  psycopg 3 connection pool (``pip install 'mmthink[postgres]'``). Every process that uses the same
  URL sees the same runs: a run paused for review in one worker is approved from another, a killed
  worker's run is resumed elsewhere (the bundle folder must be on a path both can read).
- ``sqlite:///abs/path.sqlite``, ``sqlite:relative.sqlite`` or a bare path ending ``.sqlite`` / ``.db``:
  one SQLite file for every run on this machine.

The database is reached when the checkpointer is opened, so a wrong host or password fails at
start with the URL in the message (password masked), never in the middle of a run.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InputError

ENV = "MMTHINK_CHECKPOINT_URL"
CONNECT_TIMEOUT_S = 10
POOL_SIZE = 8
_SETUP_LOCK_KEY = 0x6D6D7468  # pg_advisory_lock key: one process at a time runs the schema migrations
_SECRET_PARAMS = {"password", "sslpassword", "passfile"}


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or the query) replaced by ``***``, safe to print."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = parts.query
    if query:
        query = urlencode(
            [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)],
            safe="*",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_kind(url: str) -> str:
    """``postgres`` or ``sqlite``; anything else is an error that names the accepted forms."""
    if not isinstance(url, str) or not url.strip():
        raise InputError(ENV, "is empty", "give postgresql://user:password@host:port/db or a .sqlite path")
    scheme = urlsplit(url).scheme.lower() if "://" in url or url.startswith("sqlite:") else ""
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    if scheme == "sqlite" or (not scheme and url.endswith((".sqlite", ".db", ".sqlite3"))):
        return "sqlite"
    raise InputError(
        ENV,
        f"{mask_url(url)} is neither a PostgreSQL URL nor a SQLite path",
        "give postgresql://user:password@host:port/db, sqlite:///path/to/file.sqlite or a .sqlite path",
    )


@contextmanager
def checkpointer_from_url(url: str) -> Iterator[Any]:
    """Open the checkpointer the URL names (its tables set up), and close it afterwards."""
    kind = url_kind(url)
    if kind == "sqlite":
        with _sqlite(url) as saver:
            yield saver
    else:
        with _postgres(url) as saver:
            yield saver


@contextmanager
def _sqlite(url: str) -> Iterator[Any]:
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(url[len("sqlite:") :].removeprefix("//") if url.startswith("sqlite:") else url).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
    except (OSError, sqlite3.Error) as e:
        raise InputError(ENV, f"cannot open the checkpoint database {path}: {e}", "give a writable path") from None
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


@contextmanager
def _postgres(url: str) -> Iterator[Any]:
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool
    except ImportError as e:
        raise InputError(
            ENV,
            f"a PostgreSQL checkpointer needs langgraph-checkpoint-postgres and psycopg 3 ({e.name} is missing)",
            "pip install 'mmthink[postgres]'",
        ) from None
    shown = mask_url(url)
    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    # 1. reach the database once, directly, so the reason (refused, unknown host, bad password) is in the error
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, **kwargs) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
            try:
                PostgresSaver(conn).setup()  # type: ignore[arg-type]  # dict rows, set in kwargs  # idempotent migrations; the lock keeps two processes from racing
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
    except psycopg.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise InputError(
            ENV,
            f"cannot reach the checkpoint database {shown}: {reason}",
            "start the database, or fix the host, port, user or password in the URL",
        ) from None
    # 2. the pool the runs use: several threads of one process may run at once
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs={**kwargs, "connect_timeout": CONNECT_TIMEOUT_S},
        open=False,
        name="mmthink-checkpoints",
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    except Exception as e:
        pool.close()
        raise InputError(
            ENV, f"cannot reach the checkpoint database {shown}: {e}", "start the database, or fix the URL"
        ) from None
    try:
        yield PostgresSaver(pool)  # type: ignore[arg-type]
    finally:
        pool.close()


_shared: dict[str, Any] = {}
_shared_lock = threading.Lock()
_stack = ExitStack()


def shared_checkpointer(url: str) -> Any:
    """One open checkpointer per URL per process (closed at exit): what ``MMTHINK_CHECKPOINT_URL`` gives an Agent.

    Agents built in the same process share it, so a served process holds one connection pool, not one per run.
    """
    with _shared_lock:
        if url not in _shared:
            if not _shared:
                atexit.register(_stack.close)
            _shared[url] = _stack.enter_context(checkpointer_from_url(url))
        return _shared[url]
