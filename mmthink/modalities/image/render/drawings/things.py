"""Small everyday things: tableware, lamps, toys, hats, flags, balls and containers.

The ``ball`` and ``container`` category drawings pick a shape by the words in the name (a skateboard,
a trophy, a suitcase, a teddy bear) and details from a stable hash of it.
"""

from __future__ import annotations

from mmthink.modalities.image.render.drawings.pen import (
    DARK,
    METAL,
    Pen,
    Variant,
    choose,
    detail,
    shade,
)


def p_apple(p: Pen):
    p.ellipse(0.05, 0.15, 0.95, 1.0)
    p.stroke([(0.5, 0.2), (0.55, 0.0)], color=(100, 70, 40))
    p.ellipse(0.55, 0.02, 0.85, 0.18, fill=(46, 160, 67))


CUP = [
    Variant("flat", ("plate", "tray", "napkin", "cutting board", "saucer", "platter"), 2.2),
    Variant("stem", ("wine", "goblet", "chalice", "cocktail", "champagne", "martini"), 0.65),
    Variant("glass", ("glass", "juice", "milk", "lemonade", "smoothie", "milkshake", "soda", "beer"), 0.7),
    Variant("teapot", ("teapot", "kettle"), 1.3),
    Variant("mug", (), 1.0),
]


def p_cup(p: Pen):
    """A mug with a handle (a plate, a stemmed glass, a tumbler, a teapot by name)."""
    v = choose(CUP, p.name)
    if v.name == "flat":
        p.ellipse(0.0, 0.3, 1.0, 0.9)
        p.ellipse(0.2, 0.42, 0.8, 0.78, fill=shade(p.c, 0.25) if not p.has("board", "tray") else shade(p.c, -0.1))
        return
    if v.name == "stem":
        p.rect(0.44, 0.5, 0.56, 0.92, fill=shade(p.c, 0.2))
        p.ellipse(0.2, 0.86, 0.8, 1.0, fill=shade(p.c, 0.2))
        p.chord(0.05, -0.45, 0.95, 0.6, 0, 180)
        return
    if v.name == "glass":
        p.poly([(0.1, 0.0), (0.9, 0.0), (0.8, 1.0), (0.2, 1.0)], fill=(225, 235, 240))
        p.poly([(0.13, 0.2), (0.87, 0.2), (0.8, 0.97), (0.2, 0.97)])
        return
    if v.name == "teapot":
        p.thick([(0.78, 0.45), (1.0, 0.15)], 0.1)
        p.d.arc(p._xy([(0.0, 0.25), (0.35, 0.8)]), 90, 270, fill=p.c + (255,), width=max(2, int(p.h * 0.08)))
        p.ellipse(0.12, 0.2, 0.88, 1.0)
        p.chord(0.3, 0.05, 0.7, 0.45, 180, 360, fill=shade(p.c, -0.15))
        return
    p.d.arc(p._xy([(0.55, 0.3), (1.0, 0.75)]), 270, 450, fill=p.c + (255,), width=max(2, int(p.w * 0.09)))
    p.poly([(0.05, 0.1), (0.75, 0.1), (0.68, 1.0), (0.12, 1.0)])
    p.ellipse(0.05, 0.02, 0.75, 0.2, fill=shade(p.c, -0.3))


def p_book(p: Pen):
    p.rect(0.05, 0.05, 0.95, 0.95, r=0.04)
    p.rect(0.05, 0.05, 0.18, 0.95, fill=shade(p.c, -0.3))
    p.rect(0.3, 0.25, 0.8, 0.35, fill=shade(p.c, 0.5), outline=False)


def p_table(p: Pen):
    p.rect(0.0, 0.0, 1.0, 0.16)
    for x in (0.06, 0.86):
        p.rect(x, 0.14, x + 0.08, 1.0, fill=shade(p.c, -0.2))


def p_chair(p: Pen):
    p.rect(0.1, 0.0, 0.25, 0.6)
    p.rect(0.1, 0.45, 0.9, 0.58)
    for x in (0.12, 0.78):
        p.rect(x, 0.55, x + 0.1, 1.0, fill=shade(p.c, -0.2))


def p_lamp(p: Pen):
    p.poly([(0.2, 0.0), (0.8, 0.0), (1.0, 0.4), (0.0, 0.4)])
    p.rect(0.45, 0.38, 0.55, 0.92, fill=(90, 90, 95))
    p.rect(0.25, 0.9, 0.75, 1.0, fill=(90, 90, 95))


def p_candle(p: Pen):
    p.rect(0.25, 0.35, 0.75, 1.0)
    p.ellipse(0.3, 0.0, 0.7, 0.35, fill=(255, 200, 60))


def p_balloon(p: Pen):
    if p.has("hot air", "hot-air", "airship", "blimp", "zeppelin"):  # an envelope over a hanging basket
        p.ellipse(0.0, 0.0, 1.0, 0.7)
        for x in (0.3, 0.5, 0.7):
            p.stroke([(x, 0.02), (0.5 + (x - 0.5) * 0.5, 0.68)], color=shade(p.c, -0.3), width=1)
        p.poly([(0.18, 0.55), (0.82, 0.55), (0.62, 0.78), (0.38, 0.78)])
        for x0, x1 in ((0.38, 0.4), (0.62, 0.6)):
            p.stroke([(x0, 0.78), (x1, 0.86)], color=(80, 60, 40), width=1)
        p.rect(0.36, 0.85, 0.64, 1.0, fill=(150, 105, 60))
        return
    p.ellipse(0.05, 0.0, 0.95, 0.7)
    p.poly([(0.45, 0.7), (0.55, 0.7), (0.5, 0.76)])
    p.stroke([(0.5, 0.76), (0.45, 0.88), (0.55, 1.0)], color=(80, 80, 80), width=1)


def p_kite(p: Pen):
    p.poly([(0.5, 0.0), (0.95, 0.35), (0.5, 0.75), (0.05, 0.35)])
    p.stroke([(0.5, 0.0), (0.5, 0.75)], color=shade(p.c, -0.3), width=1)
    p.stroke([(0.5, 0.75), (0.4, 0.85), (0.6, 0.93), (0.5, 1.0)], color=(80, 80, 80), width=1)


def p_umbrella(p: Pen):
    p.pieslice(0.0, 0.0, 1.0, 0.9, 180, 360)
    p.stroke([(0.5, 0.45), (0.5, 0.95), (0.4, 1.0)], color=(70, 70, 70))


def p_guitar(p: Pen):
    p.rect(0.44, 0.0, 0.56, 0.5, fill=(90, 60, 35))
    p.ellipse(0.15, 0.35, 0.85, 0.7)
    p.ellipse(0.05, 0.55, 0.95, 1.0)
    p.ellipse(0.4, 0.65, 0.6, 0.8, fill=DARK)


def p_lantern(p: Pen):
    p.rect(0.15, 0.15, 0.85, 0.9, r=0.25)
    p.rect(0.3, 0.0, 0.7, 0.15, fill=DARK)
    p.rect(0.3, 0.88, 0.7, 1.0, fill=DARK)


def p_flag(p: Pen):
    p.rect(0.05, 0.0, 0.11, 1.0, fill=(150, 150, 155))
    p.poly([(0.11, 0.05), (1.0, 0.12), (0.95, 0.45), (0.11, 0.5)])


def p_hat(p: Pen):
    p.rect(0.0, 0.72, 1.0, 0.95, r=0.08)
    p.rect(0.2, 0.0, 0.8, 0.78, r=0.06)
    p.rect(0.2, 0.55, 0.8, 0.68, fill=shade(p.c, 0.4) if sum(p.c) < 200 else shade(p.c, -0.4), outline=False)


def p_scarf(p: Pen):
    p.poly([(0.0, 0.2), (0.3, 0.05), (0.7, 0.2), (1.0, 0.05), (1.0, 0.45), (0.7, 0.6), (0.3, 0.45), (0.0, 0.6)])
    p.rect(0.65, 0.45, 0.85, 1.0)


BOWL = [
    Variant("vase", ("vase", "urn", "amphora"), 0.6),
    Variant("pan", ("pan", "skillet", "wok"), 1.8),
    Variant("pot", ("pot", "cauldron"), 1.2),
    Variant("bowl", (), 1.6),
]


def p_bowl(p: Pen):
    """A round vessel: a bowl, a pot with handles, a pan with a long handle, a vase by name."""
    v = choose(BOWL, p.name)
    if v.name == "vase":
        p.poly([(0.3, 0.0), (0.7, 0.0), (0.62, 0.2), (0.95, 0.55), (0.75, 1.0), (0.25, 1.0), (0.05, 0.55), (0.38, 0.2)])
        p.rect(0.1, 0.5, 0.9, 0.6, fill=detail(p.c, 0.35), outline=False)
        return
    if v.name == "pan":
        p.thick([(0.6, 0.45), (1.0, 0.3)], 0.12, color=DARK)
        p.chord(0.0, -0.1, 0.65, 0.9, 0, 180)
        p.rect(0.0, 0.35, 0.65, 0.42, fill=detail(p.c, 0.3))
        return
    if v.name == "pot":
        for x in (0.0, 0.88):
            p.rect(x, 0.25, x + 0.12, 0.38)
        p.rect(0.08, 0.15, 0.92, 0.95, r=0.08)
        p.rect(0.04, 0.1, 0.96, 0.22, fill=shade(p.c, -0.15))
        return
    p.chord(0.0, -0.6, 1.0, 1.0, 0, 180)
    p.ellipse(0.0, 0.0, 1.0, 0.4, fill=shade(p.c, 0.3))
    p.rect(0.35, 0.9, 0.65, 1.0, fill=shade(p.c, -0.15))


def p_generic(p: Pen):
    p.rect(0.05, 0.05, 0.95, 0.95, r=0.2)
    p.ellipse(0.3, 0.25, 0.7, 0.65, fill=shade(p.c, 0.35))


BALL = [
    Variant("board", ("board", "ski", "sled", "mat", "skate"), 2.6),
    Variant("stick", ("bat", "club", "stick", "rod", "paddle", "oar", "pole", "racket", "bow and arrow"), 0.4),
    Variant("trophy", ("trophy", "cup", "medal"), 0.75),
    Variant("glove", ("glove",), 0.9),
    Variant("weights", ("dumbbell", "barbell"), 2.0),
    Variant("frame", ("goal", "hoop", "net", "dartboard", "treadmill"), 1.2),
    Variant("disc", ("frisbee",), 1.8),
    Variant("ball", (), 1.0),
]


def p_ball(p: Pen):
    """A ball with seams (a board, a bat or racket, a trophy, a glove by name)."""
    v = choose(BALL, p.name)
    if v.name == "board":
        p.rect(0.0, 0.3, 1.0, 0.62, r=0.15)
        p.stroke([(0.1, 0.46), (0.9, 0.46)], color=detail(p.c, 0.35), width=max(2, p.lw))
        if p.has("skate", "roller"):
            for x in (0.2, 0.8):
                p.ellipse(x - 0.06, 0.62, x + 0.06, 0.95, fill=DARK)
        return
    if v.name == "stick":
        if p.has("racket", "paddle"):
            p.rect(0.42, 0.55, 0.58, 1.0, fill=shade(p.c, -0.2))
            p.ellipse(0.02, 0.0, 0.98, 0.62)
            for i in range(1, 5):
                p.stroke([(0.02 + i * 0.19, 0.08), (0.02 + i * 0.19, 0.54)], color=shade(p.c, 0.6), width=1)
            return
        p.poly([(0.34, 0.0), (0.66, 0.0), (0.6, 0.85), (0.4, 0.85)])
        if p.has("rod"):
            p.ellipse(0.15, 0.55, 0.5, 0.75, fill=METAL)
        if p.has("golf", "hockey"):
            p.poly([(0.44, 0.82), (0.56, 0.82), (0.95, 0.92), (0.95, 1.0), (0.4, 1.0)])
        else:
            p.rect(0.44, 0.82, 0.56, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "trophy":
        if p.has("medal"):
            p.poly([(0.25, 0.0), (0.45, 0.0), (0.55, 0.45), (0.45, 0.5)], fill=(214, 40, 40))
            p.poly([(0.75, 0.0), (0.55, 0.0), (0.45, 0.45), (0.55, 0.5)], fill=(40, 90, 210))
            p.ellipse(0.15, 0.35, 0.85, 1.0)
            return
        p.chord(0.1, -0.4, 0.9, 0.6, 0, 180)
        p.ellipse(0.0, 0.05, 0.25, 0.35, fill=None)
        p.ellipse(0.75, 0.05, 0.98, 0.35, fill=None)
        p.rect(0.44, 0.58, 0.56, 0.82)
        p.rect(0.25, 0.82, 0.75, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "glove":
        p.ellipse(0.05, 0.1, 0.95, 0.95)
        p.ellipse(0.0, 0.35, 0.3, 0.7)
        p.rect(0.2, 0.75, 0.8, 1.0, fill=shade(p.c, -0.2))
        return
    if v.name == "weights":
        p.rect(0.1, 0.42, 0.9, 0.58, fill=shade(p.c, 0.15))
        for x in (0.0, 0.16, 0.68, 0.84):
            p.rect(x, 0.05, x + 0.16, 0.95, r=0.05)
        return
    if v.name == "frame":
        if p.has("dartboard"):
            for i, r in enumerate((0.5, 0.36, 0.22, 0.08)):
                p.ellipse(0.5 - r, 0.5 - r, 0.5 + r, 0.5 + r, fill=p.c if i % 2 == 0 else shade(p.c, 0.6))
            return
        p.thick([(0.08, 1.0), (0.08, 0.08), (0.92, 0.08), (0.92, 1.0)], 0.16)
        for i in range(1, 4):
            p.stroke([(0.08 + i * 0.21, 0.12), (0.08 + i * 0.21, 1.0)], color=shade(p.c, 0.2), width=1)
        return
    if v.name == "disc":
        p.ellipse(0.0, 0.2, 1.0, 0.8)
        p.ellipse(0.25, 0.35, 0.75, 0.6, fill=shade(p.c, -0.15))
        return
    p.ellipse(0.0, 0.0, 1.0, 1.0)
    seam = detail(p.c, 0.45)
    k = (
        p.pick(1, 3)
        if not p.has("soccer", "basket", "tennis", "base")
        else ("soccer", "basket", "tennis").index(
            next((w for w in ("soccer", "basket", "tennis") if p.has(w)), "basket")
        )
    )
    if k == 0:
        p.poly([(0.5, 0.3), (0.68, 0.44), (0.61, 0.66), (0.39, 0.66), (0.32, 0.44)], fill=DARK)
    elif k == 1:
        p.stroke([(0.03, 0.5), (0.97, 0.5)], color=seam)
        p.stroke([(0.5, 0.03), (0.5, 0.97)], color=seam)
        p.stroke([(0.2, 0.1), (0.35, 0.5), (0.2, 0.9)], color=seam)
        p.stroke([(0.8, 0.1), (0.65, 0.5), (0.8, 0.9)], color=seam)
    else:
        p.stroke([(0.15, 0.15), (0.4, 0.5), (0.15, 0.85)], color=seam, width=max(2, p.lw))
        p.stroke([(0.85, 0.15), (0.6, 0.5), (0.85, 0.85)], color=seam, width=max(2, p.lw))


CONTAINER = [
    Variant("bag", ("bag", "backpack", "handbag", "purse", "sack", "suitcase", "briefcase", "luggage", "satchel"), 0.9),
    Variant("basket", ("basket", "bucket", "pail"), 1.1),
    Variant("barrel", ("barrel", "keg", "piggy bank"), 0.8),
    Variant("bear", ("teddy bear", "plush", "doll", "action figure"), 0.75),
    Variant("duck", ("rubber duck",), 1.1),
    Variant("dice", ("dice", "die", "blocks", "puzzle", "cube"), 1.0),
    Variant("round toy", ("yo-yo", "spinning top", "snow globe", "kaleidoscope", "pinwheel"), 0.9),
    Variant("flat", ("chess board", "playing card", "card"), 1.3),
    Variant("box", (), 1.2),
]


def p_container(p: Pen):
    """A box, bag or basket (and the toys filed with them: a teddy bear, a rubber duck, dice) by name."""
    v = choose(CONTAINER, p.name)
    if v.name == "bag":
        if p.has("suitcase", "briefcase", "luggage"):
            p.rect(0.35, 0.02, 0.65, 0.22, fill=None)
            p.rect(0.0, 0.15, 1.0, 1.0, r=0.08)
            p.stroke([(0.0, 0.55), (1.0, 0.55)], color=detail(p.c, 0.35))
            return
        p.d.arc(
            p._xy([(0.25, 0.0), (0.75, 0.5)]), 180, 360, fill=shade(p.c, -0.3) + (255,), width=max(2, int(p.h * 0.06))
        )
        p.poly([(0.1, 0.25), (0.9, 0.25), (1.0, 1.0), (0.0, 1.0)])
        p.rect(0.25, 0.5, 0.75, 0.78, fill=shade(p.c, -0.15), r=0.05)
        return
    if v.name == "basket":
        p.d.arc(
            p._xy([(0.15, 0.0), (0.85, 0.7)]), 180, 360, fill=shade(p.c, -0.3) + (255,), width=max(2, int(p.h * 0.06))
        )
        p.poly([(0.0, 0.35), (1.0, 0.35), (0.85, 1.0), (0.15, 1.0)])
        for i in range(1, 4):
            y = 0.35 + i * 0.16
            p.stroke([(0.02 + i * 0.04, y), (0.98 - i * 0.04, y)], color=detail(p.c, 0.3))
        return
    if v.name == "barrel":
        p.ellipse(0.0, 0.0, 1.0, 1.0)
        p.rect(0.05, 0.0, 0.95, 1.0, r=0.2)
        for y in (0.2, 0.8):
            p.stroke([(0.05, y), (0.95, y)], color=METAL, width=max(2, p.lw))
        return
    if v.name == "bear":
        for x in (0.15, 0.65):
            p.ellipse(x, 0.0, x + 0.2, 0.18)
        p.ellipse(0.2, 0.05, 0.8, 0.5)
        p.ellipse(0.15, 0.4, 0.85, 1.0)
        for x in (0.0, 0.8):
            p.ellipse(x, 0.45, x + 0.2, 0.75)
        p.ellipse(0.38, 0.25, 0.62, 0.42, fill=shade(p.c, 0.35), outline=False)
        p.ellipse(0.35, 0.18, 0.42, 0.25, fill=DARK, outline=False)
        p.ellipse(0.58, 0.18, 0.65, 0.25, fill=DARK, outline=False)
        return
    if v.name == "duck":
        p.ellipse(0.0, 0.4, 0.95, 1.0)
        p.ellipse(0.5, 0.0, 0.95, 0.5)
        p.poly([(0.93, 0.2), (1.0, 0.3), (0.92, 0.35)], fill=(245, 130, 32))
        p.ellipse(0.72, 0.15, 0.78, 0.22, fill=DARK, outline=False)
        return
    if v.name == "dice":
        p.poly([(0.1, 0.25), (0.35, 0.0), (1.0, 0.0), (0.75, 0.25)], fill=shade(p.c, 0.25))
        p.poly([(0.75, 0.25), (1.0, 0.0), (1.0, 0.75), (0.75, 1.0)], fill=shade(p.c, -0.2))
        p.rect(0.0, 0.25, 0.75, 1.0)
        pips = 1 + p.pick(1, 6)
        spots = [(0.37, 0.62), (0.18, 0.43), (0.56, 0.81), (0.56, 0.43), (0.18, 0.81), (0.18, 0.62)][:pips]
        for x, y in spots:
            p.ellipse(x - 0.05, y - 0.05, x + 0.05, y + 0.05, fill=detail(p.c, 0.6), outline=False)
        return
    if v.name == "round toy":
        p.ellipse(0.05, 0.0, 0.95, 0.8)
        p.ellipse(0.3, 0.2, 0.7, 0.55, fill=shade(p.c, 0.3))
        p.rect(0.3, 0.78, 0.7, 1.0, fill=shade(p.c, -0.3))
        return
    if v.name == "flat":
        p.rect(0.0, 0.1, 1.0, 0.9, r=0.04)
        n = 4
        for r in range(n):
            for c in range(n):
                if (r + c) % 2:
                    p.rect(
                        0.13 + c * 0.2,
                        0.18 + r * 0.18,
                        0.27 + c * 0.2,
                        0.3 + r * 0.18,
                        fill=detail(p.c, 0.5),
                        outline=False,
                    )
        return
    lid = p.var(1, 0.15, 0.3)
    p.rect(0.02, lid, 0.98, 1.0)
    p.rect(0.0, lid - 0.12, 1.0, lid + 0.04, fill=shade(p.c, -0.15))
    if p.has("gift", "present"):
        p.rect(0.44, lid - 0.12, 0.56, 1.0, fill=detail(p.c, 0.5))
        p.ellipse(0.3, 0.0, 0.5, lid - 0.08, fill=detail(p.c, 0.5))
        p.ellipse(0.5, 0.0, 0.7, lid - 0.08, fill=detail(p.c, 0.5))
    elif p.has("toolbox", "lunchbox", "tool box"):
        p.d.arc(
            p._xy([(0.3, lid - 0.3), (0.7, lid + 0.1)]), 180, 360, fill=DARK + (255,), width=max(2, int(p.h * 0.06))
        )
        p.rect(0.44, lid + 0.1, 0.56, lid + 0.2, fill=METAL)
    elif p.has("chest", "treasure"):
        p.rect(0.44, lid - 0.05, 0.56, lid + 0.15, fill=(222, 180, 50))
    else:
        p.stroke([(0.1, lid + 0.1), (0.9, 0.9)], color=detail(p.c, 0.3))
        p.stroke([(0.9, lid + 0.1), (0.1, 0.9)], color=detail(p.c, 0.3))
