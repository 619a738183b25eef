"""A user's request and its validation.

Validation happens before any work starts, and each error names the field and the fix, so a
bad CLI flag or API argument costs nothing and leaves no half-made bundle behind.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mmthink.errors import InputError

_MODALITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass
class Limits:
    """Caps checked before a run starts; generous defaults, all overridable."""

    max_prompt_chars: int = 4000
    max_image_side: int = 2048
    max_audio_seconds: float = 300.0
    max_video_seconds: float = 300.0
    max_drafts: int = 64
    max_steps: int = 400

    def validate(self) -> Limits:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise InputError(f"limits.{name}", f"must be a positive, finite number, got {value!r}")
        return self


VOICES = ("joe", "default")
"""The voices a request may name. One voice speaks here; a name that could not be honoured is refused, not ignored."""


@dataclass
class Request:
    text: str
    modality: str = "auto"
    width: int = 768
    height: int = 512
    seed: int = 0
    voice: str | None = None
    fps: int = 24
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Request:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)

    def validate(self, limits: Limits | None = None) -> Request:
        from mmthink import inputs

        limits = limits or Limits()
        if not isinstance(self.text, str):
            raise InputError("prompt", f"must be a string, got {type(self.text).__name__}", "say what to make in words")
        inputs.text("prompt", self.text)  # no NUL, nothing that is not UTF-8 (it goes into the manifest)
        if self.voice is not None:
            inputs.text("voice", self.voice)
            if self.voice.strip().lower() not in VOICES:  # it was accepted and never used: a silent no-op
                raise InputError(
                    "voice",
                    f"unknown voice {self.voice!r}: speech here has one voice, 'joe' (the embedded Piper voice; "
                    "an hf speech model speaks with its own)",
                    "leave voice unset, or set it to joe",
                )
        if not isinstance(self.options, dict) or not all(isinstance(k, str) for k in self.options):
            raise InputError(
                "options", f"must be a dict of named options, got {type(self.options).__name__}", 'e.g. {"seconds": 20}'
            )
        if not self.text.strip():
            raise InputError("prompt", "is empty", 'say what to make, e.g. "a lighthouse at dusk"')
        if len(self.text) > limits.max_prompt_chars:
            raise InputError(
                "prompt",
                f"is {len(self.text)} characters, the limit is {limits.max_prompt_chars}",
                "shorten it or raise Limits.max_prompt_chars",
            )
        if not isinstance(self.modality, str) or not _MODALITY_NAME.match(self.modality):
            raise InputError("modality", f"unknown value {self.modality!r}", "name a modality, or auto")
        for name in ("width", "height"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InputError(name, f"must be an integer, got {v!r}", "e.g. 768")
            if not 64 <= v <= limits.max_image_side:
                raise InputError(name, f"{v} is outside 64..{limits.max_image_side}", "pick a size in that range")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise InputError("seed", f"must be an integer, got {self.seed!r}", "e.g. --seed 7")
        if not 0 <= self.seed < 2**32:
            raise InputError("seed", f"{self.seed} is outside 0..2**32-1", "use a non-negative 32-bit integer")
        if isinstance(self.fps, bool) or not isinstance(self.fps, int) or not 1 <= self.fps <= 60:
            raise InputError("fps", f"{self.fps!r} is not an integer in 1..60", "e.g. 24")
        return self

    def seconds(self) -> float | None:
        """How long the user asked the result to last (``options["seconds"]`` or ``["duration"]``), checked."""
        seconds = self.options.get("seconds", self.options.get("duration")) if isinstance(self.options, dict) else None
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
                raise InputError("seconds", f"must be a positive number, got {seconds!r}", "e.g. 20")
        return seconds


def coerce_int(field_name: str, value: Any) -> int:
    """Parse an integer option from user input, with an error that names the field."""
    if isinstance(value, bool):
        raise InputError(field_name, f"must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise InputError(field_name, f"must be an integer, got {value!r}", "e.g. 3") from None
