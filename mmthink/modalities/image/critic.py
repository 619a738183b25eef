"""The image critic: does the drawing show what was asked, and can one see it?

It checks the rendered boxes and pixels against two sources of constraints: what the request
asked for (objects, counts, colours, relations) and what the sketch itself declared. Findings
are short sentences a reasoner can act on; ``metrics["issues"]`` carries the same facts in a
structured form for reasoners that revise programmatically (the heuristic one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmthink.dsp.color import distances, srgb_to_lab
from mmthink.modalities.base import Critique, ImageArtifact, Placed
from mmthink.modalities.image.places import place_checks
from mmthink.modalities.image.relations import judge
from mmthink.modalities.image.render.legible import ring_strips
from mmthink.modalities.image.scene import Scene, normalize_name
from mmthink.modalities.image.understanding import ImageIntent, several
from mmthink.modalities.image.understood import understood_checks
from mmthink.modalities.image.vocab import COLORS

VISIBLE_MIN = 0.5  # an instance less visible than this does not count as "there"
COUNT_VISIBLE_MIN = 0.35
_SIMILAR = {
    "grey": {"gray", "silver"},
    "gray": {"grey", "silver"},
    "silver": {"grey", "gray", "white"},
    "gold": {"golden", "yellow", "amber"},
    "golden": {"gold", "yellow", "amber"},
    "yellow": {"gold", "golden", "amber"},
    "blue-green": {"teal", "turquoise", "cyan", "green", "blue"},
    "teal": {"blue-green", "turquoise", "cyan"},
    "purple": {"violet", "magenta"},
    "violet": {"purple"},
    "orange": {"amber", "copper"},
    "white": {"ivory", "silver"},
    "pink": {"magenta"},
    "crimson": {"red"},
    "red": {"crimson"},
    "navy": {"blue"},
    "blue": {"navy", "azure"},
    "brown": {"copper", "tan"},
}


@dataclass
class Check:
    name: str
    ok: bool
    weight: float = 1.0
    finding: str = ""
    issue: dict[str, Any] = field(default_factory=dict)


ClipHook = Callable[[ImageArtifact, Scene, str], tuple[dict[str, Any], list[str]]]


class ImageCritic:
    """Measures a rendered image against the request's and the sketch's constraints."""

    name = "image"

    def __init__(self, clip: ClipHook | None = None, clip_threshold: float = 0.2) -> None:
        self.clip = clip
        self.clip_threshold = clip_threshold

    def critique(
        self,
        art: ImageArtifact,
        scene: Scene,
        intent: ImageIntent | None = None,
        *,
        prompt: str = "",
        scene_findings: list[str] | None = None,
    ) -> Critique:
        img = np.asarray(art.payload.convert("RGB") if art.payload is not None else _decode(art.data), dtype=np.float32)
        h, w = img.shape[:2]
        by_name: dict[str, list[Placed]] = {}
        for p in art.placed:
            by_name.setdefault(normalize_name(p.name), []).append(p)
        checks: list[Check] = []
        requested: set[str] = set()
        for want in intent.objects if intent else []:
            requested.add(want.name)
            checks.extend(self._check_wanted(want, by_name, img, art))
        for el in scene.elements:
            key = normalize_name(el.name)
            insts = by_name.get(key, [])
            if key not in requested:
                if not insts:
                    checks.append(
                        Check("declared", False, 0.5, f"{el.name} was not drawn", {"type": "missing", "element": key})
                    )
                for rel in el.relations:
                    if rel.kind in ("behind", "in front of", "near"):
                        continue
                    ok = _relation_holds(
                        rel.kind,
                        insts,
                        by_name.get(normalize_name(rel.target), []),
                        by_name.get(normalize_name(rel.target2 or ""), []),
                    )
                    if ok is not None:
                        checks.append(
                            Check(
                                "declared relation",
                                ok,
                                0.5,
                                "" if ok else f"{el.name} is not {rel.format()}",
                                {
                                    "type": "relation",
                                    "element": key,
                                    "relation": rel.kind,
                                    "target": normalize_name(rel.target),
                                },
                            )
                        )
            checks.extend(self._check_occlusion(el, insts, by_name, requested))
        # relations (verbal ones too), words to show, styles and conditions: measured on the picture
        checks.extend(Check(*c) for c in understood_checks(art, scene, intent, img, by_name))
        # the places named (the request's, else the scene's own, as in a storyboard frame): shown in the final
        checks.extend(
            Check(*c) for c in place_checks(art, intent.setting if intent else scene.setting, img, scene.setting)
        )
        checks = _with_lines(checks, intent)
        coverage = _coverage(art.placed, w, h)
        if coverage < 0.04:
            checks.append(
                Check(
                    "empty",
                    False,
                    1.0,
                    f"the picture is mostly empty ({coverage:.0%} covered): make the subject larger",
                    {"type": "empty", "coverage": coverage},
                )
            )
        contrast = float(img.std())
        if contrast < 12:
            checks.append(
                Check(
                    "contrast",
                    False,
                    1.0,
                    f"the whole image is flat (pixel std {contrast:.1f})",
                    {"type": "flat", "std": contrast},
                )
            )
        metrics: dict[str, Any] = {"coverage": round(coverage, 3), "pixel_std": round(contrast, 1)}
        if self.clip is not None:
            clip_metrics, clip_findings = self.clip(art, scene, prompt)
            metrics.update(clip_metrics)
            for f in clip_findings:
                checks.append(Check("clip", False, 0.5, f, {"type": "clip"}))
        for f in scene_findings or []:
            checks.append(Check("scene", False, 0.25, f, {"type": "parse"}))
        for f in art.meta.get("layout_findings", []) or []:
            checks.append(Check("layout", False, 0.25, str(f), {"type": "layout"}))
        total = sum(c.weight for c in checks) or 1.0
        score = sum(c.weight for c in checks if c.ok) / total if checks else (1.0 if art.placed else 0.0)
        hard_fail = [c for c in checks if not c.ok and c.name not in ("scene", "layout", "clip")]
        findings = [c.finding for c in checks if not c.ok and c.finding]
        metrics.update(
            {
                "checks": len(checks),
                "checks_passed": sum(1 for c in checks if c.ok),
                "issues": [c.issue for c in checks if not c.ok and c.issue],
                "requested_met": all(c.ok for c in checks if c.name.startswith("request")),
            }
        )
        return Critique(score=score, passed=not hard_fail and bool(art.placed), findings=findings, metrics=metrics)

    # ------------------------------------------------------------------ checks
    def _check_wanted(self, want, by_name, img, art) -> list[Check]:
        insts = by_name.get(want.name, [])
        seen = [p for p in insts if p.visible >= COUNT_VISIBLE_MIN]
        clear = [p for p in insts if p.visible >= VISIBLE_MIN]
        out: list[Check] = []
        if not clear:
            if insts:
                worst = max(insts, key=lambda p: p.visible)
                out.append(
                    Check(
                        "request presence",
                        False,
                        2.0,
                        f"the {want.name} is {1 - worst.visible:.0%} hidden: bring it forward or move it clear",
                        {"type": "occluded", "element": want.name, "visible": round(worst.visible, 2)},
                    )
                )
            else:
                out.append(
                    Check(
                        "request presence",
                        False,
                        2.0,
                        f"there is no {want.name} in the drawing: add it",
                        {"type": "missing", "element": want.name},
                    )
                )
            return out
        out.append(Check("request presence", True, 2.0))
        plural = several(want)  # "apples": any number from two up is what was asked
        if plural or want.count > 1 or want.explicit_count or len(insts) > 1:
            hidden = len(insts) - len(seen)
            if plural:
                ok = len(seen) >= 2
                msg = f"{len(seen)} {want.name} can be seen, where the request says {want.name}s (more than one)"
                msg += f" ({hidden} mostly hidden): spread them out or make them smaller" if hidden else ": add more"
            else:
                ok = len(seen) == want.count
                msg = f"{len(seen)} of {want.count} {want.name}s can be seen"
                if hidden:
                    msg += f" ({hidden} mostly hidden): spread them out or make them smaller"
                elif len(seen) < want.count:
                    msg += f": add {want.count - len(seen)}"
                else:
                    msg += f": remove {len(seen) - want.count}"
            out.append(
                Check(
                    "request count",
                    ok,
                    1.5,
                    "" if ok else msg,
                    {"type": "count", "element": want.name, "want": want.count, "seen": len(seen), "hidden": hidden},
                )
            )
        if want.color:
            measured = [measure_color(img, p, art.background_rgb) for p in clear]
            names = [m for m in measured if m]
            ok = bool(names) and all(color_matches(want.color, m) for m in names)
            got = ", ".join(sorted(set(names))) or "unclear"
            out.append(
                Check(
                    "request colour",
                    ok,
                    1.0,
                    "" if ok else f"the {want.name} reads as {got}, not {want.color}: colour it {want.color}",
                    {"type": "color", "element": want.name, "want": want.color, "got": got},
                )
            )
            # contrast with the surroundings: a blue whale in a blue sea disappears
            for p in clear[:1]:
                c = _local_contrast(img, p)
                if c < 28:
                    out.append(
                        Check(
                            "request contrast",
                            False,
                            0.75,
                            f"the {want.name} blends into what is around it (contrast {c:.0f}): "
                            f"change the background or outline it",
                            {"type": "contrast", "element": want.name, "contrast": round(c, 1)},
                        )
                    )
        if want.relation and not by_name.get(want.relation[1]):
            target = want.relation[1]
            out.append(
                Check(
                    "request relation",
                    False,
                    1.5,
                    f"the {want.name} should be {want.relation[0]} a {target}, but there is no {target}: add it",
                    {"type": "missing", "element": target},
                )
            )
        return out

    def _check_occlusion(self, el, insts, by_name, requested) -> list[Check]:
        out: list[Check] = []
        key = normalize_name(el.name)
        if key in requested:
            return out  # requested objects are judged above
        for p in insts[:1] if el.count == 1 else []:
            if p.visible < VISIBLE_MIN and p.area > 0:
                by = _occluder(p, by_name)
                out.append(
                    Check(
                        "occlusion",
                        False,
                        1.0,
                        f"{el.name} is {1 - p.visible:.0%} hidden" + (f" behind {by}" if by else ""),
                        {"type": "occluded", "element": key, "by": by, "visible": round(p.visible, 2)},
                    )
                )
        if el.count > 1 and insts:
            seen = sum(1 for p in insts if p.visible >= COUNT_VISIBLE_MIN)
            if seen < len(insts):
                out.append(
                    Check(
                        "occlusion",
                        False,
                        0.5,
                        f"{len(insts) - seen} of {len(insts)} {el.name}s are mostly hidden",
                        {"type": "count", "element": key, "want": el.count, "seen": seen, "hidden": len(insts) - seen},
                    )
                )
        return out


# ---------------------------------------------------------------------- helpers


def want_line(want: Any, target: bool = False) -> str:
    """The scene line a requested object asks for (``cat x3: medium, orange, left of lamp``), in the sketch
    grammar. A size is always given (a line must have an attribute, and without one a thing is drawn small
    enough to leave the picture empty): the one asked for, else large for a thing others are on or in."""
    from mmthink.modalities.image.vocab import COLORS, RELATIONS, SIZES

    size = want.size if want.size in SIZES else ("large" if target else "medium")
    attrs = [size] + ([want.color] if want.color in COLORS else [])
    if want.relation and want.relation[0] in RELATIONS:
        kind, target = want.relation
        attrs.append(
            f"between {target} and {want.relation2}" if kind == "between" and want.relation2 else f"{kind} {target}"
        )
    head = want.name + (f" x{want.count}" if want.count > 1 else "")
    return f"{head}: {', '.join(attrs)}"


def _with_lines(checks: list[Check], intent: ImageIntent | None) -> list[Check]:
    """A failed check on a requested object ends with the scene line the request asks for, where a line can
    fix it (a missing thing, a count, a colour, a relation; not a thing hidden or blending into its ground).

    An observation is read by models of every size; "there is no cup in the drawing" tells a large one what to
    do, while a small one (0.5B) copies its rejected sketch unless the line to write is in front of it.
    """
    wanted = {w.name: w for w in intent.objects} if intent else {}
    targets = {w.relation[1] for w in wanted.values() if w.relation} | {w.relation2 for w in wanted.values()}
    out = []
    for c in checks:
        want = wanted.get(str(c.issue.get("element", "")))
        fixable = c.issue.get("type") in ("missing", "count", "color", "relation")  # not: hidden, blends in
        if not c.ok and c.finding and want is not None and fixable and "`" not in c.finding:
            line = want_line(want, want.name in targets)
            c = Check(c.name, c.ok, c.weight, f"{c.finding}; the line: `{line}`", c.issue)
        out.append(c)
    return out


def _decode(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def _center(ps: list[Placed]) -> tuple[float, float] | None:
    if not ps:
        return None
    return float(np.mean([p.center[0] for p in ps])), float(np.mean([p.center[1] for p in ps]))


def _relation_holds(kind: str, a: list[Placed], t1: list[Placed], t2: list[Placed]) -> bool | None:
    """Judge a declared relation from the drawn boxes (see :func:`.relations.judge`). None when it cannot be judged."""
    return judge(kind, a, t1, t2 or None)[0]


def _hoverlap(p: Placed, q: Placed) -> bool:
    return min(p.box[2], q.box[2]) > max(p.box[0], q.box[0])


def _inside(p: Placed, q: Placed) -> bool:
    cx, cy = p.center
    return q.box[0] <= cx <= q.box[2] and q.box[1] <= cy <= q.box[3]


def _occluder(p: Placed, by_name: dict[str, list[Placed]]) -> str | None:
    best, best_area = None, 0
    for name, ps in by_name.items():
        for q in ps:
            if q is p or q.z <= p.z:
                continue
            ix = min(p.box[2], q.box[2]) - max(p.box[0], q.box[0])
            iy = min(p.box[3], q.box[3]) - max(p.box[1], q.box[1])
            if ix > 0 and iy > 0 and ix * iy > best_area:
                best, best_area = name, ix * iy
    return best


def _coverage(placed: list[Placed], w: int, h: int) -> float:
    if not placed or w * h == 0:
        return 0.0
    mask = np.zeros((h, w), dtype=bool)
    for p in placed:
        x0, y0, x1, y1 = (max(0, int(v)) for v in p.box)
        mask[y0 : min(h, y1), x0 : min(w, x1)] = True
    return float(mask.mean())


def _crop(img: np.ndarray, box: tuple[int, int, int, int], shrink: float = 0.0) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * shrink, (y1 - y0) * shrink
    xa, ya = int(max(0, x0 + dx)), int(max(0, y0 + dy))
    xb, yb = int(min(w, x1 - dx)), int(min(h, y1 - dy))
    return img[ya : max(ya + 1, yb), xa : max(xa + 1, xb)]


def measure_color(img: np.ndarray, p: Placed, background: tuple[int, int, int] | None = None) -> str | None:
    """The palette colour that the instance's foreground pixels read as.

    Background pixels are told apart by comparing each pixel with colours sampled on the box's
    border, which copes with gradients and two-tone backdrops (sky above, ground below).
    """
    region = _crop(img, p.box, 0.12).reshape(-1, 3)
    if region.size == 0:
        return p.color
    border = _border(img, p.box)
    if background is not None:
        border = np.vstack([border, np.asarray(background, np.float32)[None, :]])
    sample = region[:: max(1, len(region) // 3000)]
    d = np.min(distances(sample, border), axis=1)
    fg = sample[d > 38]
    if len(fg) < max(8, 0.04 * len(sample)):
        return p.color
    names = list(COLORS)
    pal = _lab(np.asarray([COLORS[n] for n in names], dtype=np.float32))
    nearest = np.argmin(distances(_lab(fg), pal), axis=1)
    votes = np.bincount(nearest, minlength=len(names))
    return names[int(votes.argmax())]


def _border(img: np.ndarray, box: tuple[int, int, int, int], n: int = 48) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w - 1, max(x0, x1 - 1)), min(h - 1, max(y0, y1 - 1))
    edge = np.concatenate([img[y0, x0 : x1 + 1], img[y1, x0 : x1 + 1], img[y0 : y1 + 1, x0], img[y0 : y1 + 1, x1]])
    return edge[:: max(1, len(edge) // n)].astype(np.float32)


def color_matches(want: str, got: str) -> bool:
    return want == got or got in _SIMILAR.get(want, set()) or want in _SIMILAR.get(got, set())


def _ring(img: np.ndarray, box: tuple[int, int, int, int], pad: int = 12) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    xa, ya, xb, yb = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    outer = img[ya:yb, xa:xb].reshape(-1, 3)
    return outer if len(outer) else img.reshape(-1, 3)


def _local_contrast(img: np.ndarray, p: Placed) -> float:
    inner = _crop(img, p.box, 0.25).reshape(-1, 3)
    if p.rgb is not None:  # the thing's own pixels, lit or shaded: not the wall seen between a table's legs
        own = _crop(img, p.box, 0.12).reshape(-1, 3)
        tones = np.clip(np.asarray(p.rgb, np.float32)[None, :] * np.array([[0.82], [1.0], [1.15]]), 0, 255)
        mine = np.min(distances(own, tones), axis=1) < 40
        if mine.sum() >= max(8, 0.05 * len(own)):
            inner = own[mine]
    strips = ring_strips(img, p.box)
    ring = np.concatenate(strips) if strips else inner
    return float(np.linalg.norm(_lab(inner.mean(axis=0, keepdims=True)) - _lab(ring.mean(axis=0, keepdims=True))))


_lab = srgb_to_lab
