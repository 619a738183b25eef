"""Which torch device (and dtype) a model goes on: the one asked for, else CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

from typing import Any

from mmthink.errors import InputError

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


DTYPES = {
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
    "fp32": "float32",
    "float32": "float32",
    "float": "float32",
}


def resolve_dtype(dtype: Any, device: str, *, cuda_default: str = "bfloat16", field: str = "dtype") -> Any:
    """An explicit dtype (name or torch.dtype), else: ``cuda_default`` on CUDA (float16 where the GPU has no
    bfloat16), float16 on MPS, float32 on the CPU."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "", "auto"):
        if device.startswith("cuda"):
            if cuda_default == "bfloat16" and not torch.cuda.is_bf16_supported():
                return torch.float16
            return getattr(torch, cuda_default)
        return torch.float16 if device.startswith("mps") else torch.float32
    name = DTYPES.get(str(dtype).lower().replace("torch.", ""))
    if name is None:
        raise InputError(field, f"unknown dtype {dtype!r}", "use auto, bfloat16, float16 or float32")
    return getattr(torch, name)
