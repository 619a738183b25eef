"""Vehicles: cars, ships, trains, spacecraft, and the truck, bus, plane and bicycle category drawings.

The category drawings pick a shape by the words in the name (a tractor's big wheel, a helicopter's
rotor, a van's tall cab) and proportions from a stable hash of it.
"""

from __future__ import annotations

from mmthink.modalities.image.render.drawings.pen import DARK, GLASS, WARM, Pen, Variant, choose, detail, shade


def p_spaceship(p: Pen):
    p.poly([(0.0, 0.55), (0.25, 0.25), (0.8, 0.35), (1.0, 0.5), (0.8, 0.65), (0.25, 0.8)])
    p.poly([(0.3, 0.3), (0.45, 0.0), (0.6, 0.33)], fill=shade(p.c, -0.25))
    p.poly([(0.3, 0.72), (0.45, 1.0), (0.6, 0.67)], fill=shade(p.c, -0.25))
    p.ellipse(0.62, 0.42, 0.78, 0.58, fill=GLASS)


def p_battlecruiser(p: Pen):
    p.poly([(0.0, 0.6), (0.1, 0.35), (0.9, 0.4), (1.0, 0.55), (0.9, 0.75), (0.1, 0.8)])
    p.rect(0.35, 0.12, 0.55, 0.42, fill=shade(p.c, -0.2))
    p.rect(0.6, 0.22, 0.7, 0.42, fill=shade(p.c, -0.2))
    for i in range(6):
        x = 0.15 + i * 0.12
        p.rect(x, 0.55, x + 0.05, 0.62, fill=WARM, outline=False)


def p_rocket(p: Pen):
    p.rect(0.3, 0.2, 0.7, 0.82, r=0.05)
    p.poly([(0.3, 0.22), (0.5, 0.0), (0.7, 0.22)], fill=(214, 40, 40))
    p.poly([(0.3, 0.65), (0.05, 0.9), (0.3, 0.82)], fill=(214, 40, 40))
    p.poly([(0.7, 0.65), (0.95, 0.9), (0.7, 0.82)], fill=(214, 40, 40))
    p.ellipse(0.4, 0.35, 0.6, 0.45, fill=GLASS)
    p.poly([(0.38, 0.83), (0.5, 1.0), (0.62, 0.83)], fill=(250, 170, 40), outline=False)


def p_car(p: Pen):
    p.rect(0.0, 0.4, 1.0, 0.8, r=0.1)
    p.poly([(0.2, 0.42), (0.32, 0.1), (0.7, 0.1), (0.82, 0.42)])
    p.poly([(0.28, 0.4), (0.36, 0.17), (0.49, 0.17), (0.49, 0.4)], fill=GLASS)
    p.poly([(0.53, 0.4), (0.53, 0.17), (0.66, 0.17), (0.75, 0.4)], fill=GLASS)
    for x in (0.12, 0.68):
        p.ellipse(x, 0.62, x + 0.22, 1.0, fill=DARK)


BOAT = [
    Variant("motor", ("speedboat", "motorboat", "jet ski", "tugboat", "fishing boat", "paddle boat", "lifeboat"), 1.9),
    Variant("row", ("canoe", "kayak", "rowboat", "raft", "gondola", "punt"), 2.6),
    Variant("sail", (), 1.1),
]


def p_boat(p: Pen):
    """A hull with sails (a cabin and a wake for motorboats, a long low hull and oars for rowing boats)."""
    v = choose(BOAT, p.name)
    if v.name == "motor":
        p.poly([(0.0, 0.45), (1.0, 0.45), (0.85, 0.92), (0.1, 0.92)])
        p.rect(0.3, 0.12, 0.7, 0.47, r=0.05)
        p.rect(0.36, 0.2, 0.64, 0.34, fill=GLASS)
        p.stroke([(0.05, 0.8), (0.9, 0.8)], color=detail(p.c, 0.45), width=max(2, p.lw))
        p.poly([(0.85, 0.92), (1.0, 1.0), (0.1, 1.0), (0.1, 0.92)], fill=(235, 240, 245), outline=False)
        return
    if v.name == "row":
        p.thick([(0.3, 0.2), (0.45, 0.95)], 0.05, color=(150, 110, 70))
        p.chord(0.0, 0.0, 1.0, 0.95, 0, 180)
        p.rect(0.05, 0.44, 0.95, 0.52, fill=detail(p.c, 0.35), outline=False)
        return
    p.poly([(0.0, 0.72), (1.0, 0.72), (0.82, 1.0), (0.16, 1.0)])
    p.stroke([(0.16, 0.86), (0.84, 0.86)], color=detail(p.c, 0.4), width=max(2, p.lw))
    p.stroke([(0.5, 0.72), (0.5, 0.02)], color=(90, 60, 40))
    p.poly([(0.52, 0.05), (0.52, 0.68), (0.95, 0.68)])
    p.poly([(0.48, 0.15), (0.48, 0.68), (0.12, 0.68)], fill=shade(p.c, -0.08))


def p_ship(p: Pen):
    if p.has("submarine"):
        p.ellipse(0.0, 0.35, 1.0, 0.95)
        p.rect(0.4, 0.1, 0.6, 0.45, r=0.04)
        p.stroke([(0.5, 0.1), (0.5, 0.0), (0.58, 0.0)], color=DARK)
        for i in range(3):
            p.ellipse(0.2 + i * 0.22, 0.55, 0.28 + i * 0.22, 0.68, fill=GLASS)
        return
    p.poly([(0.0, 0.55), (1.0, 0.55), (0.88, 1.0), (0.08, 1.0)])
    p.rect(0.08, 0.85, 0.9, 0.93, fill=detail(p.c, 0.4), outline=False)
    p.rect(0.25, 0.25, 0.75, 0.56)
    p.rect(0.55, 0.0, 0.66, 0.28, fill=(214, 40, 40))
    for i in range(4):
        p.ellipse(0.3 + i * 0.11, 0.33, 0.36 + i * 0.11, 0.45, fill=GLASS)


def p_train(p: Pen):
    for i in range(3):
        x = i * 0.34
        p.rect(x, 0.15, x + 0.31, 0.82, r=0.06)
        p.rect(x + 0.05, 0.25, x + 0.26, 0.45, fill=GLASS)
        for dx in (0.05, 0.19):
            p.ellipse(x + dx, 0.74, x + dx + 0.08, 1.0, fill=DARK)


def _wheel(p: Pen, cx: float, cy: float, r: float) -> None:
    p.ellipse(cx - r * p.h / p.w, cy - r, cx + r * p.h / p.w, cy + r, fill=DARK)
    q = r * 0.4
    p.ellipse(cx - q * p.h / p.w, cy - q, cx + q * p.h / p.w, cy + q, fill=(170, 170, 175), outline=False)


TRUCK = [
    Variant("tank", ("tank",), 2.0),
    Variant("tractor", ("tractor", "bulldozer", "forklift"), 1.5),
    Variant("van", ("van", "ambulance", "camper"), 1.8),
    Variant("truck", (), 2.2),
]


def p_truck(p: Pen):
    """A cab and a cargo box on wheels (a tank's turret and tracks, a tractor's big wheel, a van's one body)."""
    v = choose(TRUCK, p.name)
    if v.name == "tank":
        p.rect(0.0, 0.6, 1.0, 1.0, fill=DARK, r=0.15)
        for i in range(6):
            _wheel(p, 0.1 + i * 0.16, 0.8, 0.12)
        p.rect(0.05, 0.4, 0.95, 0.68, r=0.05)
        p.rect(0.3, 0.12, 0.7, 0.44, r=0.08)
        p.rect(0.66, 0.22, 1.0, 0.3, fill=shade(p.c, -0.2))
        return
    if v.name == "tractor":
        p.rect(0.05, 0.35, 0.7, 0.72, r=0.04)
        p.rect(0.45, 0.02, 0.85, 0.5, r=0.04)
        p.rect(0.52, 0.1, 0.78, 0.36, fill=GLASS)
        p.stroke([(0.15, 0.35), (0.15, 0.12)], color=DARK)
        if p.has("bulldozer"):
            p.poly([(0.0, 0.4), (0.12, 0.35), (0.12, 0.95), (0.0, 1.0)], fill=shade(p.c, -0.25))
        _wheel(p, 0.22, 0.85, 0.14)
        _wheel(p, 0.72, 0.78, 0.21)
        return
    cab_left = p.var(1) < 0.5
    wheels = (0.2, 0.8)
    if v.name == "van":
        p.rect(0.0, 0.08, 1.0, 0.82, r=0.1)
        wx = (0.05, 0.3) if cab_left else (0.7, 0.95)
        p.rect(wx[0], 0.18, wx[1], 0.45, fill=GLASS)
        if p.has("ambulance"):
            p.rect(0.55 if cab_left else 0.2, 0.35, 0.75 if cab_left else 0.4, 0.45, fill=(214, 40, 40), outline=False)
            p.rect(0.6 if cab_left else 0.25, 0.25, 0.7 if cab_left else 0.35, 0.55, fill=(214, 40, 40), outline=False)
        p.rect(0.38, 0.18, 0.6, 0.4, fill=shade(p.c, -0.1))
    else:
        split = p.var(2, 0.28, 0.36)
        cab = (0.0, split) if cab_left else (1.0 - split, 1.0)
        box = (split + 0.02, 1.0) if cab_left else (0.0, 1.0 - split - 0.02)
        p.rect(box[0], 0.05, box[1], 0.8, r=0.03)
        p.rect(cab[0], 0.3, cab[1], 0.8, r=0.06, fill=shade(p.c, -0.12))
        gx = (cab[0] + 0.05, cab[1] - 0.08) if cab_left else (cab[0] + 0.08, cab[1] - 0.05)
        p.rect(gx[0], 0.38, gx[1], 0.55, fill=GLASS)
        if p.has("fire"):
            p.stroke([(box[0] + 0.05, 0.0), (box[1] - 0.05, 0.0)], color=(200, 200, 200), width=max(2, p.lw * 2))
        if p.has("pickup"):
            p.rect(box[0], 0.05, box[1], 0.45, fill=(0, 0, 0), outline=False)
        wheels = (0.18, 0.82)
    for x in wheels:
        _wheel(p, x, 0.84, 0.15)


def p_bus(p: Pen):
    """A long box on wheels with a row of windows and a door."""
    rows = 5 + p.pick(1, 3)
    p.rect(0.0, 0.05, 1.0, 0.85, r=0.08)
    p.rect(0.0, 0.62, 1.0, 0.7, fill=detail(p.c, 0.35), outline=False)
    w = 0.78 / rows
    for i in range(rows):
        x = 0.16 + i * w
        p.rect(x, 0.18, x + w * 0.7, 0.4, fill=GLASS)
    p.rect(0.03, 0.18, 0.12, 0.7, fill=GLASS)
    if p.has("double", "decker"):
        for i in range(rows):
            x = 0.16 + i * w
            p.rect(x, 0.45, x + w * 0.7, 0.58, fill=GLASS)
    for x in (0.2, 0.8):
        _wheel(p, x, 0.86, 0.14)


PLANE = [
    Variant("helicopter", ("helicopter",), 1.6),
    Variant("blimp", ("blimp", "zeppelin", "airship"), 2.2),
    Variant("parachute", ("parachute", "paraglider"), 1.1),
    Variant("drone", ("drone", "quadcopter"), 1.6),
    Variant("plane", (), 2.1),
]


def p_plane(p: Pen):
    """A fuselage with wings and a tail fin (a rotor, an envelope or a canopy by name)."""
    v = choose(PLANE, p.name)
    if v.name == "helicopter":
        p.stroke([(0.05, 0.08), (0.95, 0.08)], color=DARK, width=max(2, p.lw))
        p.stroke([(0.45, 0.08), (0.45, 0.25)], color=DARK)
        p.thick([(0.5, 0.5), (1.0, 0.4)], 0.1)
        p.poly([(0.92, 0.25), (1.0, 0.25), (1.0, 0.5), (0.9, 0.45)])
        p.ellipse(0.05, 0.22, 0.65, 0.8)
        p.ellipse(0.08, 0.3, 0.32, 0.55, fill=GLASS)
        p.stroke([(0.1, 0.95), (0.6, 0.95)], color=DARK)
        p.stroke([(0.2, 0.8), (0.2, 0.95)], color=DARK)
        p.stroke([(0.5, 0.8), (0.5, 0.95)], color=DARK)
        return
    if v.name == "blimp":
        p.poly([(0.8, 0.4), (1.0, 0.1), (1.0, 0.9), (0.8, 0.6)], fill=shade(p.c, -0.2))
        p.ellipse(0.0, 0.05, 0.9, 0.8)
        p.rect(0.38, 0.76, 0.55, 0.95, fill=shade(p.c, -0.25))
        return
    if v.name == "parachute":
        p.chord(0.0, 0.0, 1.0, 0.8, 180, 360)
        for x in (0.1, 0.35, 0.65, 0.9):
            p.stroke([(x, 0.4), (0.5, 0.8)], color=DARK, width=1)
        p.rect(0.44, 0.78, 0.56, 1.0, fill=(70, 70, 80))
        return
    if v.name == "drone":
        p.stroke([(0.15, 0.3), (0.85, 0.7)], color=DARK, width=max(2, p.lw * 2))
        p.stroke([(0.15, 0.7), (0.85, 0.3)], color=DARK, width=max(2, p.lw * 2))
        for x, y in ((0.15, 0.25), (0.85, 0.25), (0.15, 0.65), (0.85, 0.65)):
            p.ellipse(x - 0.15, y - 0.1, x + 0.15, y + 0.1)
        p.rect(0.22, 0.28, 0.78, 0.72, r=0.1)
        return
    sweep = p.var(1, 0.0, 0.12)
    p.poly([(0.38, 0.5), (0.55 + sweep, 0.5), (0.35 + sweep, 1.0), (0.25, 1.0)], fill=shade(p.c, -0.15))
    p.poly([(0.8, 0.45), (0.92, 0.0), (1.0, 0.0), (0.98, 0.5)], fill=shade(p.c, -0.1))
    p.poly([(0.0, 0.55), (0.1, 0.35), (0.98, 0.38), (0.98, 0.62), (0.1, 0.7)])
    n = 5 + p.pick(2, 4)
    for i in range(n):
        x = 0.2 + i * 0.6 / n
        p.ellipse(x, 0.44, x + 0.035, 0.52, fill=GLASS, outline=False)
    p.poly([(0.02, 0.5), (0.1, 0.38), (0.15, 0.5)], fill=GLASS)
    p.poly([(0.4, 0.45), (0.5 + sweep, 0.45), (0.34 + sweep, 0.08), (0.28, 0.08)], fill=shade(p.c, -0.05))
    if p.has("biplane"):
        p.rect(0.25, 0.15, 0.6, 0.24, fill=shade(p.c, -0.1))


BICYCLE = [
    Variant("motor", ("motorcycle", "scooter", "moped", "motorbike"), 1.6),
    Variant("trike", ("tricycle", "rickshaw"), 1.4),
    Variant("bicycle", (), 1.7),
]


def p_bicycle(p: Pen):
    """Two wheels and a frame (a motorcycle's tank and seat, a third wheel) in the thing's colour."""
    v = choose(BICYCLE, p.name)
    r = 0.3
    lx, rx, y = 0.22, 0.78, 0.68
    rw = r * p.h / p.w
    for x in (lx, rx):  # tyres as rings: the frame's colour shows through the spokes' gap
        p.d.ellipse(p._xy([(x - rw, y - r), (x + rw, y + r)]), outline=DARK + (255,), width=max(2, int(p.h * 0.06)))
        p.ellipse(x - rw * 0.15, y - r * 0.15, x + rw * 0.15, y + r * 0.15, fill=(170, 170, 175), outline=False)
    if v.name == "motor":
        p.poly([(0.25, 0.45), (0.4, 0.3), (0.72, 0.3), (0.8, 0.5), (0.6, 0.7), (0.35, 0.7)])
        p.rect(0.2, 0.24, 0.5, 0.34, fill=DARK, r=0.03)
        p.thick([(0.72, 0.3), (rx, y)], 0.08)
        p.thick([(0.7, 0.3), (0.75, 0.08), (0.85, 0.06)], 0.06, color=DARK)
        return
    f = 0.09
    seat = (0.38, 0.22)
    crank = (0.48, y)
    head = (0.7, 0.28)
    p.thick([(lx, y), crank, head, (rx, y)], f)
    p.thick([(lx, y), seat, crank], f)
    p.thick([seat, head], f)
    p.thick([(seat[0] - 0.08, seat[1] - 0.04), (seat[0] + 0.06, seat[1] - 0.04)], 0.07, color=DARK)
    p.thick([head, (0.72, 0.1), (0.62, 0.08)], 0.06, color=shade(p.c, -0.2))
    if v.name == "trike":
        p.rect(0.0, 0.15, 0.32, 0.45, fill=shade(p.c, -0.15), r=0.04)
