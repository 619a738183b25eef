"""Shared words: colours, sizes, positions, numbers.

The scene protocol, the request parser, the renderer and the critic must agree on what
"teal" or "huge" means, so the words live in one place and every module reads them here.
"""

from __future__ import annotations

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (214, 40, 40),
    "crimson": (180, 20, 50),
    "orange": (245, 130, 32),
    "amber": (255, 176, 0),
    "yellow": (250, 210, 40),
    "gold": (222, 180, 50),
    "golden": (222, 180, 50),
    "green": (46, 160, 67),
    "lime": (150, 210, 60),
    "olive": (110, 120, 40),
    "teal": (20, 140, 140),
    "cyan": (40, 200, 220),
    "turquoise": (64, 200, 190),
    "blue": (40, 90, 210),
    "navy": (20, 30, 100),
    "azure": (60, 140, 230),
    "blue-green": (40, 150, 150),
    "purple": (130, 60, 170),
    "violet": (150, 90, 210),
    "magenta": (200, 40, 160),
    "pink": (240, 130, 170),
    "brown": (130, 85, 45),
    "tan": (200, 170, 120),
    "beige": (225, 210, 175),
    "black": (25, 25, 28),
    "grey": (128, 130, 135),
    "gray": (128, 130, 135),
    "silver": (190, 195, 205),
    "white": (245, 245, 245),
    "ivory": (250, 245, 225),
    "copper": (184, 115, 51),
}

SIZES: dict[str, float] = {
    "tiny": 0.05,
    "small": 0.10,
    "medium": 0.18,
    "large": 0.30,
    "big": 0.30,
    "huge": 0.45,
    "giant": 0.55,
    "massive": 0.55,
}
"""Size word -> fraction of the canvas's shorter side taken by one element."""

HORIZONTAL = ("left", "center", "right")
VERTICAL = ("top", "middle", "bottom")
DEPTHS = ("foreground", "midground", "background")

RELATIONS = (
    "left of",
    "right of",
    "above",
    "below",
    "on",
    "under",
    "in front of",
    "behind",
    "between",
    "near",
    "in",
    "flying over",
    "worn by",
    "held by",
    "riding",
)
"""Relation phrases a scene line may use, longest match first when parsing (what each draws:
:mod:`mmthink.modalities.image.relations`)."""

RELATION_ALIASES = {
    "on top of": "on",
    "atop": "on",
    "inside of": "in",
    "inside": "in",
    "within": "in",
    "next to": "near",
    "beside": "near",
    "close to": "near",
    "underneath": "under",
    "beneath": "under",
    "to the left of": "left of",
    "to the right of": "right of",
    "rides": "riding",
    "carried by": "held by",
    "wearing": "wearing",
    "holding": "holding",
    "carrying": "carrying",
    "wears": "wearing",
    "holds": "holding",
    "carries": "carrying",
}
"""Other ways a scene line may write a relation; the scene parser reads them as the relation they name
(``wearing``, ``holding`` and ``carrying`` are said from the other side and turned round before layout)."""

NUMBERS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "lone": 1,
    "two": 2,
    "pair": 2,
    "couple": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "several": 3,
    "few": 3,
    "many": 6,
}
