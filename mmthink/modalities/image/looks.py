"""Styles and conditions: which words of a request change how the whole picture looks, and how.

A *look* is one treatment of the final image (:mod:`.render.treatments` applies and measures it):
styles (watercolour, pixel art, line art, oil painting, flat, cinematic, monochrome, sepia) and
conditions (night, sunset, rain, snow, fog). The request understanding (:mod:`.nlp`) finds the
words; this module says which look each one asks for, which words are only a mood (nothing to
draw or measure), and which styles no treatment here can give (a finding, counted against the run).
"""

from __future__ import annotations

from typing import Any

from mmthink.modalities.image.scene import Scene

STYLES: dict[str, tuple[str, ...]] = {
    "watercolour": ("watercolor", "watercolour", "watercolor painting", "watercolour painting", "pastel", "gouache"),
    "pixel art": ("pixel art", "pixelated", "pixel", "8-bit", "16-bit", "pixel-art"),
    "line art": ("line art", "line drawing", "sketch", "sketched", "pencil sketch", "pencil drawing",
                 "charcoal drawing", "ink drawing", "doodle", "hand-drawn", "outline", "coloring page"),
    "oil painting": ("oil painting", "oil", "painterly", "impressionist", "impressionistic", "acrylic painting"),
    "flat": ("flat", "clip art", "clipart", "flat design", "flat illustration", "vector art", "vector",
             "cartoon", "cartoonish", "minimal", "minimalist", "icon", "sticker"),
    "cinematic": ("cinematic", "epic", "dramatic", "moody", "film still", "blockbuster"),
    "monochrome": ("black and white", "monochrome", "noir", "film noir", "grayscale", "greyscale"),
    "sepia": ("sepia", "vintage", "retro", "old photo", "antique"),
}  # fmt: skip
"""Treatment name -> the style words that ask for it."""
CONDITIONS: dict[str, tuple[str, ...]] = {
    "night": ("night", "nighttime", "midnight", "dark", "moonlight", "moonlit", "starlit"),
    "sunset": ("sunset", "dusk", "dawn", "sunrise", "evening", "golden hour", "twilight"),
    "rain": ("rain", "rainy", "raining", "storm", "stormy", "drizzle", "downpour", "thunderstorm", "rainstorm"),
    "snow": ("snow", "snowy", "snowing", "snowfall", "blizzard", "winter", "wintry"),
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy"),
}
"""Condition -> the setting, time, season and weather words that ask for it."""
MOODS = {
    "cozy", "serene", "peaceful", "quiet", "calm", "majestic", "whimsical", "vivid", "beautiful", "fantasy",
    "futuristic", "medieval", "sci-fi", "storybook", "childlike", "kawaii", "magical", "dreamy", "cute",
    "digital art", "illustration", "colorful", "colourful", "bright", "simple", "detailed", "lovely",
}  # fmt: skip
"""Style words that set a mood the drawing already carries: nothing to treat, nothing to hold against it."""
ORDER = ("night", "sunset", "fog", "snow", "rain", "cinematic", "monochrome", "sepia", "flat", "oil painting",
         "watercolour", "line art", "pixel art")  # fmt: skip
"""The order treatments are applied in: light first, then the medium; pixel art last, so its blocks stay whole."""

_BY_WORD = {w: name for table in (STYLES, CONDITIONS) for name, words in table.items() for w in words}


def look_of(word: str) -> str | None:
    """The treatment a style or condition word asks for, if any."""
    w = " ".join(word.lower().split())
    hit = _BY_WORD.get(w) or _BY_WORD.get(w.replace(" painting", "")) or _BY_WORD.get(w.replace(" style", ""))
    if hit is None and " " in w:  # "rainy street", "night sky": a word of the phrase
        parts = w.split()
        pairs = [" ".join(parts[i : i + 2]) for i in range(len(parts) - 1)]
        hit = next((_BY_WORD[p] for p in [*pairs, *parts] if p in _BY_WORD), None)
    return hit


def looks_in(words: list[str]) -> list[str]:
    """The treatments that scene ``setting:``/``style:`` words ask for, in the order they are applied."""
    found = {look_of(w) for w in words} - {None}
    return [name for name in ORDER if name in found]


def requested(intent: Any) -> tuple[list[str], list[str]]:
    """(looks the request asks for, style words no treatment gives) from the understanding of it."""
    words: list[str] = [*intent.style, *intent.time_of_day, *intent.weather, *intent.season]
    words += [w for w in intent.unknown if look_of(w)]  # "a sepia photo of ...": read as an unknown word
    words += [w for w in intent.setting if look_of(w) in CONDITIONS]
    for o in intent.objects:  # "a snowy cabin": the snow is the weather, not the cabin's
        words += [m for m in o.modifiers if look_of(m) in CONDITIONS]
    unsupported = [w for w in intent.style if look_of(w) is None and w.lower() not in MOODS]
    return looks_in(words), list(dict.fromkeys(unsupported))


def add_looks(scene: Scene, intent: Any) -> list[str]:
    """Make the scene carry every look the request asks for (``setting: rain``, ``style: pixel art``)."""
    looks, _ = requested(intent)
    styled = set(looks_in(scene.style))
    for name in looks:
        if name in CONDITIONS and name not in scene.setting:
            scene.setting.append(name)  # by its own name, which the backdrop knows ("rainy" -> "rain")
        elif name in STYLES and name not in styled:
            scene.style.append(name)
    return looks
