"""The drawable vocabulary: which drawing a name gets, and the facts the layout needs to place it.

What a thing *is* (its size class, zone and typical colour, and which drawing shows it) comes from
the one object table (:mod:`mmthink.modalities.image.objects`); a name the table does not hold is
resolved there too (head word, word vectors where installed). This module adds what belongs to a
*drawing*: its proportions (``aspect``, per variant where a category drawing has several shapes)
and whether it glows. The painters live in :mod:`mmthink.modalities.image.render.drawings`; only a
name with no entry and no category at all is drawn as the labelled ``generic`` placeholder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from mmthink.modalities.image.objects import Resolved, resolve
from mmthink.modalities.image.render.drawings import animals, buildings, gear, household, scenery, things, vehicles
from mmthink.modalities.image.render.drawings.pen import Pen, Variant, choose, shade
from mmthink.modalities.image.scene import normalize_name

__all__ = ["KINDS", "PAINTERS", "VARIANTS", "KindInfo", "Pen", "drawable_kind", "drawing_for", "kind_info", "shade"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class KindInfo:
    kind: str
    size: float = 0.18  # default fraction of the canvas's short side
    aspect: float = 1.0  # width / height
    zone: str = "any"  # sky | ground | water | any
    color: str = "grey"  # default colour word
    luminous: bool = False  # glows in the final render


# A drawing's own facts. size, zone and colour here are only the defaults for a name that the object
# table does not hold (a scene may name a drawing directly: "quadruped: small"); the table decides the rest.
KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in [
        KindInfo("sun", 0.16, 1.0, "sky", "yellow", True),
        KindInfo("moon", 0.13, 1.0, "sky", "ivory", True),
        KindInfo("star", 0.05, 1.0, "sky", "gold", True),
        KindInfo("cloud", 0.14, 1.9, "sky", "white"),
        KindInfo("planet", 0.26, 1.0, "sky", "blue-green"),
        KindInfo("nebula", 0.5, 1.6, "sky", "purple", True),
        KindInfo("spaceship", 0.14, 2.2, "sky", "silver"),
        KindInfo("battlecruiser", 0.3, 2.8, "any", "grey"),
        KindInfo("rocket", 0.34, 0.38, "ground", "white"),
        KindInfo("laser", 0.04, 6.0, "sky", "red", True),
        KindInfo("explosion", 0.1, 1.0, "any", "orange", True),
        KindInfo("car", 0.14, 2.0, "ground", "red"),
        KindInfo("truck", 0.18, 2.2, "ground", "red"),
        KindInfo("bus", 0.18, 2.6, "ground", "red"),
        KindInfo("bicycle", 0.18, 1.7, "ground", "blue"),
        KindInfo("plane", 0.18, 2.1, "sky", "white"),
        KindInfo("boat", 0.2, 1.1, "water", "white"),
        KindInfo("ship", 0.24, 1.9, "water", "white"),
        KindInfo("train", 0.16, 3.2, "ground", "red"),
        KindInfo("tree", 0.3, 0.7, "ground", "green"),
        KindInfo("flower", 0.1, 0.6, "ground", "pink"),
        KindInfo("mountain", 0.45, 1.6, "ground", "grey"),
        KindInfo("rock", 0.18, 1.4, "ground", "grey"),
        KindInfo("house", 0.26, 1.1, "ground", "tan"),
        KindInfo("building", 0.3, 0.8, "ground", "tan"),
        KindInfo("castle", 0.38, 1.3, "ground", "grey"),
        KindInfo("lighthouse", 0.42, 0.38, "ground", "white", True),
        KindInfo("bridge", 0.2, 3.5, "any", "brown"),
        KindInfo("tunnel", 0.3, 1.4, "ground", "grey"),
        KindInfo("person", 0.24, 0.45, "ground", "blue"),
        KindInfo("astronaut", 0.26, 0.55, "ground", "white"),
        KindInfo("cat", 0.14, 1.2, "ground", "orange"),
        KindInfo("dog", 0.16, 1.3, "ground", "brown"),
        KindInfo("quadruped", 0.18, 1.4, "ground", "brown"),
        KindInfo("bird", 0.07, 1.5, "sky", "blue"),
        KindInfo("fish", 0.07, 1.7, "water", "orange"),
        KindInfo("insect", 0.08, 1.4, "any", "black"),
        KindInfo("reptile", 0.12, 2.0, "ground", "green"),
        KindInfo("owl", 0.18, 0.8, "any", "brown"),
        KindInfo("whale", 0.24, 2.4, "water", "navy"),
        KindInfo("penguin", 0.14, 0.6, "ground", "black"),
        KindInfo("fox", 0.15, 1.5, "ground", "orange"),
        KindInfo("dragon", 0.3, 1.6, "sky", "green"),
        KindInfo("apple", 0.08, 1.0, "any", "red"),
        KindInfo("food", 0.1, 1.2, "any", "tan"),
        KindInfo("cup", 0.09, 1.0, "any", "white"),
        KindInfo("bottle", 0.1, 0.4, "any", "green"),
        KindInfo("book", 0.09, 1.3, "any", "blue"),
        KindInfo("table", 0.34, 1.8, "ground", "brown"),
        KindInfo("chair", 0.22, 0.7, "ground", "brown"),
        KindInfo("furniture", 0.3, 0.9, "ground", "brown"),
        KindInfo("screen", 0.12, 1.2, "any", "black"),
        KindInfo("clock", 0.12, 1.0, "any", "white"),
        KindInfo("container", 0.12, 1.2, "any", "brown"),
        KindInfo("garment", 0.12, 1.1, "any", "red"),
        KindInfo("tool", 0.12, 0.45, "any", "grey"),
        KindInfo("instrument", 0.18, 0.45, "any", "brown"),
        KindInfo("sign", 0.18, 0.75, "ground", "red"),
        KindInfo("lamp", 0.16, 0.8, "any", "yellow", True),
        KindInfo("candle", 0.1, 0.4, "any", "ivory", True),
        KindInfo("balloon", 0.09, 0.75, "sky", "red"),
        KindInfo("kite", 0.1, 0.8, "sky", "orange"),
        KindInfo("umbrella", 0.2, 1.1, "ground", "red"),
        KindInfo("guitar", 0.2, 0.45, "any", "brown"),
        KindInfo("robot", 0.22, 0.6, "ground", "silver"),
        KindInfo("plant", 0.15, 0.7, "ground", "green"),
        KindInfo("iceberg", 0.3, 1.5, "water", "white"),
        KindInfo("lantern", 0.08, 0.6, "any", "yellow", True),
        KindInfo("flag", 0.16, 0.8, "ground", "red"),
        KindInfo("hat", 0.1, 1.4, "any", "black"),
        KindInfo("scarf", 0.1, 1.6, "any", "red"),
        KindInfo("door", 0.24, 0.5, "ground", "brown"),
        KindInfo("bowl", 0.3, 1.3, "any", "azure"),
        KindInfo("wall", 0.6, 1.8, "ground", "white"),
        KindInfo("ball", 0.07, 1.0, "ground", "red"),
        KindInfo("tower", 0.36, 0.35, "ground", "grey"),
        KindInfo("pad", 0.12, 3.0, "ground", "grey"),
        KindInfo("generic", 0.16, 1.0, "any", "grey"),
    ]
}

PAINTERS: dict[str, Callable[[Pen], None]] = {
    name[2:]: fn
    for mod in (scenery, animals, vehicles, buildings, things, household, gear)
    for name, fn in vars(mod).items()
    if name.startswith("p_") and callable(fn)
}

VARIANTS: dict[str, list[Variant]] = {
    "quadruped": animals.QUADRUPED,
    "insect": animals.INSECT,
    "reptile": animals.REPTILE,
    "boat": vehicles.BOAT,
    "truck": vehicles.TRUCK,
    "fish": animals.FISH,
    "cup": things.CUP,
    "plane": vehicles.PLANE,
    "bicycle": vehicles.BICYCLE,
    "building": buildings.BUILDING,
    "rock": scenery.ROCK,
    "plant": scenery.PLANT,
    "bowl": things.BOWL,
    "ball": things.BALL,
    "food": household.FOOD,
    "bottle": household.BOTTLE,
    "screen": household.SCREEN,
    "container": things.CONTAINER,
    "sign": gear.SIGN,
    "instrument": gear.INSTRUMENT,
    "garment": gear.GARMENT,
    "tool": gear.TOOL,
    "furniture": household.FURNITURE,
}
"""Category drawings with several shapes: the shape (and its proportions) is picked by the name's words."""

LAYOUT_ZONES = {"sky", "ground", "water"}
"""The table's zones the layout places by; the others (table, wall, person, any) float where relations put them."""


@dataclass(frozen=True)
class Drawing:
    """How a name is drawn, and why: the trace says what stood in for what."""

    name: str
    info: KindInfo
    resolved: Resolved

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def placeholder(self) -> bool:
        """No entry, no category: the labelled generic shape stands in (a finding)."""
        return self.kind == "generic"

    def explain(self) -> str | None:
        """One line for the trace when the drawing is not the thing's own, else None."""
        r, e = self.resolved, self.resolved.entry
        if self.placeholder and e is not None and e.is_place:
            return f"{self.name!r} is a place, not a thing: a labelled placeholder shape stands in for it"
        if self.placeholder:
            return f"{self.name!r} has no drawing and no category: a labelled placeholder shape stands in"
        if e is None:
            return None
        if r.stand_in:
            how = "its head word" if r.how == "head word" else f"word vectors ({r.similarity or 0:.2f})"
            return f"{self.name!r} is not in the object table: drawn as a kind of {e.name!r} ({e.category}, by {how})"
        if self.kind != normalize_name(e.name):
            return f"{self.name!r} is drawn with the {e.category} drawing ({self.kind})"
        return None


@lru_cache(maxsize=4096)
def drawing_for(name: str) -> Drawing:
    """The drawing for a scene name: its table entry's (or its category's), else a drawing's own name, else generic."""
    n = normalize_name(name)
    res = resolve(n)
    for form in (
        n + "s",
        n + "es",
        n[:-1] + "ies" if n.endswith("y") else n,
    ):  # a name said only in the plural, singularised by the reader ("bagpipe")
        if res.entry is None or res.stand_in:
            alt = resolve(form, vectors=False)
            if alt.entry is not None and not alt.stand_in:
                res = Resolved(n, alt.entry, alt.how)
    e = res.entry
    if e is not None and not e.is_place and e.drawable in PAINTERS:
        base = KINDS[e.drawable]
        variants = VARIANTS.get(e.drawable)
        aspect = (choose(variants, n).aspect or base.aspect) if variants else base.aspect
        from mmthink.modalities.image.objects import load_table

        info = replace(
            base,
            size=load_table().size_fraction(e),
            aspect=aspect,
            zone=e.zone if e.zone in LAYOUT_ZONES else "any",
            color=e.color,
        )
        return Drawing(n, info, res)
    for form in (n, n.rstrip("s")):
        if form in KINDS:
            return Drawing(n, KINDS[form], res)
    return Drawing(n, KINDS["generic"], res)


def drawable_kind(name: str) -> str:
    """The drawing a name is shown with (a KINDS key); "generic" only for a name with no category."""
    return drawing_for(name).kind


def kind_info(name: str) -> KindInfo:
    """Size, proportions, zone, colour and glow for a name (the table's facts on the drawing's shape)."""
    return drawing_for(name).info
