"""The layout solver: a box for every instance of every scene element.

It honours sizes, positions, depth, the natural zone of each kind (sky things up, ground things
on the ground line) and the relations between elements, and it moves groups apart when they
would overlap without being asked to. What it cannot satisfy it reports as findings, which the
critic passes on to the reasoner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from mmthink.modalities.image.relations import ATTACHED, PART_WIDTH, anchor, body_plan, garment_part, orient, surface
from mmthink.modalities.image.render.drawables import kind_info
from mmthink.modalities.image.scene import Element, Scene, normalize_name
from mmthink.modalities.image.vocab import SIZES

OVERLAP_OK = {"on", "in", "behind", "in front of", "under", *ATTACHED}
DEPTH_SCALE = {"background": 0.85, "midground": 1.0, "foreground": 1.12, None: 1.0}
DEPTH_Z = {"background": 0, None: 1, "midground": 1, "foreground": 2}


@dataclass
class Slot:
    name: str  # normalised
    element: Element
    kind: str
    index: int
    box: tuple[int, int, int, int]
    z: float


@dataclass
class Layout:
    size: tuple[int, int]
    slots: list[Slot] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    horizon: int = 0


@dataclass
class _Group:
    el: Element
    name: str
    kind: str
    w: float  # one instance
    h: float
    n: int
    row: bool
    x: float = 0.0  # group centre
    y: float = 0.0
    z: float = 1.0
    placed: bool = False
    extra_gap: float = 0.0  # widened gap between instances, for "between X and X"
    rests_on: str | None = None  # a surface it stands on without saying so (beside things on a table)

    @property
    def gw(self) -> float:
        return self.w * self.cols + self.gap * (self.cols - 1)

    @property
    def gh(self) -> float:
        return self.h * self.rows + self.gap * (self.rows - 1)

    @property
    def cols(self) -> int:
        if self.row or self.n <= 4:
            return self.n
        return min(self.n, max(2, round(self.n**0.5 * 1.4)))

    @property
    def rows(self) -> int:
        return -(-self.n // self.cols)

    @property
    def gap(self) -> float:
        return 0.25 * self.w + self.extra_gap

    def box(self) -> tuple[float, float, float, float]:
        return self.x - self.gw / 2, self.y - self.gh / 2, self.x + self.gw / 2, self.y + self.gh / 2


MIN_PX = 26
"""The fewest pixels across a thing's longer side. A size word is a share of the canvas ("small": a tenth of its
shorter side), which on a 256 x 192 canvas is a 19-px cat: too small to see, and its rim and details outweigh
its colour when the critic reads it. At 768 x 512 every size but "tiny" is above this already."""


def solve_layout(scene: Scene, size: tuple[int, int], seed: int) -> Layout:
    W, H = size
    rng = random.Random(seed)
    out = Layout(size)
    scene = orient(scene)  # "giraffe: wearing scarf" is placed as "scarf: worn by giraffe"
    ground_setting = not ({"space", "underwater", "galaxy", "cosmos", "orbit"} & set(scene.setting))
    horizon = int(H * (0.62 if ground_setting else 1.0))
    out.horizon = horizon
    short = min(W, H)
    groups: list[_Group] = []
    for el in scene.elements:
        info = kind_info(el.name)
        frac = SIZES.get(el.size or "", info.size) * DEPTH_SCALE.get(el.depth, 1.0)
        h = frac * short * (1.0 / max(0.45, info.aspect) ** 0.5)
        h = max(h, MIN_PX / max(1.0, info.aspect))  # on a small canvas: no thing too small to see or to measure
        w = h * info.aspect
        n = max(1, el.count)
        row = "in a row" in [x.lower() for x in el.extras]
        g = _Group(el, normalize_name(el.name), info.kind, w, h, n, row)
        # many instances must fit the canvas
        for _ in range(12):
            if g.gw <= W * 0.95 and g.gh <= H * 0.9:
                break
            g.w *= 0.85
            g.h *= 0.85
        g.z = DEPTH_Z.get(el.depth, 1) + (
            0.5 if any(r.kind in ("on", "in", "in front of", "under", *ATTACHED) for r in el.relations) else 0
        )
        if any(r.kind == "behind" for r in el.relations):
            g.z -= 0.6
        groups.append(g)
    by_name = {g.name: g for g in groups}
    order = _dependency_order(groups, by_name)
    for g in order:
        _place(g, by_name, W, H, horizon, rng, out.findings)
        _avoid(g, [o for o in order if o.placed and o is not g], by_name, W, H, horizon, out.findings)
        g.placed = True
    _side_by_side(groups, by_name)
    for g in groups:
        x0, y0, _, _ = g.box()
        for i in range(g.n):
            c, r = i % g.cols, i // g.cols
            jitter = 0.0 if g.row or g.n == 1 else rng.uniform(-0.08, 0.08) * g.h
            bx = x0 + c * (g.w + g.gap)
            by = y0 + r * (g.h + g.gap) + jitter
            if g.rows > 1 and r % 2 == 1 and not g.row:
                bx += (g.w + g.gap) / 2 if c < g.cols - 1 or g.n % g.cols else 0
            box = (int(round(bx)), int(round(by)), int(round(bx + g.w)), int(round(by + g.h)))
            box = _clamp(box, W, H)
            out.slots.append(Slot(g.name, g.el, g.kind, i, box, g.z + 0.001 * i))
    out.slots.sort(key=lambda s: (s.z, s.box[3]))
    return out


def _dependency_order(groups: list[_Group], by_name: dict[str, _Group]) -> list[_Group]:
    done: list[_Group] = []
    seen: set[int] = set()

    def visit(g: _Group, depth: int = 0) -> None:
        if id(g) in seen or depth > 20:
            return
        seen.add(id(g))
        for r in g.el.relations:
            for t in (r.target, r.target2):
                tg = by_name.get(normalize_name(t)) if t else None
                if tg is not None and tg is not g:
                    visit(tg, depth + 1)
        done.append(g)

    for g in sorted(groups, key=lambda g: -g.w * g.h):
        visit(g)
    return done


def _zone_y(g: _Group, H: int, horizon: int, rng: random.Random) -> float:
    zone = kind_info(g.el.name).zone
    if g.el.v == "top":
        return H * 0.2
    if g.el.v == "bottom":
        if zone == "sky" and horizon < H:
            return horizon - g.gh * 0.35  # low in the sky, touching the horizon
        return min(H - g.gh / 2 - 4, max(horizon, H * 0.8))
    if g.el.v == "middle":
        return H * 0.5
    if zone == "sky":
        return H * rng.uniform(0.17, 0.3) + g.gh / 4
    if zone == "water" and horizon < H:
        return horizon + (H - horizon) * 0.35
    if zone == "ground" and horizon < H:
        depth_shift = {"background": -0.04, "foreground": 0.18}.get(g.el.depth or "", 0.06)
        return min(H - g.gh / 2 - 2, horizon + (H - horizon) * depth_shift - g.gh / 2 + g.gh * 0.15)
    return H * 0.5


def _zone_x(g: _Group, W: int, rng: random.Random) -> float:
    if g.el.h == "left":
        return W * 0.25
    if g.el.h == "right":
        return W * 0.75
    if g.el.h == "center":
        return W * 0.5
    return W * rng.uniform(0.35, 0.65)


def _place(
    g: _Group, by: dict[str, _Group], W: int, H: int, horizon: int, rng: random.Random, findings: list[str]
) -> None:
    g.x, g.y = _zone_x(g, W, rng), _zone_y(g, H, horizon, rng)
    gap = 0.06 * min(W, H)
    for r in g.el.relations:
        t = by.get(normalize_name(r.target))
        if t is None or t is g or not t.placed:
            continue
        tx0, ty0, tx1, ty1 = t.box()
        if r.kind in ("left of", "right of"):
            g.x = tx0 - gap - g.gw / 2 if r.kind == "left of" else tx1 + gap + g.gw / 2
            if g.el.v is None and kind_info(g.el.name).zone != "sky":
                g.y = t.y + (t.gh - g.gh) / 2  # stand on the same baseline as the target
                support = _support(t, by)
                if support is not None and support.kind in SURFACES:  # the target stands on a table:
                    _widen(support, g, 0.5 * gap)  # the table grows to hold this one too
                    g.z = max(g.z, support.z + 0.5)
                    g.rests_on = support.name
                elif support is not None:  # on something that is no surface: stand on the ground
                    g.y = _zone_y(g, H, horizon, rng)
        elif r.kind == "above":
            g.y = ty0 - gap - g.gh / 2
            if g.el.h is None:
                g.x = t.x
        elif r.kind in (*ATTACHED, "under", "flying over", "behind", "in front of") and _place_close(
            g, t, r.kind, gap, W
        ):
            pass
        elif r.kind in ("below", "under"):
            g.y = ty1 + gap + g.gh / 2
            if g.y + g.gh / 2 > H:  # no room under it: in front of its lower part
                g.y = ty1 - g.gh / 2
                g.z = max(g.z, t.z + 0.5)
            if g.el.h is None:
                g.x = t.x
        elif r.kind == "on":
            if t.n == 1 and g.gw > 0.9 * t.gw and g.el.h is None:  # a row of things on one hill: the hill widens
                t.w = g.gw / 0.9
            g.y = ty0 + surface(t.el.name, t.kind) * t.gh - g.gh / 2
            g.x = t.x if g.el.h is None else g.x
            g.z = max(g.z, t.z + 0.5)
        elif r.kind == "in":
            scale = min(1.0, 0.62 * t.gw / max(1.0, g.gw), 0.55 * t.gh / max(1.0, g.gh))
            g.w *= scale
            g.h *= scale
            g.x, g.y = t.x, t.y + 0.08 * t.gh
            g.z = max(g.z, t.z + 0.5)
        elif r.kind == "between":
            t2 = by.get(normalize_name(r.target2 or ""))
            if t2 is not None and t2 is not t and t2.placed:
                _make_room(g, t, t2, gap, W)
                g.x, g.y = (t.x + t2.x) / 2, (t.y + t2.y) / 2
            elif t.n >= 2:
                g.x = t.x
                g.y = t.y + (t.gh - g.gh) / 2 * (1 if kind_info(g.el.name).zone == "ground" else 0)
                # widen the pair so there is room in the middle
                need = g.gw + 2 * gap
                if t.gap < need:
                    t.extra_gap = need - 0.25 * t.w
        elif r.kind == "near":
            side = 1 if tx1 + gap + g.gw < W else -1
            g.x = (tx1 + gap * 0.5 + g.gw / 2) if side > 0 else (tx0 - gap * 0.5 - g.gw / 2)
            if kind_info(g.el.name).zone == kind_info(t.el.name).zone and g.el.v is None:
                g.y = t.y + (t.gh - g.gh) / 2
    x0, y0, x1, y1 = g.box()
    if x0 < 0 or x1 > W or y0 < 0 or y1 > H:
        if any(r.kind in ("left of", "right of", "above", "below") for r in g.el.relations) and (
            x1 - x0 > W or x0 < -g.gw * 0.5 or x1 > W + g.gw * 0.5
        ):
            findings.append(f"{g.el.name}: little room for its relation; moved inside the frame")
        g.x = min(max(g.x, g.gw / 2 + 2), W - g.gw / 2 - 2)
        g.y = min(max(g.y, g.gh / 2 + 2), H - g.gh / 2 - 2)


def _place_close(g: _Group, t: _Group, kind: str, gap: float, W: int) -> bool:
    """Relations that put ``g`` on, at, under, over, behind or in front of ``t``; False where another rule applies.

    Garments go on the wearer's body part, held things at a hand, riders astride the mount's back
    (see :mod:`mmthink.modalities.image.relations`); "under" a thing in the sky is only "below" it.
    """
    tx0, ty0, tx1, ty1 = t.box()
    host = (tx0, ty0, tx0 + t.w, ty0 + t.h)  # the first instance of the target
    if kind == "worn by":
        part = garment_part(g.el.name)
        want = PART_WIDTH.get(part, 0.5) * t.w * (0.6 if body_plan(t.el.name, t.kind) == "four" else 1.0)
        _scale(g, min(want / max(1.0, g.w), 0.35 * t.h / max(1.0, g.h)))
        g.x, g.y = anchor(t.el.name, host, part, t.kind)
        if part == "head":
            g.y -= 0.3 * g.h
    elif kind in ("held by", "carried by"):
        _scale(g, min(1.0, 0.42 * t.h / max(1.0, g.h), 0.6 * t.w / max(1.0, g.w)))
        ax, ay = anchor(t.el.name, host, "hand", t.kind)
        g.x, g.y = ax + (0.25 if ax >= tx0 + t.w / 2 else -0.25) * g.w, ay
    elif kind == "riding":
        _scale(g, min(1.0, t.h / max(1.0, g.h), 0.7 * t.w / max(1.0, g.w)))
        g.x = anchor(t.el.name, host, "seat", t.kind)[0]
        g.y = ty0 + 0.45 * t.h - g.h / 2
    elif kind == "under":
        if kind_info(t.el.name).zone == "sky" or t.gw * t.gh < g.gw * g.gh:
            return False  # under the moon, under a small thing: below it
        _scale(g, min(1.0, 0.62 * t.gh / max(1.0, g.gh), 0.8 * t.gw / max(1.0, g.gw)))
        g.x, g.y = t.x, ty1 - g.gh / 2
    elif kind == "flying over":
        g.x, g.y = t.x, max(g.gh / 2 + 2, ty0 - gap - g.gh / 2)
        return True
    elif kind == "behind" and g.el.depth == "background":  # far back: straight behind it
        g.x = t.x + 0.12 * t.gw if g.el.h is None else g.x
        g.y = t.y - 0.1 * t.gh if g.el.v is None else g.y
        g.z = min(g.z, t.z - 0.5)
        return True
    elif kind == "behind":  # further back (its base higher), partly hidden by the target
        if g.el.h is None and g.gw > 1.5 * t.gw:
            g.x = t.x + 0.2 * t.gw
        elif g.el.h is None:  # peeking out from behind one end of it, on the side with room
            right, left = t.x + 0.12 * t.gw, t.x - 0.12 * t.gw
            g.x = right if right + g.gw / 2 <= W or left - g.gw / 2 < 0 else left
        if g.el.v is None:
            g.y = ty1 - 0.12 * t.gh - g.gh / 2 if kind_info(g.el.name).zone == "ground" else t.y - 0.1 * g.gh
        g.z = min(g.z, t.z - 0.5)
        return True
    elif kind == "in front of":  # nearer (its base lower), overlapping the target
        # over it, whatever side the line names, but off its middle when it is the smaller: a kite in front of
        # an apple covering the apple's centre leaves nothing of the apple's own colour to see
        # (in front of several, it stands between them already); one as wide as it or wider stands to the side
        # with room, overlapping a third, or it would hide the thing behind
        if g.el.h is not None or t.n > 1:
            g.x = t.x
        elif g.gw >= 0.7 * t.gw:
            shift = (g.gw + t.gw) / 2 - 0.35 * min(g.gw, t.gw)
            right, left = t.x + shift, t.x - shift
            g.x = right if right + g.gw / 2 <= W or left - g.gw / 2 < 0 else left
        else:
            g.x = t.x + (1.0 if t.x + t.gw / 2 + g.gw / 2 < W else -1.0) * 0.35 * t.gw
        g.y = max(ty1 + 0.06 * t.gh - g.gh / 2, t.y + 0.1 * t.gh)
        g.z = max(g.z, t.z + 0.5)
        return True
    g.z = max(g.z, t.z + 0.5)
    return True


SHARED = ("under", "in")
"""Relations that put a thing at one spot of its target: two different things there would cover each other."""


def _side_by_side(groups: list[_Group], by: dict[str, _Group]) -> None:
    """Different things under or in the same target ("a cat and a dog under a tree", "an apple and a pear in
    a bowl") stand side by side across it, made smaller together where they would not fit, instead of on
    one spot where the nearer hides the other. A thing with its own side ("cat: left") is left where it is."""
    shared: dict[tuple[str, str], list[_Group]] = {}
    for g in groups:
        for r in g.el.relations:
            t = by.get(normalize_name(r.target))
            if r.kind in SHARED and t is not None and t is not g and g.el.h is None:
                shared.setdefault((t.name, r.kind), []).append(g)
                break
    for (target, kind), members in shared.items():
        if len(members) < 2:
            continue
        t = by[target]
        gap = 0.04 * t.gw
        room = (0.9 if kind == "under" else 0.7) * t.gw
        bottoms = [m.y + m.gh / 2 for m in members]  # each keeps the ground it stood on
        need = sum(m.gw for m in members) + gap * (len(members) - 1)
        if need > room:
            for m in members:
                _scale(m, room / need)
            need = room
        x = t.x - need / 2
        for m, bottom in zip(members, bottoms, strict=True):
            m.x = x + m.gw / 2
            m.y = bottom - m.gh / 2
            x += m.gw + gap


def _make_room(g: _Group, t: _Group, t2: _Group, gap: float, W: int) -> None:
    """Spread two different things apart so that ``g`` fits between them (the freer one moves)."""
    need = g.gw + (t.gw + t2.gw) / 2 + 2 * gap
    if abs(t2.x - t.x) >= need:
        return
    free = [x for x in (t2, t) if not x.el.relations and x.el.h is None]  # placed by no one's word
    if not free:
        return
    mover = free[0]
    anchor_ = t if mover is t2 else t2
    side = 1.0 if mover.x >= anchor_.x else -1.0
    x = anchor_.x + side * need
    if not (mover.gw / 2 <= x <= W - mover.gw / 2):  # no room on that side: the other one
        x = anchor_.x - side * need
    mover.x = min(max(x, mover.gw / 2 + 2), W - mover.gw / 2 - 2)


def _scale(g: _Group, f: float) -> None:
    g.w *= f
    g.h *= f


SURFACES = {"table"}
"""Kinds that things stand on side by side; desks and counters are drawn as tables."""


def _support(t: _Group, by: dict[str, _Group]) -> _Group | None:
    """What ``t`` rests on ("apple: on table"), if that is placed."""
    for r in t.el.relations:
        if r.kind == "on":
            s = by.get(normalize_name(r.target))
            if s is not None and s is not t and s.placed:
                return s
    return None


def _widen(s: _Group, g: _Group, pad: float) -> None:
    """Stretch a one-piece surface sideways so that ``g`` stands on it as well."""
    if s.n != 1:
        return
    sx0, _, sx1, _ = s.box()
    gx0, _, gx1, _ = g.box()
    x0, x1 = min(sx0, gx0 - pad), max(sx1, gx1 + pad)
    s.w, s.x = x1 - x0, (x0 + x1) / 2


def _intended(a: _Group, b: _Group) -> bool:
    for x, y in ((a, b), (b, a)):
        if x.rests_on == y.name:
            return True
        for r in x.el.relations:
            if r.kind in OVERLAP_OK and normalize_name(r.target) == y.name:
                return True
            if r.kind == "between" and normalize_name(r.target) == normalize_name(r.target2 or "") == y.name:
                return True  # the pair's box holds the gap it stands in
    return False


def _behind(a: _Group, b: _Group) -> bool:
    """``a`` is to be partly hidden behind ``b`` (a far-background element may be hidden more)."""
    return a.el.depth != "background" and any(
        r.kind == "behind" and normalize_name(r.target) == b.name for r in a.el.relations
    )


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, ix) * max(0.0, iy)


def _avoid(
    g: _Group, others: list[_Group], by: dict[str, _Group], W: int, H: int, horizon: int, findings: list[str]
) -> None:
    """Slide a group sideways (then up or down) until it stops covering groups it has no relation with."""
    # in front of things that stand on a table is in front of the table's top too: covering its edge is meant
    fronted = {
        s.name
        for r in g.el.relations
        if r.kind == "in front of" and (t := by.get(normalize_name(r.target))) is not None
        if (s := _support(t, by)) is not None
    }

    def cost(x: float, y: float) -> float:
        ox, oy = g.x, g.y
        g.x, g.y = x, y
        b = g.box()
        g.x, g.y = ox, oy
        total = 0.0
        for o in others:
            if _behind(g, o):  # partly hidden is what was asked; mostly hidden is not
                total += max(0.0, _overlap(b, o.box()) - 0.55 * g.gw * g.gh)
                continue
            if (
                _intended(g, o)
                or o.name in fronted
                or o.el.depth == "background"
                and g.el.depth != "background"
                and o.gw * o.gh > 0.25 * W * H
            ):
                continue
            total += _overlap(b, o.box())
        out = max(0, -b[0]) + max(0, b[2] - W) + max(0, -b[1]) + max(0, b[3] - H)
        return total + out * 50

    if cost(g.x, g.y) == 0 or any(r.kind in (*ATTACHED, "under") for r in g.el.relations):
        return  # nothing covered, or covering is what was asked
    pinned_x = any(r.kind in ("left of", "right of", "between", "on", "in", "above", "below") for r in g.el.relations)
    best = (cost(g.x, g.y), g.x, g.y)
    step = max(4.0, 0.04 * W)
    for k in range(1, 30):
        for dx, dy in (
            (k * step, 0),
            (-k * step, 0),
            (0, -k * step * 0.6),
            (0, k * step * 0.6),
            (k * step, -k * step * 0.5),
            (-k * step, -k * step * 0.5),
        ):
            if pinned_x and dx and any(r.kind in ("above", "below", "in") for r in g.el.relations):
                continue
            nx, ny = g.x + dx, g.y + dy
            if not (g.gw / 2 <= nx <= W - g.gw / 2 and g.gh / 2 <= ny <= H - g.gh / 2):
                continue
            if not _keeps_relations(g, nx, ny, by):
                continue
            c = cost(nx, ny)
            if c < best[0]:
                best = (c, nx, ny)
        if best[0] == 0:
            break
    _, g.x, g.y = best


def _keeps_relations(g: _Group, x: float, y: float, by: dict[str, _Group]) -> bool:
    for r in g.el.relations:
        t = by.get(normalize_name(r.target))
        if t is None or not t.placed:
            continue
        t2 = by.get(normalize_name(r.target2 or ""))
        if (
            r.kind == "between"
            and t2 is not None
            and t2 is not t
            and t2.placed
            and not min(t.x, t2.x) < x < max(t.x, t2.x)
        ):
            return False
        if r.kind == "on" and not (abs(y - g.y) < 1 and t.box()[0] < x < t.box()[2]):
            return False  # what rests on a thing may slide along its top, never off it
        if r.kind == "left of" and not x < t.x:
            return False
        if r.kind == "right of" and not x > t.x:
            return False
        if r.kind in ("above", "flying over") and not y < t.y:
            return False
        if r.kind in ("below", "under") and not y > t.y:
            return False
    return True


def _clamp(box: tuple[int, int, int, int], W: int, H: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    x0 = min(max(0, x0), max(0, W - w))
    y0 = min(max(0, y0), max(0, H - h))
    return x0, y0, min(W, x0 + w), min(H, y0 + h)
