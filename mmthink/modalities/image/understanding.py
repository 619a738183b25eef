"""Reading a free-text image request: objects, counts, colours, relations, setting and style.

Both the heuristic reasoner (to plan a scene) and the image critic (to check a drawing against
what was asked) need the same reading of the request, so it lives here, apart from both.
It is a small rule-based parser, honest about its reach: what it does not recognise it leaves
out, and the reasoner says so in its trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mmthink.modalities.image.scene import normalize_name, singular
from mmthink.modalities.image.vocab import COLORS, NUMBERS, SIZES

# Nouns we know are things to draw (multi-word first). Unknown nouns after a determiner are
# still picked up; this list only helps with compounds and with nouns that follow no article.
KNOWN_NOUNS = {
    "hot air balloon", "launch pad", "laser beam", "space station", "light house", "street lamp",
    "apple", "astronaut", "balloon", "ball", "battlecruiser", "bench", "bird", "boat", "book", "bowl",
    "bridge", "building", "butterfly", "cactus", "candle", "car", "castle", "cat", "chair", "child",
    "cloud", "comet", "cup", "deer", "dog", "door", "dragon", "duck", "explosion", "fish", "flag",
    "flower", "fox", "galaxy", "girl", "boy", "guitar", "hat", "horse", "house", "iceberg", "island",
    "kite", "lamp", "lantern", "lighthouse", "man", "moon", "mountain", "nebula", "owl", "palm",
    "penguin", "person", "planet", "plant", "rabbit", "robot", "rocket", "sailboat", "scarf",
    "ship", "spaceship", "star", "starfighter", "starship", "sun", "table", "tent", "tower", "train",
    "tree", "truck", "tunnel", "umbrella", "vase", "wall", "whale", "window", "woman", "bicycle",
    "airplane", "plane", "helicopter", "volcano", "waterfall", "windmill", "snowman", "bear", "lion",
    "elephant", "giraffe", "monkey", "turtle", "frog", "mug", "bottle", "clock", "computer", "piano",
}

SETTING_WORDS = {
    "dusk", "dawn", "sunset", "sunrise", "night", "dark", "space", "sea", "ocean", "beach", "sky",
    "rain", "snow", "forest", "city", "street", "desert", "room", "indoors", "indoor", "field",
    "meadow", "garden", "village", "hill", "underwater", "storm", "fog", "winter", "summer",
    "autumn", "morning", "evening", "river", "lake", "park", "kitchen", "arctic", "moonlight",
    "galaxy", "cosmos", "orbit",
}
SETTING_NOUNS = {"sea", "ocean", "beach", "sky", "rain", "snow", "forest", "city", "street", "desert",
                 "room", "field", "meadow", "garden", "village", "hill", "river", "lake", "park",
                 "kitchen", "space", "dark", "night", "dusk", "dawn", "sunset", "sunrise", "storm", "fog"}
THEME_WORDS = {
    "war", "battle", "exploration", "adventure", "journey", "story", "party", "celebration", "peace", "love",
    "future", "dream", "chaos", "harmony", "invasion", "escape", "discovery", "mission", "fight", "victory",
}
"""Abstract nouns: they shape what the reasoner imagines but are not objects to find in the picture."""
STYLE_WORDS = {
    "cinematic", "epic", "watercolor", "watercolour", "sketch", "realistic", "photorealistic",
    "cartoon", "dramatic", "cozy", "minimal", "minimalist", "vintage", "noir", "pastel", "vivid",
    "moody", "whimsical", "surreal", "majestic", "serene", "peaceful", "quiet", "calm", "stormy",
}
ADJECTIVES = {
    "round", "tall", "short", "old", "new", "little", "tiny", "small", "big", "large", "huge", "giant",
    "quiet", "calm", "dark", "bright", "shiny", "wooden", "glass", "stone", "happy", "sad", "lonely",
    "ancient", "modern", "distant", "sleek", "massive", "fluffy", "cute", "young", "wild", "golden",
    "glowing", "empty", "full", "cold", "warm", "hot", "frozen", "misty", "snowy", "sunny", "rainy",
    "flying", "floating", "long", "narrow", "wide", "cinematic", "epic", "beautiful", "single",
    "interstellar", "galactic", "alien", "futuristic", "medieval", "magical", "mysterious",
}
STOP = {
    "a", "an", "the", "of", "and", "with", "to", "in", "on", "at", "by", "for", "from", "into", "onto",
    "its", "his", "her", "their", "it", "them", "him", "is", "are", "be", "that", "this", "these",
    "please", "create", "draw", "make", "paint", "show", "generate", "image", "picture", "photo",
    "drawing", "painting", "illustration", "scene", "me", "i", "you", "want", "need", "needs", "like",
    "some", "very", "so", "as", "up", "out", "off", "over", "under", "near", "next", "left", "right",
    "above", "below", "behind", "between", "front", "top", "side", "row", "there", "here", "who",
    "which", "while", "where", "then", "than", "being", "has", "have", "can", "could", "would",
    "should", "will", "just", "also", "one", "each", "every", "all", "both", "around", "across",
    "through", "beside", "beneath", "inside", "away", "together", "against", "along", "about",
}
DETERMINERS = {"a", "an", "the", "his", "her", "its", "their", "some", "my", "our", "your", "another"}

# (phrase, relation) — longest first. "X <phrase> Y" puts X in that relation to Y.
RELATION_PHRASES = [
    ("to the left of", "left of"), ("on the left of", "left of"), ("left of", "left of"),
    ("to the right of", "right of"), ("on the right of", "right of"), ("right of", "right of"),
    ("in front of", "in front of"), ("on top of", "on"), ("next to", "near"), ("close to", "near"),
    ("coming out of", "in front of"), ("out of", "in front of"), ("above", "above"), ("over", "above"),
    ("below", "below"), ("beneath", "below"), ("underneath", "below"), ("under", "below"),
    ("behind", "behind"), ("beside", "near"), ("near", "near"), ("by", "near"), ("between", "between"),
    ("inside", "in"), ("in", "in"), ("on", "on"), ("circling", "near"), ("orbiting", "near"),
]
_WORD = re.compile(r"[a-z][a-z\-']*|\d+")


@dataclass
class Wanted:
    """One object the request asks for."""

    name: str  # normalised singular
    count: int = 1
    color: str | None = None
    size: str | None = None
    relation: tuple[str, str] | None = None  # (kind, target name)
    relation2: str | None = None  # second target for "between"
    explicit_count: bool = False


@dataclass
class ImageIntent:
    objects: list[Wanted] = field(default_factory=list)
    setting: list[str] = field(default_factory=list)
    style: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)

    def find(self, name: str) -> Wanted | None:
        key = normalize_name(name)
        return next((o for o in self.objects if o.name == key), None)


def parse_image_request(text: str) -> ImageIntent:
    """Read objects, counts, colours and relations out of an image request."""
    intent = ImageIntent()
    words = _WORD.findall(text.lower().replace("’", "'"))
    i = 0
    last_obj: Wanted | None = None
    subject: Wanted | None = None
    pending_rel: tuple[str, Wanted] | None = None
    count: int | None = None
    colors: list[str] = []
    size: str | None = None
    saw_det = False
    while i < len(words):
        w = words[i]
        # relation phrase after an object: remember it for the next object mentioned
        rel = _match_relation(words, i)
        if rel is not None and last_obj is not None:
            phrase_len, kind = rel
            pending_rel = (kind, last_obj)
            i += phrase_len
            continue
        if w in ("to", "on") and i + 2 < len(words) and words[i + 1] in ("his", "her", "its", "their", "the") \
                and words[i + 2] in ("left", "right") and last_obj is not None and subject is not None \
                and last_obj is not subject:
            last_obj.relation = (f"{words[i + 2]} of", subject.name)
            i += 3
            continue
        if w in NUMBERS and w not in ("a", "an"):
            count = NUMBERS[w]
            saw_det = True
            i += 1
            continue
        if w.isdigit():
            count = int(w)
            saw_det = True
            i += 1
            continue
        if w in DETERMINERS:
            saw_det = True
            if w in ("a", "an"):
                count = count or 1
            i += 1
            continue
        if w in COLORS:
            colors.append(w)
            i += 1
            continue
        if w in SIZES and size is None:
            size = w
            i += 1
            continue
        if singular(w) in THEME_WORDS:
            intent.themes.append(singular(w))
            count, colors, size, saw_det = None, [], None, False
            i += 1
            continue
        if w in STYLE_WORDS:
            intent.style.append(w)
            i += 1
            continue
        if w in ("it", "them", "him", "her") and pending_rel is not None:
            # "a nebula behind it": relate the earlier object to the subject
            kind, obj = pending_rel
            others = [o for o in intent.objects if o is not obj]
            if w == "them":
                others = [o for o in others if o.count > 1] or others
            if others:
                obj.relation = (kind, others[-1].name)
            pending_rel = None
            i += 1
            continue
        # compound nouns
        two = " ".join(words[i:i + 2])
        three = " ".join(words[i:i + 3])
        noun = None
        for cand, n in ((three, 3), (two, 2)):
            if singular(cand) in KNOWN_NOUNS:
                noun, step = singular(cand), n
                break
        if noun is None:
            base = singular(w)
            is_setting = base in SETTING_NOUNS or w in SETTING_NOUNS
            if base in KNOWN_NOUNS and not (is_setting and base not in KNOWN_NOUNS):
                noun, step = base, 1
            elif is_setting:
                intent.setting.append(base if base in SETTING_WORDS else w)
                if pending_rel is not None:
                    pending_rel = None
                count, colors, size, saw_det = None, [], None, False
                i += 1
                continue
            elif w in SETTING_WORDS:
                intent.setting.append(w)
                i += 1
                continue
            elif saw_det and w not in STOP and w not in ADJECTIVES and not w.endswith("ing") and not w.endswith("ed") \
                    and len(w) > 2:
                noun, step = base, 1
            else:
                if w in ADJECTIVES or w.endswith("ing") or w.endswith("ed"):
                    i += 1
                    continue
                if w not in STOP and w not in ADJECTIVES and len(w) > 2 and not w.endswith("ly"):
                    intent.unknown.append(w)
                count, colors, size, saw_det = (count, colors, size, saw_det) if w in STOP else (None, [], None, False)
                i += 1
                continue
        existing = intent.find(noun)
        obj = Wanted(noun, count or 1, colors[0] if colors else None, size, explicit_count=count is not None and count > 1)
        if existing is not None and pending_rel is not None and pending_rel[0] == "between" and pending_rel[1].relation \
                and pending_rel[1].relation[0] == "between":
            pending_rel[1].relation2 = noun
            obj = existing
        elif existing is not None and not colors and count is None:
            obj = existing
        elif existing is not None:
            existing.count = max(existing.count, obj.count)
            existing.color = existing.color or obj.color
            obj = existing
        else:
            intent.objects.append(obj)
        if pending_rel is not None:
            kind, src = pending_rel
            if src is not obj:
                if kind == "between" and src.relation is None:
                    src.relation = ("between", obj.name)
                    if obj.count >= 2:
                        src.relation2 = obj.name
                    j = i + step
                    if j < len(words) and words[j] == "and":
                        pending_rel = ("between", src)
                        last_obj = src
                        i = j + 1
                        count, colors, size, saw_det = None, [], None, False
                        continue
                elif src.relation is None:
                    src.relation = (kind, obj.name)
            pending_rel = None
        if subject is None:
            subject = obj
        last_obj = obj
        count, colors, size, saw_det = None, [], None, False
        i += step
        if i < len(words) and words[i] in ("in", "on") and i + 2 < len(words) and words[i + 1] == "a" and words[i + 2] == "row":
            intent.extras.append("in a row")
            i += 3
    for o in intent.objects:
        if o.relation and o.relation[1] == o.name and o.relation[0] != "between":
            o.relation = None
    return intent


def _match_relation(words: list[str], i: int) -> tuple[int, str] | None:
    for phrase, kind in RELATION_PHRASES:
        parts = phrase.split()
        if words[i:i + len(parts)] == parts:
            if phrase in ("in", "on", "by", "over") and i + 1 < len(words) and words[i + 1] in ("a", "the") \
                    and i + 2 < len(words) and words[i + 2] == "row":
                return None
            return len(parts), kind
    return None


