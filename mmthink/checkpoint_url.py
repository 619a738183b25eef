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
import os
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from .errors import InputError

ENV = "MMTHINK_CHECKPOINT_URL"
CONNECT_TIMEOUT_S = 10
POOL_SIZE = 8
_SETUP_LOCK_KEY = 0x6D6D7468  # pg_advisory_lock key: one process at a time runs the schema migrations
_SECRET_PARAMS = {"password", "sslpassword", "passfile"}
_SECRET_QUERY = re.compile(r"(^|&)(password|sslpassword|passfile)=[^&]*", re.IGNORECASE)
_NEEDS_ENCODING = re.compile(r"[@/?#\s]|%(?![0-9A-Fa-f]{2})")
SERVED = "served graph: "
"""How a served run's manifest says where its checkpoints are: under thread ids its callers chose."""
WHERE = "mmthink_checkpoints"
"""The attribute a saver opened here carries: where its checkpoints are (the URL masked, or the SQLite file),
recorded in each run's manifest so that a resume can tell a missing checkpoint from one kept elsewhere."""


def mask_url(url: str) -> str:
    """The URL with its password (in the user part or the query) replaced by ``***``, safe to print.

    Split by hand rather than by ``urlsplit``: a password written as it is (not percent-encoded) may hold
    ``/ ? # @``, which a URL parser takes for the end of the user part, and would then print. Everything up to
    the last ``@`` counts as the user part, so such a password is masked whole."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        user, host = rest.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        rest = f"{user}@{host}"
    head, q, query = rest.partition("?")
    if q:
        query = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", query)
    return f"{scheme}{sep}{head}{q}{query}"


def _password(url: str) -> str:
    """The password as written in the user part ('' when there is none)."""
    _, sep, rest = url.partition("://")
    user = rest.rsplit("@", 1)[0] if sep and "@" in rest else ""
    return user.split(":", 1)[1] if ":" in user else ""


def _redact(text: str, url: str) -> str:
    """``text`` (a driver's error message) without the URL's password, whole or in the pieces a parser that
    stopped at a reserved character would have quoted."""
    hidden = {_password(url)} | {v for k, v in parse_qsl(url.partition("?")[2]) if k.lower() in _SECRET_PARAMS}
    pieces = set(hidden)
    for secret in hidden:
        pieces.add(unquote(secret))
        pieces.update(re.split(r"[@/?#:&\s]", secret))
    for quoted in re.findall(r"\"([^\"]+)\"|'([^']+)'", text):  # what libpq quotes: a token it could not parse
        token = "".join(quoted)
        token = token.rsplit("@", 1)[0] if "@" in token else token  # a host that holds the password's tail
        if any(token in secret for secret in hidden):
            pieces.add(token)
    for piece in sorted((p for p in pieces if len(p) >= 3 or p in hidden), key=len, reverse=True):
        text = text.replace(piece, "***") if piece else text
    return text


def _connect_fix(url: str) -> str:
    """What to do about a database that could not be reached; a password that a URL cannot carry as it is
    gets the percent-encoding hint."""
    fix = "start the database, or fix the host, port, user or password in the URL"
    if _NEEDS_ENCODING.search(_password(url)):
        fix += (
            "; percent-encode special characters in the password (@ as %40, / as %2F, ? as %3F, # as %23, "
            "% as %25, a space as %20): python -c \"import urllib.parse; print(urllib.parse.quote('PASSWORD', "
            "safe=''))\""
        )
    return fix


def url_kind(url: str) -> str:
    """``postgres`` or ``sqlite``; anything else is an error that names the accepted forms."""
    if not isinstance(url, str) or not url.strip():
        raise InputError(ENV, "is empty", "give postgresql://user:password@host:port/db or a .sqlite path")
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite" if url.startswith("sqlite:") else ""
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
        setattr(saver, WHERE, f"sqlite:{os.path.realpath(path)}")
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
        reason = _redact(" ".join(str(e).split()) or type(e).__name__, url)
        raise InputError(ENV, f"cannot reach the checkpoint database {shown}: {reason}", _connect_fix(url)) from None
    # 2. the pool the runs use: several threads of one process may run at once
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs={**kwargs, "connect_timeout": CONNECT_TIMEOUT_S},
        open=False,
        name="mmthink-checkpoints",
        # a round trip on each checkout: a restart, a failover or a proxy closing idle connections leaves dead
        # ones in the pool, and a run handed one would fail (or raise after it finished) instead of reconnecting
        check=ConnectionPool.check_connection,
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    except Exception as e:
        pool.close()
        raise InputError(
            ENV, f"cannot reach the checkpoint database {shown}: {_redact(str(e), url)}", _connect_fix(url)
        ) from None
    try:
        saver = PostgresSaver(pool)  # type: ignore[arg-type]
        setattr(saver, WHERE, "postgresql://" + shown.split("://", 1)[1])  # one spelling for postgres://
        yield saver
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
