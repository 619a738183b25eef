"""Validated agent settings and the named profiles (embedded, gpu, server).

A profile is only a dictionary of defaults; ``Agent.from_profile(name, **overrides)`` merges
the overrides and validates the result, so a typo in a field name fails with the list of fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mmthink.errors import InputError
from mmthink.request import Limits
from mmthink.thinking import ThinkingConfig

REASONERS = ("heuristic", "scripted", "hf", "openai_compat")
IMAGE_BACKENDS = ("embedded", "diffusers")


@dataclass
class AgentConfig:
    reasoner: str = "heuristic"
    reasoner_model: str | None = None  # hub id / folder (hf) or served model name (openai_compat)
    reasoner_options: dict[str, Any] = field(default_factory=dict)
    script: str | None = None  # demo script name or path, for the scripted reasoner
    image_backend: str = "embedded"
    image_model: str | None = None
    image_options: dict[str, Any] = field(default_factory=dict)
    clip_model: str | None = None
    speech_backend: str = "embedded"
    speech_model: str | None = None
    music_backend: str = "embedded"
    music_model: str | None = None
    device: str | None = None
    thinking: ThinkingConfig = field(default_factory=ThinkingConfig)
    limits: Limits = field(default_factory=Limits)
    out_dir: str = "runs"

    def validate(self) -> AgentConfig:
        self._check_types()
        if self.reasoner not in REASONERS:
            raise InputError("reasoner", f"unknown reasoner {self.reasoner!r}", f"use one of {', '.join(REASONERS)}")
        if self.reasoner == "scripted" and not self.script:
            raise InputError("script", "the scripted reasoner needs a script", "e.g. script='image'")
        if self.reasoner in ("hf",) and not self.reasoner_model:
            raise InputError("reasoner_model", "the hf reasoner needs a model", "a hub id or a local folder")
        if self.image_backend not in IMAGE_BACKENDS:
            raise InputError(
                "image_backend",
                f"unknown backend {self.image_backend!r}",
                f"use one of {', '.join(IMAGE_BACKENDS)}, "
                "or pass any object with render(scene, *, quality, size, seed) as Agent(image_backend=...)",
            )
        if self.image_backend == "diffusers" and not self.image_model:
            raise InputError("image_model", "the diffusers backend needs a model", "a hub id or a local folder")
        self.thinking.validate()
        self.limits.validate()
        return self

    def _check_types(self) -> None:
        """Every field has the type it documents (a wrong one is named here, not met later as a TypeError)."""
        from mmthink import inputs
        from mmthink.devices import KNOWN

        for name in ("reasoner", "image_backend", "speech_backend", "music_backend"):
            inputs.text(name, getattr(self, name), fix="name one of the documented choices")
        for name in ("reasoner_model", "image_model", "clip_model", "speech_model", "music_model"):
            v = getattr(self, name)
            if v is not None:
                inputs.path_arg(name, v, "a hub id or a local folder")
        if self.script is not None and not hasattr(self.script, "thinking"):  # a name, a path or a DemoScript
            inputs.path_arg("script", self.script, "a demo name (image, speech, video) or a script .md")
        self.reasoner_options = inputs.mapping("reasoner_options", self.reasoner_options, 'e.g. {"temperature": 0.6}')
        self.image_options = inputs.mapping("image_options", self.image_options, 'e.g. {"steps": 4}')
        if self.device is not None:
            inputs.text("device", self.device)
            if self.device not in ("", "auto") and self.device.split(":")[0] not in KNOWN:
                raise InputError(
                    "device",
                    f"unknown device {self.device!r}",
                    f"use auto or one of {', '.join(KNOWN)} (with :N for an index, e.g. cuda:1)",
                )
        if isinstance(self.thinking, str):  # a mode name: thinking="auto"
            self.thinking = ThinkingConfig(mode=self.thinking)
        elif isinstance(self.thinking, dict):
            self.thinking = _dataclass_from("thinking", ThinkingConfig, self.thinking)
        elif not isinstance(self.thinking, ThinkingConfig):
            raise InputError(
                "thinking",
                f"must be on, off, auto, a ThinkingConfig or a dict, got {type(self.thinking).__name__}",
                'e.g. thinking="auto" or max_drafts=4',
            )
        if isinstance(self.limits, dict):
            self.limits = _dataclass_from("limits", Limits, self.limits)
        elif not isinstance(self.limits, Limits):
            raise InputError(
                "limits",
                f"must be a Limits or a dict, got {type(self.limits).__name__}",
                'e.g. limits={"max_drafts": 10}',
            )
        inputs.path_arg("out_dir", self.out_dir, "a folder for run folders, e.g. runs/")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dataclass_from(field_name: str, cls: Any, values: dict[str, Any]) -> Any:
    """A ThinkingConfig or Limits from a dict, naming an unknown key."""
    unknown = sorted(set(map(str, values)) - set(cls.__dataclass_fields__))
    if unknown:
        raise InputError(
            f"{field_name}.{unknown[0]}",
            "is not a setting",
            f"settings are: {', '.join(sorted(cls.__dataclass_fields__))}",
        )
    return cls(**values)


PROFILES: dict[str, dict[str, Any]] = {
    # Everything on the CPU, offline, from pip packages: the default.
    "embedded": {},
    # A GPU with downloaded weights: a local reasoning model, a fast diffusion model and a CLIP critic.
    "gpu": {
        "reasoner": "hf",
        "reasoner_model": "Qwen/Qwen3-4B",
        "image_backend": "diffusers",
        "image_model": "stabilityai/sd-turbo",
        "clip_model": "openai/clip-vit-base-patch32",
    },
    # An OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp, LM Studio) for the reasoner.
    "server": {
        "reasoner": "openai_compat",
    },
}


def make_config(
    profile: str = "embedded", *, limits: Limits | dict[str, Any] | None = None, **overrides: Any
) -> AgentConfig:
    """``max_drafts`` (like every thinking setting) is the run's budget; caps go in ``limits``:
    ``make_config(max_drafts=4, limits={"max_drafts": 10})``. Other ``Limits`` fields may also be
    given directly (``max_image_side=1024``)."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise InputError("profile", f"unknown profile {profile!r}", f"use one of {', '.join(PROFILES)}")
    values = {**PROFILES[profile], **overrides}
    names = {f.name for f in fields(AgentConfig)}
    thinking_fields = set(ThinkingConfig.__dataclass_fields__)
    think = {k: values.pop(k) for k in list(values) if k in thinking_fields}
    limit_fields = set(Limits.__dataclass_fields__)
    lim = {k: values.pop(k) for k in list(values) if k in limit_fields}
    unknown = set(values) - names
    if unknown:
        raise InputError(
            sorted(unknown)[0], "is not a setting", f"settings are: {', '.join(sorted(names | thinking_fields))}"
        )
    cfg = AgentConfig(**values)
    cfg._check_types()  # before the thinking and limit overrides are merged into it
    if think:
        cfg.thinking = ThinkingConfig(**{**cfg.thinking.to_dict(), **think})
    if limits is not None:
        given = asdict(limits) if isinstance(limits, Limits) else limits
        if not isinstance(given, dict):
            raise InputError(
                "limits", f"must be a Limits or a dict, got {type(limits).__name__}", 'e.g. limits={"max_drafts": 10}'
            )
        unknown = set(given) - limit_fields
        if unknown:
            raise InputError(
                f"limits.{sorted(unknown)[0]}", "is not a limit", f"limits are: {', '.join(sorted(limit_fields))}"
            )
        lim.update(given)
    if lim:
        cfg.limits = Limits(**{**asdict(cfg.limits), **lim}).validate()
    return cfg.validate()
