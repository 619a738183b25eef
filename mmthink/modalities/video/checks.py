"""Checks on a composed film before any critic sees it: an MP4 container, within the length limit."""

from __future__ import annotations

from typing import Any

from mmthink.core.faults import InvalidOutput


def check_video(art: Any, limits: Any = None, what: str = "compose") -> None:
    data = bytes(art.data)
    if data[4:8] != b"ftyp":
        raise InvalidOutput(what, "the video is not an MP4 file (no 'ftyp' box)")
    secs = (getattr(art, "meta", None) or {}).get("seconds")
    cap = getattr(limits, "max_video_seconds", None)
    if isinstance(secs, (int, float)) and cap and secs > cap:
        raise InvalidOutput(what, f"the video is {secs:.1f} s long, over the {cap:g} s limit")
