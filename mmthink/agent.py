"""The Agent facade: wires a reasoner, the media tools, the critics and the graph.

    agent = Agent.from_profile("embedded")
    result = agent.run("three red apples on a table, a blue cup to the left of them")
    for step in agent.stream("a lighthouse at dusk"): print(step.kind, step.title)
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .config import AgentConfig, make_config
from .errors import InputError, MMThinkError
from .modality import Modality
from .reasoners.base import Reasoner, describe
from .request import Request, coerce_int
from .thinking import MODES, ThinkingConfig
from .trace.schema import Step


@dataclass
class RunResult:
    """What a run produced. ``final`` is None when the run failed; the bundle is always there."""

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

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class RunStream:
    """Iterate to get each :class:`Step` as it happens; ``result`` is set when the run ends."""

    def __init__(self, gen: Callable[["RunStream"], Iterator[Step]]) -> None:
        self.result: RunResult | None = None
        self._gen = gen(self)

    def __iter__(self) -> Iterator[Step]:
        return self._gen


class Agent:
    def __init__(self, reasoner: Reasoner | None = None, *, config: AgentConfig | None = None,
                 modalities: dict[str, Modality] | None = None, image_backend: Any = None,
                 system_prompt: Callable[[str, str], str] | None = None, estimator: Any = None,
                 checkpointer: Any = None) -> None:
        self.config = (config or AgentConfig()).validate()
        self.reasoner = reasoner or build_reasoner(self.config)
        self.image_backend = image_backend or build_image_backend(self.config)
        self.modalities = modalities or build_modalities(self.config, self.image_backend)
        if system_prompt is None and self.config.reasoner in ("hf", "openai_compat"):
            system_prompt = _protocol_prompt()
        self.system_prompt = system_prompt
        self.estimator = estimator
        self.checkpointer = checkpointer
        self._graph = None

    # --------------------------------------------------------------- building
    @classmethod
    def from_profile(cls, profile: str = "embedded", **overrides: Any) -> "Agent":
        return cls(config=make_config(profile, **overrides))

    @classmethod
    def demo(cls, name: str, **overrides: Any) -> "Agent":
        """An agent that replays the scripted demo ``name`` (image, speech, video)."""
        return cls(config=make_config("embedded", reasoner="scripted", script=name, **overrides))

    @property
    def graph(self):
        if self._graph is None:
            from .graph import Components, build_graph

            comp = Components(reasoner=self.reasoner, modalities=self.modalities, thinking=self.config.thinking,
                              limits=self.config.limits, estimator=self.estimator,
                              out_dir=Path(self.config.out_dir), system_prompt=self.system_prompt,
                              describe=self.describe())
            self._graph = build_graph(comp).compile(checkpointer=self.checkpointer)
        return self._graph

    def describe(self) -> dict[str, Any]:
        return {"reasoner": describe(self.reasoner),
                "backends": {"image": getattr(self.image_backend, "name", type(self.image_backend).__name__),
                             "image_model": self.config.image_model, "clip_model": self.config.clip_model,
                             "speech": self.config.speech_backend, "music": self.config.music_backend},
                "modalities": sorted(self.modalities)}

    # ---------------------------------------------------------------- running
    def run(self, request: str | Request, **options: Any) -> RunResult:
        stream = self.stream(request, **options)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    def stream(self, request: str | Request, *, modality: str | None = None, thinking: str | None = None,
               budget_tokens: int | None = None, max_drafts: int | None = None, min_tokens: int | None = None,
               max_seconds: float | None = None, best_of: int | None = None, seed: int | None = None,
               width: int | None = None, height: int | None = None, out: str | Path | None = None,
               run_id: str | None = None, on_token: Callable[[str, str], None] | None = None) -> RunStream:
        """Validate everything first (bad input costs nothing), then run the graph lazily."""
        req = _request(request, modality=modality, seed=seed, width=width, height=height)
        req.validate(self.config.limits)
        if thinking is not None and thinking not in MODES:
            raise InputError("thinking", f"unknown mode {thinking!r}", "use on, off or auto")
        over = {k: v for k, v in {"budget_tokens": budget_tokens, "max_drafts": max_drafts, "min_tokens": min_tokens,
                                  "max_seconds": max_seconds, "best_of": best_of}.items() if v is not None}
        for k in ("budget_tokens", "max_drafts", "min_tokens", "best_of"):
            if k in over:
                over[k] = coerce_int(k.replace("_", "-"), over[k])
        cfg = ThinkingConfig(**{**self.config.thinking.to_dict(), **over}).validate()
        if cfg.max_drafts > self.config.limits.max_drafts:
            raise InputError("max-drafts", f"{cfg.max_drafts} is above the limit {self.config.limits.max_drafts}",
                             "lower it or raise Limits.max_drafts")
        from .trace.writer import new_run_id

        rid = run_id or new_run_id()
        out_dir = Path(out or self.config.out_dir)
        state = {"request": req.to_dict(), "thinking": cfg.to_dict(), "mode_arg": thinking, "run_id": rid,
                 "out_dir": str(out_dir)}
        return RunStream(lambda rs: self._drive(rs, state, cfg, on_token))

    def _drive(self, rs: RunStream, state: dict[str, Any], cfg: ThinkingConfig,
               on_token: Callable[[str, str], None] | None) -> Iterator[Step]:
        from langgraph.errors import GraphRecursionError

        from .graph import RUNS, recursion_limit

        started = time.time()
        run_dir = Path(state["out_dir"]) / state["run_id"]
        config: dict[str, Any] = {"recursion_limit": recursion_limit(cfg, self.config.limits)}
        if self.checkpointer is not None:
            config["configurable"] = {"thread_id": state["run_id"]}
        final_state: dict[str, Any] = {}
        status, reason = None, None
        try:
            for mode, chunk in self.graph.stream(state, config=config, stream_mode=["custom", "values"]):
                if mode == "values":
                    final_state = chunk
                elif chunk.get("type") == "step":
                    yield Step.from_dict(chunk["step"])
                elif chunk.get("type") == "token" and on_token is not None:
                    on_token(chunk["text"], chunk["channel"])
        except GraphRecursionError:
            status, reason = "stopped", "the run hit its step limit before composing"
        except MMThinkError:
            if not (run_dir / "manifest.json").exists():
                raise
            status, reason = "failed", "see the error step"
        finally:
            pass
        if status is not None and (run_dir / "manifest.json").exists():
            w = RUNS.writer(str(run_dir))
            from .trace.schema import Part

            w.append(Step("error", "agent", status, [Part("text", reason or status)]))
            w.finish(status, reason=reason)
        RUNS.close(str(run_dir))
        rs.result = _result(run_dir, state["run_id"], final_state, status, reason, time.time() - started)

    # ----------------------------------------------------------------- extras
    def __repr__(self) -> str:
        return f"Agent(reasoner={self.reasoner.name!r}, image={getattr(self.image_backend, 'name', '?')!r})"


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


def _result(run_dir: Path, run_id: str, st: dict[str, Any], status: str | None, reason: str | None,
            seconds: float) -> RunResult:
    import json

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
        run_id=run_id, trace=run_dir, status=status or manifest.get("status") or st.get("status") or "failed",
        final=(run_dir / final["asset"]) if final and final.get("asset") else None,
        reason=reason or manifest.get("reason") or st.get("reason"), mode=st.get("mode"),
        modality=st.get("modality"), answer=manifest.get("answer", ""), budget=manifest.get("budget", {}),
        seconds=seconds, steps=steps)


# ----------------------------------------------------------------- builders

def build_reasoner(cfg: AgentConfig) -> Reasoner:
    if cfg.reasoner == "heuristic":
        from .reasoners.heuristic import HeuristicReasoner

        return HeuristicReasoner()
    if cfg.reasoner == "scripted":
        from .reasoners.scripted import ScriptedReasoner

        return ScriptedReasoner(cfg.script or "image", revisers=_revisers())
    if cfg.reasoner == "hf":
        from .reasoners.hf import HFReasoner

        return HFReasoner(cfg.reasoner_model, device=cfg.device, **cfg.reasoner_options)
    from .reasoners.openai_compat import OpenAICompatReasoner

    return OpenAICompatReasoner(model=cfg.reasoner_model, **cfg.reasoner_options)


def build_image_backend(cfg: AgentConfig) -> Any:
    if cfg.image_backend == "diffusers":
        from .media.diffusion import DiffusersImageBackend

        return DiffusersImageBackend(cfg.image_model, device=cfg.device, **cfg.image_options)
    from .media.image import EmbeddedImageBackend

    return EmbeddedImageBackend()


def build_modalities(cfg: AgentConfig, image_backend: Any) -> dict[str, Modality]:
    from .compose.image import ImageComposer
    from .critics.image import ImageCritic
    from .steps.image import SketchHandler

    clip = None
    if cfg.clip_model:
        from .critics.clip import clip_hook

        clip = clip_hook(cfg.clip_model, device=cfg.device)
    sketch = SketchHandler(image_backend, ImageCritic(clip=clip))
    mods = {"image": Modality("image", {"sketch": sketch}, ImageComposer(sketch), "final_image")}
    for name in ("speech", "video"):
        try:
            module = importlib.import_module(f"mmthink.steps.{name}")
        except ImportError:
            continue
        mods[name] = module.build(cfg, image_backend, mods)
    return mods


def _revisers() -> dict[str, Any]:
    try:
        from .steps.speech import revise_tag
    except ImportError:
        return {}
    return {"draft_audio": revise_tag}


def _protocol_prompt() -> Callable[[str, str], str] | None:
    try:
        from .reasoners.prompt import build_system_prompt
    except ImportError:
        return None
    return lambda modality, mode: build_system_prompt(modality, mode)
