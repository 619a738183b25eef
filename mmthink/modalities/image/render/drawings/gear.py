"""Things people use, wear and read: tools, musical instruments, garments and signs.

Each category drawing picks one of a few shapes by the words in the name (a drum is not a violin, a
shoe is not a shirt, a stop sign is not a mailbox) and its proportions and details from a stable
hash of the name; the thing's own colour always covers most of the drawing.
"""

from __future__ import annotations

import math

from mmthink.modalities.image.render.drawings.pen import (
    DARK,
    GLASS,
    METAL,
    WOOD,
    Pen,
    Variant,
    choose,
    detail,
    shade,
)

SIGN = [
    Variant("stop", ("stop sign",), 0.6),
    Variant("traffic light", ("traffic light",), 0.4),
    Variant("hydrant", ("hydrant",), 0.6),
    Variant("mailbox", ("mailbox", "postbox", "trash", "bin", "parking meter"), 0.55),
    Variant("cone", ("cone",), 0.7),
    Variant("booth", ("booth", "newsstand", "bus stop", "kiosk"), 0.6),
    Variant(
        "board",
        (
            "billboard",
            "poster",
            "board",
            "mural",
            "calendar",
            "menu",
            "plaque",
            "label",
            "sticker",
            "logo",
            "scoreboard",
        ),
        1.4,
    ),
    Variant("tombstone", ("tombstone", "gravestone"), 0.8),
    Variant("post", (), 0.75),
]


def p_sign(p: Pen):
    """A board on a post (a stop sign, a traffic light, a hydrant, a mailbox, a cone, a poster by name)."""
    v = choose(SIGN, p.name)
    post = (150, 150, 155)
    if v.name == "stop":
        p.rect(0.45, 0.5, 0.55, 1.0, fill=post)
        pts = [
            (0.5 + 0.48 * math.cos(math.radians(22.5 + i * 45)), 0.3 + 0.3 * math.sin(math.radians(22.5 + i * 45)))
            for i in range(8)
        ]
        p.poly(pts)
        p.rect(0.2, 0.26, 0.8, 0.34, fill=(245, 245, 245), outline=False)
        return
    if v.name == "traffic light":
        p.rect(0.42, 0.6, 0.58, 1.0, fill=post)
        p.rect(0.05, 0.0, 0.95, 0.62, r=0.1)
        for i, c in enumerate(((214, 40, 40), (250, 210, 40), (46, 160, 67))):
            lit = c if i == p.pick(1, 3) else shade(p.c, -0.5)
            p.ellipse(0.38, 0.07 + i * 0.19, 0.62, 0.18 + i * 0.19, fill=lit, outline=False)
        return
    if v.name == "hydrant":
        p.rect(0.2, 0.2, 0.8, 0.95, r=0.06)
        p.chord(0.2, 0.0, 0.8, 0.4, 180, 360)
        p.rect(0.0, 0.4, 1.0, 0.55, r=0.05)
        p.rect(0.1, 0.9, 0.9, 1.0, fill=shade(p.c, -0.25))
        return
    if v.name == "mailbox":
        if p.has("trash", "bin"):
            p.poly([(0.05, 0.15), (0.95, 0.15), (0.85, 1.0), (0.15, 1.0)])
            p.rect(0.0, 0.05, 1.0, 0.18, fill=shade(p.c, -0.2))
            for x in (0.35, 0.5, 0.65):
                p.stroke([(x, 0.3), (x, 0.9)], color=detail(p.c, 0.3))
            return
        p.rect(0.38, 0.5, 0.62, 1.0, fill=shade(p.c, -0.2))
        p.rect(0.0, 0.05, 1.0, 0.55, r=0.2)
        p.rect(0.2, 0.2, 0.8, 0.28, fill=DARK)
        p.rect(0.85, 0.0, 0.95, 0.25, fill=(214, 40, 40) if p.c[0] < 150 else (40, 90, 210))
        return
    if v.name == "cone":
        p.poly([(0.35, 0.0), (0.65, 0.0), (0.9, 0.9), (0.1, 0.9)])
        p.poly([(0.27, 0.35), (0.73, 0.35), (0.78, 0.5), (0.22, 0.5)], fill=(245, 245, 245), outline=False)
        p.rect(0.0, 0.88, 1.0, 1.0)
        return
    if v.name == "booth":
        p.rect(0.05, 0.1, 0.95, 1.0)
        p.rect(0.0, 0.0, 1.0, 0.14, fill=shade(p.c, -0.2))
        p.rect(0.25, 0.3, 0.75, 0.62, fill=GLASS)
        p.stroke([(0.5, 0.3), (0.5, 0.62)], color=p.c, width=max(2, p.lw * 2))
        return
    if v.name == "board":
        legs = p.has("billboard", "scoreboard")
        bottom = 0.7 if legs else 1.0
        p.rect(0.0, 0.0, 1.0, bottom)
        p.rect(0.08, 0.1, 0.92, bottom - 0.1, fill=shade(p.c, 0.12))
        for i in range(2 + p.pick(1, 2)):
            y = 0.2 + i * 0.14
            p.rect(0.16, y, 0.16 + p.var(i + 2, 0.35, 0.68), y + 0.07, fill=detail(p.c, 0.45), outline=False)
        if legs:
            for x in (0.2, 0.75):
                p.rect(x, 0.7, x + 0.06, 1.0, fill=post)
        return
    if v.name == "tombstone":
        p.rect(0.1, 0.3, 0.9, 1.0)
        p.chord(0.1, 0.0, 0.9, 0.6, 180, 360)
        p.rect(0.4, 0.25, 0.6, 0.33, fill=detail(p.c, 0.4), outline=False)
        p.rect(0.46, 0.18, 0.54, 0.5, fill=detail(p.c, 0.4), outline=False)
        return
    p.rect(0.45, 0.4, 0.55, 1.0, fill=post)
    arrow = p.var(1) < 0.5
    if arrow:
        p.poly([(0.0, 0.05), (0.82, 0.05), (1.0, 0.25), (0.82, 0.45), (0.0, 0.45)])
    else:
        p.rect(0.0, 0.0, 1.0, 0.5, r=0.05)
    p.rect(0.12, 0.18, 0.12 + p.var(2, 0.4, 0.62), 0.28, fill=detail(p.c, 0.5), outline=False)


INSTRUMENT = [
    Variant("keys", ("piano", "keyboard", "synthesizer", "accordion", "organ"), 1.4),
    Variant("xylophone", ("xylophone", "marimba"), 1.5),
    Variant("drum", ("drum", "tambourine", "gong", "bongo"), 1.1),
    Variant("bell", ("bell",), 0.9),
    Variant("brass", ("trumpet", "trombone", "tuba", "horn", "bugle"), 1.7),
    Variant("wind", ("flute", "clarinet", "saxophone", "oboe", "recorder", "harmonica", "bagpipe"), 0.55),
    Variant("harp", ("harp", "lyre"), 0.8),
    Variant("microphone", ("microphone", "mic"), 0.45),
    Variant("maracas", ("maraca", "rattle"), 0.9),
    Variant("strings", (), 0.45),
]


def p_instrument(p: Pen):
    """A musical instrument: strings, keys, a drum, brass, a wind instrument, a harp or a microphone by name."""
    v = choose(INSTRUMENT, p.name)
    if v.name == "keys":
        p.rect(0.0, 0.0, 1.0, 0.72, r=0.04)
        p.rect(0.04, 0.5, 0.96, 0.66, fill=(248, 248, 245))
        n = 10 + p.pick(1, 5)
        for i in range(1, n):
            x = 0.04 + i * 0.92 / n
            p.stroke([(x, 0.5), (x, 0.66)], color=(120, 120, 120), width=1)
            if i % 7 not in (3, 0):
                p.rect(x - 0.012, 0.5, x + 0.012, 0.59, fill=DARK, outline=False)
        for x in (0.06, 0.9):
            p.rect(x, 0.68, x + 0.04, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "xylophone":
        n = 7
        for i in range(n):
            x = 0.04 + i * 0.134
            p.rect(x, 0.1 + i * 0.03, x + 0.11, 0.9 - i * 0.03, r=0.02, fill=shade(p.c, 0.1 * (i % 2)))
        return
    if v.name == "drum":
        if p.has("gong"):
            p.thick([(0.05, 1.0), (0.05, 0.02), (0.95, 0.02), (0.95, 1.0)], 0.05, color=WOOD)
            p.ellipse(0.15, 0.1, 0.85, 0.9)
            p.ellipse(0.35, 0.3, 0.65, 0.7, fill=shade(p.c, 0.3))
            return
        p.rect(0.05, 0.3, 0.95, 0.9)
        p.ellipse(0.05, 0.75, 0.95, 1.0)
        for i in range(5):
            x = 0.1 + i * 0.2
            p.stroke([(x, 0.35), (x + 0.1, 0.85)], color=(230, 230, 230))
        p.ellipse(0.05, 0.15, 0.95, 0.45, fill=(245, 240, 225))
        p.stroke([(0.6, 0.0), (0.4, 0.3)], color=WOOD, width=max(2, p.lw))
        return
    if v.name == "bell":
        p.poly([(0.3, 0.15), (0.7, 0.15), (0.8, 0.7), (1.0, 0.88), (0.0, 0.88), (0.2, 0.7)])
        p.ellipse(0.4, 0.0, 0.6, 0.18, fill=None)
        p.ellipse(0.42, 0.84, 0.58, 1.0, fill=shade(p.c, -0.3))
        return
    if v.name == "brass":
        p.rect(0.0, 0.4, 0.75, 0.52)
        p.rect(0.2, 0.52, 0.6, 0.64, fill=shade(p.c, -0.1))
        p.poly([(0.7, 0.4), (1.0, 0.1), (1.0, 0.9), (0.7, 0.55)])
        for x in (0.3, 0.4, 0.5):
            p.rect(x, 0.25, x + 0.05, 0.42, fill=shade(p.c, 0.3))
        return
    if v.name == "wind":
        if p.has("harmonica"):
            p.rect(0.0, 0.3, 1.0, 0.7, r=0.05)
            for i in range(8):
                p.rect(0.06 + i * 0.115, 0.45, 0.12 + i * 0.115, 0.55, fill=DARK, outline=False)
            return
        if p.has("saxophone"):
            p.thick([(0.55, 0.0), (0.5, 0.65), (0.6, 0.9), (0.8, 0.85), (0.85, 0.6)], 0.16)
            p.poly([(0.75, 0.6), (0.95, 0.55), (0.9, 0.7)])
            return
        p.rect(0.35, 0.0, 0.65, 0.92, r=0.1)
        for i in range(6):
            y = 0.2 + i * 0.11
            p.ellipse(0.44, y, 0.56, y + 0.06, fill=DARK, outline=False)
        p.poly([(0.3, 0.85), (0.7, 0.85), (0.8, 1.0), (0.2, 1.0)])
        return
    if v.name == "harp":
        p.poly([(0.1, 0.0), (0.95, 0.3), (0.95, 0.42), (0.22, 0.15), (0.22, 1.0), (0.1, 1.0)])
        for i in range(7):
            x = 0.3 + i * 0.09
            p.stroke([(x, 0.17 + i * 0.035), (x, 1.0)], color=(240, 230, 180), width=1)
        p.rect(0.1, 0.92, 0.95, 1.0)
        return
    if v.name == "microphone":
        p.rect(0.4, 0.42, 0.6, 0.95, r=0.05)
        p.ellipse(0.15, 0.0, 0.85, 0.48)
        for y in (0.12, 0.24, 0.36):
            p.stroke([(0.22, y), (0.78, y)], color=detail(p.c, 0.35), width=1)
        return
    if v.name == "maracas":
        for x, a in ((0.05, 0.55), (0.5, 0.45)):
            p.thick([(x + 0.2, 0.5), (x + 0.25 + (a - 0.5), 1.0)], 0.06, color=WOOD)
            p.ellipse(x, 0.0, x + 0.45, 0.55)
        return
    body = p.var(1, 0.0, 0.06)
    big = p.has("cello", "double bass", "bass")
    p.rect(0.44, 0.0, 0.56, 0.55, fill=WOOD)
    p.rect(0.4, 0.0, 0.6, 0.08, fill=DARK)
    if p.has("banjo"):
        p.ellipse(0.05, 0.45, 0.95, 1.0)
        p.ellipse(0.15, 0.52, 0.85, 0.93, fill=(245, 240, 225))
        return
    p.ellipse(0.15 + body - (0.05 if big else 0), 0.3, 0.85 - body + (0.05 if big else 0), 0.66)
    p.ellipse(0.05 + body, 0.55, 0.95 - body, 1.0)
    p.rect(0.46, 0.4, 0.54, 0.95, fill=DARK if sum(p.c) > 120 else (200, 200, 200), outline=False)
    if p.has("violin", "cello", "viola", "fiddle", "bass"):
        for x in (0.3, 0.66):
            p.stroke([(x, 0.6), (x + 0.02, 0.78)], color=DARK)
    else:
        p.ellipse(0.38, 0.62, 0.62, 0.8, fill=DARK)


GARMENT = [
    Variant("shoe", ("shoe", "boot", "sneaker", "sandal", "slipper", "roller skate", "heel"), 1.6),
    Variant("glasses", ("glass", "goggle", "spectacle", "monocle"), 2.4),  # names come singular: "sunglass"
    Variant("ring", ("ring", "necklace", "bracelet", "earring", "pendant", "crown"), 1.0),
    Variant("tie", ("tie",), 0.45),
    Variant("glove", ("glove", "mitten"), 0.8),
    Variant("sock", ("sock",), 0.6),
    Variant("dress", ("dress", "gown", "skirt", "kimono", "robe", "cape", "cloak", "apron"), 0.8),
    Variant("pants", ("pants", "trousers", "jeans", "shorts", "overalls", "pajamas", "leggings"), 0.7),
    Variant(
        "flat", ("mask", "belt", "bandana", "headband", "wallet", "ribbon", "veil", "bikini", "swimsuit", "hood"), 1.6
    ),
    Variant("shirt", (), 1.1),
]


def p_garment(p: Pen):
    """A piece of clothing: a shirt or jacket, a dress, trousers, a shoe, glasses, a ring, a tie... by name."""
    v = choose(GARMENT, p.name)
    if v.name == "shoe":
        high = p.has("boot") or p.var(1) > 0.8
        p.poly(
            [
                (0.02, 0.95),
                (0.02, 0.0 if high else 0.35),
                (0.4, 0.0 if high else 0.35),
                (0.45, 0.5),
                (0.9, 0.6),
                (1.0, 0.8),
                (1.0, 0.95),
            ]
        )
        p.rect(0.0, 0.85, 1.0, 1.0, fill=detail(p.c, 0.5) if p.has("sneaker") else shade(p.c, -0.45))
        for i in range(3):
            p.stroke([(0.42 + i * 0.08, 0.45 + i * 0.03), (0.5 + i * 0.08, 0.55 + i * 0.02)], color=detail(p.c, 0.5))
        return
    if v.name == "glasses":
        for x in (0.02, 0.56):
            p.ellipse(x, 0.2, x + 0.42, 0.85, fill=shade(p.c, -0.5) if p.has("sun") else GLASS)
        p.thick([(0.44, 0.4), (0.56, 0.4)], 0.1)
        p.d.ellipse(p._xy([(0.02, 0.2), (0.44, 0.85)]), outline=p.c + (255,), width=max(2, int(p.h * 0.14)))
        p.d.ellipse(p._xy([(0.56, 0.2), (0.98, 0.85)]), outline=p.c + (255,), width=max(2, int(p.h * 0.14)))
        return
    if v.name == "ring":
        if p.has("crown"):
            p.poly([(0.0, 1.0), (0.0, 0.2), (0.25, 0.55), (0.5, 0.05), (0.75, 0.55), (1.0, 0.2), (1.0, 1.0)])
            return
        w = max(3, int(min(p.w, p.h) * 0.16))
        p.d.ellipse(p._xy([(0.08, 0.15), (0.92, 0.95)]), outline=p.c + (255,), width=w)
        p.poly(
            [(0.5, 0.0), (0.65, 0.15), (0.5, 0.3), (0.35, 0.15)], fill=(150, 220, 245) if not p.has("necklace") else p.c
        )
        return
    if v.name == "tie":
        p.poly([(0.3, 0.0), (0.7, 0.0), (0.6, 0.15), (0.4, 0.15)], fill=shade(p.c, -0.15))
        p.poly([(0.4, 0.14), (0.6, 0.14), (0.9, 0.85), (0.5, 1.0), (0.1, 0.85)])
        if p.has("bow"):
            p.poly([(0.0, 0.0), (0.5, 0.4), (0.0, 0.8)])
        return
    if v.name == "glove":
        for i in range(4):
            x = 0.2 + i * 0.17
            p.rect(x, 0.0 + abs(1.5 - i) * 0.06, x + 0.15, 0.5, r=0.07)
        p.ellipse(0.0, 0.35, 0.3, 0.65)
        p.rect(0.18, 0.3, 0.9, 0.85, r=0.1)
        p.rect(0.22, 0.8, 0.86, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "sock":
        p.poly([(0.2, 0.0), (0.7, 0.0), (0.7, 0.6), (0.95, 0.8), (0.85, 1.0), (0.2, 1.0)])
        p.rect(0.2, 0.0, 0.7, 0.15, fill=detail(p.c, 0.4))
        return
    if v.name == "dress":
        p.poly([(0.32, 0.0), (0.68, 0.0), (0.72, 0.3), (1.0, 1.0), (0.0, 1.0), (0.28, 0.3)])
        p.rect(0.28, 0.28, 0.72, 0.36, fill=shade(p.c, -0.25))
        return
    if v.name == "pants":
        short = p.has("shorts")
        end = 0.55 if short else 1.0
        p.poly([(0.05, 0.0), (0.95, 0.0), (1.0, end), (0.56, end), (0.5, 0.3), (0.44, end), (0.0, end)])
        p.rect(0.05, 0.0, 0.95, 0.1, fill=shade(p.c, -0.25))
        return
    if v.name == "flat":
        if p.has("mask"):
            p.ellipse(0.0, 0.1, 1.0, 0.9)
            for x in (0.18, 0.58):
                p.ellipse(x, 0.3, x + 0.24, 0.52, fill=DARK)
            return
        p.rect(0.0, 0.3, 1.0, 0.7, r=0.1)
        p.rect(0.42, 0.25, 0.58, 0.75, fill=detail(p.c, 0.4))
        return
    sleeve = p.var(1, 0.35, 0.75) if not p.has("t-shirt", "vest", "tank") else 0.3
    coat = p.has("coat", "jacket", "hoodie", "raincoat", "tuxedo", "suit", "uniform")
    p.poly(
        [
            (0.22, 0.05),
            (0.0, 0.2),
            (0.0, sleeve),
            (0.2, sleeve),
            (0.22, 1.0),
            (0.78, 1.0),
            (0.8, sleeve),
            (1.0, sleeve),
            (1.0, 0.2),
            (0.78, 0.05),
        ]
    )
    p.poly([(0.38, 0.05), (0.5, 0.2), (0.62, 0.05)], fill=detail(p.c, 0.4))
    if coat:
        p.stroke([(0.5, 0.2), (0.5, 1.0)], color=detail(p.c, 0.4), width=max(2, p.lw))
        for y in (0.4, 0.6, 0.8):
            p.ellipse(0.53, y, 0.58, y + 0.05, fill=detail(p.c, 0.5), outline=False)


TOOL = [
    Variant("ladder", ("ladder",), 0.5),
    Variant("roller", ("rolling pin", "roller"), 2.6),
    Variant("cutlery", ("fork", "spoon", "chopsticks", "toothbrush"), 0.3),
    Variant("blade", ("knife", "sword", "dagger", "sickle", "saw", "scissors"), 0.35),
    Variant(
        "head",
        ("hammer", "axe", "pickaxe", "shovel", "rake", "broom", "pitchfork", "trident", "spear", "mop", "hoe"),
        0.5,
    ),
    Variant(
        "stick",
        (
            "pencil",
            "pen",
            "crayon",
            "brush",
            "wand",
            "needle",
            "nail",
            "screw",
            "ruler",
            "arrow",
            "chalk",
            "hose",
            "rope",
            "chain",
        ),
        0.3,
    ),
    Variant(
        "round", ("globe", "compass", "coin", "wheel", "shield", "magnifying", "tape measure", "clock", "palette"), 1.0
    ),
    Variant("scope", ("telescope", "microscope", "cannon", "rifle", "crossbow", "easel"), 1.0),
    Variant("lock", ("lock", "key", "padlock", "keychain", "anchor", "hook", "hourglass"), 0.65),
    Variant(
        "machine", ("mower", "wheelbarrow", "sewing", "drill", "stapler", "watering can", "paint can", "clipboard"), 1.2
    ),
    Variant("wrench", (), 0.45),
]


def p_tool(p: Pen):
    """A handle with a working end: a hammer or axe, a blade, a pencil, cutlery, a key, a globe... by name."""
    v = choose(TOOL, p.name)
    wood = WOOD if sum(p.c) > 200 and p.c != WOOD else (200, 170, 120)
    if v.name == "ladder":
        for x in (0.15, 0.85):
            p.rect(x - 0.07, 0.0, x + 0.07, 1.0)
        for i in range(5):
            y = 0.1 + i * 0.2
            p.rect(0.15, y, 0.85, y + 0.06, fill=shade(p.c, -0.1))
        return
    if v.name == "roller":
        for x in (0.0, 0.82):
            p.rect(x, 0.38, x + 0.18, 0.62, r=0.08, fill=shade(p.c, -0.15))
        p.rect(0.16, 0.15, 0.84, 0.85, r=0.12)
        return
    if v.name == "cutlery":
        p.rect(0.38, 0.4, 0.62, 1.0, r=0.1)
        if p.has("spoon"):
            p.ellipse(0.1, 0.0, 0.9, 0.45)
        elif p.has("chopsticks"):
            p.thick([(0.2, 0.0), (0.4, 1.0)], 0.2)
            p.thick([(0.8, 0.0), (0.6, 1.0)], 0.2)
        elif p.has("toothbrush"):
            p.rect(0.3, 0.0, 0.7, 0.3, fill=(245, 245, 245))
        else:
            p.rect(0.15, 0.3, 0.85, 0.45)
            for x in (0.15, 0.42, 0.68):
                p.rect(x, 0.0, x + 0.17, 0.4)
        return
    if v.name == "blade":
        if p.has("scissors"):
            for x in (0.0, 0.55):
                p.d.ellipse(p._xy([(x, 0.6), (x + 0.45, 1.0)]), outline=p.c + (255,), width=max(2, int(p.w * 0.12)))
            p.poly([(0.3, 0.65), (0.55, 0.0), (0.6, 0.05), (0.5, 0.65)], fill=METAL)
            p.poly([(0.7, 0.65), (0.45, 0.0), (0.4, 0.05), (0.5, 0.65)], fill=METAL)
            return
        p.rect(0.3, 0.62, 0.7, 0.7, fill=shade(p.c, -0.3))
        p.rect(0.38, 0.7, 0.62, 1.0, r=0.08)
        blade = shade(p.c, 0.45) if p.has("sword", "dagger", "knife") else METAL
        p.poly(
            [(0.3, 0.62), (0.3, 0.08), (0.5, 0.0), (0.7, 0.08), (0.7, 0.62)], fill=p.c if not p.has("saw") else blade
        )
        p.stroke([(0.5, 0.05), (0.5, 0.58)], color=blade, width=max(2, p.lw))
        return
    if v.name == "head":
        p.rect(0.42, 0.2, 0.58, 1.0, fill=wood if not p.has("broom", "rake", "spear", "trident") else p.c)
        if p.has("shovel", "spade"):
            p.poly([(0.2, 0.0), (0.8, 0.0), (0.8, 0.3), (0.5, 0.42), (0.2, 0.3)])
        elif p.has("rake", "pitchfork", "trident"):
            p.rect(0.05, 0.12, 0.95, 0.22)
            for i in range(5 if p.has("rake") else 3):
                x = 0.07 + i * (0.86 / (4 if p.has("rake") else 2))
                p.rect(x - 0.04, 0.0, x + 0.04, 0.18)
        elif p.has("broom", "mop"):
            p.poly([(0.3, 0.6), (0.7, 0.6), (1.0, 1.0), (0.0, 1.0)])
            for x in (0.3, 0.5, 0.7):
                p.stroke([(x, 0.68), (x + (x - 0.5) * 0.5, 0.98)], color=detail(p.c, 0.35))
        elif p.has("axe", "pickaxe"):
            p.poly([(0.5, 0.1), (0.98, 0.0), (0.9, 0.42), (0.5, 0.3)])
            if p.has("pickaxe"):
                p.poly([(0.5, 0.1), (0.02, 0.0), (0.1, 0.42), (0.5, 0.3)])
        elif p.has("spear"):
            p.poly([(0.35, 0.25), (0.5, 0.0), (0.65, 0.25)], fill=METAL)
        else:
            p.rect(0.02, 0.02, 0.98, 0.3, r=0.04)
        return
    if v.name == "stick":
        if p.has("rope", "chain", "hose"):
            pts = [(0.5 + 0.35 * math.cos(i * 0.9), 0.05 + i * 0.075) for i in range(13)]
            p.thick(pts, 0.28)
            return
        if p.has("arrow"):
            p.rect(0.4, 0.12, 0.6, 0.9)
            p.poly([(0.15, 0.22), (0.5, 0.0), (0.85, 0.22)], fill=METAL)
            p.poly([(0.4, 0.75), (0.1, 1.0), (0.4, 0.9)], fill=shade(p.c, 0.3))
            p.poly([(0.6, 0.75), (0.9, 1.0), (0.6, 0.9)], fill=shade(p.c, 0.3))
            return
        p.poly([(0.3, 0.15), (0.7, 0.15), (0.7, 0.85), (0.3, 0.85)])
        tip = (235, 200, 150) if p.has("pencil", "crayon") else shade(p.c, -0.3)
        p.poly([(0.3, 0.85), (0.7, 0.85), (0.5, 1.0)], fill=tip)
        p.rect(0.3, 0.0, 0.7, 0.15, fill=(240, 150, 160) if p.has("pencil") else shade(p.c, -0.2))
        if p.has("wand"):
            p.rect(0.3, 0.0, 0.7, 0.12, fill=(245, 245, 245))
        return
    if v.name == "round":
        p.ellipse(0.02, 0.02, 0.98, 0.98)
        if p.has("globe"):
            p.ellipse(0.2, 0.2, 0.55, 0.5, fill=(46, 160, 67), outline=False)
            p.ellipse(0.5, 0.55, 0.8, 0.8, fill=(46, 160, 67), outline=False)
        elif p.has("magnifying"):
            p.ellipse(0.15, 0.15, 0.85, 0.85, fill=GLASS)
        elif p.has("wheel"):
            p.ellipse(0.25, 0.25, 0.75, 0.75, fill=shade(p.c, 0.35))
            for a in range(0, 180, 45):
                r = math.radians(a)
                p.stroke(
                    [
                        (0.5 - 0.45 * math.cos(r), 0.5 - 0.45 * math.sin(r)),
                        (0.5 + 0.45 * math.cos(r), 0.5 + 0.45 * math.sin(r)),
                    ]
                )
        else:
            p.ellipse(0.2, 0.2, 0.8, 0.8, fill=shade(p.c, 0.25))
            p.poly([(0.5, 0.22), (0.56, 0.5), (0.5, 0.78), (0.44, 0.5)], fill=detail(p.c, 0.5))
        return
    if v.name == "scope":
        p.thick([(0.3, 1.0), (0.5, 0.55), (0.7, 1.0)], 0.05, color=DARK)
        p.poly([(0.0, 0.55), (0.9, 0.1), (1.0, 0.3), (0.1, 0.75)])
        p.rect(0.85, 0.05, 1.0, 0.35, fill=shade(p.c, -0.25))
        return
    if v.name == "lock":
        if p.has("key"):
            p.ellipse(0.15, 0.0, 0.85, 0.4)
            p.ellipse(0.38, 0.12, 0.62, 0.28, fill=(0, 0, 0))
            p.rect(0.42, 0.35, 0.58, 1.0)
            for y in (0.7, 0.85):
                p.rect(0.58, y, 0.8, y + 0.08)
            return
        if p.has("anchor", "hook"):
            p.thick([(0.5, 0.1), (0.5, 0.9)], 0.14)
            p.thick([(0.1, 0.6), (0.2, 0.85), (0.5, 0.95), (0.8, 0.85), (0.9, 0.6)], 0.12)
            p.thick([(0.25, 0.25), (0.75, 0.25)], 0.12)
            return
        if p.has("hourglass"):
            p.poly([(0.15, 0.1), (0.85, 0.1), (0.52, 0.5), (0.85, 0.9), (0.15, 0.9), (0.48, 0.5)], fill=(235, 240, 245))
            p.poly([(0.3, 0.9), (0.7, 0.9), (0.5, 0.7)], fill=(240, 210, 150), outline=False)
            for x in (0.02, 0.82):
                p.rect(x, 0.05, x + 0.16, 0.95)
            p.rect(0.0, 0.0, 1.0, 0.14)
            p.rect(0.0, 0.86, 1.0, 1.0)
            return
        p.d.arc(p._xy([(0.2, 0.0), (0.8, 0.7)]), 180, 360, fill=METAL + (255,), width=max(2, int(p.w * 0.12)))
        p.rect(0.0, 0.35, 1.0, 1.0, r=0.1)
        p.ellipse(0.42, 0.55, 0.58, 0.72, fill=DARK)
        return
    if v.name == "machine":
        p.rect(0.05, 0.15, 0.95, 0.8, r=0.08)
        p.rect(0.2, 0.0, 0.5, 0.18, fill=shade(p.c, -0.2))
        for x in (0.2, 0.8):
            p.ellipse(x - 0.12, 0.72, x + 0.12, 1.0, fill=DARK)
        return
    p.thick([(0.5, 0.3), (0.5, 1.0)], 0.38)
    jaw = p.var(1, 0.3, 0.45)
    p.ellipse(0.05, 0.0, 0.95, jaw + 0.05)
    p.rect(0.38, 0.0, 0.62, jaw * 0.6, fill=(0, 0, 0), outline=False)
