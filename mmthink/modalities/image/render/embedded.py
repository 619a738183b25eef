"""Image backends. The embedded one draws scenes procedurally on the CPU, in two qualities.

*sketch*: flat colour shapes with ink outlines and name labels on paper, fast to judge.
*final*: a lit background matched to the setting, shaded shapes, glows and soft shadows.
Every instance is painted on its own layer and stamped into a label mask, so the image critic
gets exact visibility (how much of each instance is still showing) instead of guesses.
"""

from __future__ import annotations

import io
import random
import time
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from mmthink.dsp.fonts import font
from mmthink.modalities.base import ImageArtifact, Placed
from mmthink.modalities.image.looks import looks_in
from mmthink.modalities.image.render import backdrops, lettering, treatments
from mmthink.modalities.image.render.drawables import PAINTERS, Pen, drawable_kind, kind_info, shade
from mmthink.modalities.image.render.layout import solve_layout
from mmthink.modalities.image.render.legible import legible_backdrop, scout_scale
from mmthink.modalities.image.scene import Scene
from mmthink.modalities.image.vocab import COLORS

__all__ = ["ImageBackend", "EmbeddedImageBackend", "drawable_kind"]

PAPER = (246, 243, 236)
VARIED = ("red", "blue", "yellow", "green", "orange", "purple", "pink", "teal")  # for unspecified, countable kinds


class ImageBackend(Protocol):
    name: str

    def render(
        self,
        scene: Scene,
        *,
        quality: str,
        size: tuple[int, int],
        seed: int,
        style: list[str] | None = None,
        init: ImageArtifact | None = None,
    ) -> ImageArtifact: ...


def _gradient(w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    return (np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t).repeat(w, axis=1)


SKIES = {
    "space": ((6, 8, 24), (20, 16, 48)),
    "night": ((10, 14, 40), (40, 50, 95)),
    "dusk": ((60, 50, 120), (250, 150, 90)),
    "day": ((110, 170, 235), (200, 225, 250)),
    "rain": ((105, 115, 130), (160, 168, 178)),
    "snow": ((128, 142, 168), (196, 206, 222)),  # overcast, so falling flakes show
    "underwater": ((20, 90, 140), (5, 30, 60)),
}
GROUNDS = {
    "grass": (86, 150, 70),
    "sand": (222, 196, 140),
    "snow": (240, 244, 250),
    "street": (110, 112, 118),
    "sea": (30, 95, 160),
    "floor": (150, 110, 80),
    "rock": (120, 118, 120),
    "dark": (30, 40, 45),
}


ROOM_WORDS = {"room", "indoor", "indoors", "kitchen"}


def _sky_ground(s: set[str]) -> tuple[str, str | None]:
    """Which sky and which ground a setting's words paint."""
    if s & {"space", "galaxy", "cosmos", "orbit", "stars"}:
        sky, ground = "space", None
    elif s & {"underwater"}:
        sky, ground = "underwater", None
    elif s & {"night", "dark", "moonlight"}:
        sky, ground = "night", "dark"
    elif s & {"dusk", "sunset", "dawn", "sunrise", "evening"}:
        sky, ground = "dusk", "grass"
    elif s & {"rain", "storm", "fog"}:
        sky, ground = "rain", "street"
    elif s & {"snow", "winter", "arctic"}:
        sky, ground = "snow", "snow"
    else:
        sky, ground = "day", "grass"
    if s & {"sea", "ocean"}:
        ground = "sea"
    elif s & {"beach", "desert"}:
        ground = "sand"
    elif s & {"city", "street"}:
        ground = "street"
    elif s & {"launch pad"}:
        ground = "rock"
    return sky, ground


def _words(setting: list[str]) -> set[str]:
    """A setting's words plus those its place's backdrop kind paints with (a forest's grass, a beach's sand)."""
    s = {x.lower() for x in setting}
    return s | backdrops.ground_words(setting)


def _surfaces(setting: list[str]) -> tuple[str, ...]:
    """The surfaces of a setting's backdrop whose tone may change so that asked colours read on it."""
    s = _words(setting)
    if s & ROOM_WORDS:
        return ("wall", "floor")
    sky, ground = _sky_ground(s)
    return tuple(x for x in ({"day": "sky", "dusk": "dusk"}.get(sky, ""), ground or "") if x)


def _backdrop(
    setting: list[str],
    w: int,
    h: int,
    horizon: int,
    rng: random.Random,
    tones: dict[str, tuple[int, int, int]] | None = None,
    props: tuple[list[tuple[int, int, int, int]], int, dict | None, list[tuple[int, int, int, int]]] | None = None,
    drawn: dict[Any, Any] | None = None,
) -> tuple[np.ndarray, str]:
    """The final's background for a setting; ``tones`` replaces the usual wall, floor, sky or grass tone;
    ``props`` (the things' boxes, the seed, a dict for the record or None for a candidate that is only judged,
    the boxes of the things on land) paints the named places' props (render/backdrops.py); ``drawn`` keeps
    their layers between candidate backdrops of one picture."""
    img, sky = _plain(setting, w, h, horizon, rng, tones or {})
    if props is not None:
        boxes, seed, record, ashore = props
        painted = backdrops.paint_props(
            img, setting, horizon, boxes, seed, ashore, mapped=record is not None, drawn=drawn
        )
        if record is not None:
            record.clear()
            record.update(painted or {})
    return img, sky


def _plain(setting, w, h, horizon, rng, tones) -> tuple[np.ndarray, str]:
    s = _words(setting)
    sky, ground = _sky_ground(s)
    if s & ROOM_WORDS:
        wall = tones.get("wall", (200, 180, 150)) if sky != "night" else (70, 60, 75)
        floor = tones.get("floor", GROUNDS["floor"])
        img = _gradient(w, h, shade(wall, 0.1), shade(wall, -0.1))
        img[horizon:] = _gradient(w, h - horizon, floor, shade(floor, -0.3))
        return img, "room"
    top, bottom = SKIES[sky]
    if sky == "day" and "sky" in tones:
        top, bottom = shade(tones["sky"], -0.25), tones["sky"]
    elif sky == "dusk" and "dusk" in tones:
        bottom = tones["dusk"]
    img = _gradient(w, h, top, bottom)
    if sky in ("space", "night"):
        for _ in range(int(w * h / 2500)):
            x, y = rng.randrange(w), rng.randrange(int(h * (1.0 if ground is None else 0.6)))
            b = rng.uniform(140, 255)
            img[y, x] = (b, b, b * 0.95)
    if ground is not None and horizon < h:
        g = tones.get(ground, GROUNDS[ground])
        if sky == "dusk":
            g = shade(g, -0.35)
        img[horizon:] = _gradient(w, h - horizon, shade(g, 0.08), shade(g, -0.3))
    return img, sky


LIGHTS = ("night", "sunset", "fog")
"""Conditions that change the backdrop's tones: the backdrop's tones are chosen under them (see ``_lit``)."""


def _lit(img: np.ndarray, light: list[str], seed: int) -> np.ndarray:
    """A candidate backdrop as the final's light will leave it (the sunset's glow, the night's dark), so the
    tones chosen for the asked colours to read on are judged on what the critic will see, not before it."""
    none = np.zeros(img.shape[:2], bool)
    return treatments.apply(img, light, none, none, seed)


def _color(el, kind: str, index: int, rng: random.Random) -> tuple[str, tuple[int, int, int]]:
    if el.colors:
        name = el.colors[index % len(el.colors)] if len(el.colors) > 1 else el.colors[0]
    elif el.count > 1 and kind in ("balloon", "flower", "kite", "lantern", "book", "ball"):
        name = VARIED[(index + rng.randrange(len(VARIED))) % len(VARIED)]
    else:
        name = kind_info(el.name).color
    return name, COLORS.get(name, COLORS["grey"])


def _scaled(boxes: list[tuple[int, int, int, int]], k: int) -> list[tuple[int, int, int, int]]:
    return [(b[0] // k, b[1] // k, b[2] // k, b[3] // k) for b in boxes]


def _covered(rect: tuple[float, float, float, float], boxes: list[tuple[int, int, int, int]]) -> float:
    """Area of ``rect`` that lies over any of ``boxes`` (summed)."""
    x0, y0, x1, y1 = rect
    return sum(max(0.0, min(x1, b[2]) - max(x0, b[0])) * max(0.0, min(y1, b[3]) - max(y0, b[1])) for b in boxes)


def _font(size: int) -> Any:
    """Labels stay legible and small: 8 to 28 px."""
    return font(max(8, min(28, size)))


class EmbeddedImageBackend:
    """See the module docstring. Deterministic for a given scene, size and seed."""

    name = "embedded"
    thread_safe = True  # no shared mutable state: every call paints its own canvas
    cannot_stall = True  # plain Python and numpy that wait on nothing: called in the run's thread, no watchdog

    def render(
        self,
        scene: Scene,
        *,
        quality: str = "sketch",
        size: tuple[int, int] = (768, 512),
        seed: int = 0,
        style: list[str] | None = None,
        init: ImageArtifact | None = None,
    ) -> ImageArtifact:
        t0 = time.perf_counter()
        w, h = int(size[0]), int(size[1])
        sketch = quality != "final"
        rng = random.Random(seed)
        layout = solve_layout(scene, (w, h), seed)
        t_layout = time.perf_counter()
        place: dict[str, Any] = {}
        if sketch:
            canvas = np.empty((h, w, 3), np.float32)
            canvas[:] = PAPER
            if layout.horizon < h:
                canvas[layout.horizon : layout.horizon + 1] = (200, 195, 185)
            sky = "paper"
        else:
            boxes = [s.box for s in layout.slots]
            ashore = [s.box for s in layout.slots if kind_info(s.element.name).zone != "water"]
            scout = scout_scale(w, h)
            light = [x for x in looks_in([*scene.setting, *scene.style, *(style or [])]) if x in LIGHTS]
            drawn: dict[Any, Any] = {}  # the props' layers, drawn once for every candidate backdrop
            canvas, sky = legible_backdrop(
                lambda tones, k, final: _backdrop(
                    scene.setting,
                    w // k,
                    h // k,
                    layout.horizon // k,
                    random.Random(seed),
                    tones,
                    (_scaled(boxes, k), seed, place if final else None, _scaled(ashore, k)),
                    drawn,
                ),
                [
                    (s.box, COLORS[s.element.colors[0]])
                    for s in layout.slots
                    if s.element.colors[:1] and s.element.colors[0] in COLORS
                ],
                _surfaces(scene.setting),
                scout,
                (lambda img: _lit(img, light, seed)) if light else None,
            )
        bg_rgb = tuple(int(v) for v in canvas.reshape(-1, 3).mean(axis=0))
        labels = np.full((h, w), -1, np.int32)
        areas: list[int] = []
        placed: list[Placed] = []
        glow_words = {"glow", "glowing", "bright", "luminous", "shining"}
        lit: list[int] = []
        for sid, slot in enumerate(layout.slots):
            x0, y0, x1, y1 = slot.box
            bw, bh = max(2, x1 - x0), max(2, y1 - y0)
            cname, rgb = _color(slot.element, slot.kind, slot.index, rng)
            layer = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
            pen = Pen(ImageDraw.Draw(layer), bw, bh, rgb, sketch, name=slot.name)
            PAINTERS.get(slot.kind, PAINTERS["generic"])(pen)
            rgba = np.asarray(layer, np.float32)
            alpha = rgba[..., 3:4] / 255.0
            if not sketch:
                rgba = self._shade(rgba, alpha)
                info = kind_info(slot.element.name)
                if info.luminous or glow_words & {e.lower() for e in slot.element.extras}:
                    self._glow(canvas, layer, slot.box, rgb)
                    lit.append(sid)
                elif info.zone == "ground" and layout.horizon < h:
                    self._shadow(canvas, slot.box)
                if "outlined" in [e.lower() for e in slot.element.extras]:
                    rgba, alpha = self._outline(rgba, alpha, canvas, slot.box)
            ys, xs = slice(y0, y0 + bh), slice(x0, x0 + bw)
            sub = canvas[ys, xs]
            a = alpha[: sub.shape[0], : sub.shape[1]]
            sub[:] = sub * (1 - a) + rgba[: sub.shape[0], : sub.shape[1], :3] * a
            own = a[..., 0] > 0.35
            labels[ys, xs][own] = sid
            areas.append(int(own.sum()))
            placed.append(
                Placed(
                    slot.name,
                    slot.index,
                    (x0, y0, x0 + sub.shape[1], y0 + sub.shape[0]),
                    slot.kind,
                    cname,
                    rgb,
                    int(round(slot.z * 1000)),
                    1.0,
                    int(own.sum()),
                )
            )
        counts = np.bincount(labels[labels >= 0].ravel(), minlength=len(placed)) if placed else np.zeros(0)
        for sid, p in enumerate(placed):
            p.visible = round(float(counts[sid]) / areas[sid], 3) if areas[sid] else 0.0
        img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
        looks = [] if sketch else looks_in([*scene.setting, *scene.style, *(style or [])])
        if sketch:
            self._labels(img, placed)
        else:
            img = img.filter(ImageFilter.SMOOTH)
            if looks:  # styles and conditions: the whole picture treated (render/treatments.py)
                lights = np.isin(labels, lit) if lit else np.zeros_like(labels, bool)
                treated = treatments.apply(np.asarray(img, np.float32), looks, labels >= 0, lights, seed)
                img = Image.fromarray(np.clip(treated, 0, 255).astype(np.uint8), "RGB")
        lettered = [
            lettering.draw(img, slot.box, slot.name, slot.kind, slot.element.text)
            for slot in layout.slots
            if slot.element.text and slot.index == 0
        ]
        buf = io.BytesIO()
        img.save(buf, "PNG", optimize=False, compress_level=3)
        t_end = time.perf_counter()
        return ImageArtifact(
            kind="image",
            data=buf.getvalue(),
            ext="png",
            meta={
                "backend": self.name,
                "quality": quality,
                "size": [w, h],
                "seed": seed,
                "setting": sky,
                "backdrop": place or None,
                "layout_findings": layout.findings,
                "looks": looks,
                "lettered": lettered,
                "background_rgb": list(bg_rgb),
                "ms": {"layout": round((t_layout - t0) * 1000, 1), "total": round((t_end - t0) * 1000, 1)},
            },
            payload=img,
            placed=placed,
            background_rgb=bg_rgb,
        )

    # ---------------------------------------------------------------- effects
    @staticmethod
    def _shade(rgba: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Light from the upper left: a soft diagonal ramp over the shape."""
        h, w = rgba.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = 1.14 - 0.28 * ((xx / max(1, w - 1)) * 0.4 + (yy / max(1, h - 1)) * 0.6)
        out = rgba.copy()
        out[..., :3] = np.clip(rgba[..., :3] * ramp[..., None], 0, 255)
        return out

    @staticmethod
    def _glow(canvas: np.ndarray, layer: Image.Image, box: tuple[int, int, int, int], rgb) -> None:
        x0, y0, x1, y1 = box
        pad = max(6, int(0.45 * max(x1 - x0, y1 - y0)))
        big = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 0)
        big.paste(layer.getchannel("A"), (pad, pad))
        halo = np.asarray(big.filter(ImageFilter.GaussianBlur(pad / 2.5)), np.float32)[..., None] / 255.0 * 0.75
        H, W = canvas.shape[:2]
        gx0, gy0 = x0 - pad, y0 - pad
        cx0, cy0, cx1, cy1 = max(0, gx0), max(0, gy0), min(W, gx0 + big.width), min(H, gy0 + big.height)
        if cx1 <= cx0 or cy1 <= cy0:
            return
        hv = halo[cy0 - gy0 : cy1 - gy0, cx0 - gx0 : cx1 - gx0]
        region = canvas[cy0:cy1, cx0:cx1]
        region[:] = region + (np.asarray(shade(rgb, 0.3), np.float32) - region) * hv * 0.8

    @staticmethod
    def _shadow(canvas: np.ndarray, box: tuple[int, int, int, int]) -> None:
        x0, y0, x1, y1 = box
        H, W = canvas.shape[:2]
        ry, rx = max(2, (y1 - y0) // 14), (x1 - x0) // 2
        cy = y1 + ry  # just under the feet, clear of the box (whose edge the critic samples as backdrop)
        yy, xx = np.mgrid[max(0, cy - ry) : min(H, cy + ry), max(0, x0) : min(W, x1)]
        if yy.size == 0:
            return
        d = ((xx - (x0 + x1) / 2) / max(1, rx)) ** 2 + ((yy - cy) / ry) ** 2
        a = np.clip(1 - d, 0, 1)[..., None] * 0.35
        canvas[yy, xx] = canvas[yy, xx] * (1 - a)

    @staticmethod
    def _outline(rgba, alpha, canvas, box):
        """A contrasting rim so an element that shares the background's colour still reads."""
        x0, y0, x1, y1 = box
        bg = canvas[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
        rim = np.array((250, 250, 250) if bg.mean() < 128 else (20, 20, 25), np.float32)
        a = Image.fromarray((alpha[..., 0] * 255).astype(np.uint8))
        grown = np.asarray(a.filter(ImageFilter.MaxFilter(5)), np.float32)[..., None] / 255.0
        edge = np.clip(grown - alpha, 0, 1)
        out = rgba.copy()
        out[..., :3] = rgba[..., :3] * (1 - edge) + rim * edge
        return out, np.maximum(alpha, grown)

    @staticmethod
    def _labels(img: Image.Image, placed: list[Placed]) -> None:
        d = ImageDraw.Draw(img)
        seen: set[str] = set()
        for p in sorted(placed, key=lambda p: -p.z):
            if p.name in seen:
                continue
            seen.add(p.name)
            x0, y0, x1, y1 = p.box
            font = _font(max(10, min(16, (y1 - y0) // 4)))
            tw = d.textlength(p.name, font=font)
            tx = min(max(2, (x0 + x1) / 2 - tw / 2), img.width - tw - 2)
            others = [q.box for q in placed if q.name != p.name]
            # above the box, else below it, else inside its top: wherever it covers the least of the
            # other elements (a label over an apple would change the colour the critic measures)
            spots = [max(2, y0 - font.size - 3), min(img.height - font.size - 3, y1 + 3), y0 + 3]
            ty = min(
                spots, key=lambda y: (_covered((tx - 2, y - 1, tx + tw + 2, y + font.size + 2), others), spots.index(y))
            )
            d.rectangle((tx - 2, ty - 1, tx + tw + 2, ty + font.size + 2), fill=(255, 255, 250))
            d.text((tx, ty), p.name, fill=(40, 40, 50), font=font)
