"""``import spacy`` without the parts the English sm/md pipelines never touch.

Start-up time is what a new user meets first (the image demo is a 2.5 s process), and most of spaCy's
import is not spaCy's parser: thinc imports torch in case a pipeline wraps a PyTorch model (about 2 s here),
and ``spacy/__init__`` imports its command line (typer, click, jinja2, requests, weasel: about 0.15 s) only to
re-export ``spacy.info``. Both are deferred, not removed: torch is refused to ``thinc.compat`` alone, and
``spacy.cli`` is a placeholder that becomes the real package the first time anything uses it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator
from typing import Any


def _imported_from(module_name: str) -> bool:
    """Whether the import in progress is being made by ``module_name``'s own code (not by another thread)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") == module_name:
            return True
        frame = frame.f_back
    return False


class _LazyCli(types.ModuleType):
    """Stands for ``spacy.cli`` until used; the first attribute read imports the real package."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        real = _real_cli()
        return getattr(real, name)


def _real_cli() -> types.ModuleType:
    if isinstance(sys.modules.get("spacy.cli"), _LazyCli):  # still inside the deferred import
        del sys.modules["spacy.cli"]
    return importlib.import_module("spacy.cli")  # also rebinds the ``spacy.cli`` attribute


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``, imported on first call."""
    return _real_cli().info(*args, **kwargs)


class _Placeholder(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name == "spacy.cli":
            mod: types.ModuleType = _LazyCli(spec.name)
            mod.__path__ = []  # a package, so ``spacy.cli.info`` resolves here too
        else:
            mod = types.ModuleType(spec.name)
            mod.info = _info  # type: ignore[attr-defined]
        return mod

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _Deferrals(importlib.abc.MetaPathFinder):
    """Refuses torch to ``thinc.compat`` and hands ``spacy/__init__`` a placeholder ``spacy.cli``.

    Only imports made from those modules' own frames are affected, so another thread importing torch or
    ``spacy.cli`` at the same moment gets the real thing.
    """

    def __init__(self, torch: bool) -> None:
        self.torch = torch

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if self.torch and (name == "torch" or name.startswith("torch.")) and _imported_from("thinc.compat"):
            raise ModuleNotFoundError("torch is not needed by the English sm/md pipelines", name=name)
        if name in ("spacy.cli", "spacy.cli.info") and _imported_from("spacy"):
            return importlib.machinery.ModuleSpec(name, _Placeholder(), is_package=name == "spacy.cli")
        return None


@contextlib.contextmanager
def _deferred() -> Iterator[None]:
    torch = "torch" not in sys.modules and "thinc.compat" not in sys.modules  # loaded already: costs nothing
    finder = _Deferrals(torch)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        # the placeholders leave sys.modules so that ``import spacy.cli`` loads the real package;
        # ``spacy.cli`` the attribute stays a _LazyCli until then
        lazy = sys.modules.get("spacy.cli")
        if isinstance(lazy, _LazyCli):
            vars(lazy).pop("info", None)  # the placeholder submodule, bound here by the import system
        for name in ("spacy.cli.info", "spacy.cli"):
            spec = getattr(sys.modules.get(name), "__spec__", None)
            if spec is not None and isinstance(spec.loader, _Placeholder):
                del sys.modules[name]


def import_spacy() -> Any:
    """``import spacy``, quickly (see the module docstring)."""
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    with _deferred():
        import spacy
    return spacy
