"""Where bundled assets live: the repository's assets/ in a checkout, the package's copy in a wheel."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def assets_dir() -> Path:
    env = os.environ.get("MMTHINK_ASSETS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (here / "assets", here.parent / "assets"):
        if (cand / "demos").is_dir():
            return cand
    return here.parent / "assets"


def asset(*parts: str) -> Path:
    return assets_dir().joinpath(*parts)
