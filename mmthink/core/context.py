"""The run context: what the graph's nodes use that is not state (LangGraph's ``context_schema``).

:class:`Components` is built once per agent from its configuration and handed to every run;
:class:`RunContext` is what a modality's handler or composer sees while one run is in flight.
Modalities arrive here as data (``modalities``, ``tags``, ``detect``, ``validate_for``): the core
never imports or names one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmthink.core.faults import FaultPolicy
from mmthink.core.tags import TagSet
from mmthink.core.turn import Guide
from mmthink.request import Limits, Request
from mmthink.thinking import DifficultyEstimator, ThinkingConfig

if TYPE_CHECKING:  # pragma: no cover
    from mmthink.reasoners.base import Reasoner


@dataclass
class Components:
    """Everything the nodes use that is not state: the reasoner, the built modalities, settings."""

    reasoner: Reasoner
    """Continues the chain of thought; stops at closing step tags (see mmthink.reasoners.base)."""
    modalities: dict[str, Any]
    """name -> built Modality record (handlers per drafting tag, composer, final tag)."""
    tags: dict[str, TagSet] = field(default_factory=dict)
    """name -> the tag vocabulary of that modality (what the stream parser knows during its runs)."""
    guides: dict[str, Guide | None] = field(default_factory=dict)
    """name -> how a language model should write that modality's tags (for system prompts)."""
    detect: Callable[[str], tuple[str, str]] | None = None
    """request text -> (modality, reason), for requests whose modality is ``auto``."""
    validate_for: Callable[[Request, str, Limits], None] | None = None
    """Modality-specific input checks (how long the result would last), run at route."""
    checks: dict[str, Callable[[Any, Limits, str], None]] = field(default_factory=dict)
    """artifact kind -> the check its modality registered (raises InvalidOutput for unusable output)."""
    default_drafts: dict[str, int] = field(default_factory=dict)
    """name -> the draft budget a run of that modality gets when the caller sets none."""
    thinking: ThinkingConfig = field(default_factory=ThinkingConfig)
    limits: Limits = field(default_factory=Limits)
    estimator: DifficultyEstimator | None = None
    out_dir: Path = Path("runs")
    system_prompt: Callable[[str, str], str] | None = None
    describe: dict[str, Any] = field(default_factory=dict)
    """Manifest facts: reasoner, backends (never secrets)."""
    policy: FaultPolicy = field(default_factory=FaultPolicy)
    fixed_out_dir: bool = False
    """Served graphs: clients may not choose where files go."""

    def tagset(self, modality: str) -> TagSet:
        return self.tags.get(modality) or TagSet()


WORK_DIR = ".work"
"""A run's scratch folder (see :meth:`RunContext.work_dir`)."""


def clear_work(run_dir: str | Path) -> None:
    """Remove a run's scratch folder: what a killed composer left there is of no use to anyone."""
    import shutil

    shutil.rmtree(Path(run_dir) / WORK_DIR, ignore_errors=True)


@dataclass
class RunContext:
    """What a handler or composer may use while a run is in flight."""

    request: Request
    modality: str
    seed: int
    run_dir: Path
    drafts: list[dict[str, Any]]
    """Every draft so far, as plain records (see mmthink.core.state.DraftRecord)."""
    transcript: str = ""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per run, in memory only: rendered artifacts by draft id, parsed intents."""
    best_of: int = 1
    """Seeds rendered per draft; the critic keeps the best."""

    def work_dir(self) -> Path:
        """Scratch space for a composer or critic, inside the run folder under a dot name: private to the
        run (never part of the bundle), it moves with the folder, and it is removed when the run ends and
        at resume, so a killed run leaves nothing behind in the system's temp folder."""
        d = self.run_dir / WORK_DIR
        d.mkdir(parents=True, exist_ok=True)
        return d

    def read_asset(self, rel: str) -> bytes:
        path = (self.run_dir / rel).resolve()
        if self.run_dir.resolve() not in path.parents:
            raise ValueError(f"asset path {rel!r} leaves the run folder")
        return path.read_bytes()

    def draft_seed(self, draft_id: str) -> int:
        """A seed per draft, stable across resumes: the run seed plus the draft's position."""
        ids = [d["id"] for d in self.drafts]
        pos = ids.index(draft_id) if draft_id in ids else len(ids)
        return (self.seed + 1009 * pos) % (2**32)
