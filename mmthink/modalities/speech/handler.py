"""``<draft_audio>`` steps: speak a passage with an emotion, listen to it, and join the accepted takes.

Tag attributes override the emotion profile's shaping (``pitch``, ``range``, ``contour``, ``rate``,
``gain``, ...: see :func:`mmthink.modalities.speech.tts.shaping_for`). Drafts that share a ``passage``
attribute (or that redraft one another, ``of="p1"``) are takes of one passage; the composer uses
the last take that passed, else the best-scoring one, in passage order.
"""

from __future__ import annotations

import io
from typing import Any

from mmthink.core.tags import Tag
from mmthink.modalities.base import Artifact, Critique, RunContext
from mmthink.reasoners.base import DraftRecord

SHAPING_ATTRS = ("pitch", "range", "contour", "depth", "rate", "gain", "pause")


class SpeechHandler:
    def __init__(self, tool: Any, critic: Any) -> None:
        self.tool = tool
        self.critic = critic

    def render(self, tag: Tag, ctx: RunContext) -> Artifact:
        from mmthink.modalities.speech.tts import shaping_for

        if not any(ch.isalnum() for ch in tag.body):
            raise ValueError("the draft has no words to say: put the exact words between the tags")
        emotion = tag.attrs.get("emotion", "neutral")
        shaping = shaping_for(emotion, {k: v for k, v in tag.attrs.items() if k in SHAPING_ATTRS})
        return self.tool.render(tag.body, emotion=emotion, shaping=shaping, seed=ctx.draft_seed(tag.id or ""))

    def critique(self, tag: Tag, art: Artifact, ctx: RunContext) -> Critique:
        return self.critic.critique(art, text=tag.body, emotion=tag.attrs.get("emotion", "neutral"))

    def restore(self, record: dict[str, Any], data: bytes) -> Artifact:
        import numpy as np
        import soundfile as sf

        samples, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        if samples.ndim > 1:
            samples = samples.mean(axis=1)
        return Artifact("audio", data, "wav", dict(record.get("meta") or {}), (np.asarray(samples, np.float32), sr))


def passage_key(d: dict[str, Any]) -> str:
    attrs = d.get("attrs") or {}
    return str(attrs.get("passage") or attrs.get("of") or d["id"])


def accepted_takes(drafts: list[dict[str, Any]], tag: str = "draft_audio") -> list[dict[str, Any]]:
    """One take per passage: the last that passed, else the best score; in passage order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in drafts:
        if d.get("tag") == tag and not d.get("error") and d.get("asset"):
            groups.setdefault(passage_key(d), []).append(d)
    chosen = []
    for takes in groups.values():
        passed = [t for t in takes if t.get("passed")]
        chosen.append(passed[-1] if passed else max(reversed(takes), key=lambda t: t.get("score") or 0.0))

    def order(d: dict[str, Any]) -> tuple[int, int]:
        p = (d.get("attrs") or {}).get("passage")
        return (int(p) if str(p).isdigit() else 10_000, drafts.index(d))

    return sorted(chosen, key=order)


def revise_tag(tag: Tag, record: DraftRecord) -> dict[str, str] | None:
    """For the scripted reasoner: the next take's attributes, revised from the last take's critique."""
    from mmthink.modalities.speech.tts import revise, shaping_for

    emotion = tag.attrs.get("emotion", "neutral")
    shaping = shaping_for(emotion, {k: v for k, v in tag.attrs.items() if k in SHAPING_ATTRS})
    crit = Critique(record.score or 0.0, bool(record.passed), list(record.findings), dict(record.metrics))
    new = revise(shaping, crit, emotion)
    attrs = {k: v for k, v in tag.attrs.items() if k not in SHAPING_ATTRS}
    attrs.update(shaping_attrs(new))
    return attrs


def shaping_attrs(shaping: Any) -> dict[str, str]:
    """Write a Shaping back as tag attributes (the inverse of shaping_for's overrides)."""
    return {
        "pitch": f"{shaping.pitch_shift_st:+.1f}",
        "range": f"{shaping.range_scale:.2f}",
        "contour": shaping.contour,
        "depth": f"{shaping.contour_depth_st:.1f}",
        "rate": f"{shaping.rate:.2f}",
        "gain": f"{shaping.gain_db:+.1f}",
        "pause": f"{shaping.pause_scale:.2f}",
    }
