"""Generate structured image prompts from the object table, with the constraints each one states.

Why: a hand-written prompt list is soon the list the parser was tuned on. Prompts built from the
whole table, in varied templates, measure whether the understanding generalises. Each line has
the dev set's format (``prompt``, ``tag``, ``include`` with class, count, optional colour and
``position: [relation, index]``), so ``tools/eval_image_plans.py`` can judge them too.

Templates: one object; two objects; a count of 2-4; a colour; two colours on two objects; one object
left of / right of / above / below another; each with or without a lead-in ("a photo of"). With
``--tags plural contents``: a plural without a number ("some red kites": at least two), and things
filling a vessel ("a basket full of pears": in it; "a plate of two cookies": on it).

    python tools/gen_image_prompts.py --n 1000 --seed 0 > generated.jsonl
    python tools/gen_image_prompts.py --n 1000 --seed 0 --score   # parser accuracy on them
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmthink.modalities.image.objects import ObjectEntry, load_table  # noqa: E402
from mmthink.modalities.image.vocab import COLORS  # noqa: E402

TEMPLATE_COLORS = [
    "red",
    "blue",
    "green",
    "yellow",
    "orange",
    "purple",
    "pink",
    "brown",
    "black",
    "white",
    "grey",
    "silver",
    "gold",
    "teal",
]
COUNT_WORDS = {2: "two", 3: "three", 4: "four"}
LEAD_INS = ["a photo of ", "an image of ", "a picture of ", "a drawing of ", "an illustration of "]
RELATIONS = {
    "left of": ["to the left of", "left of", "on the left of"],
    "right of": ["to the right of", "right of", "on the right of"],
    "above": ["above", "over"],
    "below": ["below", "under", "beneath"],
}
TAGS = ["single", "two", "count", "color", "color_attr", "position"]
EXTRA_TAGS = ["plural", "contents"]
"""Asked for with ``--tags``: a plural without a number ("red apples", "some kites": at least two drawn), and
things filling a vessel ("a basket full of pears": the pears drawn in it; "a plate of cookies": on it)."""
PLURAL_LEADS = ["", "some ", ""]
CONTENTS_FORMS = ["a {v} of {c}", "a {v} full of {c}", "a {v} filled with {c}", "a {v} with {c}"]
CONTENT_CATEGORIES = {"fruit", "vegetable", "food", "flower", "toy", "sports gear"}

DEV = ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl"
if not DEV.exists():
    DEV = ROOT / "tests" / "data" / "image_prompts_dev.jsonl"


def drawable_entries() -> list[ObjectEntry]:
    """Things a picture can show on its own: every entry but places, with plain single names."""
    return [e for e in load_table().entries if not e.is_place and e.name not in COLORS]


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def noun(e: ObjectEntry, count: int = 1) -> str:
    """The name, or for a count its own plural (not a synonym's: "taxis", not "cabs")."""
    if count == 1:
        return e.name

    def shared(p: str) -> int:
        k = 0
        while k < min(len(p), len(e.name)) and p[k] == e.name[k]:
            k += 1
        return k

    return min(e.plurals, key=lambda p: (-shared(p), abs(len(p) - len(e.name))))


def one(e: ObjectEntry, count: int = 1, color: str | None = None) -> str:
    words = " ".join(w for w in (color, noun(e, count)) if w)
    return f"{COUNT_WORDS[count]} {words}" if count > 1 else f"{article(words)} {words}"


def countable(e: ObjectEntry) -> bool:
    """Said in the plural, it means several of it: not a garment (a pair), not a word the same in both."""
    from mmthink.modalities.image.nlp import WORN_PLURALS

    return e.category != "garment" and noun(e, 2) != e.name and noun(e, 2) not in WORN_PLURALS


def vessels(entries: list[ObjectEntry]) -> list[ObjectEntry]:
    """What the understanding takes to hold things (nlp.holds): every such entry, not a list picked by hand."""
    from mmthink.modalities.image.nlp import holds

    return [e for e in entries if holds(e, None)]


def make_extra(rng: random.Random, entries: list[ObjectEntry], tag: str) -> dict:
    """The plural and contents templates (see :data:`EXTRA_TAGS`)."""
    from mmthink.modalities.image.nlp import SURFACE_VESSELS

    if tag == "plural":
        a = rng.choice([e for e in entries if countable(e)])
        c = rng.choice([None, *TEMPLATE_COLORS[:6]])
        text = rng.choice(PLURAL_LEADS) + " ".join(w for w in (c, noun(a, 2)) if w)
        inc = {"class": a.name, "count": 3, "min_count": 2}
        return {"tag": tag, "include": [{**inc, "color": c} if c else inc], "prompt": text}
    v = rng.choice(vessels(entries))
    c = rng.choice(
        [
            e
            for e in entries
            if e.category in CONTENT_CATEGORIES and countable(e) and e.name != v.name and e.size in ("tiny", "small")
        ]
    )
    n = rng.choice([0, 0, 2, 3])
    said = f"{COUNT_WORDS[n]} {noun(c, n)}" if n else noun(c, 2)
    form = CONTENTS_FORMS[-1] if n else rng.choice(CONTENTS_FORMS)  # "a bowl of two pears" is not said
    text = form.format(v=v.name, c=said)
    text = f"{article(text[2:])} {text[2:]}"
    # the truth, from the table's own facts: furniture or a structure that is not a box or chest, and plates
    # and trays, carry things on them; everything else holds them in it
    surface = (v.category in ("furniture", "structure") and v.drawable != "container") or v.name in SURFACE_VESSELS
    kind = "on" if surface else "in"
    held = {"class": c.name, "count": n or 3, "position": [kind, 0], **({} if n else {"min_count": 2})}
    return {"tag": tag, "include": [{"class": v.name, "count": 1}, held], "prompt": text}


def make(rng: random.Random, entries: list[ObjectEntry], tag: str) -> dict:
    if tag in EXTRA_TAGS:
        return make_extra(rng, entries, tag)
    a, b = rng.sample(entries, 2)
    while a.category == b.category and a.drawable == b.drawable and rng.random() < 0.5:
        b = rng.choice(entries)
    if a.name == b.name or a.name in b.name.split(" ") or b.name in a.name.split(" "):
        b = next(e for e in entries if e.name not in (a.name,) and a.name not in e.name and e.name not in a.name)
    if tag == "single":
        text, inc = one(a), [{"class": a.name, "count": 1}]
    elif tag == "two":
        text, inc = f"{one(a)} and {one(b)}", [{"class": a.name, "count": 1}, {"class": b.name, "count": 1}]
    elif tag == "count":
        n = rng.choice([2, 3, 4])
        text, inc = one(a, n), [{"class": a.name, "count": n}]
    elif tag == "color":
        c = rng.choice(TEMPLATE_COLORS)
        text, inc = one(a, color=c), [{"class": a.name, "count": 1, "color": c}]
    elif tag == "color_attr":
        c1, c2 = rng.sample(TEMPLATE_COLORS, 2)
        text = f"{one(a, color=c1)} and {one(b, color=c2)}"
        inc = [{"class": a.name, "count": 1, "color": c1}, {"class": b.name, "count": 1, "color": c2}]
    else:
        rel = rng.choice(list(RELATIONS))
        phrase = rng.choice(RELATIONS[rel])
        text = f"{one(a)} {phrase} {one(b)}"
        inc = [{"class": b.name, "count": 1}, {"class": a.name, "count": 1, "position": [rel, 0]}]
    if rng.random() < 0.5:
        text = rng.choice(LEAD_INS) + text
    return {"tag": tag, "include": inc, "prompt": text}


def generate(n: int, seed: int, tags: list[str] | None = None) -> list[dict]:
    """``n`` prompts, the templates taken in turn (``tags``: default :data:`TAGS`)."""
    rng = random.Random(seed)
    entries = drawable_entries()
    tags = tags or TAGS
    return [make(rng, entries, tags[i % len(tags)]) for i in range(n)]


def constraint_failures(intent, item: dict) -> list[str]:
    """What the parse missed of an item's constraints (object, count, colour, relation)."""
    fails = []
    for inc in item["include"]:
        w = intent.find(inc["class"])
        if w is None:
            fails.append(f"{inc['class']}: missing")
            continue
        if w.count < inc["min_count"] if "min_count" in inc else w.count != inc["count"]:
            fails.append(f"{inc['class']}: count {w.count}, wanted {inc.get('min_count', inc['count'])}")
        if inc.get("color") and inc["color"] in item["prompt"] and w.color != inc["color"]:
            fails.append(f"{inc['class']}: colour {w.color}, wanted {inc['color']}")
        if "position" in inc:
            rel, ref = inc["position"]
            target = item["include"][ref]["class"]
            got = w.relation
            want_target = intent.find(target)
            if got is None or got[0] != rel or want_target is None or got[1] != want_target.name:
                fails.append(f"{inc['class']}: relation {got}, wanted ({rel!r}, {target!r})")
    return fails


def score(items: list[dict], parse) -> dict:
    rows = []
    for item in items:
        fails = constraint_failures(parse(item["prompt"]), item)
        rows.append({"prompt": item["prompt"], "tag": item["tag"], "ok": not fails, "fails": fails})
    n = len(rows) or 1
    by_tag: dict[str, list[bool]] = {}
    for r in rows:
        by_tag.setdefault(r["tag"], []).append(r["ok"])
    return {
        "prompts": len(rows),
        "accuracy": round(sum(r["ok"] for r in rows) / n, 4),
        "by_tag": {t: round(sum(v) / len(v), 4) for t, v in sorted(by_tag.items())},
        "failures": [r for r in rows if not r["ok"]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--tags",
        nargs="+",
        choices=TAGS + EXTRA_TAGS,
        default=None,
        help=f"the templates, in turn (default: {' '.join(TAGS)})",
    )
    ap.add_argument(
        "--score",
        action="store_true",
        help="instead of printing prompts, score mmthink.modalities.image.nlp (and mmthink.modalities.image.understanding, where present)",
    )
    ap.add_argument(
        "--dev",
        default=str(DEV),
        help="with --score: also score this prompt file",
    )
    ap.add_argument("--show", type=int, default=5, help="with --score: failures to print per parser")
    args = ap.parse_args()
    items = generate(args.n, args.seed, args.tags)
    if not args.score:
        for it in items:
            print(json.dumps(it))
        return 0
    from mmthink.modalities.image import nlp

    parsers = {f"mmthink.modalities.image.nlp [{nlp.parser_name()}]": nlp.parse_image_request}
    try:
        from mmthink.modalities.image.understanding import parse_image_request as before

        parsers["mmthink.modalities.image.understanding (before)"] = before
    except ImportError:
        pass
    sets = {f"generated n={args.n} seed={args.seed}": items}
    dev = Path(args.dev)
    if dev.exists():
        sets[dev.name] = [json.loads(x) for x in dev.read_text().splitlines() if x.strip()]
    out = {}
    for set_name, its in sets.items():
        for p_name, parse in parsers.items():
            rep = score(its, parse)
            out[f"{set_name} / {p_name}"] = {k: v for k, v in rep.items() if k != "failures"}
            print(f"{set_name:32s} {p_name:58s} {rep['accuracy']:.3f}  {rep['by_tag']}")
            for f in rep["failures"][: args.show]:
                print(f"    {f['prompt']!r}: {'; '.join(f['fails'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
