"""Reading a batch: one request per line of a JSONL file, each checked on its own.

A line is either a bare prompt (a JSON string, or plain text that does not start with ``{``, ``[``
or ``"``) or a request object::

    "three red apples on a table"
    {"prompt": "a lighthouse at dusk", "seed": 7, "width": 512, "height": 384, "thinking": "on"}
    {"text": "a castle under the moon", "modality": "image", "max_drafts": 3, "options": {}}

A malformed line does not stop the batch: it becomes that line's error (line number, field, fix)
in the index, and the other lines run. Only a file that cannot be read at all stops it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

REQUEST_FIELDS = ("modality", "seed", "width", "height", "voice", "fps", "options")
"""Fields of the request itself (see ``mmthink.Request``)."""
RUN_FIELDS = ("thinking", "budget_tokens", "min_tokens", "max_drafts", "max_seconds", "best_of")
"""Per-run settings passed to ``Agent.run`` next to the request."""
OTHER_FIELDS = ("id",)
"""``id``: the caller's own label for the line, copied into the index."""
MAX_LINE_CHARS = 100_000
NEWLINE = b"\n"

_INT_FIELDS = {
    "seed": 7,
    "width": 512,
    "height": 384,
    "fps": 24,
    "budget_tokens": 2048,
    "min_tokens": 256,
    "max_drafts": 4,
    "best_of": 2,
}
"""The integer fields, each with an example value for the error's fix."""


@dataclass
class BatchRequest:
    """One valid line: the request (``mmthink.Request`` fields) and the run settings for ``Agent.run``."""

    line: int
    request: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    def key(self) -> str:
        """A digest of what is asked, so a resumed batch can tell that a line still asks the same thing."""
        blob = json.dumps({"request": self.request, "settings": self.settings}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]

    def folder_prefix(self) -> str:
        """How this line's run folder starts: the line number and what it asks (a changed line gets a new one).

        Each attempt appends a random part (``line000007-<digest>-<6 hex>``), so the run id, which is
        also the thread id in a shared checkpoint database, is never reused by a retry or by another
        batch of the same file.
        """
        return f"line{self.line:06d}-{self.key()}"


@dataclass
class LineError:
    """A line that could not be read as a request: recorded in the index, never run."""

    line: int
    field: str
    problem: str
    fix: str = ""

    def message(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}" + (f" ({self.fix})" if self.fix else "")


def as_written(error: InputError) -> tuple[str, str]:
    """An error the agent raised for a line, in the file's words: the agent checks its settings with the
    command line's spelling (``max-drafts: must be at least 1 (e.g. --max-drafts 4)``), a line says
    ``max_drafts``. Returns the field and the message."""
    field, text = error.field, str(error)
    for name in RUN_FIELDS + REQUEST_FIELDS:
        spelled = name.replace("_", "-")
        if spelled != name:
            text = re.sub(rf"--{spelled}\s+([^\s)]+)", rf'"{name}": \1', text).replace(spelled, name)
            field = name if field == spelled else field
    return field, text


def read_requests(source: str | Path | Iterable[Any]) -> list[BatchRequest | LineError]:
    """Every non-blank line of a JSONL file (or every item of a list of prompts / dicts), in order.

    Raises :class:`InputError` (field ``requests``) only when the file itself cannot be read, or
    holds no request at all.
    """
    if isinstance(source, (str, Path)):
        items = list(_file_lines(Path(source).expanduser()))  # "~/prompts.jsonl" as --out takes "~/runs"
    else:
        try:
            items = [(i, item) for i, item in enumerate(source, start=1)]
        except TypeError:
            raise InputError(
                "requests",
                f"must be a path or a list of prompts, got {type(source).__name__}",
                'e.g. mmthink.batch("requests.jsonl", out="runs/") or a list of strings',
            ) from None
    if not items:
        raise InputError("requests", "holds no request", "write one prompt or JSON request per line")
    return [parse_item(line, item) for line, item in items]


def _file_lines(path: Path) -> Iterable[tuple[int, Any]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(
            "requests",
            f"{path} does not exist",
            'give a JSONL file, one request per line (from Python, a list of prompts: mmthink.batch(["..."]))',
        ) from None
    except IsADirectoryError:
        raise InputError("requests", f"{path} is a folder", "give a JSONL file, one request per line") from None
    except OSError as e:
        raise InputError(
            "requests", f"{path} cannot be read: {e.strerror or e}", "check the path and its permissions"
        ) from None
    except UnicodeDecodeError as e:
        where = f"line {e.object.count(NEWLINE, 0, e.start) + 1}, byte {e.start}"
        raise InputError("requests", f"{path} is not UTF-8 text ({where})", "save it as UTF-8 JSONL") from None
    # only "\n" ends a line: str.splitlines would also split at U+2028, U+2029, NEL and form feeds, which
    # JSON allows inside strings, cutting a request in two and shifting every later line number
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        if raw.strip():
            yield number, _Raw(raw)


class _Raw(str):
    """A line as written in the file (still to be parsed), as opposed to a str given from Python (a prompt)."""


def parse_item(line: int, item: Any) -> BatchRequest | LineError:
    """One line (raw text from a file, a prompt string, or a dict) as a request or as that line's error."""
    if isinstance(item, _Raw):
        if len(item) > MAX_LINE_CHARS:
            return LineError(
                line, "line", f"is {len(item)} characters, the limit is {MAX_LINE_CHARS}", "shorten the prompt"
            )
        text = item.strip()
        if text[:1] in ("{", "[", '"'):
            try:
                item = json.loads(text)
            except json.JSONDecodeError as e:
                return LineError(
                    line,
                    "json",
                    f"not valid JSON ({e.msg}, column {e.colno})",
                    'a line that starts with {, [ or " is read as JSON: write {"prompt": "..."}, '
                    "or the whole prompt as one JSON string",
                )
        else:
            item = text
    if isinstance(item, str):
        return _check({"prompt": item}, line)
    from ..request import Request

    if isinstance(item, Request):  # from Python: mmthink.batch([Request(...), ...])
        item = {("prompt" if k == "text" else k): v for k, v in item.to_dict().items()}
    if isinstance(item, dict):
        return _check(item, line)
    return LineError(
        line,
        "line",
        f"a JSON {type(item).__name__} is not a request",
        'write a prompt string or an object like {"prompt": "..."}',
    )


def _check(obj: dict[str, Any], line: int) -> BatchRequest | LineError:
    """Shape and types only; the agent checks the values (sizes, limits) before it starts each run."""
    given = [k for k in ("prompt", "text") if k in obj]
    if len(given) != 1:
        return LineError(
            line,
            "prompt",
            "is missing" if not given else "is given twice (prompt and text)",
            'give the request as {"prompt": "..."}',
        )
    prompt = obj[given[0]]
    if not isinstance(prompt, str) or not prompt.strip():
        return LineError(
            line,
            "prompt",
            "is empty" if isinstance(prompt, str) else f"must be a string, got {_shown(prompt)}",
            'say what to make, e.g. "a lighthouse at dusk"',
        )
    known = set(REQUEST_FIELDS) | set(RUN_FIELDS) | set(OTHER_FIELDS) | {given[0]}
    unknown = [k for k in obj if k not in known]  # in the line's order: the first one is named
    if unknown:
        fields = ("prompt", *REQUEST_FIELDS, *RUN_FIELDS, *OTHER_FIELDS)
        close = difflib.get_close_matches(str(unknown[0]), fields, n=1)
        return LineError(
            line,
            unknown[0],
            "is not a request field" + (f" (nor is {', '.join(unknown[1:])})" if unknown[1:] else ""),
            (f"did you mean {close[0]}? " if close else "") + f"fields are: {', '.join(fields)}",
        )
    for name, example in _INT_FIELDS.items():
        value = obj.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return LineError(line, name, f"must be an integer, got {_shown(value)}", f'e.g. "{name}": {example}')
    seconds = obj.get("max_seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
        return LineError(line, "max_seconds", f"must be a number, got {_shown(seconds)}", 'e.g. "max_seconds": 30')
    for name, example in (
        ("modality", 'e.g. "modality": "image"'),
        ("thinking", 'e.g. "thinking": "on"'),
        ("voice", ""),
    ):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            return LineError(line, name, f"must be a string, got {_shown(obj[name])}", example)
    if obj.get("options") is not None and not isinstance(obj["options"], dict):
        return LineError(
            line, "options", f"must be a JSON object, got {_shown(obj['options'])}", 'e.g. "options": {"seconds": 20}'
        )
    label = obj.get("id")
    if label is not None and (isinstance(label, bool) or not isinstance(label, (str, int))):
        return LineError(line, "id", f"must be a string or an integer, got {_shown(label)}", 'e.g. "id": "cup-7"')
    request = {"text": prompt, **{k: obj[k] for k in REQUEST_FIELDS if obj.get(k) is not None}}
    settings = {k: obj[k] for k in RUN_FIELDS if obj.get(k) is not None}
    return BatchRequest(line, request, settings, None if label is None else str(label))


def _shown(value: Any) -> str:
    """A value as the user wrote it: JSON for a line of the file (``true``, ``"7"``), Python's repr otherwise."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
