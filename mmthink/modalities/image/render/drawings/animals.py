"""Living things: people, animals and the figures drawn like them.

The category drawings (``quadruped``, ``insect``, ``reptile``) vary by name: a few shapes picked by
the words in the name (a long neck, antlers, a shell, wings) and proportions from a stable hash of
it, so a giraffe, a goat and a kangaroo are three different pictures in their own colours.
"""

from __future__ import annotations

from mmthink.modalities.image.render.drawings.pen import (
    DARK,
    GLASS,
    SKIN,
    Pen,
    Variant,
    choose,
    detail,
    shade,
    star_points,
)


def p_person(p: Pen):
    if p.has("snowman", "snowmen", "snow man"):  # three balls of snow, coal eyes, a carrot nose, stick arms
        p.ellipse(0.12, 0.5, 0.88, 1.0)
        p.ellipse(0.22, 0.22, 0.78, 0.6)
        p.ellipse(0.32, 0.0, 0.68, 0.28)
        for x in (0.42, 0.55):
            p.ellipse(x, 0.08, x + 0.05, 0.12, fill=(30, 30, 30), outline=False)
        p.poly([(0.48, 0.14), (0.62, 0.17), (0.48, 0.19)], fill=(235, 120, 30), outline=False)
        for y in (0.32, 0.42, 0.56):
            p.ellipse(0.48, y, 0.53, y + 0.04, fill=(30, 30, 30), outline=False)
        p.stroke([(0.24, 0.36), (0.02, 0.24)], color=(110, 70, 40), width=max(1, int(p.h * 0.02)))
        p.stroke([(0.76, 0.36), (0.98, 0.24)], color=(110, 70, 40), width=max(1, int(p.h * 0.02)))
        return
    skin = SKIN
    p.ellipse(0.3, 0.0, 0.7, 0.22, fill=skin)
    p.rect(0.22, 0.22, 0.78, 0.65, r=0.1)
    p.rect(0.25, 0.62, 0.47, 1.0, fill=shade(p.c, -0.4))
    p.rect(0.53, 0.62, 0.75, 1.0, fill=shade(p.c, -0.4))
    p.rect(0.05, 0.25, 0.22, 0.58, r=0.05)
    p.rect(0.78, 0.25, 0.95, 0.58, r=0.05)


def p_astronaut(p: Pen):
    p.rect(0.2, 0.28, 0.8, 0.7, r=0.1)
    p.ellipse(0.22, 0.0, 0.78, 0.34)
    p.ellipse(0.32, 0.08, 0.68, 0.26, fill=(40, 60, 110))
    p.rect(0.24, 0.66, 0.47, 1.0, r=0.04)
    p.rect(0.53, 0.66, 0.76, 1.0, r=0.04)
    p.rect(0.02, 0.3, 0.2, 0.6, r=0.05)
    p.rect(0.8, 0.3, 0.98, 0.6, r=0.05)
    p.rect(0.38, 0.38, 0.62, 0.5, fill=(214, 40, 40))


def p_robot(p: Pen):
    p.rect(0.2, 0.05, 0.8, 0.35, r=0.05)
    p.ellipse(0.3, 0.12, 0.42, 0.24, fill=(40, 200, 220))
    p.ellipse(0.58, 0.12, 0.7, 0.24, fill=(40, 200, 220))
    p.stroke([(0.5, 0.05), (0.5, 0.0)])
    p.rect(0.15, 0.38, 0.85, 0.75, r=0.05)
    p.rect(0.0, 0.4, 0.13, 0.7, r=0.03)
    p.rect(0.87, 0.4, 1.0, 0.7, r=0.03)
    p.rect(0.25, 0.75, 0.45, 1.0)
    p.rect(0.55, 0.75, 0.75, 1.0)


def p_cat(p: Pen):
    p.ellipse(0.2, 0.4, 0.9, 0.95)
    p.ellipse(0.0, 0.2, 0.42, 0.62)
    p.poly([(0.03, 0.3), (0.06, 0.08), (0.18, 0.24)])
    p.poly([(0.24, 0.24), (0.36, 0.08), (0.39, 0.3)])
    p.stroke([(0.88, 0.7), (1.0, 0.35)], width=max(2, int(p.h * 0.08)), color=p.c)
    for x in (0.12, 0.26):
        p.ellipse(x, 0.36, x + 0.06, 0.44, fill=(60, 160, 60))


def p_dog(p: Pen):
    p.ellipse(0.2, 0.35, 0.85, 0.8)
    p.ellipse(0.0, 0.15, 0.38, 0.55)
    p.ellipse(0.02, 0.12, 0.14, 0.45, fill=shade(p.c, -0.3))
    for x in (0.28, 0.7):
        p.rect(x, 0.7, x + 0.09, 1.0)
    p.stroke([(0.85, 0.5), (1.0, 0.3)], width=max(2, int(p.h * 0.06)), color=p.c)
    p.ellipse(0.06, 0.3, 0.12, 0.36, fill=DARK)


def p_bird(p: Pen):
    p.ellipse(0.15, 0.35, 0.8, 0.8)
    p.ellipse(0.6, 0.2, 0.95, 0.55)
    p.poly([(0.93, 0.35), (1.0, 0.42), (0.92, 0.45)], fill=(245, 160, 30))
    p.poly([(0.3, 0.5), (0.55, 0.0), (0.6, 0.5)], fill=shade(p.c, -0.25))
    p.poly([(0.18, 0.55), (0.0, 0.4), (0.02, 0.7)], fill=shade(p.c, -0.25))


FISH = [
    Variant("tentacles", ("octopus", "squid", "jellyfish", "kraken"), 0.9),
    Variant("claws", ("crab", "lobster", "shrimp", "prawn", "crayfish"), 1.5),
    Variant("star", ("starfish", "sea star"), 1.0),
    Variant("seahorse", ("seahorse",), 0.6),
    Variant("seal", ("seal", "walrus", "sea lion", "otter"), 1.7),
    Variant("ray", ("stingray", "manta"), 1.3),
    Variant("coral", ("coral", "anemone"), 1.0),
    Variant("fish", (), 1.7),
]


def p_fish(p: Pen):
    """A fish (tentacles, claws, a star, a seahorse, a seal's body, a ray or coral by name)."""
    v = choose(FISH, p.name)
    if v.name == "tentacles":
        n = 6 if not p.has("jelly") else 5
        for i in range(n):
            x = 0.12 + i * 0.76 / (n - 1)
            p.thick([(x, 0.5), (x + p.var(i, -0.12, 0.12), 0.75), (x, 0.98)], 0.07)
        if p.has("jelly"):
            p.chord(0.05, 0.0, 0.95, 1.0, 180, 360)
        else:
            p.ellipse(0.15, 0.0, 0.85, 0.65)
        for x in (0.33, 0.57):
            p.ellipse(x, 0.3, x + 0.1, 0.42, fill=(250, 250, 245), outline=False)
            p.ellipse(x + 0.03, 0.33, x + 0.07, 0.4, fill=DARK, outline=False)
        return
    if v.name == "claws":
        for i in range(3):
            x = 0.3 + i * 0.15
            p.stroke([(x, 0.6), (x - 0.08, 0.95)], width=max(2, p.lw))
            p.stroke([(x + 0.1, 0.6), (x + 0.18, 0.95)], width=max(2, p.lw))
        for x in (0.0, 0.78):
            p.pieslice(x, 0.0, x + 0.22, 0.35, 200, 520)
        p.thick([(0.15, 0.3), (0.3, 0.45)], 0.06)
        p.thick([(0.85, 0.3), (0.7, 0.45)], 0.06)
        p.ellipse(0.2, 0.3, 0.8, 0.8)
        return
    if v.name == "star":
        p.poly(star_points(0.5, 0.52, 0.48, 0.2 + p.var(1, 0.0, 0.06)))
        return
    if v.name == "seahorse":
        p.thick([(0.58, 0.7), (0.62, 0.92), (0.45, 0.98), (0.36, 0.86)], 0.16)
        p.poly([(0.8, 0.35), (1.0, 0.45), (0.82, 0.6)], fill=shade(p.c, -0.15))
        p.ellipse(0.3, 0.22, 0.85, 0.78, outline=False)
        p.poly([(0.4, 0.1), (0.0, 0.13), (0.0, 0.23), (0.4, 0.24)], outline=False)
        p.ellipse(0.3, 0.0, 0.75, 0.34, outline=False)
        p.ellipse(0.48, 0.1, 0.56, 0.18, fill=DARK, outline=False)
        return
    if v.name == "seal":
        p.poly([(0.75, 0.7), (1.0, 0.55), (1.0, 0.95), (0.75, 0.9)])
        p.ellipse(0.1, 0.35, 0.85, 0.95)
        p.ellipse(0.0, 0.1, 0.35, 0.5)
        p.ellipse(0.3, 0.75, 0.5, 0.98, fill=shade(p.c, -0.15))
        p.ellipse(0.06, 0.22, 0.11, 0.28, fill=DARK, outline=False)
        if p.has("walrus"):
            p.poly([(0.08, 0.42), (0.1, 0.7), (0.13, 0.42)], fill=(245, 240, 225))
        return
    if v.name == "ray":
        p.thick([(0.5, 0.6), (0.55, 1.0)], 0.04)
        p.poly([(0.5, 0.0), (1.0, 0.45), (0.5, 0.7), (0.0, 0.45)])
        return
    if v.name == "coral":
        for i in range(5):
            x = 0.1 + i * 0.2
            p.thick([(0.5, 1.0), (x, 0.45), (x + p.var(i, -0.1, 0.1), 0.05)], 0.1)
        return
    tail = p.var(1, 0.05, 0.2)
    p.ellipse(0.2, 0.1 + tail / 2, 0.95, 0.9 - tail / 2)
    p.poly([(0.28, 0.5), (0.0, tail), (0.0, 1.0 - tail)], fill=shade(p.c, -0.2))
    p.poly([(0.45, 0.15 + tail / 2), (0.6, 0.0), (0.7, 0.18 + tail / 2)], fill=shade(p.c, -0.2))
    p.ellipse(0.72, 0.3, 0.82, 0.45, fill=DARK)


def p_owl(p: Pen):
    p.ellipse(0.05, 0.15, 0.95, 1.0)
    p.poly([(0.1, 0.25), (0.2, 0.0), (0.35, 0.2)])
    p.poly([(0.65, 0.2), (0.8, 0.0), (0.9, 0.25)])
    p.ellipse(0.5, 0.5, 0.9, 0.95, fill=shade(p.c, 0.35), outline=False)
    for x in (0.2, 0.55):
        p.ellipse(x, 0.25, x + 0.25, 0.5, fill=(250, 240, 200))
        p.ellipse(x + 0.08, 0.32, x + 0.17, 0.43, fill=DARK)
    p.poly([(0.45, 0.45), (0.55, 0.45), (0.5, 0.58)], fill=(245, 160, 30))


def p_whale(p: Pen):
    p.ellipse(0.0, 0.2, 0.85, 0.95)
    p.poly([(0.8, 0.55), (1.0, 0.25), (0.95, 0.6), (1.0, 0.9)])
    p.ellipse(0.1, 0.6, 0.7, 0.92, fill=shade(p.c, 0.35), outline=False)
    p.ellipse(0.15, 0.42, 0.21, 0.5, fill=(245, 245, 245))


def p_penguin(p: Pen):
    p.ellipse(0.1, 0.15, 0.9, 1.0)
    p.ellipse(0.28, 0.35, 0.72, 0.95, fill=(245, 245, 245), outline=False)
    p.ellipse(0.25, 0.0, 0.75, 0.35)
    p.poly([(0.45, 0.2), (0.6, 0.25), (0.45, 0.28)], fill=(245, 160, 30))
    p.ellipse(0.5, 0.12, 0.58, 0.2, fill=(245, 245, 245))


def p_fox(p: Pen):
    p.ellipse(0.25, 0.4, 0.85, 0.85)
    p.poly([(0.0, 0.45), (0.15, 0.15), (0.4, 0.25), (0.42, 0.55)])
    p.poly([(0.14, 0.18), (0.18, 0.0), (0.3, 0.2)])
    p.poly([(0.75, 0.6), (1.0, 0.35), (0.98, 0.7), (0.8, 0.8)])
    p.poly([(0.93, 0.42), (1.0, 0.35), (0.99, 0.52)], fill=(245, 245, 245), outline=False)
    for x in (0.35, 0.7):
        p.rect(x, 0.78, x + 0.06, 1.0, fill=DARK)


def p_dragon(p: Pen):
    p.poly([(0.35, 0.45), (0.55, 0.0), (0.6, 0.45)], fill=shade(p.c, -0.25))
    p.ellipse(0.25, 0.4, 0.75, 0.8)
    p.poly([(0.7, 0.55), (1.0, 0.8), (0.7, 0.72)])
    p.poly([(0.3, 0.5), (0.12, 0.25), (0.0, 0.3), (0.12, 0.42), (0.28, 0.62)])
    p.poly([(0.45, 0.48), (0.3, 0.02), (0.62, 0.46)], fill=shade(p.c, -0.15))
    p.ellipse(0.04, 0.28, 0.08, 0.33, fill=(250, 210, 40))


QUADRUPED = [
    Variant("long neck", ("giraffe", "camel", "llama", "alpaca", "dinosaur", "unicorn"), 0.95),
    Variant("trunk", ("elephant", "mammoth"), 1.3),
    Variant("upright", ("kangaroo", "monkey", "gorilla", "chimpanzee", "orangutan", "meerkat", "sloth"), 0.8),
    Variant("winged", ("bat",), 1.8),
    Variant("small", ("mouse", "rat", "hamster", "rabbit", "hare", "squirrel", "hedgehog", "guinea pig"), 1.3),
    Variant("antlers", ("deer", "moose", "elk", "reindeer"), 1.15),
    Variant("horns", ("cow", "bull", "ox", "goat", "bison", "rhino", "buffalo", "yak", "ram"), 1.4),
    Variant("four legs", (), 1.4),
]


def _legs(p: Pen, xs: list[float], top: float, f: float) -> None:
    for i, x in enumerate(xs):
        p.thick([(x, top), (x + (0.015 if i % 2 else -0.015), 0.98)], f, color=shade(p.c, -0.08 * (i % 2)))


def p_quadruped(p: Pen):
    """Four legs, a body, a head on the left and a tail: proportions from the name."""
    v = choose(QUADRUPED, p.name)
    stripes = p.has("zebra", "tiger")
    spots = p.has("cow", "giraffe", "leopard", "cheetah", "dalmatian", "panda")
    if v.name == "upright":
        p.ellipse(0.25, 0.3, 0.75, 0.85)
        p.ellipse(0.32, 0.02, 0.68, 0.36)
        p.thick([(0.3, 0.45), (0.12, 0.6 + p.var(1, 0, 0.2))], 0.09)
        p.thick([(0.7, 0.45), (0.88, 0.6 + p.var(2, 0, 0.2))], 0.09)
        p.thick([(0.38, 0.8), (0.3, 0.99)], 0.11)
        p.thick([(0.62, 0.8), (0.72, 0.99)], 0.11)
        if p.has("kangaroo"):
            p.thick([(0.7, 0.8), (0.98, 0.98)], 0.08)
            p.poly([(0.35, 0.1), (0.38, -0.0), (0.45, 0.08)])
            p.poly([(0.55, 0.08), (0.62, 0.0), (0.65, 0.1)])
        p.ellipse(0.38, 0.12, 0.62, 0.3, fill=shade(p.c, 0.35), outline=False)
        for x in (0.42, 0.54):
            p.ellipse(x, 0.13, x + 0.05, 0.18, fill=DARK, outline=False)
        return
    if v.name == "winged":
        p.poly([(0.5, 0.4), (0.0, 0.1), (0.1, 0.5), (0.05, 0.8), (0.5, 0.6)])
        p.poly([(0.5, 0.4), (1.0, 0.1), (0.9, 0.5), (0.95, 0.8), (0.5, 0.6)])
        p.ellipse(0.38, 0.3, 0.62, 0.8)
        p.poly([(0.4, 0.35), (0.42, 0.18), (0.48, 0.32)])
        p.poly([(0.52, 0.32), (0.58, 0.18), (0.6, 0.35)])
        return
    small = v.name == "small"
    top = p.var(3, 0.28, 0.4) if v.name != "long neck" else p.var(3, 0.42, 0.52)
    bottom = top + p.var(4, 0.28, 0.36) + (0.08 if small else 0)
    legtop = bottom - 0.06
    x0, x1 = 0.22 + p.var(5, -0.04, 0.04), 0.9 - p.var(6, 0.0, 0.06)
    if not small:
        _legs(p, [x0 + 0.08, x0 + 0.2, x1 - 0.2, x1 - 0.08], legtop, 0.075 + p.var(7, 0.0, 0.04))
    else:
        _legs(p, [x0 + 0.12, x1 - 0.12], legtop, 0.1)
    tail = p.var(8, 0.0, 1.0)
    p.thick([(x1 - 0.03, top + 0.08), (0.99, top + 0.05 + tail * 0.25)], 0.05 if not small else 0.08)
    if p.has("camel"):
        p.ellipse(x0 + 0.15, top - 0.14, x0 + 0.4, top + 0.12)
        if not p.has("dromedary"):
            p.ellipse(x0 + 0.38, top - 0.12, x0 + 0.6, top + 0.12)
    if p.has("hedgehog", "porcupine", "echidna"):
        n = 9
        for i in range(n):
            x = x0 + 0.04 + i * (x1 - x0 - 0.08) / (n - 1)
            p.poly([(x - 0.05, top + 0.12), (x + 0.02, top - 0.1), (x + 0.06, top + 0.12)], fill=shade(p.c, -0.25))
    p.ellipse(x0, top, x1, bottom)
    if stripes:
        for i in range(5):
            x = x0 + 0.12 + i * (x1 - x0 - 0.2) / 4
            p.thick([(x, top + 0.03), (x + 0.03, bottom - 0.04)], 0.035, color=DARK)
    if spots:
        for i in range(4):
            cx, cy = x0 + 0.15 + p.var(10 + i, 0, x1 - x0 - 0.3), top + 0.05 + p.var(14 + i, 0, bottom - top - 0.15)
            p.ellipse(cx, cy, cx + 0.08, cy + 0.07, fill=detail(p.c, 0.45), outline=False)
    if v.name == "long neck":
        hx, hy = 0.04, 0.02
        p.poly([(x0 + 0.02, top + 0.12), (hx + 0.1, hy + 0.1), (hx + 0.2, hy + 0.12), (x0 + 0.16, top + 0.06)])
    else:
        hx, hy = 0.0 + p.var(9, 0.0, 0.04), top - p.var(9, 0.05, 0.14)
    hw, hh = (0.3, 0.26) if not small else (0.3, 0.3)
    p.ellipse(hx, hy, hx + hw, hy + hh)
    if v.name == "trunk":
        p.thick([(hx + 0.04, hy + hh * 0.6), (hx + 0.02, hy + hh + 0.25), (hx + 0.07, hy + hh + 0.32)], 0.07)
        p.ellipse(hx + 0.12, hy - 0.02, hx + 0.34, hy + hh + 0.06, fill=shade(p.c, -0.12))
    elif v.name == "antlers":
        for dx in (0.08, 0.18):
            p.stroke(
                [(hx + dx, hy + 0.02), (hx + dx - 0.04, hy - 0.12), (hx + dx - 0.09, hy - 0.18)], color=(150, 110, 70)
            )
            p.stroke([(hx + dx - 0.04, hy - 0.1), (hx + dx + 0.03, hy - 0.17)], color=(150, 110, 70))
    elif v.name == "horns":
        for dx in (0.06, 0.2):
            p.poly(
                [(hx + dx, hy + 0.04), (hx + dx + 0.02, hy - 0.08), (hx + dx + 0.05, hy + 0.04)], fill=(235, 225, 200)
            )
    else:
        ear = 0.1 if not (p.has("rabbit", "hare", "donkey")) else 0.22
        p.poly([(hx + 0.12, hy + 0.05), (hx + 0.15, hy - ear), (hx + 0.22, hy + 0.06)])
    if p.has("unicorn"):
        p.poly([(hx + 0.1, hy + 0.02), (hx + 0.02, hy - 0.2), (hx + 0.15, hy + 0.02)], fill=(250, 210, 40))
    if p.has("lion"):
        p.ellipse(hx - 0.02, hy - 0.05, hx + hw + 0.04, hy + hh + 0.06, fill=shade(p.c, -0.25))
        p.ellipse(hx + 0.03, hy + 0.02, hx + hw - 0.02, hy + hh - 0.01)
    p.ellipse(hx + 0.06, hy + hh * 0.3, hx + 0.1, hy + hh * 0.3 + 0.05, fill=DARK, outline=False)
    p.ellipse(hx - 0.01, hy + hh * 0.55, hx + 0.04, hy + hh * 0.75, fill=DARK, outline=False)


INSECT = [
    Variant("butterfly", ("butterfly", "moth"), 1.3),
    Variant("round", ("ladybug", "ladybird", "beetle"), 1.15),
    Variant("spider", ("spider", "scorpion", "crab spider"), 1.3),
    Variant("crawler", ("caterpillar", "worm", "snail", "slug", "centipede"), 2.0),
    Variant("flyer", ("bee", "wasp", "fly", "mosquito", "firefly", "dragonfly", "hornet"), 1.4),
    Variant("insect", (), 1.4),
]


def p_insect(p: Pen):
    """A small body in segments with legs; wings for flyers, a round shell for beetles, a snail's house."""
    v = choose(INSECT, p.name)
    if v.name == "butterfly":
        lift = p.var(1, -0.05, 0.05)
        p.poly([(0.5, 0.45), (0.08, 0.02 + lift), (0.02, 0.45), (0.5, 0.55)])
        p.poly([(0.5, 0.45), (0.92, 0.02 + lift), (0.98, 0.45), (0.5, 0.55)])
        p.poly([(0.5, 0.5), (0.12, 0.95), (0.45, 0.85)], fill=shade(p.c, -0.15))
        p.poly([(0.5, 0.5), (0.88, 0.95), (0.55, 0.85)], fill=shade(p.c, -0.15))
        for x in (0.2, 0.8):
            p.ellipse(x - 0.06, 0.2, x + 0.06, 0.32, fill=detail(p.c, 0.5), outline=False)
        p.rect(0.46, 0.2, 0.54, 0.88, fill=DARK, r=0.03)
        p.stroke([(0.48, 0.2), (0.4, 0.02)], color=DARK)
        p.stroke([(0.52, 0.2), (0.6, 0.02)], color=DARK)
        return
    if v.name == "crawler":
        if p.has("snail", "slug"):
            p.poly([(0.0, 0.95), (0.1, 0.7), (0.9, 0.8), (1.0, 0.95)], fill=shade(p.c, 0.25))
            p.ellipse(0.3, 0.1, 0.9, 0.85)
            for r in (0.2, 0.12):
                p.ellipse(0.6 - r, 0.47 - r, 0.6 + r, 0.47 + r, fill=shade(p.c, -0.2 + r))
            p.stroke([(0.08, 0.75), (0.04, 0.55)], color=DARK)
            return
        n = 5 + p.pick(1, 3)
        for i in range(n):
            x = 0.02 + i * 0.96 / n
            wave = 0.12 * (i % 2)
            p.ellipse(x, 0.35 - wave, x + 1.4 / n, 0.95 - wave, outline=i == 0)
        p.ellipse(0.0 + 0.96 - 1.3 / n, 0.18, 1.0, 0.7)
        return
    if v.name == "spider":
        for i in range(4):
            y = 0.35 + i * 0.12
            p.stroke([(0.5, 0.55), (0.15, y - 0.2), (0.0, y + 0.2)], color=DARK, width=max(2, p.lw))
            p.stroke([(0.5, 0.55), (0.85, y - 0.2), (1.0, y + 0.2)], color=DARK, width=max(2, p.lw))
        p.ellipse(0.3, 0.4, 0.7, 0.95)
        p.ellipse(0.38, 0.15, 0.62, 0.45)
        if p.has("scorpion"):
            p.thick([(0.5, 0.95), (0.8, 0.85), (0.85, 0.3), (0.7, 0.2)], 0.07)
        return
    for i in range(3):  # six legs under the body
        x = 0.35 + i * 0.15
        p.stroke([(x, 0.6), (x - 0.08, 0.98)], color=DARK, width=max(2, p.lw))
        p.stroke([(x, 0.6), (x + 0.05, 0.98)], color=DARK, width=max(2, p.lw))
    if v.name == "round":
        p.ellipse(0.15, 0.2, 0.95, 0.92)
        p.stroke([(0.55, 0.22), (0.55, 0.9)], color=DARK, width=max(2, p.lw))
        for i in range(3 + p.pick(2, 3)):
            cx, cy = p.var(3 + i, 0.25, 0.8), p.var(8 + i, 0.3, 0.75)
            p.ellipse(cx - 0.05, cy - 0.05, cx + 0.05, cy + 0.05, fill=DARK, outline=False)
        p.ellipse(0.0, 0.38, 0.24, 0.7, fill=DARK)
        return
    if v.name == "flyer":
        p.ellipse(0.25, 0.0, 0.55, 0.5, fill=shade(GLASS, 0.4))
        p.ellipse(0.5, 0.05, 0.8, 0.5, fill=shade(GLASS, 0.3))
    p.ellipse(0.38, 0.3, 1.0, 0.85)
    if p.has("bee", "wasp", "hornet"):
        for x in (0.55, 0.72, 0.88):
            p.thick([(x, 0.33), (x, 0.82)], 0.07, color=DARK)
    p.ellipse(0.2, 0.35, 0.45, 0.75, fill=shade(p.c, -0.15))
    p.ellipse(0.0, 0.35, 0.24, 0.68, fill=shade(p.c, -0.3))
    p.stroke([(0.1, 0.36), (0.02, 0.12)], color=DARK)


REPTILE = [
    Variant("shell", ("turtle", "tortoise"), 1.6),
    Variant("frog", ("frog", "toad"), 1.25),
    Variant("snake", ("snake", "cobra", "python", "viper", "serpent", "eel"), 2.2),
    Variant("snout", ("crocodile", "alligator", "caiman"), 2.6),
    Variant("lizard", (), 2.0),
]


def p_reptile(p: Pen):
    """A long, low body with a tail; a shell, a frog's crouch or a snake's coils by name."""
    v = choose(REPTILE, p.name)
    if v.name == "shell":
        for x in (0.22, 0.68):
            p.ellipse(x, 0.65, x + 0.13, 0.98, fill=shade(p.c, 0.2))
        p.ellipse(0.0, 0.45, 0.24, 0.75, fill=shade(p.c, 0.2))
        p.chord(0.12, 0.05, 0.92, 1.3, 180, 360)
        p.rect(0.12, 0.66, 0.92, 0.8, fill=shade(p.c, -0.25))
        for x in (0.3, 0.5, 0.7):
            p.poly([(x - 0.08, 0.45), (x, 0.3), (x + 0.08, 0.45), (x, 0.6)], fill=shade(p.c, -0.15))
        return
    if v.name == "frog":
        p.ellipse(0.0, 0.55, 0.35, 0.98)
        p.ellipse(0.65, 0.55, 1.0, 0.98)
        p.ellipse(0.12, 0.25, 0.88, 0.92)
        for x in (0.18, 0.6):
            p.ellipse(x, 0.08, x + 0.22, 0.38)
            p.ellipse(x + 0.06, 0.16, x + 0.14, 0.28, fill=DARK, outline=False)
        p.stroke([(0.3, 0.6), (0.5, 0.66), (0.7, 0.6)], color=DARK)
        return
    if v.name == "snake":
        amp = p.var(1, 0.18, 0.3)
        pts = [(0.05 + i * 0.09, 0.55 + (amp if i % 2 else -amp) * (0.3 + i / 12)) for i in range(11)]
        p.thick(pts, 0.2, color=p.line)
        p.thick(pts, 0.15)
        p.ellipse(0.0, 0.1, 0.2, 0.5)
        p.ellipse(0.05, 0.2, 0.09, 0.26, fill=DARK, outline=False)
        return
    long = v.name == "snout"
    p.poly([(0.7, 0.5), (1.0, 0.6 + p.var(1, -0.1, 0.1)), (0.7, 0.72)])
    for x in (0.3, 0.62):
        p.thick([(x, 0.62), (x - 0.06, 0.95)], 0.1)
    p.ellipse(0.2, 0.38, 0.78, 0.78)
    if long:
        p.poly([(0.0, 0.52), (0.28, 0.42), (0.28, 0.68), (0.0, 0.62)])
        for i in range(5):
            x = 0.04 + i * 0.05
            p.poly([(x, 0.62), (x + 0.02, 0.68), (x + 0.04, 0.62)], fill=(245, 245, 235), outline=False)
    else:
        p.ellipse(0.0, 0.4 - p.var(2, 0, 0.08), 0.28, 0.66)
    p.ellipse(0.1, 0.45, 0.15, 0.51, fill=DARK, outline=False)
    for i in range(4):
        x = 0.3 + i * 0.11
        p.ellipse(x, 0.46, x + 0.06, 0.52, fill=shade(p.c, -0.2), outline=False)
