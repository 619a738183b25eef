"""Short on-topic examples, given to a model as prior chat turns before the real request.

Small models copy what they see. A tag reference with placeholders (``name [xN]: attributes``) or a
long worked demo gets copied verbatim; a few short, complete exchanges of the same shape as the
request teach the form instead: a plain "an X and a Y" picture, a count, a revision after an
observation. Each example is a request and the model's whole reply: thinking (with the observation
the tools wrote back, so the model sees that it waits for one), then the answer.

Examples are keyed by modality name; :func:`choose` picks those that fit the request's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    shape: str  # plain | count | revision
    request: str
    thinking: str
    answer: str
    off: str = ""
    """The reply with thinking off (the final tag carrying the content), where it differs."""


IMAGE = (
    Example(
        "plain",
        "a dog and a red bicycle",
        "Two things: a dog and a bicycle, and the bicycle is red. One line for each.\n"
        '<sketch id="s1">\ndog: medium, brown, left\nbicycle: large, red, right\n</sketch>\n'
        '<observation ref="s1" score="0.92">dog: drawn, left; bicycle: drawn, red, right; all requested '
        "objects present</observation>\nBoth are there and the bicycle is red. Done.",
        'A brown dog beside a red bicycle.\n<final_image ref="s1"/>',
        off="A brown dog beside a red bicycle.\n<final_image>\ndog: medium, brown, left\n"
        "bicycle: large, red, right\n</final_image>",
    ),
    Example(
        "count",
        "four cups on a shelf",
        "Four cups, so the count goes after the name, and a shelf under them.\n"
        '<sketch id="s1">\ncup x4: small, white, on shelf\nshelf: large, brown, middle\n</sketch>\n'
        '<observation ref="s1" score="0.95">cup: 4 drawn of 4 asked; shelf: drawn</observation>\n'
        "Four cups on the shelf. Done.",
        'Four white cups on a shelf.\n<final_image ref="s1"/>',
        off="Four white cups on a shelf.\n<final_image>\ncup x4: small, white, on shelf\n"
        "shelf: large, brown, middle\n</final_image>",
    ),
    Example(
        "revision",
        "a cat to the left of a lamp",
        "A cat and a lamp; the cat must be left of the lamp.\n"
        '<sketch id="s1">\ncat: medium, grey\nlamp: large, yellow, left\n</sketch>\n'
        '<observation ref="s1" score="0.60">"cat to the left of lamp" is not drawn so: the cat is not left of the '
        "lamp (centres at x 309 and 128); the line: `cat: medium, left of lamp`. Not passed: fix it in a new sketch tag "
        'with id="s2".</observation>\n'
        '<sketch id="s2">\ncat: medium, left of lamp\nlamp: large, yellow\n</sketch>\n'
        '<observation ref="s2" score="1.00">looks right: every check passed</observation>\n'
        "The new sketch uses the line the observation gave. Done.",
        'A grey cat to the left of a yellow lamp.\n<final_image ref="s2"/>',
        off="A grey cat to the left of a yellow lamp.\n<final_image>\ncat: medium, left of lamp\n"
        "lamp: large, yellow\n</final_image>",
    ),
)

SPEECH = (
    Example(
        "plain",
        "Say good morning, cheerfully.",
        "One short line, said happily.\n"
        '<draft_audio id="a1" emotion="happy">Good morning!</draft_audio>\n'
        '<observation ref="a1" score="0.88">words: all heard; delivery: bright, rising pitch</observation>\n'
        "It sounds cheerful. Done.",
        "A cheerful good morning.\n<final_speech/>",
        off='<draft_audio id="a1" emotion="happy">Good morning!</draft_audio>\n<final_speech/>',
    ),
    Example(
        "revision",
        "Read 'the train is late' in a calm voice.",
        "Calm and even.\n"
        '<draft_audio id="a1" emotion="calm">The train is late.</draft_audio>\n'
        '<observation ref="a1" score="0.45">words: "the rain is late" heard; one word missing</observation>\n'
        "A word was lost. I say it again, slower.\n"
        '<draft_audio id="a2" emotion="calm">The train... is late.</draft_audio>\n'
        '<observation ref="a2" score="0.86">words: all heard; delivery: calm</observation>\nDone.',
        "The line, read calmly.\n<final_speech/>",
        off='<draft_audio id="a1" emotion="calm">The train is late.</draft_audio>\n<final_speech/>',
    ),
)

VIDEO = (
    Example(
        "plain",
        "a ten second video of a boat at sunrise",
        "One scene: a boat on the water as the sun comes up.\n"
        '<frame id="f1" scene="1" seconds="10">boat: medium, white, center; sun: large, orange, top; '
        "setting: sunrise sea</frame>\n"
        '<observation ref="f1" score="0.87">boat: drawn; sun: drawn, orange</observation>\n'
        '<music id="m1" mood="calm" seconds="10"></music>\n'
        '<observation ref="m1" score="0.80">10.0 s, calm</observation>\nDone.',
        "A boat at sunrise.\n<final_video/>",
        off='<frame id="f1" scene="1" seconds="10">boat: medium, white, center; sun: large, orange, top</frame>\n'
        '<music id="m1" mood="calm" seconds="10"></music>\n<final_video/>',
    ),
)

EXAMPLES: dict[str, tuple[Example, ...]] = {"image": IMAGE, "speech": SPEECH, "video": VIDEO}

_COUNT = re.compile(
    r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|several|many|few)\b", re.I
)


def choose(modality: str, request: str, mode: str, limit: int = 3) -> list[Example]:
    """Examples that fit ``request``'s shape, the closest first: a count when it counts, a revision
    (when thinking) when it places things relative to each other; a plain case always."""
    pool = EXAMPLES.get(modality, ())
    if not pool:
        return []
    wanted = ["plain"]
    if _COUNT.search(request):
        wanted.insert(0, "count")
    if mode != "off":
        wanted.append("revision")
    order = {s: i for i, s in enumerate(wanted)}
    picked = sorted((e for e in pool if e.shape in order), key=lambda e: order[e.shape])
    # The closest example goes last: it sits next to the real request.
    return list(reversed(picked[:limit]))
