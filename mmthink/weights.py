"""Finding a model's weights before loading them: local files first, the hub only when it answers.

Loading a hub id that is not on this machine makes transformers retry the hub for a minute or
more when there is no network; a missing file is then reported in terms of the hub. So weights
are looked for in this order, and a miss fails at once (well under 5 s) with the fix for what
was asked for:

- a ``.gguf`` path: the file itself (a miss names the file and the .gguf files beside it);
- a local folder: ``config.json`` (or ``gguf_file=`` inside it; a folder that holds only GGUF
  files says which to pass);
- a hub id: the local Hugging Face cache (then loaded with ``local_files_only``); otherwise the
  hub, but only if it answers a short probe and ``HF_HUB_OFFLINE`` is not set; else the exact
  ``hf download`` command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mmthink.errors import ModelUnavailable

HUB_PROBE_S = 2.0
"""Seconds the hub has to answer before it counts as unreachable."""


@dataclass(frozen=True)
class Located:
    """Where to load from: ``source`` for ``from_pretrained``, the GGUF file name, and whether the
    files are all here (``local_only``: no network at all)."""

    source: str
    gguf_file: str | None
    local_only: bool
    cache_dir: str | None = None


def looks_local(model: str) -> bool:
    """A path rather than a hub id (``owner/name``)."""
    return (
        Path(model).expanduser().exists()
        or model.startswith(("/", "./", "../", "~", "\\"))
        or os.path.isabs(model)
        or model.count("/") > 1
        or model.lower().endswith(".gguf")
    )


def locate(model: str, gguf_file: str | None = None) -> Located:
    """Where the weights of ``model`` are; raises :class:`ModelUnavailable` (final) when they are not here."""
    path = Path(model).expanduser()
    if gguf_file is None and model.lower().endswith(".gguf"):
        if path.is_file():
            return Located(str(path.parent), path.name, True)
        raise ModelUnavailable(
            f"no GGUF file at {str(path)!r}: {_beside(path)}. Pass the path of an existing "
            ".gguf file, or its folder with gguf_file='NAME.gguf'"
        )
    if looks_local(model):
        return _local(path, gguf_file)
    return _hub(model, gguf_file)


def _local(path: Path, gguf_file: str | None) -> Located:
    if not path.exists():
        raise ModelUnavailable(
            f"no model at {str(path)!r} (looked for that folder: it does not exist). Pass an existing model folder "
            "or .gguf file (a .gguf needs its path, or its folder with gguf_file='NAME.gguf'); to use a hub id "
            "instead, download it on a connected machine (`hf download OWNER/NAME`) or set HF_HOME to a Hugging "
            "Face cache that holds it"
        )
    if path.is_file():
        raise ModelUnavailable(
            f"{str(path)!r} is a file but not a .gguf: pass the folder that holds config.json "
            "and the weights, or a .gguf file"
        )
    ggufs = sorted(p.name for p in path.glob("*.gguf"))
    if gguf_file:
        if (path / gguf_file).is_file():
            return Located(str(path), gguf_file, True)
        holds = f"it holds {', '.join(ggufs)}" if ggufs else "it holds no .gguf file"
        raise ModelUnavailable(
            f"no GGUF file {gguf_file!r} in {str(path)!r} ({holds}): pass the folder that holds it, or the file's path"
        )
    if (path / "config.json").is_file():
        return Located(str(path), None, True)
    if ggufs:
        others = f"; it also holds {', '.join(ggufs[1:])}" if len(ggufs) > 1 else ""
        raise ModelUnavailable(
            f"{str(path)!r} holds GGUF files but no config.json: pass gguf_file="
            f"{ggufs[0]!r} (or the file's path){others}"
        )
    raise ModelUnavailable(
        f"no model in {str(path)!r}: it has no config.json and no .gguf file (looked in that "
        "folder); pass the folder that holds the model's files"
    )


def _hub(model: str, gguf_file: str | None) -> Located:
    cache_dir = hub_cache_dir()
    wanted = gguf_file or "config.json"
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model, wanted, cache_dir=cache_dir)
    except ImportError:  # transformers brings it; without it nothing is cached
        hit = None
    if isinstance(hit, str):
        return Located(model, gguf_file, True, cache_dir)
    why = hub_unreachable()
    if why is None:
        return Located(model, gguf_file, False, cache_dir)  # downloads, with transformers' progress bars
    get = f"hf download {model}" + (f" {gguf_file}" if gguf_file else "")
    raise ModelUnavailable(
        f"{model!r} is not in the local Hugging Face cache ({cache_dir}) and the hub cannot be reached ({why}): "
        f"run `{get}` on a connected machine and copy its cache here (or set HF_HOME / HF_HUB_CACHE to a cache "
        "that holds it), or pass a local folder as model=..."
    )


def hub_cache_dir() -> str:
    """The hub cache as the environment says now (huggingface_hub reads it once, at import)."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return str(Path(env).expanduser())
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return str(Path(home).expanduser() / "hub")


def hub_unreachable(timeout: float = HUB_PROBE_S) -> str | None:
    """Why the hub cannot be used now (offline mode, no answer), or None when it answers."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on") or os.environ.get(
        "TRANSFORMERS_OFFLINE", ""
    ).strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:
        return None  # it answered, if only with an error page
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return f"{endpoint} did not answer within {timeout:g} s: {reason}"
    return None


def _beside(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {str(folder)!r} does not exist"
    ggufs = sorted(p.name for p in folder.glob("*.gguf"))
    return f"{str(folder)!r} holds " + (", ".join(ggufs) if ggufs else "no .gguf file")
