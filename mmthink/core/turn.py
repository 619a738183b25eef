"""The contract between the graph and any reasoner: a :class:`Turn` in, :class:`Delta` pieces out.

The graph owns the chain of thought; a reasoner only continues it. Every call gets the whole chain
so far (observations included), which keeps reasoners stateless and makes a checkpointed run
resumable with any backend. Concrete reasoners live in mmthink.reasoners.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from mmthink.core.state import DraftRecord
from mmthink.core.tags import TagSet
from mmthink.request import Request


@dataclass(frozen=True)
class Guide:
    """How to speak one modality's tags, for a model's system prompt (each modality writes its own)."""

    modality: str
    noun: str
    """What the modality makes, in the plural, as the prompt says it."""
    tags: str
    """A reference line per tag: the tag as written, then what it does."""
    off: str
    """What to write when thinking is off (no drafts, no revision)."""
    rules: tuple[str, ...] = ()
    """The modality's own rules (scene line grammar, emotion attributes, ...)."""
    grammar: str = ""
    """A Lark grammar for the bodies of the drafting tags, one rule per tag named after the tag,
    each ending with the closing tag; a reasoner that can constrain decoding enters it after an opening tag.
    Empty: drafts are written freely."""
    nudge: str = ""
    """What to write after a turn with no draft, with ``{id}``, ``{tag}`` and ``{request}`` filled in
    (see :mod:`mmthink.core.nudge`). Empty: built from the tag's line in ``tags``."""


@dataclass
class Turn:
    """Everything a reasoner needs to write the next stretch of thought."""

    request: Request
    modality: str  # the resolved modality's name
    mode: str  # resolved: on | off
    transcript: str = ""  # thinking text so far, observations included
    answer: str = ""  # answer text so far (after thinking closed)
    drafts: list[DraftRecord] = field(default_factory=list)
    tokens_left: int | None = None
    drafts_left: int | None = None
    min_tokens: int = 0
    tokens_used: int = 0
    force_close: str | None = None  # why thinking must close now (budget spent), else None
    system: str | None = None
    seed: int = 0
    deadline: float | None = None
    """Epoch seconds (time.time()) at which the call is cut: the run's max_seconds."""
    tags: TagSet = field(default_factory=TagSet)
    """The modality's tag vocabulary: what a reasoner may write and where it must stop."""
    guide: Guide | None = None
    """How to speak those tags, for reasoners that build a system prompt."""
    revise: str | None = None
    """A drafting tag to write now: the critic rejected the last draft (its observation ends the transcript)
    and drafts are left. A reasoner that can (``force_revision``) opens it itself, so the turn is the revision;
    the others read the observation and decide. See :func:`mmthink.core.nudge.revision_due`."""
    required: tuple[str, ...] = ()
    """Lines the revision must hold: the ones the critic's observation gave, set only after the model
    rewrote a rejected draft unchanged (a reasoner that constrains drafts makes them binding, and says so)."""

    @property
    def prompt(self) -> str:
        return self.request.text


@dataclass
class Delta:
    """A piece of streamed text. ``tokens`` is exact where the backend knows it."""

    text: str
    channel: Literal["thinking", "answer"] = "thinking"
    tokens: int | None = None
    refusal: bool = False
    """This text says the reasoner cannot do the request, and what can: the run ends ``refused``."""


@runtime_checkable
class Reasoner(Protocol):
    name: str

    def stream(self, turn: Turn) -> Iterator[Delta]:
        """Continue the chain. The caller may stop iterating at any point (a closed tag)."""
        ...
