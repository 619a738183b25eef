"""The critic's check that every place a request names is shown in the final.

The embedded renderer paints a named place as a backdrop of its own kind (render/backdrops.py) and
records which kind it painted for which place word, with a coarse map of where its props are. This
check reads that record and the final's pixels: the props must stand apart from the surface around
them. A place with no backdrop kind, or one the backdrop does not show (another place's kind was
painted, or the things cover every prop), is a failed check, so the run does not claim success.
A sketch is drawn on paper, so it is checked for what the final will paint from it: the scene must declare
each place (a ``setting:`` line of that kind), else the finding gives the line to add. Other backends
have no record of what they painted, so their finals are not checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmthink.modalities.image.render.backdrops import places, shown

CheckTuple = tuple[str, bool, float, str, dict[str, Any]]


def place_checks(art: Any, setting: list[str], img: np.ndarray, declared: list[str] | None = None) -> list[CheckTuple]:
    """One check per place word of ``setting`` (the request's, or a storyboard frame's own); ``declared``
    is the scene's own setting, which a sketch must give each place in (the final paints from it)."""
    meta = art.meta or {}
    if meta.get("quality") != "final":
        return _declared(setting, declared) if declared is not None else []
    if meta.get("backend") != "embedded":
        return []
    record = meta.get("backdrop") or {}
    # one map per kind painted (a far band of mountains and a near one of water); a record of one kind has one
    maps = record.get("maps") or ({record["kind"]: record.get("map")} if record.get("kind") else {})
    out: list[CheckTuple] = []
    for word, kind in places(setting).items():
        issue = {"type": "place", "place": word, "kind": kind}
        if kind is None:
            finding = f"the place '{word}' has no backdrop of its own, so it is not shown"
            out.append(("request unshown", False, 1.0, finding, issue))
        elif kind not in maps:
            painted = " and ".join(maps) or "none"
            finding = f"the place '{word}' is not shown: the backdrop painted is {painted}, not {kind}"
            out.append(("request place", False, 1.0, finding, issue))
        else:
            ok, measured = shown(img, {"map": maps[kind]})
            finding = "" if ok else f"the place '{word}' does not show in the final: {measured}"
            out.append(("request place", ok, 1.0, finding, {**issue, "measured": measured}))
    return out


def _declared(setting: list[str], declared: list[str]) -> list[CheckTuple]:
    """A sketch names each requested place that has a backdrop, so the final can paint it."""
    have = {k for k in places(declared).values() if k}
    out: list[CheckTuple] = []
    for word, kind in places(setting).items():
        if kind is not None and kind not in have:
            issue = {"type": "place", "place": word, "kind": kind, "declared": False}
            out.append(
                ("request place", False, 1.0, f"the place '{word}' is not in the scene: add `setting: {word}`", issue)
            )
    return out
