"""Which torch device a model goes on: the one asked for, else CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

from .errors import InputError

KNOWN = ("cpu", "cuda", "mps", "xpu", "npu", "hpu")


def resolve_device(device: str | None = None) -> str:
    if device not in (None, "", "auto"):
        d = str(device)
        if d.split(":")[0] not in KNOWN:
            raise InputError("device", f"unknown device {device!r}", "use cpu, cuda, cuda:N, mps or auto")
        return d
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
