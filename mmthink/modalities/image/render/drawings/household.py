"""Things of the house: food, bottles, devices with screens, furniture and clocks.

Each category drawing picks one of a few shapes by the words in the name (a laptop is not a fridge,
a cake is not a carrot) and its proportions and details from a stable hash of the name; the thing's
own colour always covers most of the drawing, so the critic can measure it.
"""

from __future__ import annotations

import math

from mmthink.modalities.image.render.drawings.pen import (
    DARK,
    GLASS,
    METAL,
    WARM,
    Pen,
    Variant,
    choose,
    detail,
    shade,
)


def p_clock(p: Pen):
    """A round face with hour marks and two hands."""
    p.ellipse(0.02, 0.02, 0.98, 0.98)
    p.ellipse(0.27, 0.27, 0.73, 0.73, fill=shade(p.c, 0.75) if sum(p.c) < 600 else (250, 250, 245))
    for i in range(12):
        a = math.radians(i * 30)
        p.stroke(
            [(0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)), (0.5 + 0.34 * math.cos(a), 0.5 + 0.34 * math.sin(a))],
            color=DARK,
        )
    t = p.var(1, 0, 2 * math.pi)
    p.stroke([(0.5, 0.5), (0.5 + 0.18 * math.cos(t), 0.5 + 0.18 * math.sin(t))], color=DARK, width=max(2, p.lw))
    p.stroke([(0.5, 0.5), (0.5, 0.22)], color=DARK, width=max(1, p.lw // 2 + 1))


FOOD = [
    Variant(
        "stack", ("burger", "hamburger", "sandwich", "cake", "pancake", "waffle", "cupcake", "muffin", "macaron"), 1.1
    ),
    Variant("wedge", ("pizza", "pie", "cheese", "watermelon slice"), 1.2),
    Variant(
        "long",
        (
            "carrot",
            "hot dog",
            "corn",
            "cucumber",
            "zucchini",
            "sausage",
            "bread",
            "loaf",
            "baguette",
            "eggplant",
            "burrito",
            "taco",
            "croissant",
            "chocolate",
            "pretzel",
            "fries",
            "bacon",
            "pepper",
        ),
        1.8,
    ),
    Variant("cone", ("ice cream", "cone", "lollipop"), 0.6),
    Variant(
        "bowl",
        (
            "soup",
            "noodle",
            "salad",
            "ramen",
            "curry",
            "rice",
            "cereal",
            "pasta",
            "spaghetti",
            "pudding",
            "popcorn",
            "peas",
            "spinach",
        ),
        1.4,
    ),
    Variant("round", (), 1.2),
]


def p_food(p: Pen):
    """A food item: a rounded item on a plate, a layered stack, a wedge, a long piece, a cone or a bowl."""
    v = choose(FOOD, p.name)
    plate = (245, 245, 240)
    if v.name == "stack":
        layers = 2 + p.pick(1, 3)
        lh = 0.7 / layers
        for i in range(layers):
            y = 0.2 + i * lh
            f = 0.0 if i % 2 == 0 else (-0.25 if p.has("burger", "sandwich") else 0.3)
            p.rect(0.05, y, 0.95, y + lh * 0.95, r=0.06, fill=shade(p.c, f))
        p.chord(0.05, 0.02, 0.95, 0.4, 180, 360)
        if p.has("cake", "cupcake", "birthday"):
            for i in range(1 + p.pick(2, 3)):
                x = 0.3 + i * 0.15
                p.rect(x, 0.0, x + 0.05, 0.15, fill=WARM)
        p.ellipse(0.0, 0.88, 1.0, 1.0, fill=plate)
        return
    if v.name == "wedge":
        p.poly([(0.05, 0.15), (0.95, 0.05), (0.55, 0.95)])
        p.poly([(0.05, 0.15), (0.95, 0.05), (0.9, 0.18), (0.1, 0.27)], fill=detail(p.c, 0.3))
        for i in range(3):
            x, y = p.var(i, 0.3, 0.65), p.var(i + 4, 0.3, 0.5)
            p.ellipse(x, y, x + 0.1, y + 0.1, fill=shade(p.c, -0.3), outline=False)
        return
    if v.name == "long":
        tilt = p.var(1, -0.15, 0.15)
        if p.has("carrot", "pepper"):
            p.poly([(0.05, 0.3 + tilt), (0.05, 0.7 + tilt), (1.0, 0.5 - tilt)])
            p.poly([(0.05, 0.45 + tilt), (0.0, 0.2 + tilt), (0.12, 0.4 + tilt)], fill=(46, 160, 67))
            return
        p.ellipse(0.0, 0.25 + tilt / 2, 1.0, 0.78 - tilt / 2)
        for i in range(3):
            x = 0.25 + i * 0.22
            p.stroke([(x, 0.35), (x + 0.06, 0.65)], color=detail(p.c, 0.3))
        return
    if v.name == "cone":
        if p.has("lollipop"):
            p.rect(0.46, 0.5, 0.54, 1.0, fill=(245, 245, 240))
            p.ellipse(0.05, 0.0, 0.95, 0.6)
            p.stroke([(0.2, 0.3), (0.5, 0.15), (0.8, 0.3)], color=shade(p.c, 0.5))
            return
        p.poly([(0.2, 0.45), (0.8, 0.45), (0.5, 1.0)], fill=(215, 170, 100))
        p.ellipse(0.1, 0.0, 0.9, 0.58)
        p.ellipse(0.3, 0.1, 0.5, 0.25, fill=shade(p.c, 0.35), outline=False)
        return
    if v.name == "bowl":
        p.ellipse(0.0, 0.02, 1.0, 0.78)
        for i in range(4):
            x, y = p.var(i, 0.2, 0.7), p.var(i + 5, 0.12, 0.35)
            p.ellipse(x, y, x + 0.12, y + 0.1, fill=shade(p.c, 0.25 * (1 - 2 * (i % 2))), outline=False)
        p.chord(0.06, 0.1, 0.94, 1.0, 0, 180, fill=(235, 235, 230))
        return
    p.ellipse(0.0, 0.72, 1.0, 1.0, fill=plate)
    lump = p.var(2, 0.0, 0.15)
    p.ellipse(0.12 + lump / 2, 0.08 + lump, 0.88 - lump / 2, 0.88)
    p.ellipse(0.3, 0.2 + lump, 0.5, 0.35 + lump, fill=shade(p.c, 0.35), outline=False)
    if p.has("donut", "bagel"):
        p.ellipse(0.4, 0.38, 0.6, 0.55, fill=plate)
    if p.has("egg"):
        p.ellipse(0.43, 0.43, 0.57, 0.57, fill=(250, 200, 40))


BOTTLE = [
    Variant("jar", ("jar", "can", "shaker", "tin"), 0.75),
    Variant("pitcher", ("pitcher", "jug"), 0.9),
    Variant("flask", ("flask", "potion"), 0.75),
    Variant("bottle", (), 0.4),
]


def p_bottle(p: Pen):
    """A tall container with a neck (a jar's lid, a pitcher's spout, a potion flask by name)."""
    v = choose(BOTTLE, p.name)
    if v.name == "jar":
        p.rect(0.08, 0.15, 0.92, 1.0, r=0.1)
        p.rect(0.12, 0.0, 0.88, 0.16, fill=METAL if not p.has("can") else shade(p.c, -0.2))
        p.rect(0.08, 0.45, 0.92, 0.7, fill=detail(p.c, 0.35))
        return
    if v.name == "pitcher":
        p.ellipse(0.72, 0.25, 1.0, 0.7, fill=None)
        p.poly([(0.15, 0.05), (0.8, 0.05), (0.85, 1.0), (0.1, 1.0)])
        p.poly([(0.0, 0.0), (0.2, 0.05), (0.18, 0.2)])
        return
    if v.name == "flask":
        p.rect(0.38, 0.0, 0.62, 0.35, fill=shade(p.c, 0.3))
        p.ellipse(0.0, 0.25, 1.0, 1.0)
        p.ellipse(0.2, 0.4, 0.4, 0.55, fill=shade(p.c, 0.5), outline=False)
        return
    shoulder = p.var(1, 0.25, 0.45)
    neck = p.var(2, 0.12, 0.2)
    p.rect(0.5 - neck, 0.06, 0.5 + neck, shoulder + 0.05)
    p.rect(0.5 - neck - 0.03, 0.0, 0.5 + neck + 0.03, 0.08, fill=DARK if sum(p.c) > 200 else METAL)
    p.poly(
        [
            (0.5 - neck, shoulder),
            (0.5 + neck, shoulder),
            (0.95, shoulder + 0.15),
            (0.95, 1.0),
            (0.05, 1.0),
            (0.05, shoulder + 0.15),
        ]
    )
    p.rect(0.05, 0.55, 0.95, 0.75, fill=detail(p.c, 0.4))


SCREEN = [
    Variant("laptop", ("laptop", "notebook computer"), 1.3),
    Variant("phone", ("phone", "tablet", "calculator", "remote", "walkie", "smartwatch", "watch", "gameboy"), 0.55),
    Variant("tv", ("television", "tv", "monitor", "computer", "screen", "projector", "arcade", "jukebox"), 1.3),
    Variant(
        "appliance",
        (
            "microwave",
            "oven",
            "stove",
            "refrigerator",
            "fridge",
            "washing",
            "dishwasher",
            "vending",
            "toaster",
            "printer",
            "air conditioner",
            "coffee machine",
            "blender",
            "console",
            "router",
        ),
        1.0,
    ),
    Variant("camera", ("camera",), 1.4),
    Variant("headphones", ("headphone", "earphone"), 1.0),
    Variant("fan", ("fan",), 0.8),
    Variant("device", (), 1.2),
]


def p_screen(p: Pen):
    """A device with a screen or a panel: a TV, a laptop, a phone, an appliance, a camera... by name."""
    v = choose(SCREEN, p.name)
    scr = (30, 40, 60)
    if v.name == "laptop":
        p.rect(0.12, 0.0, 0.88, 0.7, r=0.04)
        p.rect(0.26, 0.12, 0.74, 0.48, fill=scr)
        p.poly([(0.12, 0.7), (0.88, 0.7), (1.0, 0.95), (0.0, 0.95)], fill=shade(p.c, -0.1))
        p.rect(0.0, 0.93, 1.0, 1.0, fill=shade(p.c, -0.25))
        return
    if v.name == "phone":
        p.rect(0.05, 0.0, 0.95, 1.0, r=0.12)
        p.rect(0.26, 0.16, 0.74, 0.56, fill=scr, r=0.03)
        p.ellipse(0.42, 0.78, 0.58, 0.9, fill=shade(p.c, -0.25))
        return
    if v.name == "tv":
        p.rect(0.0, 0.0, 1.0, 0.82, r=0.04)
        p.rect(0.2, 0.16, 0.8, 0.6, fill=scr)
        p.ellipse(0.25, 0.22, 0.4, 0.32, fill=(70, 90, 130), outline=False)
        p.rect(0.4, 0.82, 0.6, 0.92, fill=shade(p.c, -0.2))
        p.rect(0.25, 0.92, 0.75, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "appliance":
        tall = p.has("refrigerator", "fridge", "vending", "washing", "dishwasher")
        p.rect(0.05, 0.0, 0.95, 1.0, r=0.05)
        if tall:
            p.stroke([(0.05, 0.4), (0.95, 0.4)], color=p.line)
            p.rect(0.78, 0.1, 0.84, 0.3, fill=METAL)
            p.rect(0.78, 0.5, 0.84, 0.75, fill=METAL)
            if p.has("washing", "dishwasher"):
                p.ellipse(0.25, 0.48, 0.75, 0.9, fill=scr)
            return
        p.rect(0.12, 0.15, 0.62, 0.65, fill=scr)
        for i in range(3):
            p.ellipse(0.72, 0.18 + i * 0.16, 0.84, 0.3 + i * 0.16, fill=detail(p.c, 0.4))
        return
    if v.name == "camera":
        p.rect(0.25, 0.05, 0.5, 0.25, fill=shade(p.c, -0.2))
        p.rect(0.0, 0.18, 1.0, 0.95, r=0.08)
        p.ellipse(0.32, 0.3, 0.7, 0.85, fill=DARK)
        p.ellipse(0.42, 0.42, 0.6, 0.72, fill=GLASS)
        return
    if v.name == "headphones":
        p.d.arc(p._xy([(0.1, 0.0), (0.9, 0.9)]), 180, 360, fill=p.c + (255,), width=max(3, int(p.h * 0.1)))
        for x in (0.02, 0.7):
            p.rect(x, 0.45, x + 0.28, 0.95, r=0.1)
        return
    if v.name == "fan":
        p.rect(0.45, 0.55, 0.55, 0.92, fill=shade(p.c, -0.2))
        p.rect(0.2, 0.9, 0.8, 1.0, fill=shade(p.c, -0.2))
        p.ellipse(0.0, 0.0, 1.0, 0.75)
        for a in range(0, 360, 120):
            r = math.radians(a + p.var(1, 0, 90))
            p.ellipse(
                0.5 + 0.2 * math.cos(r) - 0.12,
                0.37 + 0.16 * math.sin(r) - 0.1,
                0.5 + 0.2 * math.cos(r) + 0.12,
                0.37 + 0.16 * math.sin(r) + 0.1,
                fill=shade(p.c, 0.35),
            )
        return
    p.rect(0.0, 0.1, 1.0, 0.95, r=0.08)
    p.rect(0.1, 0.22, 0.55, 0.55, fill=scr)
    p.ellipse(0.65, 0.25, 0.9, 0.75, fill=detail(p.c, 0.35))
    for i in range(3):
        p.rect(0.12 + i * 0.14, 0.68, 0.2 + i * 0.14, 0.8, fill=detail(p.c, 0.4), outline=False)
    p.stroke([(0.8, 0.1), (0.9, 0.0)], color=DARK)


FURNITURE = [
    Variant("couch", ("couch", "sofa", "armchair", "ottoman", "seat"), 1.8),
    Variant("bed", ("bed", "crib", "hammock"), 1.7),
    Variant("frame", ("mirror", "picture", "painting", "frame", "window"), 0.85),
    Variant("soft", ("rug", "carpet", "blanket", "curtain", "pillow", "towel", "mat"), 1.4),
    Variant("bath", ("bathtub", "bath", "sink", "toilet"), 1.4),
    Variant("fireplace", ("fireplace", "stove"), 1.1),
    Variant("shelf", ("bookshelf", "shelf", "bookcase"), 0.8),
    Variant("cabinet", (), 0.9),
]


def p_furniture(p: Pen):
    """A box-like piece of furniture: a cabinet with drawers, a couch, a bed, a shelf, a frame... by name."""
    v = choose(FURNITURE, p.name)
    if v.name == "couch":
        p.rect(0.05, 0.1, 0.95, 0.6, r=0.08)
        p.rect(0.0, 0.45, 1.0, 0.85, r=0.06, fill=shade(p.c, -0.08))
        for x in (0.0, 0.86):
            p.rect(x, 0.3, x + 0.14, 0.85, r=0.05)
        p.stroke([(0.5, 0.5), (0.5, 0.82)], color=detail(p.c, 0.3))
        for x in (0.06, 0.9):
            p.rect(x, 0.85, x + 0.05, 1.0, fill=DARK)
        return
    if v.name == "bed":
        p.rect(0.0, 0.0, 0.12, 1.0, fill=shade(p.c, -0.25))
        p.rect(0.0, 0.45, 1.0, 0.85)
        p.rect(0.12, 0.3, 0.35, 0.48, r=0.05, fill=(245, 245, 240))
        p.rect(0.3, 0.4, 1.0, 0.62, fill=shade(p.c, 0.2))
        p.rect(0.92, 0.35, 1.0, 1.0, fill=shade(p.c, -0.25))
        return
    if v.name == "frame":
        p.rect(0.0, 0.0, 1.0, 1.0)
        inner = GLASS if p.has("mirror", "window") else shade(p.c, 0.6)
        p.rect(0.28, 0.26, 0.72, 0.74, fill=inner)
        if not p.has("mirror", "window"):
            p.poly(
                [(0.28, 0.74), (0.42, 0.52), (0.55, 0.64), (0.72, 0.46), (0.72, 0.74)],
                fill=shade(p.c, -0.2),
                outline=False,
            )
        return
    if v.name == "soft":
        if p.has("curtain"):
            for i in range(4):
                p.poly(
                    [(i * 0.25, 0.0), (i * 0.25 + 0.25, 0.0), (i * 0.25 + 0.22, 1.0), (i * 0.25 + 0.03, 1.0)],
                    fill=shade(p.c, -0.1 * (i % 2)),
                )
            return
        if p.has("pillow"):
            p.rect(0.0, 0.15, 1.0, 0.85, r=0.25)
            return
        p.poly([(0.1, 0.3), (0.9, 0.3), (1.0, 0.9), (0.0, 0.9)])
        for i in range(3):
            y = 0.42 + i * 0.15
            p.stroke([(0.08, y), (0.92, y)], color=detail(p.c, 0.4), width=max(2, p.lw))
        return
    if v.name == "bath":
        if p.has("toilet"):
            p.rect(0.05, 0.0, 0.45, 0.55, r=0.05)
            p.ellipse(0.1, 0.4, 0.95, 0.7)
            p.poly([(0.35, 0.6), (0.8, 0.6), (0.7, 1.0), (0.4, 1.0)])
            return
        p.chord(0.0, -0.4, 1.0, 1.0, 0, 180)
        p.rect(0.0, 0.2, 1.0, 0.32, fill=shade(p.c, -0.1))
        p.thick([(0.85, 0.2), (0.85, 0.0), (0.75, 0.0)], 0.05, color=METAL)
        return
    if v.name == "fireplace":
        p.rect(0.0, 0.0, 1.0, 1.0)
        p.rect(0.0, 0.0, 1.0, 0.15, fill=shade(p.c, -0.2))
        p.pieslice(0.2, 0.3, 0.8, 1.3, 180, 360, fill=DARK)
        p.rect(0.2, 0.8, 0.8, 1.0, fill=DARK, outline=False)
        p.poly([(0.35, 1.0), (0.5, 0.6), (0.65, 1.0)], fill=(245, 130, 32), outline=False)
        return
    if v.name == "shelf":
        p.rect(0.0, 0.0, 1.0, 1.0)
        for i in range(3):
            y0 = 0.06 + i * 0.31
            p.rect(0.06, y0, 0.94, y0 + 0.25, fill=DARK)
            for j in range(8):
                x = 0.08 + j * 0.107
                top = y0 + p.var(i * 8 + j, 0.02, 0.09)
                p.rect(x, top, x + 0.1, y0 + 0.25, fill=shade(p.c, 0.12 * ((i + j) % 2)), outline=False)
        return
    rows = 2 + p.pick(1, 3)
    p.rect(0.02, 0.0, 0.98, 0.92)
    for r in range(rows):
        y = 0.06 + r * 0.84 / rows
        p.rect(0.08, y, 0.92, y + 0.84 / rows - 0.05, fill=shade(p.c, 0.08))
        p.rect(0.44, y + 0.1, 0.56, y + 0.16, fill=METAL, outline=False)
    for x in (0.05, 0.88):
        p.rect(x, 0.9, x + 0.07, 1.0, fill=shade(p.c, -0.3))
