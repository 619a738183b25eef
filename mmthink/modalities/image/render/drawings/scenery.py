"""Sky, land and plants: sun, moon, stars, clouds, mountains, trees, flowers, and the rock drawing."""

from __future__ import annotations

import math

from mmthink.modalities.image.render.drawings.pen import Pen, Variant, choose, detail, shade, star_points


def p_sun(p: Pen):
    p.ellipse(0.08, 0.08, 0.92, 0.92)


def p_moon(p: Pen):
    p.ellipse(0.05, 0.05, 0.95, 0.95)
    for x, y, r in ((0.35, 0.35, 0.1), (0.6, 0.55, 0.08), (0.45, 0.7, 0.06)):
        p.ellipse(x - r, y - r, x + r, y + r, fill=shade(p.c, -0.12), outline=False)


def p_star(p: Pen):
    p.poly(star_points(0.5, 0.5, 0.5, 0.2))


def p_cloud(p: Pen):
    for x0, y0, x1, y1 in ((0.0, 0.35, 0.45, 0.95), (0.25, 0.05, 0.72, 0.85), (0.55, 0.3, 1.0, 0.95)):
        p.ellipse(x0, y0, x1, y1, outline=False)
    p.rect(0.15, 0.6, 0.85, 0.95, outline=False)


def p_planet(p: Pen):
    p.ellipse(0.04, 0.04, 0.96, 0.96)
    for y, f in ((0.32, 0.18), (0.52, -0.15), (0.7, 0.12)):
        p.stroke([(0.15, y), (0.5, y + 0.05), (0.85, y)], color=shade(p.c, f), width=max(2, int(p.h * 0.05)))


def p_nebula(p: Pen):
    for x0, y0, x1, y1, f in ((0.0, 0.2, 0.6, 0.9, 0.0), (0.3, 0.0, 1.0, 0.7, 0.2), (0.2, 0.35, 0.8, 1.0, -0.2)):
        p.ellipse(x0, y0, x1, y1, fill=shade(p.c, f), outline=False)


def p_explosion(p: Pen):
    p.poly(star_points(0.5, 0.5, 0.5, 0.28, n=9))
    p.poly(star_points(0.5, 0.5, 0.28, 0.14, n=7, rot=-70), fill=(255, 230, 120), outline=False)


def p_laser(p: Pen):
    p.rect(0.0, 0.3, 1.0, 0.7, r=0.3, outline=False)


def p_mountain(p: Pen):
    if p.has("volcano"):  # a cut-off cone with lava at the crater
        p.poly([(0.0, 1.0), (0.38, 0.12), (0.62, 0.12), (1.0, 1.0)])
        p.poly([(0.38, 0.12), (0.62, 0.12), (0.58, 0.3), (0.52, 0.22), (0.46, 0.4), (0.42, 0.24)], fill=(245, 110, 30))
        p.ellipse(0.4, 0.0, 0.6, 0.12, fill=(150, 150, 155), outline=False)
        return
    p.poly([(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)])
    p.poly([(0.36, 0.28), (0.5, 0.0), (0.64, 0.28), (0.55, 0.24), (0.5, 0.3), (0.44, 0.24)], fill=(245, 245, 245))


def p_iceberg(p: Pen):
    p.poly([(0.0, 1.0), (0.15, 0.4), (0.35, 0.5), (0.5, 0.0), (0.7, 0.35), (0.85, 0.3), (1.0, 1.0)])
    p.poly([(0.5, 0.0), (0.6, 0.6), (0.7, 0.35)], fill=shade(p.c, -0.15), outline=False)


def p_tree(p: Pen):
    p.rect(0.42, 0.55, 0.58, 1.0, fill=(120, 80, 45))
    for x0, y0, x1, y1 in ((0.05, 0.2, 0.6, 0.7), (0.4, 0.2, 0.95, 0.7), (0.2, 0.0, 0.8, 0.5)):
        p.ellipse(x0, y0, x1, y1)


def p_flower(p: Pen):
    p.stroke([(0.5, 0.45), (0.5, 1.0)], color=(46, 140, 67))
    p.ellipse(0.55, 0.6, 0.9, 0.75, fill=(46, 160, 67))
    for a in range(0, 360, 60):
        cx, cy = 0.5 + 0.22 * math.cos(math.radians(a)), 0.28 + 0.17 * math.sin(math.radians(a))
        p.ellipse(cx - 0.2, cy - 0.14, cx + 0.2, cy + 0.14)
    p.ellipse(0.38, 0.19, 0.62, 0.37, fill=(250, 210, 40))


PLANT = [
    Variant("mushroom", ("mushroom", "toadstool"), 1.0),
    Variant("leaf", ("leaf", "clover"), 1.0),
    Variant("blades", ("bamboo", "reed", "grass", "weed", "herb", "seaweed", "vine", "ivy"), 0.7),
    Variant("bush", ("bush", "hedge", "moss", "shrub"), 1.6),
    Variant("cactus", ("cactus", "succulent"), 0.7),
    Variant("potted", (), 0.75),
]


def p_plant(p: Pen):
    """Leaves in a pot (a mushroom, a leaf, blades of grass or bamboo, a bush, a cactus by name)."""
    v = choose(PLANT, p.name)
    if v.name == "mushroom":
        p.rect(0.36, 0.45, 0.64, 1.0, r=0.06, fill=(240, 230, 210))
        p.chord(0.0, 0.0, 1.0, 1.0, 180, 360)
        for x, y in ((0.25, 0.25), (0.55, 0.15), (0.7, 0.35)):
            p.ellipse(x, y, x + 0.1, y + 0.08, fill=shade(p.c, 0.7), outline=False)
        return
    if v.name == "leaf":
        p.poly([(0.5, 0.0), (0.92, 0.35), (0.8, 0.75), (0.5, 0.92), (0.2, 0.75), (0.08, 0.35)])
        p.stroke([(0.5, 0.05), (0.5, 1.0)], color=detail(p.c, 0.35), width=max(2, p.lw))
        return
    if v.name == "blades":
        n = 4 + p.pick(1, 3)
        for i in range(n):
            x = 0.1 + i * 0.8 / (n - 1)
            p.poly([(x - 0.1, 1.0), (x + p.var(i, -0.1, 0.1), p.var(i + 8, 0.0, 0.25)), (x + 0.1, 1.0)], outline=False)
        return
    if v.name == "bush":
        for x0, y0, x1, y1 in ((0.0, 0.3, 0.5, 1.0), (0.5, 0.3, 1.0, 1.0), (0.2, 0.0, 0.8, 0.8)):
            p.ellipse(x0, y0, x1, y1)
        return
    if v.name == "cactus":
        p.rect(0.35, 0.05, 0.65, 0.85, r=0.12)
        p.thick([(0.35, 0.5), (0.12, 0.5), (0.12, 0.25)], 0.14)
        p.thick([(0.65, 0.4), (0.88, 0.4), (0.88, 0.15)], 0.14)
        p.poly([(0.3, 0.82), (0.7, 0.82), (0.65, 1.0), (0.35, 1.0)], fill=(184, 115, 51))
        return
    lean = p.var(1, -0.08, 0.08)
    p.poly([(0.45, 0.6), (0.02 + lean, 0.05), (0.35, 0.45)])
    p.poly([(0.55, 0.6), (0.98 + lean, 0.05), (0.65, 0.45)])
    for x0, y0, x1, y1 in ((0.05, 0.3, 0.55, 0.85), (0.45, 0.3, 0.95, 0.85), (0.2 + lean, 0.05, 0.8 + lean, 0.65)):
        p.ellipse(x0, y0, x1, y1)
    p.poly([(0.34, 0.8), (0.66, 0.8), (0.62, 1.0), (0.38, 1.0)], fill=(184, 115, 51))


ROCK = [
    Variant("crystal", ("crystal", "gem", "diamond", "quartz"), 0.8),
    Variant("wood", ("log", "stump", "trunk"), 1.6),
    Variant("water", ("puddle", "pond", "pool"), 2.6),
    Variant("rock", (), 1.4),
]


def p_rock(p: Pen):
    """A rounded lump with cracks (a crystal's facets, a log's rings, a puddle's flat shine by name)."""
    v = choose(ROCK, p.name)
    if v.name == "crystal":
        for dx, hgt, f in ((0.0, 0.45, -0.15), (0.55, 0.35, -0.1), (0.25, 0.0, 0.0)):
            p.poly(
                [(dx + 0.05, 1.0), (dx + 0.05, hgt + 0.15), (dx + 0.2, hgt), (dx + 0.38, hgt + 0.15), (dx + 0.38, 1.0)],
                fill=shade(p.c, f),
            )
        return
    if v.name == "wood":
        if p.has("stump"):
            p.rect(0.15, 0.25, 0.85, 1.0)
            p.ellipse(0.15, 0.1, 0.85, 0.4, fill=shade(p.c, 0.3))
            p.ellipse(0.35, 0.18, 0.65, 0.32, fill=None)
            return
        p.rect(0.1, 0.15, 0.9, 0.9)
        p.ellipse(0.75, 0.15, 1.0, 0.9, fill=shade(p.c, 0.3))
        p.ellipse(0.82, 0.35, 0.94, 0.7, fill=None)
        for y in (0.35, 0.6):
            p.stroke([(0.15, y), (0.7, y + 0.03)], color=shade(p.c, -0.3))
        return
    if v.name == "water":
        p.ellipse(0.0, 0.3, 1.0, 1.0)
        p.ellipse(0.2, 0.45, 0.55, 0.6, fill=shade(p.c, 0.35), outline=False)
        return
    n = 9
    pts = []

    for i in range(n):
        a = math.pi * (1 + i / (n - 1))
        r = 0.45 + p.var(i, -0.06, 0.05)
        pts.append((0.5 + r * math.cos(a), 0.95 + (0.9 + p.var(i + 9, -0.1, 0.05)) * math.sin(a)))
    p.poly([(0.02, 0.97), *pts, (0.98, 0.97)])
    p.poly([(0.3, 0.3), (0.45, 0.15), (0.6, 0.35)], fill=shade(p.c, 0.2), outline=False)
    p.stroke([(0.5, 0.5), (0.58, 0.65), (0.52, 0.8)], color=detail(p.c, 0.35))
