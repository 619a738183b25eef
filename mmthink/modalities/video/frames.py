"""Storyboard frames: the image tool plus one shared style, so every frame reads as the same film.

A :class:`StoryboardStyle` (palette, line weight, lighting, seed, style words) is chosen once
per storyboard from the request. Every frame is rendered with the storyboard's seed and style
words (which a diffusion backend turns into its style prompt) and then graded the same way:
split-toned toward the palette, tinted and contrasted by the lighting, vignetted, and inked
at the storyboard's line weight. The grade is what keeps frames from different backends,
scenes and times of day looking like one film.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mmthink.errors import InputError
from mmthink.modalities.base import ImageArtifact
from mmthink.modalities.registry import service

if TYPE_CHECKING:  # pragma: no cover
    from mmthink.modalities.image.scene import Scene

# Themes are data: the words that call them up, and the look they give a storyboard.
THEMES: dict[str, dict[str, Any]] = {
    "space": {
        "keys": (
            "space",
            "galaxy",
            "planet",
            "rocket",
            "astronaut",
            "star",
            "moon",
            "mars",
            "orbit",
            "cosmic",
            "nebula",
            "alien",
            "spaceship",
            "satellite",
            "asteroid",
            "comet",
            "interstellar",
        ),
        "palette": ["navy", "purple", "silver", "orange", "cyan"],
        "lighting": "night",
        "line_weight": 2,
        "words": ["cinematic", "sci-fi", "storyboard"],
    },
    "ocean": {
        "keys": (
            "sea",
            "ocean",
            "beach",
            "underwater",
            "whale",
            "fish",
            "ship",
            "island",
            "coral",
            "wave",
            "sailor",
            "harbor",
            "harbour",
        ),
        "palette": ["navy", "teal", "turquoise", "ivory", "amber"],
        "lighting": "day",
        "line_weight": 2,
        "words": ["cinematic", "maritime", "storyboard"],
    },
    "nature": {
        "keys": (
            "forest",
            "tree",
            "jungle",
            "mountain",
            "river",
            "garden",
            "meadow",
            "animal",
            "bird",
            "lake",
            "valley",
            "flower",
            "farm",
            "wildlife",
        ),
        "palette": ["green", "olive", "brown", "gold", "azure"],
        "lighting": "golden hour",
        "line_weight": 2,
        "words": ["cinematic", "natural", "storyboard"],
    },
    "city": {
        "keys": (
            "city",
            "street",
            "car",
            "building",
            "robot",
            "neon",
            "cyber",
            "subway",
            "skyscraper",
            "traffic",
            "future",
            "futuristic",
        ),
        "palette": ["navy", "magenta", "cyan", "grey", "amber"],
        "lighting": "neon",
        "line_weight": 2,
        "words": ["cinematic", "urban", "storyboard"],
    },
    "desert": {
        "keys": ("desert", "sand", "pyramid", "camel", "dune", "canyon", "oasis", "western", "cowboy"),
        "palette": ["tan", "amber", "copper", "azure", "brown"],
        "lighting": "golden hour",
        "line_weight": 2,
        "words": ["cinematic", "sun-bleached", "storyboard"],
    },
    "winter": {
        "keys": ("snow", "winter", "ice", "arctic", "christmas", "penguin", "glacier", "polar", "frozen"),
        "palette": ["white", "azure", "silver", "navy", "red"],
        "lighting": "overcast",
        "line_weight": 2,
        "words": ["cinematic", "crisp", "storyboard"],
    },
    "fantasy": {
        "keys": (
            "dragon",
            "castle",
            "knight",
            "magic",
            "wizard",
            "fairy",
            "kingdom",
            "princess",
            "elf",
            "quest",
            "sword",
            "legend",
        ),
        "palette": ["purple", "gold", "green", "crimson", "ivory"],
        "lighting": "dusk",
        "line_weight": 3,
        "words": ["cinematic", "storybook", "storyboard"],
    },
}
DEFAULT_THEME: dict[str, Any] = {
    "palette": ["azure", "amber", "green", "grey", "ivory"],
    "lighting": "day",
    "line_weight": 2,
    "words": ["cinematic", "storyboard"],
}

# Lighting is data too: highlight tint, how strongly it tints, contrast, saturation, vignette.
LIGHTINGS: dict[str, dict[str, Any]] = {
    "dawn": {"tint": (255, 190, 150), "strength": 0.14, "contrast": 1.0, "saturation": 1.0, "vignette": 0.25},
    "day": {"tint": (255, 248, 235), "strength": 0.06, "contrast": 1.05, "saturation": 1.05, "vignette": 0.15},
    "golden hour": {"tint": (255, 200, 120), "strength": 0.16, "contrast": 1.05, "saturation": 1.1, "vignette": 0.25},
    "dusk": {"tint": (210, 130, 180), "strength": 0.15, "contrast": 1.05, "saturation": 1.0, "vignette": 0.25},
    "night": {"tint": (120, 140, 230), "strength": 0.16, "contrast": 1.0, "saturation": 0.95, "vignette": 0.22},
    "neon": {"tint": (210, 90, 230), "strength": 0.12, "contrast": 1.1, "saturation": 1.2, "vignette": 0.25},
    "noir": {"tint": (190, 190, 200), "strength": 0.08, "contrast": 1.2, "saturation": 0.35, "vignette": 0.3},
    "overcast": {"tint": (205, 215, 230), "strength": 0.12, "contrast": 0.95, "saturation": 0.8, "vignette": 0.2},
}
LIGHTING_WORDS: dict[str, tuple[str, ...]] = {
    "noir": ("noir", "detective", "black and white", "film noir"),
    "night": ("night", "dark", "scary", "horror", "midnight", "moonlit"),
    "dusk": ("dusk", "sunset", "evening", "twilight"),
    "dawn": ("dawn", "sunrise", "morning", "daybreak"),
    "day": ("sunny", "bright", "happy", "cheerful", "noon"),
    "neon": ("neon", "cyberpunk"),
}
QUALITIES = ("sketch", "final")
SHADOW_TONE = 0.35
"""How far the darkest tones move toward the hue of the palette's key colour."""


@dataclass
class StoryboardStyle:
    """One look for a whole storyboard."""

    palette: list[str]
    line_weight: int
    lighting: str
    seed: int
    words: list[str] = field(default_factory=list)

    def style_words(self) -> list[str]:
        """Words for the renderer: a diffusion backend reads them as its style prompt."""
        return [
            *self.words,
            f"{self.lighting} lighting",
            f"{', '.join(self.palette[:3])} palette",
            f"line weight {self.line_weight}",
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoryboardStyle:
        try:
            return cls(
                palette=[str(c) for c in d["palette"]],
                line_weight=int(d["line_weight"]),
                lighting=str(d["lighting"]),
                seed=int(d["seed"]),
                words=[str(w) for w in d.get("words", [])],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(
                "style", f"not a storyboard style: {e}", "give palette, line_weight, lighting, seed (and words)"
            ) from None

    def palette_rgb(self) -> list[tuple[int, int, int]]:
        colors = service("image", "COLORS")
        return [colors[c] for c in self.palette if c in colors]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z\-]*", text.lower()))


def storyboard_style(request_text: str, seed: int) -> StoryboardStyle:
    """Choose the storyboard's look from the request's theme and mood words."""
    text = str(request_text or "")
    words = _words(text)
    singular = {w[:-1] for w in words if w.endswith("s")}
    scores = {
        name: sum(1 for k in th["keys"] if k in words or k in singular or (" " in k and k in text.lower()))
        for name, th in THEMES.items()
    }
    best = max(scores, key=lambda k: scores[k]) if scores else None
    theme = THEMES[best] if best and scores[best] > 0 else DEFAULT_THEME
    lighting = theme["lighting"]
    for name, keys in LIGHTING_WORDS.items():
        if any(k in words or (" " in k and k in text.lower()) for k in keys):
            lighting = name
            break
    extra = [w for w in ("epic", "dreamy", "gritty", "whimsical", "minimal", "painterly", "retro") if w in words]
    return StoryboardStyle(
        palette=list(theme["palette"]),
        line_weight=int(theme["line_weight"]),
        lighting=lighting,
        seed=int(seed) % (2**32),
        words=list(dict.fromkeys([*theme["words"], *extra])),
    )


# --------------------------------------------------------------------------- the grade


def _vignette(w: int, h: int, amount: float) -> np.ndarray:
    y, x = np.ogrid[:h, :w]
    r2 = ((x - (w - 1) / 2) / (w / 2)) ** 2 + ((y - (h - 1) / 2) / (h / 2)) ** 2
    return (1.0 - amount * np.clip(r2 / 2.0, 0, 1) ** 1.2).astype(np.float32)[..., None]


def grade(img: Any, style: StoryboardStyle, *, ink: float = 0.35) -> Any:
    """The storyboard's look applied to one picture (a PIL image in, a PIL image out)."""
    from PIL import Image, ImageFilter

    light = LIGHTINGS.get(style.lighting, LIGHTINGS["day"])
    rgb = img.convert("RGB")
    a = np.asarray(rgb, np.float32) / 255.0
    h, w = a.shape[:2]
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    lum = (a @ luma)[..., None]
    a = lum + (a - lum) * light["saturation"]
    a = (a - 0.5) * light["contrast"] + 0.5
    if ink > 0 and style.line_weight > 0:  # ink the outlines at the storyboard's line weight
        edges = rgb.convert("L").filter(ImageFilter.FIND_EDGES)
        k = max(1, int(style.line_weight) * max(1, round(max(w, h) / 640)))
        if k > 1:
            edges = edges.filter(ImageFilter.MaxFilter(k + 1 if k % 2 == 0 else k))
        e = np.clip((np.asarray(edges, np.float32) - 24.0) / 64.0, 0, 1)
        b = k + 1  # the edge filter sees the picture's border as an edge: no ink there
        e[:b], e[-b:], e[:, :b], e[:, -b:] = 0, 0, 0, 0
        e = e[..., None]
        a *= 1.0 - ink * e
    tint = np.array(light["tint"], np.float32) / max(light["tint"])
    lum = np.clip(a @ luma, 0, 1)[..., None]
    a = a * (1 - light["strength"] * lum) + a * tint * light["strength"] * lum  # highlights take the light's colour
    pal = style.palette_rgb()
    if pal:  # split toning: shadows and ink lean toward the key colour's hue, without losing brightness
        key = np.array(pal[0], np.float32) / 255.0
        offset = key - float(key @ luma)
        a = a + offset * (SHADOW_TONE * (1.0 - lum) ** 2)
    a *= _vignette(w, h, light["vignette"])
    return Image.fromarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _png(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=3)
    return buf.getvalue()


# --------------------------------------------------------------------------- the tool


class FrameTool:
    """Renders ``<frame scene=... >`` drafts with an image backend and the storyboard's style."""

    def __init__(self, backend: Any | None = None) -> None:
        if backend is None:
            backend = service("image", "embedded_backend")()
        self.backend = backend
        try:
            params = inspect.signature(backend.render).parameters
            self._takes_style = "style" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):
            self._takes_style = True

    def render(
        self,
        scene: Scene | str,
        *,
        style: StoryboardStyle,
        quality: str = "sketch",
        size: tuple[int, int] = (640, 360),
        scene_no: int = 1,
    ) -> ImageArtifact:
        if isinstance(scene, str):
            scene, _ = service("image", "parse_scene")(scene)
        if not isinstance(scene, service("image", "Scene")) or not (scene.elements or scene.setting):
            raise InputError(
                "scene",
                "the frame has no element lines",
                "write one element per line as 'name [xN]: attributes' (and optionally 'setting: ...')",
            )
        if not isinstance(style, StoryboardStyle):
            raise InputError(
                "style",
                f"a {type(style).__name__} is not a StoryboardStyle",
                "make one with storyboard_style(request, seed)",
            )
        if quality not in QUALITIES:
            raise InputError("quality", f"unknown quality {quality!r}", f"use one of: {', '.join(QUALITIES)}")
        if not isinstance(scene_no, int) or scene_no < 1:
            raise InputError("scene_no", f"{scene_no!r} is not a scene number", "number scenes from 1")
        try:
            w, h = int(size[0]), int(size[1])
        except (TypeError, ValueError, IndexError):
            raise InputError("size", f"{size!r} is not (width, height)") from None
        if w < 16 or h < 16:
            raise InputError("size", f"{w}x{h} is too small for a frame", "use at least 16x16")
        scene = scene.copy()
        scene.style = list(dict.fromkeys([*scene.style, *style.style_words()]))
        kwargs: dict[str, Any] = {"quality": quality, "size": (w, h), "seed": style.seed}
        if self._takes_style:
            kwargs["style"] = style.style_words()
        art = self.backend.render(scene, **kwargs)
        graded = grade(
            art.payload if art.payload is not None else _decode(art.data),
            style,
            ink=0.35 if quality == "sketch" else 0.2,
        )
        bg = art.background_rgb
        if bg is not None:
            from PIL import Image

            probe = grade(Image.new("RGB", (3, 3), tuple(bg)), style, ink=0.0)
            bg = tuple(int(v) for v in np.asarray(probe)[1, 1])
        meta = dict(art.meta or {})
        meta.update(
            {
                "scene_no": scene_no,
                "style": style.to_dict(),
                "quality": quality,
                "size": [w, h],
                "graded": style.lighting,
                "style_hash": style_hash(style),
            }
        )
        return ImageArtifact("image", _png(graded), "png", meta, graded, list(art.placed), bg)


def style_hash(style: StoryboardStyle) -> str:
    """A short id of a style: frames with the same hash were made for the same storyboard look."""
    return hashlib.sha256(repr(sorted(style.to_dict().items())).encode()).hexdigest()[:12]


def _decode(data: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")
