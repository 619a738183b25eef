"""The modality registry: an explicit list of modalities, looked up by name.

The list holds import paths, not imports: a modality is loaded when it is first asked for, and
modalities never import one another (video reaches image and speech through :func:`service`
and the built modalities it is handed). A modality whose optional extra is not installed is
left out, checked with ``importlib.util.find_spec`` on the named dependency; any other
``ImportError`` is a bug and is raised.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from typing import TYPE_CHECKING, Any

from mmthink.core.tags import TagSet
from mmthink.errors import InputError
from mmthink.modalities.spec import ModalitySpec

if TYPE_CHECKING:  # pragma: no cover
    from mmthink.modalities.base import Modality

REGISTRY: tuple[str, ...] = (
    "mmthink.modalities.image.spec:IMAGE",
    "mmthink.modalities.speech.spec:SPEECH",
    "mmthink.modalities.video.spec:VIDEO",
)
"""Every modality, in the order requests are matched against them (image last matches anything)."""


@cache
def specs() -> tuple[ModalitySpec, ...]:
    out = []
    for path in REGISTRY:
        module, _, attr = path.partition(":")
        out.append(getattr(importlib.import_module(module), attr))
    return tuple(out)


def names() -> tuple[str, ...]:
    return tuple(s.name for s in specs())


def spec(name: str) -> ModalitySpec:
    for s in specs():
        if s.name == name:
            return s
    raise InputError("modality", f"unknown value {name!r}", f"use one of {', '.join(names())}, or auto")


def installed(s: ModalitySpec) -> bool:
    """The modality's optional extra is importable (without importing it)."""
    return all(importlib.util.find_spec(mod) is not None for mod in s.requires)


def tagset(only: str | None = None) -> TagSet:
    """The tag vocabulary of one modality, or of all of them."""
    chosen = [spec(only)] if only else list(specs())
    draft = tuple(dict.fromkeys(t for s in chosen for t in s.draft_tags))
    return TagSet(draft=draft, final=tuple(s.final_tag for s in chosen))


def detect(text: str) -> tuple[str, str]:
    """The modality a request asks for and why; image when nothing else matches.

    A modality that offers a ``route`` service reads the whole request (the image modality's
    understanding does: speaking verbs and spoken forms go to speech, films and shot lists to video).
    Otherwise each modality's own ``detect`` is asked, later entries first (a film has narration, so
    video is asked before speech)."""
    for s in specs():
        route = s.services().get("route")
        if route is not None:
            name, reason = route(text)
            if name in names():
                return name, reason
    for s in reversed(specs()):
        reason = s.detect(text)
        if reason:
            return s.name, reason
    return "image", "nothing in the request asks for sound or film"


def default_drafts(name: str) -> int:
    return spec(name).default_drafts


def guide(name: str) -> Any:
    """How a language model should write this modality's tags (mmthink.core.turn.Guide)."""
    return spec(name).guide()


def planners() -> dict[str, Any]:
    """modality -> the embedded reasoner's planner for it."""
    return {s.name: s.planner for s in specs()}


def service(modality: str, name: str) -> Any:
    """A function one modality offers the others (e.g. image's ``parse_scene`` for storyboard frames)."""
    found = spec(modality).services().get(name)
    if found is None:
        raise LookupError(f"the {modality} modality offers no {name!r}")
    return found


def build_modalities(cfg: Any, image_backend: Any) -> dict[str, Modality]:
    """Build every installed modality, in registry order (later ones may use earlier ones)."""
    mods: dict[str, Modality] = {}
    for s in specs():
        if not installed(s):
            continue
        mods[s.name] = s.build(cfg, image_backend, mods)
    return mods
