"""The Agent facade: wires a reasoner, the media tools, the critics and the graph.

    agent = Agent.from_profile("embedded")
    result = agent.run("three red apples on a table, a blue cup to the left of them")
    for step in agent.stream("a lighthouse at dusk"): print(step.kind, step.title)

Runs are durable by default: each keeps a SQLite checkpoint in ``<run_dir>/.checkpoint.sqlite``
(thread id = run id), so ``agent.resume(run_dir)`` (or ``Agent.resume(run_dir)``, which rebuilds
the agent from the bundle's manifest) continues a killed run from its last completed step.
``review=True`` pauses before the final render; ``review=callable`` asks the callable instead.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmthink.config import AgentConfig, make_config
from mmthink.core.checkpoints import has_checkpoint, remove_checkpoint, truncate_steps
from mmthink.core.context import clear_work
from mmthink.core.faults import DiskFull, FaultPolicy, disk_full_reason, is_disk_full, no_space_detail
from mmthink.core.review import ReviewDecision, parse_decision
from mmthink.core.run_start import read_start, remove_start, write_start
from mmthink.core.state import SAFE_ID
from mmthink.core.status import FINISHED
from mmthink.errors import InputError, MMThinkError
from mmthink.modalities import registry
from mmthink.modalities.base import Modality
from mmthink.reasoners.base import Reasoner, describe
from mmthink.request import Limits, Request, coerce_int
from mmthink.thinking import MODES, FeatureDifficulty, ThinkingConfig
from mmthink.trace.schema import Step

Reviewer = Callable[[dict[str, Any]], "ReviewDecision | dict[str, Any] | str | None"]
"""Called with the review payload; returns approve / revise(note) / abort, or None to stay paused."""

AWAITING_REVIEW = "awaiting_review"
_FINAL = FINISHED
_SECRET = re.compile(r"(^|_)(key|token|secret|password|passwd|auth|authorization|credentials?)$", re.I)


@dataclass
class RunResult:
    """What a run produced. ``final`` is None unless the status is succeeded or unmet; the bundle is always there.

    ``status`` (see :mod:`mmthink.core.status`): succeeded, unmet (a final that falls short: ``findings``
    say how), refused (``reason`` says what can do it), failed, stopped, or awaiting_review (paused:
    ``review`` holds the payload; continue with ``agent.resume(result.trace, decision=...)``).
    """

    run_id: str
    trace: Path
    status: str
    final: Path | None = None
    reason: str | None = None
    mode: str | None = None
    modality: str | None = None
    answer: str = ""
    budget: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    steps: int = 0
    review: dict[str, Any] | None = None
    findings: list[str] = field(default_factory=list)
    """Why a delivered final falls short (unmet), and what was dropped or stood in."""

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class RunStream:
    """Iterate to get each :class:`Step` as it happens; ``result`` is set when the run ends."""

    def __init__(self, gen: Callable[[RunStream], Iterator[Step]]) -> None:
        self.result: RunResult | None = None
        self._gen = gen(self)

    def __iter__(self) -> Iterator[Step]:
        return self._gen

    def close(self) -> None:
        """Stop here: the run stays resumable and its folder is released for another writer.

        A stream that is neither finished nor closed still holds its run folder (one writer per run)."""
        self._gen.close()  # type: ignore[attr-defined]


class _agent_or_class:
    """``Agent.resume(run)`` rebuilds the agent from the run's manifest; ``agent.resume(run)`` uses that agent."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        if obj is None:
            return lambda run, **kw: self.fn(cls.for_run(run), run, **kw)
        return functools.partial(self.fn, obj)


class Agent:
    def __init__(
        self,
        reasoner: Reasoner | None = None,
        *,
        config: AgentConfig | None = None,
        modalities: dict[str, Modality] | None = None,
        image_backend: Any = None,
        system_prompt: Callable[[str, str], str] | None = None,
        estimator: Any = None,
        checkpointer: Any = None,
        durable: bool = True,
        policy: FaultPolicy | None = None,
        keep_checkpoints: bool = False,
    ) -> None:
        """``checkpointer``: one LangGraph saver for every run (thread id = run id); by default each
        run gets its own SQLite file in its folder (deleted when the run ends, unless
        ``keep_checkpoints``), and ``durable=False`` turns checkpoints off. Without one,
        ``MMTHINK_CHECKPOINT_URL`` (postgresql://… or a .sqlite path) picks a shared one.
        ``policy``: timeouts and retries for reasoner, render, critique and compose calls."""
        _check_agent_args(
            reasoner, config, modalities, system_prompt, policy, durable=durable, keep_checkpoints=keep_checkpoints
        )
        self.config = (config or AgentConfig()).validate()
        self.config.limits.validate()
        self.policy = (policy or FaultPolicy()).validate()
        self.reasoner = reasoner or build_reasoner(self.config)
        if getattr(self.reasoner, "planners", None) == {}:  # the embedded reasoner plans with each modality's planner
            self.reasoner.planners = registry.planners()  # type: ignore[attr-defined]
        self.image_backend = image_backend or build_image_backend(self.config)
        self.modalities = modalities or build_modalities(self.config, self.image_backend)
        self.system_prompt = system_prompt
        self.estimator = estimator or FeatureDifficulty(timed=tuple(s.name for s in registry.specs() if s.timed))
        if checkpointer is None and durable and os.environ.get("MMTHINK_CHECKPOINT_URL"):
            from mmthink.checkpoint_url import shared_checkpointer  # Postgres or one SQLite file, shared by every run

            checkpointer = shared_checkpointer(os.environ["MMTHINK_CHECKPOINT_URL"])
        self.checkpointer = checkpointer
        self.durable = bool(durable)
        self.keep_checkpoints = bool(keep_checkpoints)
        self._bare: Any = None  # the graph compiled without a checkpointer
        self._components: Any = None
        self._graph = None
        self._detect = _detector(self.modalities)  # one for the agent: what it read, it keeps for the route node

    # --------------------------------------------------------------- building
    @classmethod
    def from_profile(
        cls,
        profile: str = "embedded",
        *,
        policy: FaultPolicy | None = None,
        checkpointer: Any = None,
        durable: bool = True,
        **overrides: Any,
    ) -> Agent:
        return cls(config=make_config(profile, **overrides), policy=policy, checkpointer=checkpointer, durable=durable)

    @classmethod
    def demo(cls, name: str, *, policy: FaultPolicy | None = None, durable: bool = True, **overrides: Any) -> Agent:
        """An agent that replays the scripted demo ``name`` (image, speech, video)."""
        return cls(
            config=make_config("embedded", reasoner="scripted", script=name, **overrides),
            policy=policy,
            durable=durable,
        )

    @classmethod
    def for_run(cls, run: str | Path, **kwargs: Any) -> Agent:
        """An agent configured as the one that started ``run`` (from the manifest; secrets are not stored)."""
        run_dir = _locate(run, Path(AgentConfig().out_dir))
        manifest = _read_manifest(run_dir) if (run_dir / "manifest.json").exists() else read_start(run_dir)
        if manifest is None:
            raise _nothing_to_resume(run_dir)
        saved = manifest.get("agent")
        if not isinstance(saved, dict):
            raise InputError(
                "run",
                f"{run_dir} does not say which agent made it",
                "resume it with the agent that started it: agent.resume(run_dir)",
            )
        values = {k: v for k, v in saved.items() if k not in ("thinking", "limits") and v != _REDACTED}
        values["reasoner_options"] = {k: v for k, v in (values.get("reasoner_options") or {}).items() if v != _REDACTED}
        cfg = AgentConfig(**{k: v for k, v in values.items() if k in AgentConfig.__dataclass_fields__})
        cfg.thinking = ThinkingConfig(
            **{k: v for k, v in (saved.get("thinking") or {}).items() if k in ThinkingConfig.__dataclass_fields__}
        )
        cfg.limits = Limits(
            **{k: v for k, v in (saved.get("limits") or {}).items() if k in Limits.__dataclass_fields__}
        )
        cfg.out_dir = str(run_dir.parent)
        return cls(config=cfg, **kwargs)

    def components(self) -> Any:
        """What the graph's nodes use: this agent's reasoner, modalities, settings and fault policy."""
        from mmthink.core.context import Components

        if self._components is None:
            self._components = Components(
                reasoner=self.reasoner,
                modalities=self.modalities,
                tags={name: registry.tagset(name) for name in self.modalities},
                guides={name: registry.guide(name) for name in self.modalities},
                detect=self._detect,
                validate_for=_validate_for,
                checks=_output_checks(),
                default_drafts={name: registry.default_drafts(name) for name in self.modalities},
                thinking=self.config.thinking,
                limits=self.config.limits,
                estimator=self.estimator,
                out_dir=Path(self.config.out_dir),
                system_prompt=self.system_prompt,
                describe=self.describe(),
                policy=self.policy,
            )
        return self._components

    def _compile(self, checkpointer: Any):
        """Compiled once per agent; each run gets a shallow copy bound to its own checkpointer."""
        if self._bare is None:
            from mmthink.core.graph import build_graph

            self._bare = build_graph().compile()
        return self._bare if checkpointer is None else self._bare.copy(update={"checkpointer": checkpointer})

    @property
    def graph(self):
        """The graph compiled with this agent's shared ``checkpointer`` (None: the LangGraph server brings one)."""
        if self._graph is None:
            self._graph = self._compile(self.checkpointer)
        return self._graph

    def describe(self) -> dict[str, Any]:
        return {
            "reasoner": describe(self.reasoner),
            "backends": {
                "image": getattr(self.image_backend, "name", type(self.image_backend).__name__),
                "image_model": self.config.image_model,
                "clip_model": self.config.clip_model,
                "speech": self.config.speech_backend,
                "music": self.config.music_backend,
            },
            "modalities": sorted(self.modalities),
            "agent": _redact(self.config.to_dict()),
            "policy": self.policy.to_dict(),
            "checkpoints": self._checkpoints_where(),
        }

    def _checkpoints_where(self) -> str | None:
        """Where this agent keeps a run's checkpoints: ``run folder``, a database (its URL masked), or None
        when that cannot be told (a saver of the caller's own) or there are none."""
        if self.checkpointer is None:
            return "run folder" if self.durable else None
        from mmthink.checkpoint_url import WHERE

        return getattr(self.checkpointer, WHERE, None)

    # ---------------------------------------------------------------- running
    def run(self, request: str | Request, **options: Any) -> RunResult:
        stream = self.stream(request, **options)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    def stream(
        self,
        request: str | Request,
        *,
        modality: str | None = None,
        thinking: str | None = None,
        budget_tokens: int | None = None,
        max_drafts: int | None = None,
        min_tokens: int | None = None,
        max_seconds: float | None = None,
        best_of: int | None = None,
        seed: int | None = None,
        width: int | None = None,
        height: int | None = None,
        out: str | Path | None = None,
        run_id: str | None = None,
        on_token: Callable[[str, str], None] | None = None,
        review: bool | Reviewer = False,
        trace_sync: str = "step",
    ) -> RunStream:
        """Validate everything first (bad input costs nothing, no folder is made), then run the graph lazily.

        ``trace_sync``: "step" fsyncs every step of the bundle as it is written; "end" only when the run
        pauses or ends (what batches use: see :mod:`mmthink.trace.writer`).
        """
        from mmthink import inputs

        inputs.callback("on_token", on_token, "a function (text, channel) -> None")
        if run_id is not None:
            inputs.text("run_id", run_id, fix="use letters, digits, '.', '_' or '-' (at most 128)")
        out = inputs.out_folder("out", out) if out is not None else inputs.out_folder("out_dir", self.config.out_dir)
        if max_seconds is not None:
            max_seconds = inputs.seconds("max-seconds", max_seconds)
        req = _request(request, modality=modality, seed=seed, width=width, height=height)
        req.validate(self.config.limits)
        resolved = req.modality if req.modality != "auto" else self._detect(req.text)[0]
        if resolved not in self.modalities:
            raise InputError(
                "modality",
                f"{resolved!r} is not available in this agent",
                f"available: {', '.join(sorted(self.modalities))}",
            )
        _validate_for(req, resolved, self.config.limits)
        if thinking is not None and thinking not in MODES:
            raise InputError("thinking", f"unknown mode {thinking!r}", "use on, off or auto")
        from mmthink.trace.writer import SYNC_MODES

        if not isinstance(trace_sync, str) or trace_sync not in SYNC_MODES:
            raise InputError("trace_sync", f"unknown mode {trace_sync!r}", f"use one of {', '.join(SYNC_MODES)}")
        over = {
            k: v
            for k, v in {
                "budget_tokens": budget_tokens,
                "max_drafts": max_drafts,
                "min_tokens": min_tokens,
                "max_seconds": max_seconds,
                "best_of": best_of,
            }.items()
            if v is not None
        }
        for k in ("budget_tokens", "max_drafts", "min_tokens", "best_of"):
            if k in over:
                over[k] = inputs.count(k.replace("_", "-"), over[k])
        user_drafts = "max_drafts" in over
        if not user_drafts and self.config.thinking.max_drafts == ThinkingConfig().max_drafts:
            over["max_drafts"] = registry.default_drafts(resolved)
        cfg = ThinkingConfig(**{**self.config.thinking.to_dict(), **over}).validate()
        if not user_drafts and cfg.max_drafts > self.config.limits.max_drafts:
            cfg.max_drafts = int(self.config.limits.max_drafts)  # a default never trips the cap
        if cfg.max_drafts > self.config.limits.max_drafts:
            raise InputError(
                "max-drafts",
                f"{cfg.max_drafts} is above the limit {self.config.limits.max_drafts}",
                "lower it or raise Limits.max_drafts",
            )
        if review is not False and review is not True and not callable(review):
            raise InputError("review", f"must be True, False or a callable, got {type(review).__name__}")
        if review and not self._durable():
            raise InputError(
                "review", "pausing for review needs checkpoints", "leave durable=True or pass a checkpointer"
            )
        from mmthink.trace.writer import new_run_id

        rid = run_id or new_run_id()
        if not SAFE_ID.match(str(rid)) or ".." in str(rid):
            raise InputError(
                "run_id", f"{rid!r} is not safe as a folder name", "use letters, digits, '.', '_' or '-' (at most 128)"
            )
        out_dir = Path(out).resolve()
        if (out_dir / rid).exists():
            raise InputError("run_id", f"{out_dir / rid} already exists", "use a new run id, or resume that run")
        state = {
            "request": req.to_dict(),
            "thinking": cfg.to_dict(),
            "mode_arg": thinking,
            "run_id": rid,
            "out_dir": str(out_dir),
            "review": bool(review),
            "trace_sync": trace_sync,
        }
        from mmthink.core.graph import recursion_limit

        limit = recursion_limit(cfg, self.config.limits)
        reviewer = review if callable(review) else None
        return RunStream(lambda rs: self._drive(rs, out_dir / rid, rid, state, limit, on_token, reviewer))

    @_agent_or_class
    def resume(
        self,
        run: str | Path,
        *,
        decision: ReviewDecision | dict[str, Any] | str | None = None,
        review: Reviewer | None = None,
        on_token: Callable[[str, str], None] | None = None,
    ) -> RunResult:
        """Continue a run that was killed or paused for review; a finished run is returned as it is.

        ``decision`` answers a pending review (approve, ``revise: NOTE``, abort); without one a
        paused run stays paused (status ``awaiting_review``) unless ``review`` asks someone.
        """
        stream = self.resume_stream(run, decision=decision, review=review, on_token=on_token)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    def resume_stream(
        self,
        run: str | Path,
        *,
        decision: Any = None,
        review: Reviewer | None = None,
        on_token: Callable[[str, str], None] | None = None,
    ) -> RunStream:
        from mmthink import inputs

        inputs.callback("on_token", on_token, "a function (text, channel) -> None")
        inputs.callback("review", review, "a function (payload) -> decision, or None")
        run_dir = _locate(run, Path(self.config.out_dir))
        if decision is not None:
            decision = parse_decision(decision)
        # a run killed before route wrote its manifest resumes from the start record written when it began
        manifest = _read_manifest(run_dir) if (run_dir / "manifest.json").is_file() else (read_start(run_dir) or {})
        if not self._durable():
            raise InputError("run", "this agent keeps no checkpoints", "resume with an agent that has durable=True")
        if not manifest and not (self.checkpointer is not None or has_checkpoint(run_dir)):
            raise _nothing_to_resume(run_dir)
        _check_decision(decision, manifest)
        if manifest and not has_checkpoint(run_dir) and self._checkpoints_where() == "run folder":
            _check_checkpoints_where(manifest, "run folder")  # kept elsewhere: refused before a file is made here
        run_id = manifest.get("run_id") or run_dir.name
        thinking = (
            ThinkingConfig(
                **{
                    k: v
                    for k, v in ((manifest.get("input") or {}).get("thinking") or {}).items()
                    if k in ThinkingConfig.__dataclass_fields__
                }
            )
            if manifest
            else self.config.thinking
        )
        from mmthink.core.graph import recursion_limit

        limit = recursion_limit(thinking, self.config.limits)
        start = _Resume(manifest, decision)
        return RunStream(lambda rs: self._drive(rs, run_dir, run_id, start, limit, on_token, review))

    # ---------------------------------------------------------------- driving
    def _durable(self) -> bool:
        return self.checkpointer is not None or self.durable

    @contextmanager
    def _saver(self, run_dir: Path) -> Iterator[Any]:
        if self.checkpointer is not None:
            yield self.checkpointer
        elif self.durable:
            from mmthink.core.checkpoints import sqlite_checkpointer

            with sqlite_checkpointer(run_dir) as saver:
                yield saver
        else:
            yield None

    def _drive(
        self,
        rs: RunStream,
        run_dir: Path,
        run_id: str,
        start: Any,
        limit: int,
        on_token: Callable[[str, str], None] | None,
        reviewer: Reviewer | None,
    ) -> Iterator[Step]:
        """Hold the run folder (one writer per run) for as long as the run, resume or review goes on."""
        from mmthink.core.lock import remove_lock, run_lock

        fresh = not isinstance(start, _Resume)
        claimed = False
        try:
            with run_lock(run_dir, fresh=fresh):
                claimed = True  # this call made the folder (fresh) or holds it
                if fresh:  # before the graph starts: a run killed from here on can be resumed
                    write_start(run_dir, start, _redact(self.config.to_dict()))
                if not fresh and (run_dir / "manifest.json").is_file():
                    # what another writer did before this one got the folder counts, not what was read before
                    start.manifest = _read_manifest(run_dir)
                    _check_decision(start.decision, start.manifest)
                yield from self._drive_locked(rs, run_dir, run_id, start, limit, on_token, reviewer)
                if (run_dir / "manifest.json").exists():
                    remove_start(run_dir)  # the manifest says all it said
        except BaseException:
            if claimed and fresh and not (run_dir / "manifest.json").exists():  # nothing was kept: no folder
                remove_start(run_dir)
                remove_lock(run_dir)
                remove_checkpoint(run_dir)
            raise

    def _drive_locked(
        self,
        rs: RunStream,
        run_dir: Path,
        run_id: str,
        start: Any,
        limit: int,
        on_token: Callable[[str, str], None] | None,
        reviewer: Reviewer | None,
    ) -> Iterator[Step]:
        from langgraph.errors import GraphRecursionError
        from langgraph.types import Command

        from mmthink.core.runs import RUNS

        started = time.time()
        fresh = not isinstance(start, _Resume)
        if not fresh and start.manifest.get("status") in _FINAL:  # nothing left to do
            rs.result = _result(run_dir, run_id, {}, None, None, 0.0)
            return
        final_state: dict[str, Any] = {}
        status, reason, paused, bad_answer = None, None, None, None
        steps: queue.SimpleQueue[Step] = queue.SimpleQueue()  # written by the nodes, yielded here
        RUNS.listen(str(run_dir), lambda step: steps.put(Step.from_dict(step.to_dict())))  # the caller's own copy
        # tokens need LangGraph's custom stream (they come mid-node); steps do not
        modes = ["custom", "values"] if on_token is not None else ["values"]
        try:
            with self._saver(run_dir) as saver:
                graph = self._compile(saver)
                config: dict[str, Any] = {"recursion_limit": limit}
                durability: dict[str, Any] = {}
                if saver is not None:  # each superstep's checkpoint is on disk before the next one starts
                    # run_dir: where the run lies now (a moved or copied run folder resumes there)
                    config["configurable"] = {"thread_id": run_id, "mmthink_run_dir": str(run_dir)}
                    durability["durability"] = "sync"
                # a resume that cannot start (a bad state) raises and leaves the run as it was
                inp, paused, final_state = (
                    (start, None, {}) if fresh else self._resume_input(graph, config, run_dir, start, reviewer)
                )
                try:
                    while inp is not _DONE:
                        for mode, chunk in graph.stream(
                            inp, config=config, stream_mode=modes, context=self.components(), **durability
                        ):
                            if mode == "values":
                                if "__interrupt__" not in chunk:
                                    final_state = chunk
                            elif chunk.get("type") == "token" and on_token is not None:
                                on_token(chunk["text"], chunk["channel"])
                            yield from _drain(steps)
                        inp, paused = _DONE, _pending_review(graph, config) if saver is not None else None
                        answer = reviewer(paused) if paused is not None and reviewer is not None else None
                        if answer is not None:
                            try:
                                inp, paused = Command(resume=parse_decision(answer).to_dict()), None
                            except InputError as e:  # the run stays paused; the caller's answer was bad
                                bad_answer = e
                except GraphRecursionError:
                    status, reason = "stopped", "the run hit its step limit before composing"
                except MMThinkError as e:
                    if not (run_dir / "manifest.json").exists():
                        if fresh and saver is not None and self.checkpointer is None:
                            saver.conn.close()
                        raise  # bad input found by route: _drive leaves nothing behind
                    status, reason = "failed", str(e) or "see the error step"
                except Exception as e:  # a bug or the disk: end the run readably, keep what was written
                    full = is_disk_full(e)
                    if not (run_dir / "manifest.json").exists():
                        if fresh and saver is not None and self.checkpointer is None:
                            saver.conn.close()
                            remove_checkpoint(run_dir)  # nothing of this run was kept: leave no folder
                        if full:
                            raise DiskFull("starting the run", no_space_detail(e)) from e
                        raise
                    status, reason = "failed", disk_full_reason(e) if full else f"{type(e).__name__}: {e}"
            yield from _drain(steps)  # what the last superstep wrote, also when it raised
            if status is not None and (run_dir / "manifest.json").exists():
                _close_failed(run_dir, status, reason)
        finally:  # also when the caller stops iterating: the run stays resumable
            RUNS.listen(str(run_dir), None)
            RUNS.close(str(run_dir))
            clear_work(run_dir)  # a node's scratch files are of no use once the run stops
        if bad_answer is not None:
            raise bad_answer
        if self.checkpointer is None and not self.keep_checkpoints and _status_of(run_dir) in _FINAL:
            remove_checkpoint(run_dir)  # nothing left to resume
        rs.result = _result(
            run_dir, run_id, final_state, AWAITING_REVIEW if paused else status, reason, time.time() - started
        )
        rs.result.review = paused

    def _resume_input(
        self, graph: Any, config: dict[str, Any], run_dir: Path, start: _Resume, reviewer: Reviewer | None
    ) -> tuple[Any, dict[str, Any] | None, dict[str, Any]]:
        """Where to pick up: the last checkpoint (trace cut back to it), a pending review, or the manifest's input."""
        from langgraph.types import Command

        from mmthink.core.runs import RUNS

        RUNS.close(str(run_dir))
        clear_work(run_dir)  # what a killed composer left behind
        snap = graph.get_state(config)
        values = dict(snap.values or {})
        if not values:
            if not start.manifest:
                raise _nothing_to_resume(run_dir)
            _check_checkpoints_where(start.manifest, self._checkpoints_where())
            inp: Any = _restart_state(start.manifest, run_dir)
            keep = 0
        else:
            if not snap.next and not snap.tasks:  # finished (a done task with saved writes is not "next")
                return _DONE, None, values
            inp, keep = None, int(values.get("steps") or 0)
        if values:
            pending = _pending_review(graph, config)
            if pending is None and start.decision is not None:
                raise InputError(
                    "decision",
                    "the run is not paused for review, so there is nothing to approve, revise or abort",
                    "resume it without a decision",
                )
            if pending is not None and values.get("run_dir"):  # a paused run that was moved shows where it is now
                pending = _relocated(pending, str(values["run_dir"]), str(run_dir))
            if pending is not None:
                answer = start.decision if start.decision is not None else (reviewer(pending) if reviewer else None)
                if answer is None:
                    return _DONE, pending, values  # still paused: leave the trace as it is
                inp = Command(resume=parse_decision(answer).to_dict())
        dropped = truncate_steps(run_dir, keep)  # steps past the checkpoint: their node runs again
        if (run_dir / "manifest.json").exists():
            from mmthink.core.pickup import note_resume

            moved = values.get("run_dir") and os.path.realpath(values["run_dir"]) != os.path.realpath(run_dir)
            note_resume(
                RUNS.writer(str(run_dir)), keep, dropped, **({"moved_from": str(values["run_dir"])} if moved else {})
            )
        return inp, None, values

    # ----------------------------------------------------------------- extras
    def __repr__(self) -> str:
        return f"Agent(reasoner={self.reasoner.name!r}, image={getattr(self.image_backend, 'name', '?')!r})"


_DONE = object()
_REDACTED = "<redacted>"


@dataclass
class _Resume:
    manifest: dict[str, Any]
    decision: ReviewDecision | None


def _nothing_to_resume(run_dir: Path) -> InputError:
    """The error for a folder whose run died before anything of it was recorded."""
    return InputError(
        "run",
        f"{run_dir} holds no manifest, start record or checkpoint: its run was stopped before anything was recorded",
        "nothing to resume: run the request again (the folder holds no results and can be deleted)",
    )


def _check_checkpoints_where(manifest: dict[str, Any], here: str | None) -> None:
    """No checkpoint found: a run killed before its first one starts over, but one whose checkpoints are kept
    elsewhere (a database this process was not told about) must not: that would drop its steps."""
    from mmthink.checkpoint_url import ENV, SERVED

    kept = manifest.get("checkpoints")
    if isinstance(kept, str) and kept.startswith(SERVED):
        raise InputError(
            "run",
            f"this run was started by a served graph, which keeps it under the thread id its caller chose "
            f"({kept[len(SERVED) :]}), not under its run id",
            "continue it through the served graph with that thread id: graph.invoke(Command(resume={'action': "
            "'approve'}), {'configurable': {'thread_id': ...}}), or graph.invoke(None, ...) after a kill",
        )
    if not kept or not here or kept == here:
        return
    if kept == "run folder":
        raise InputError(
            ENV, f"this run keeps its checkpoints in its run folder, not in {here}", f"resume it with {ENV} unset"
        )
    raise InputError(
        ENV,
        f"this run keeps its checkpoints in {kept}, and this process "
        + (f"looks in {here}" if here != "run folder" else f"has no {ENV}"),
        f"set {ENV} to that database (the URL every worker uses) and resume again",
    )


def _check_decision(decision: Any, manifest: dict[str, Any]) -> None:
    """A review decision needs a run that has not ended."""
    if decision is not None and manifest.get("status") in _FINAL:
        raise InputError(
            "decision",
            f"the run already ended ({manifest.get('status')}); there is no review to answer",
            "start a new run, e.g. with the note added to the request",
        )


def _drain(steps: queue.SimpleQueue[Step]) -> Iterator[Step]:
    while True:
        try:
            yield steps.get_nowait()
        except queue.Empty:
            return


def _pending_review(graph: Any, config: dict[str, Any]) -> dict[str, Any] | None:
    snap = graph.get_state(config)
    for task in snap.tasks:
        for it in task.interrupts:
            if isinstance(it.value, dict) and it.value.get("type") == "review":
                return it.value
    return None


def _relocated(obj: Any, old: str, new: str) -> Any:
    """``obj`` with paths under the run's old folder pointing into its new one."""
    if old == new:
        return obj
    if isinstance(obj, dict):
        return {k: _relocated(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_relocated(v, old, new) for v in obj]
    if isinstance(obj, str) and (obj == old or obj.startswith(old + "/")):
        return new + obj[len(old) :]
    return obj


def _restart_state(manifest: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """A run killed before its first checkpoint starts again from what its manifest recorded."""
    given = manifest.get("input") or {}
    return {
        "request": manifest.get("request") or {},
        "thinking": given.get("thinking") or {},
        "mode_arg": given.get("mode_arg"),
        "run_id": manifest.get("run_id") or run_dir.name,
        "out_dir": str(run_dir.parent.resolve()),
        "review": bool(given.get("review")),
    }


def _status_of(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _close_failed(run_dir: Path, status: str, reason: str | None) -> None:
    from mmthink.core.runs import RUNS
    from mmthink.trace.schema import Part

    try:
        w = RUNS.writer(str(run_dir))
    except Exception:  # the bundle cannot even be reopened: the steps written so far stay as they are
        return
    if w.manifest.get("status") in _FINAL:
        return
    try:  # the error step and the manifest each get their own try: a full disk may take one and not the other
        w.append(Step("error", "agent", status, [Part("text", reason or status)]))
    except Exception:
        pass
    try:
        w.finish(status, reason=reason)
    except Exception:
        pass


def _locate(run: str | Path, out_dir: Path) -> Path:
    """A run folder, or a run id under ``out_dir``."""
    from mmthink.inputs import path_arg

    p = path_arg("run", run, "give a run folder or a run id")
    q = out_dir / str(run)
    try:
        if p.is_dir():
            return p.resolve()
        if isinstance(run, str) and "/" not in run and "\\" not in run and q.is_dir():
            return q.resolve()
    except OSError as e:  # a name too long, a folder we may not enter
        raise InputError("run", f"cannot open {str(run)[:80]!r} ({e.strerror or e})", "give a run folder") from None
    raise InputError("run", f"no run folder {str(run)!r}", f"give a run folder or a run id under {out_dir}/")


def _check_agent_args(
    reasoner: Any, config: Any, modalities: Any, system_prompt: Any, policy: Any, **flags: Any
) -> None:
    """Agent(...)'s arguments have the types they document (checked before anything is built)."""
    from mmthink.inputs import callback

    for name, value in flags.items():
        if not isinstance(value, bool):
            raise InputError(name, f"must be True or False, got {type(value).__name__}")
    if config is not None and not isinstance(config, AgentConfig):
        raise InputError(
            "config",
            f"must be an AgentConfig, got {type(config).__name__}",
            "use Agent.from_profile(...) or make_config(...)",
        )
    if policy is not None and not isinstance(policy, FaultPolicy):
        raise InputError("policy", f"must be a FaultPolicy, got {type(policy).__name__}", "e.g. FaultPolicy.quick()")
    if modalities is not None and (
        not isinstance(modalities, dict)
        or not modalities
        or not all(isinstance(k, str) and isinstance(v, Modality) for k, v in modalities.items())
    ):
        raise InputError(
            "modalities",
            f"must be a non-empty dict of name -> Modality, got {type(modalities).__name__}"
            + (
                f" holding {', '.join(sorted({type(v).__name__ for v in modalities.values()}))}"
                if isinstance(modalities, dict) and modalities
                else ""
            ),
            "e.g. mmthink.modalities.registry.build_modalities(config, image_backend)",
        )
    if reasoner is not None and not callable(getattr(reasoner, "stream", None)):
        raise InputError(
            "reasoner",
            f"{type(reasoner).__name__} has no stream(turn) method",
            "pass a mmthink.reasoners.base.Reasoner",
        )
    callback("system_prompt", system_prompt, "a function (request, modality) -> str")


def _read_manifest(run_dir: Path) -> dict[str, Any]:
    from mmthink.errors import BundleError

    try:
        data = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("run", f"{run_dir} has no manifest.json", "give a run folder written by mmthink") from None
    except (OSError, ValueError) as e:
        raise BundleError(f"{run_dir / 'manifest.json'}: unreadable ({e})") from None
    if not isinstance(data, dict):
        raise BundleError(f"{run_dir / 'manifest.json'}: not a JSON object")
    return data


def _redact(obj: Any) -> Any:
    """Settings go into every manifest; anything that looks like a credential does not."""
    if isinstance(obj, dict):
        return {
            k: (_REDACTED if _SECRET.search(str(k)) and isinstance(v, str) and v else _redact(v))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [_redact(v) for v in obj]
    return obj


def _request(request: str | Request, **opts: Any) -> Request:
    if isinstance(request, Request):
        req = Request.from_dict(request.to_dict())
    elif isinstance(request, str):
        req = Request(text=request)
    else:
        raise InputError("request", f"must be a string or a Request, got {type(request).__name__}")
    for k, v in opts.items():
        if v is not None:
            if k == "seed" or k in ("width", "height"):
                v = coerce_int(k, v)
            setattr(req, k, v)
    return req


def _result(
    run_dir: Path, run_id: str, st: dict[str, Any], status: str | None, reason: str | None, seconds: float
) -> RunResult:
    manifest: dict[str, Any] = {}
    mpath = run_dir / "manifest.json"
    if mpath.exists():
        manifest = json.loads(mpath.read_text())
    final = manifest.get("final") or st.get("final")
    steps = 0
    sp = run_dir / "steps.jsonl"
    if sp.exists():
        steps = sum(1 for line in sp.read_text().splitlines() if line.strip())
    return RunResult(
        run_id=run_id,
        trace=run_dir,
        status=status or manifest.get("status") or st.get("status") or "failed",
        final=(run_dir / final["asset"]) if final and final.get("asset") else None,
        reason=reason or manifest.get("reason") or st.get("reason"),
        mode=st.get("mode") or (manifest.get("thinking") or {}).get("resolved"),
        modality=st.get("modality") or manifest.get("modality"),
        answer=manifest.get("answer", ""),
        budget=manifest.get("budget", {}),
        seconds=seconds,
        steps=steps,
        findings=list(manifest.get("findings") or []),
    )


# ----------------------------------------------------------------- builders


def build_reasoner(cfg: AgentConfig) -> Reasoner:
    if cfg.reasoner == "heuristic":
        from mmthink.reasoners.heuristic import HeuristicReasoner

        return HeuristicReasoner(registry.planners())
    if cfg.reasoner == "scripted":
        from mmthink.reasoners.scripted import ScriptedReasoner

        return ScriptedReasoner(cfg.script or "image", revisers=_revisers())
    if cfg.reasoner == "hf":
        from mmthink.reasoners.hf import HFReasoner

        return HFReasoner(cfg.reasoner_model, device=cfg.device, **cfg.reasoner_options)
    from mmthink.reasoners.openai_compat import OpenAICompatReasoner

    reasoner = OpenAICompatReasoner(model=cfg.reasoner_model, **cfg.reasoner_options)
    reasoner.understood_names = _understood_names  # names a draft grammar may use: the request's objects
    reasoner.not_names = _not_names  # and words that are not things
    return reasoner


def _understood_names(text: str) -> list[str]:
    """The objects the one understanding finds in a request (empty where the image modality is absent)."""
    return list(_reading(text, os.environ.get("MMTHINK_NLP", ""))[0])


def _not_names(text: str) -> list[str]:
    """Words the understanding read as a place, a time, the weather or a modifier, never as a thing."""
    return list(_reading(text, os.environ.get("MMTHINK_NLP", ""))[1])


@functools.lru_cache(maxsize=64)
def _reading(text: str, path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The request read once for every draft grammar of its run: (things, words that are not things);
    ``path`` (``MMTHINK_NLP``) is part of the key, since the rules reading may differ from spaCy's."""
    try:
        found = registry.service("image", "parse_request")(text)
    except (LookupError, ImportError):
        return (), ()
    words = [*found.setting, *found.places, *found.time_of_day, *found.season, *found.weather]
    for o in found.objects:
        words += [*o.modifiers, *o.materials]
    things = {w for o in found.objects for w in str(o.name).split()}
    others = (w for w in dict.fromkeys(x for word in words for x in str(word).lower().split()) if w not in things)
    return tuple(str(o.name) for o in found.objects), tuple(others)


def build_image_backend(cfg: AgentConfig) -> Any:
    if cfg.image_backend == "diffusers":
        from mmthink.modalities.image.render.diffusers import DiffusersImageBackend

        return DiffusersImageBackend(cfg.image_model, device=cfg.device, **cfg.image_options)
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend

    return EmbeddedImageBackend()


def build_modalities(cfg: AgentConfig, image_backend: Any) -> dict[str, Modality]:
    """Every installed modality from the registry (one whose extra is missing is not offered)."""
    return registry.build_modalities(cfg, image_backend)


def load_demo(name: str) -> Any:
    """A demo script (name or path): its request, modality and chain of thought."""
    from mmthink.reasoners.scripted import load_script

    return load_script(name)


def _revisers() -> dict[str, Any]:
    """How the scripted demos revise a take from its critique, where a modality offers one."""
    if not registry.installed(registry.spec("speech")):
        return {}
    return {"draft_audio": registry.service("speech", "revise_tag")}


DETECT_KEEP = 64
"""Readings a detector remembers (the latest first out)."""


def _detector(modalities: dict[str, Any]) -> Callable[[str], tuple[str, str]]:
    """The registry's reading of a request, limited to what this agent offers.

    A run reads its request before anything is written (to check it) and again in the graph's route node;
    reading means parsing it with spaCy (~6 ms, about 5% of a small image run), so the detector remembers
    its recent answers, keyed by the text and the reading path (``MMTHINK_NLP``: the rules reading may differ)."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}

    def read(text: str) -> tuple[str, str]:
        name, reason = registry.detect(text)
        if name in modalities or not modalities:
            return name, reason
        first = next(iter(modalities))
        return first, f"{reason}, but this agent has no {name}; making {first}"

    def detect(text: str) -> tuple[str, str]:
        key = (text, os.environ.get("MMTHINK_NLP", ""))
        found = seen.get(key)
        if found is None:
            found = read(text)
            if len(seen) >= DETECT_KEEP:
                seen.pop(next(iter(seen)))
            seen[key] = found
        return found

    return detect


def _output_checks() -> dict[str, Any]:
    """Every modality's checks per kind of file; a handler plugged in by a user gets them too."""
    checks: dict[str, Any] = {}
    for s in registry.specs():
        checks.update(s.checks())
    return checks


def _validate_for(req: Request, modality: str, limits: Limits) -> None:
    """The generic duration check, then the modality's own (how long the speech or film would be)."""
    req.seconds()
    registry.spec(modality).validate(req, limits)
