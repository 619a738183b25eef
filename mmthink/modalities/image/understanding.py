"""Reading a free-text request: the one understanding that the router, the planner, the critic and the
review-note reader share (objects, counts, colours, materials, relations, setting, time, weather,
style, text to show, durations, and which modality it asks for).

The reader is :mod:`mmthink.modalities.image.nlp`: spaCy's English pipeline where it is installed
(the ``nlp`` extra), a plain-rules path otherwise; ``intent.parser`` says which one read a request,
and ``intent.findings`` what could not be understood. Object facts come from the one object table
(:mod:`mmthink.modalities.image.objects`, ``assets/objects/objects.json``).
"""

from __future__ import annotations

from mmthink.modalities.image.nlp import ImageIntent, Wanted, parse_image_request

__all__ = ["KNOWN_NOUNS", "SETTING_WORDS", "STYLE_WORDS", "ImageIntent", "Wanted", "parse_image_request"]

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
