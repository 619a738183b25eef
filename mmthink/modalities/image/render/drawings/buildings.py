"""Buildings and structures: houses, castles, towers, walls, and the building category drawing.

The building drawing picks a shape by the words in the name (a fence, a road, a statue, a dome, a
spire) and its height, roof and window grid from a stable hash of it.
"""

from __future__ import annotations

from mmthink.modalities.image.render.drawings.pen import DARK, GLASS, WARM, Pen, Variant, choose, detail, shade


def p_house(p: Pen):
    p.rect(0.1, 0.42, 0.9, 1.0)
    p.poly([(0.0, 0.45), (0.5, 0.0), (1.0, 0.45)], fill=shade(p.c, -0.35))
    p.rect(0.42, 0.65, 0.58, 1.0, fill=(110, 70, 40))
    p.rect(0.18, 0.55, 0.34, 0.72, fill=WARM)
    p.rect(0.66, 0.55, 0.82, 0.72, fill=WARM)


def p_castle(p: Pen):
    p.rect(0.15, 0.35, 0.85, 1.0)
    for x in (0.0, 0.72):
        p.rect(x, 0.15, x + 0.28, 1.0, fill=shade(p.c, -0.1))
        p.poly([(x - 0.02, 0.17), (x + 0.14, 0.0), (x + 0.3, 0.17)], fill=(150, 60, 60))
    for i in range(5):
        p.rect(0.2 + i * 0.13, 0.28, 0.27 + i * 0.13, 0.36, outline=False)
    p.pieslice(0.4, 0.7, 0.6, 1.1, 180, 360, fill=DARK)
    p.rect(0.4, 0.9, 0.6, 1.0, fill=DARK, outline=False)


def p_lighthouse(p: Pen):
    p.poly([(0.3, 0.22), (0.7, 0.22), (0.8, 1.0), (0.2, 1.0)])
    for y in (0.4, 0.7):
        p.poly(
            [
                (0.3 - (y - 0.22) * 0.12, y),
                (0.7 + (y - 0.22) * 0.12, y),
                (0.7 + (y + 0.12 - 0.22) * 0.12, y + 0.12),
                (0.3 - (y + 0.12 - 0.22) * 0.12, y + 0.12),
            ],
            fill=(214, 40, 40),
        )
    p.rect(0.34, 0.1, 0.66, 0.23, fill=WARM)
    p.poly([(0.3, 0.11), (0.5, 0.0), (0.7, 0.11)], fill=DARK)


def p_bridge(p: Pen):
    p.rect(0.0, 0.15, 1.0, 0.35)
    for x in (0.1, 0.5, 0.9):
        p.rect(x - 0.03, 0.3, x + 0.03, 1.0, fill=shade(p.c, -0.2))
    p.stroke([(0.1, 0.35), (0.3, 0.7), (0.5, 0.35), (0.7, 0.7), (0.9, 0.35)])


def p_tunnel(p: Pen):
    p.poly([(0.0, 1.0), (0.15, 0.2), (0.5, 0.0), (0.85, 0.2), (1.0, 1.0)])
    p.pieslice(0.22, 0.35, 0.78, 1.3, 180, 360, fill=DARK)
    p.rect(0.22, 0.82, 0.78, 1.0, fill=DARK, outline=False)


def p_wall(p: Pen):
    p.rect(0.0, 0.0, 1.0, 1.0, outline=False)
    for r in range(6):
        y = r / 6
        p.stroke([(0.0, y), (1.0, y)], color=shade(p.c, -0.12), width=1)


def p_tower(p: Pen):
    if p.has("windmill", "wind turbine", "turbine"):  # a tapering tower, a cap, four sails
        turbine = p.has("turbine")
        p.poly([(0.36 if not turbine else 0.47, 0.3), (0.64 if not turbine else 0.53, 0.3), (0.7, 1.0), (0.3, 1.0)])
        if not turbine:
            p.rect(0.44, 0.78, 0.56, 1.0, fill=shade(p.c, -0.45))
        hub = (0.5, 0.3)
        for dx, dy in ((0.0, -0.3), (0.3, 0.0), (0.0, 0.3), (-0.3, 0.0)):
            end = (hub[0] + dx * 1.5, hub[1] + dy)
            p.thick([hub, end], 0.05, color=(235, 235, 230) if turbine else (120, 85, 55))
        p.ellipse(0.45, 0.26, 0.55, 0.34, fill=shade(p.c, -0.3))
        return
    p.rect(0.25, 0.0, 0.75, 1.0)
    for i in range(8):
        y = i / 8
        p.stroke([(0.25, y), (0.75, y + 0.12)], color=shade(p.c, -0.3), width=1)


def p_pad(p: Pen):
    p.rect(0.0, 0.3, 1.0, 1.0)


def p_door(p: Pen):
    p.rect(0.05, 0.0, 0.95, 1.0, r=0.04)
    p.rect(0.15, 0.08, 0.85, 0.45, fill=shade(p.c, -0.15))
    p.ellipse(0.72, 0.55, 0.84, 0.63, fill=(222, 180, 50))


BUILDING = [
    Variant("fence", ("fence", "railing", "scaffolding"), 2.4),
    Variant("flat", ("road", "path", "railway", "track", "pier", "dock", "dam", "staircase"), 3.0),
    Variant("statue", ("statue", "monument", "fountain", "well"), 0.7),
    Variant("arch", ("arch", "gate"), 1.0),
    Variant("play", ("swing", "slide", "playground"), 1.3),
    Variant("dome", ("dome", "mosque", "observatory", "capitol", "opera"), 1.1),
    Variant("spire", ("church", "temple", "pagoda", "cathedral", "chapel"), 0.75),
    Variant("wide", ("stadium", "factory", "station", "greenhouse", "mansion", "school", "hospital", "museum"), 1.5),
    Variant("tall", ("skyscraper", "apartment", "office", "hotel", "tower block"), 0.45),
    Variant("block", (), 0.8),
]


def _windows(p: Pen, x0: float, y0: float, x1: float, y1: float, cols: int, rows: int, lit: bool) -> None:
    cw, rh = (x1 - x0) / cols, (y1 - y0) / rows
    for r in range(rows):
        for c in range(cols):
            x, y = x0 + c * cw + cw * 0.25, y0 + r * rh + rh * 0.25
            p.rect(x, y, x + cw * 0.4, y + rh * 0.35, fill=WARM if lit and (r + c) % 3 == 0 else GLASS, outline=False)


def p_building(p: Pen):
    """A tall block with windows (a dome, a spire, a wide hall; a fence, a road, a statue by name)."""
    v = choose(BUILDING, p.name)
    if v.name == "fence":
        p.rect(0.0, 0.35, 1.0, 0.45, outline=False)
        p.rect(0.0, 0.7, 1.0, 0.8, outline=False)
        n = 6 + p.pick(1, 4)
        for i in range(n):
            x = i / n + 0.01
            p.poly([(x, 0.15), (x + 0.5 / n, 0.0), (x + 1.0 / n * 0.75, 0.15), (x + 0.75 / n, 1.0), (x, 1.0)])
        return
    if v.name == "flat":
        p.poly([(0.1, 0.3), (0.9, 0.3), (1.0, 1.0), (0.0, 1.0)])
        if p.has("rail", "track"):
            for i in range(6):
                y = 0.35 + i * 0.11
                p.stroke([(0.05, y), (0.95, y)], color=detail(p.c, 0.4))
        else:
            p.stroke([(0.5, 0.35), (0.5, 1.0)], color=detail(p.c, 0.5), width=max(2, p.lw))
        return
    if v.name == "statue":
        p.rect(0.15, 0.72, 0.85, 1.0, fill=shade(p.c, -0.15))
        if p.has("fountain", "well"):
            p.chord(0.05, 0.45, 0.95, 0.95, 180, 360)
            p.rect(0.42, 0.15, 0.58, 0.6)
            p.ellipse(0.25, 0.0, 0.75, 0.25, fill=(120, 180, 235))
            return
        p.ellipse(0.38, 0.0, 0.62, 0.18)
        p.rect(0.3, 0.18, 0.7, 0.5, r=0.08)
        p.thick([(0.32, 0.22), (0.15, 0.05 + p.var(1, 0, 0.2))], 0.08)
        p.rect(0.33, 0.48, 0.67, 0.74)
        return
    if v.name == "arch":
        p.rect(0.0, 0.0, 1.0, 1.0)
        p.pieslice(0.25, 0.3, 0.75, 0.8, 180, 360, fill=DARK)
        p.rect(0.25, 0.55, 0.75, 1.0, fill=DARK, outline=False)
        return
    if v.name == "play":
        p.thick([(0.1, 1.0), (0.3, 0.05), (0.5, 1.0)], 0.08)
        p.thick([(0.3, 0.05), (0.95, 0.05), (0.95, 1.0)], 0.08)
        p.poly([(0.35, 0.3), (0.45, 0.3), (0.95, 0.95), (0.8, 0.98)], fill=shade(p.c, -0.15))
        return
    tall = v.name == "tall"
    top = p.var(1, 0.05, 0.2) if tall else p.var(1, 0.22, 0.35)
    x0, x1 = (0.12, 0.88) if v.name != "wide" else (0.02, 0.98)
    p.rect(x0, top, x1, 1.0)
    if v.name == "dome":
        p.chord(0.2, top - 0.3, 0.8, top + 0.3, 180, 360, fill=shade(p.c, -0.15))
    elif v.name == "spire":
        p.poly([(0.35, top), (0.5, 0.0), (0.65, top)], fill=shade(p.c, -0.25))
    elif v.name == "block" and p.var(2) < 0.5:
        p.poly([(x0 - 0.05, top), (0.5, max(0.0, top - 0.22)), (x1 + 0.05, top)], fill=shade(p.c, -0.3))
    else:
        p.rect(x0 - 0.03, top - 0.04, x1 + 0.03, top + 0.02, fill=shade(p.c, -0.25))
    cols = 3 + p.pick(3, 2) if v.name != "wide" else 6 + p.pick(3, 3)
    rows = max(2, int((0.8 - top) / (0.12 if tall else 0.16)))
    _windows(p, x0 + 0.04, top + 0.06, x1 - 0.04, 0.8, cols, rows, p.var(4) < 0.5)
    p.rect(0.42, 0.82, 0.58, 1.0, fill=shade(p.c, -0.4))
