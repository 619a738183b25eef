"""Which drawn thing carries the words a request wants shown ("a sign that says OPEN", "called Bean There").

Signs, logos, posters and labels first (the object table's "sign" category), then the first thing
asked for; a request with words and nothing to put them on gets a sign. The words go on the scene
line as ``says "..."`` and are lettered by :mod:`.render.lettering`.
"""

from __future__ import annotations

from typing import Any

from mmthink.modalities.image.objects import lookup
from mmthink.modalities.image.scene import MAX_TEXT, Element, Scene


def _is_sign(name: str) -> bool:
    entry = lookup(name)
    return entry is not None and entry.category == "sign"


def attach_texts(scene: Scene, intent: Any) -> list[tuple[str, str]]:
    """Put each text of the request on an element of ``scene``; returns (text, element name) pairs."""
    out: list[tuple[str, str]] = []
    for text in getattr(intent, "texts", []) or []:
        text = " ".join(text.split())[:MAX_TEXT]
        if not text or any(e.text == text for e in scene.elements):
            continue
        free = [e for e in scene.elements if not e.text]
        holder = next((e for e in free if _is_sign(e.name)), None)
        if holder is None and not any(e.text for e in scene.elements):
            wanted = {o.name for o in intent.objects}
            holder = next((e for e in free if e.name in wanted), None)
        if holder is None:
            holder = Element("sign", size="large")
            scene.elements.append(holder)
        holder.text = text
        out.append((text, holder.name))
    return out


def text_holder(scene: Scene, text: str) -> Element | None:
    """The element of a drawn scene that carries ``text`` (as the scene says it, case and spacing aside)."""
    key = " ".join(text.split()).lower()[:MAX_TEXT]
    return next((e for e in scene.elements if e.text and " ".join(e.text.split()).lower() == key), None)
