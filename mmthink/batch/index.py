"""The batch index: ``batch.jsonl`` in the output folder, one record per request line, and the summary table.

Records are appended (and flushed) as each request ends, so a batch that is killed still leaves
an index of what finished; when the batch ends the file is rewritten in line order. The bundles
stay the source of truth: a re-run rebuilds the index from them.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

INDEX = "batch.jsonl"
TABLE_ROWS = 40
"""Rows the summary table shows; the index file always has every line."""


class BatchIndex:
    def __init__(self, out: Path) -> None:
        self.path = Path(out) / INDEX
        self.records: dict[int, dict[str, Any]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")

    def add(self, rec: dict[str, Any]) -> None:
        self.records[int(rec["line"])] = rec
        self._file.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> list[dict[str, Any]]:
        """Rewrite the file in line order (atomically) and return the records."""
        self._file.close()
        ordered = [self.records[k] for k in sorted(self.records)]
        tmp = self.path.with_name(f".{INDEX}.{os.getpid()}.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered), encoding="utf-8")
        os.replace(tmp, self.path)
        return ordered


def read_index(out: str | Path) -> list[dict[str, Any]]:
    """The records of ``out/batch.jsonl`` (a line that cannot be read is skipped)."""
    rows = []
    for line in (Path(out) / INDEX).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def counts(records: Iterable[dict[str, Any]]) -> Counter:
    return Counter(r.get("status", "?") for r in records)


_COLOUR = {
    "succeeded": "green",
    "unmet": "yellow",
    "refused": "yellow",
    "failed": "red",
    "invalid": "red",
    "interrupted": "yellow",
    "stopped": "yellow",
    "awaiting_review": "cyan",
}


def print_summary(records: list[dict[str, Any]], out: Path, seconds: float, console: Any = None) -> None:
    """A table of the lines (the first :data:`TABLE_ROWS`, problems first when there are more) and the totals."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    shown = records
    if len(records) > TABLE_ROWS:
        problems = [r for r in records if r.get("status") != "succeeded"]
        shown = sorted(
            (problems + [r for r in records if r.get("status") == "succeeded"])[:TABLE_ROWS], key=lambda r: r["line"]
        )
    table = Table(title=f"batch: {out / INDEX}", title_justify="left")
    columns: tuple[tuple[str, Any], ...] = (
        ("line", "right"),
        ("status", "left"),
        ("final / reason", "left"),
        ("seconds", "right"),
        ("action", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for r in shown:
        status = r.get("status", "?")
        what = r.get("final") or r.get("reason") or ""
        secs = r.get("seconds")
        table.add_row(
            str(r["line"]),
            f"[{_COLOUR.get(status, 'white')}]{status}[/]",
            what,
            f"{secs:.2f}" if isinstance(secs, (int, float)) else "",
            r.get("action", ""),
        )
    console.print(table)
    if len(shown) < len(records):
        console.print(f"[dim]{len(records) - len(shown)} more lines in {out / INDEX}[/]")
    total = counts(records)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
    ran = sum(1 for r in records if r.get("action") in ("ran", "resumed"))
    rate = f", {ran / seconds:.2f} requests/s" if seconds > 0 and ran else ""
    console.print(f"{len(records)} requests: {parts}  ({ran} run in {seconds:.1f} s{rate})")
