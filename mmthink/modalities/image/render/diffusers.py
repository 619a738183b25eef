"""The diffusers image backend: cheap sketches while thinking, a full-quality final built from the accepted one.

Any diffusers text-to-image pipeline (hub id or local folder) is loaded once per process and its
components are shared with an image-to-image pipeline (``from_pipe``), so the model sits in memory
once. A *sketch* is low resolution and few steps; by default it is image-to-image from the embedded
layout render, so the composition the critic checks is the one the model paints over. The *final*
is image-to-image from the accepted sketch at full resolution, so what the reasoner approved is what
the user gets. Every draft records its seed: the same scene, size and seed render the same image.

The critic still needs to know where things are; that comes from the layout the init image was
drawn from (``meta["placed_source"] == "layout"``). A configured CLIP critic (``critics/clip.py``)
checks the pixels the model actually painted inside those boxes.
"""

from __future__ import annotations

import io
import math
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mmthink.errors import InputError, ModelUnavailable
from mmthink.modalities.base import ImageArtifact
from mmthink.modalities.image.scene import Element, Scene

__all__ = ["DiffusersImageBackend", "Family", "FAMILIES", "family_of", "scene_prompt", "pick_device", "clear_cache"]


@dataclass(frozen=True)
class Family:
    """One model family's conventions, as their model cards give them."""

    name: str
    sketch_steps: int
    final_steps: int
    guidance: float
    negative: bool  # whether the family reads a negative prompt (guidance-distilled ones ignore it)
    native_side: int  # the long side it was trained at; sketches use at most 512 of it
    multiple: int = 8  # width and height must be multiples of this


FAMILIES: dict[str, Family] = {
    # SD-Turbo / SDXL-Turbo: adversarial distillation, 1-4 steps, no classifier-free guidance.
    "turbo": Family("turbo", 1, 4, 0.0, False, 512),
    # FLUX.1-schnell: 4 steps, guidance-distilled; FLUX.1-dev wants guidance and ~28 steps.
    "flux-schnell": Family("flux-schnell", 2, 4, 0.0, False, 1024, 16),
    "flux": Family("flux", 8, 28, 3.5, False, 1024, 16),
    # Latent consistency models and LCM-LoRA: 4 steps, low guidance.
    "lcm": Family("lcm", 2, 4, 1.0, False, 512),
    "sd3": Family("sd3", 8, 28, 7.0, True, 1024, 16),
    "sdxl": Family("sdxl", 8, 30, 6.0, True, 1024),
    "sd": Family("sd", 8, 30, 7.5, True, 512),
}

NEGATIVE = "blurry, low quality, deformed, disfigured, watermark, text, signature, jpeg artifacts"


def family_of(model: str, pipeline_class: str = "") -> Family:
    """Guess the family from the model id or folder name first, then from the pipeline class."""
    key = f"{Path(str(model)).name} {model}".lower()
    cls = pipeline_class.lower()
    if "turbo" in key:
        return FAMILIES["turbo"]
    if "flux" in key or "flux" in cls:
        return FAMILIES["flux-schnell" if "schnell" in key else "flux"]
    if "lcm" in key or "latentconsistency" in cls:
        return FAMILIES["lcm"]
    if "stable-diffusion-3" in key or "sd3" in key or "stablediffusion3" in cls:
        return FAMILIES["sd3"]
    if "xl" in key or "xl" in cls:
        return FAMILIES["sdxl"]
    return FAMILIES["sd"]


# ----------------------------------------------------------------------------- prompts
_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
_PLACES = {
    "left": "on the left",
    "right": "on the right",
    "center": "in the centre",
    "top": "at the top",
    "bottom": "at the bottom",
    "foreground": "in the foreground",
    "background": "in the background",
    "middle": "in the middle",
}
_RELATIONS = {
    "left of": "to the left of",
    "right of": "to the right of",
    "above": "above",
    "below": "below",
    "on": "on",
    "under": "under",
    "behind": "behind",
    "in front of": "in front of",
    "near": "near",
    "between": "between",
    "inside": "inside",
}


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def element_phrase(el: Element, *, places: bool = True) -> str:
    """``apple x3: small, red, left`` -> ``three small red apples on the left``."""
    name = el.name.replace("_", " ")
    head = [_NUMBERS.get(el.count, str(el.count)) if el.count > 1 else "a"]
    if el.size and el.size not in ("medium", "normal"):
        head.append(el.size)
    head.extend(el.colors)
    head.append(_plural(name) if el.count > 1 else name)
    if head[0] == "a" and head[1][:1] in "aeiou":
        head[0] = "an"
    text = " ".join(head)
    if places:
        where = [_PLACES.get(p, p) for p in (el.h, el.v, el.depth) if p]
        for r in el.relations:
            rel = _RELATIONS.get(r.kind, r.kind)
            where.append(f"{rel} the {r.target}" + (f" and the {r.target2}" if r.target2 else ""))
        if where:
            text += " " + ", ".join(where)
    if el.text:
        text += f' with the words "{el.text}"'
    extras = [e for e in el.extras if len(e) < 24]
    return text + (f", {', '.join(extras)}" if extras else "")


def scene_prompt(scene: Scene, style: list[str] | None = None) -> str:
    """The model's prompt is the scene the reasoner wrote, in words, setting and style last."""
    parts = [element_phrase(e) for e in scene.elements]
    if scene.setting:
        parts.append("setting: " + ", ".join(scene.setting))
    words = [*scene.style, *(style or [])]
    if words:
        parts.append(", ".join(dict.fromkeys(words)))
    return "; ".join(parts) or "an empty scene"


# ----------------------------------------------------------------------------- devices and cache
def pick_device(device: str | None = None) -> str:
    """Explicit device > CUDA > Apple MPS > CPU (see :mod:`mmthink.devices`)."""
    from mmthink.devices import resolve_device

    return resolve_device(device)


def _pick_dtype(dtype: str | None, device: str, family: Family) -> Any:
    from mmthink.devices import resolve_dtype

    # FLUX was trained in bf16 (fp16 overflows in its transformer); the UNet families run in fp16
    return resolve_dtype(
        dtype,
        device,
        cuda_default="bfloat16" if family.name.startswith("flux") else "float16",
        field="image_options.dtype",
    )


_PIPES: dict[tuple[str, str, str, bool], tuple[Any, Any, threading.Lock]] = {}
_PIPES_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded pipeline (tests, or a long-lived process switching models)."""
    with _PIPES_LOCK:
        _PIPES.clear()


def _load(model: str, device: str, dtype: Any, offload: bool, variant: str | None) -> tuple[Any, Any, threading.Lock]:
    key = (str(model), device, str(dtype), offload)
    with _PIPES_LOCK:
        if key in _PIPES:
            return _PIPES[key]
        try:
            from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image
        except ImportError as e:
            raise ModelUnavailable("the diffusers backend needs the hf extra: pip install 'mmthink[hf]'") from e
        kwargs: dict[str, Any] = {_dtype_keyword(): dtype}
        if variant:
            kwargs["variant"] = variant
        local = Path(str(model)).expanduser()
        t2i = from_cache_first(
            AutoPipelineForText2Image.from_pretrained,
            str(local) if local.exists() else str(model),
            lambda e: _missing(model, local, e),
            **kwargs,
        )
        if offload and device != "cpu":  # weights wait in RAM, each module visits the GPU while it runs
            t2i.enable_model_cpu_offload(device=device)
        else:
            t2i = t2i.to(device)
        t2i.set_progress_bar_config(disable=True)
        i2i = AutoPipelineForImage2Image.from_pipe(t2i)  # same UNet/transformer, VAE and encoders: loaded once
        i2i.set_progress_bar_config(disable=True)
        _PIPES[key] = (t2i, i2i, threading.Lock())
        return _PIPES[key]


def hub_offline() -> bool:
    """Read at call time: huggingface_hub reads HF_HUB_OFFLINE once, at import."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def from_cache_first(load: Any, name: str, explain: Any, **kwargs: Any) -> Any:
    """Load from a folder or the local cache without touching the network; download only where allowed.

    Without this, a missing model on an offline machine spends its time in connection retries
    before failing; with HF_HUB_OFFLINE=1 it fails at once, with ``explain(error)`` as the message.
    """
    from mmthink.weights import hub_unreachable

    try:
        return load(name, local_files_only=True, **kwargs)
    except (OSError, ValueError) as first:
        if Path(name).exists() or hub_offline():
            raise ModelUnavailable(explain(first)) from first
        why = hub_unreachable()  # a short probe instead of minutes of connection retries
        if why:
            raise ModelUnavailable(f"{explain(first)} (the hub cannot be reached: {why})") from first
    try:
        return load(name, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelUnavailable(explain(e)) from e


def _dtype_keyword() -> str:
    """Newer diffusers take ``dtype`` and warn about ``torch_dtype``; older ones only know ``torch_dtype``."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE") else "torch_dtype"


def _missing(model: str, local: Path, e: BaseException) -> str:
    if str(model).startswith((".", "/", "~")) or local.suffix:
        where = f"the folder {local} does not hold a diffusers pipeline (model_index.json)"
    else:
        where = f"{model!r} is not in the local Hugging Face cache and this machine cannot download it"
    return (
        f"cannot load image model: {where}. Download it where there is network "
        f"(`huggingface-cli download {model}` or `DiffusionPipeline.from_pretrained(...).save_pretrained(DIR)`), "
        f"then copy the cache or DIR here and pass image_model=DIR. ({type(e).__name__}: {str(e)[:200]})"
    )


# ----------------------------------------------------------------------------- the backend
class DiffusersImageBackend:
    """See the module docstring. Options may also come as ``image_options`` in the agent config."""

    name = "diffusers"
    thread_safe = False  # one pipeline call at a time; the graph's per-model lock serialises threads

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        cpu_offload: bool = False,
        variant: str | None = None,
        family: str | None = None,
        sketch_steps: int | None = None,
        final_steps: int | None = None,
        guidance: float | None = None,
        negative_prompt: str | None = None,
        sketch_side: int | None = None,
        sketch_mode: str = "layout",
        sketch_strength: float = 0.8,
        final_strength: float = 0.55,
        style_prompt: str = "",
    ) -> None:
        if not model:
            raise InputError("image_model", "the diffusers backend needs a model", "a hub id or a local folder")
        if sketch_mode not in ("layout", "text"):
            raise InputError(
                "image_options.sketch_mode",
                f"unknown mode {sketch_mode!r}",
                "use 'layout' (image-to-image from the layout render) or 'text' (text-to-image)",
            )
        for field, v in (("sketch_strength", sketch_strength), ("final_strength", final_strength)):
            if not 0.0 < float(v) <= 1.0:
                raise InputError(f"image_options.{field}", f"{v} is outside (0, 1]", "e.g. 0.55")
        if family is not None and family not in FAMILIES:
            raise InputError("image_options.family", f"unknown family {family!r}", f"use one of {', '.join(FAMILIES)}")
        self.model = str(model)
        self.family = FAMILIES[family] if family else family_of(self.model)
        if sketch_steps or final_steps or guidance is not None:
            self.family = replace(
                self.family,
                sketch_steps=int(sketch_steps or self.family.sketch_steps),
                final_steps=int(final_steps or self.family.final_steps),
                guidance=self.family.guidance if guidance is None else float(guidance),
            )
        self.device_arg, self.dtype_arg, self.offload, self.variant = device, dtype, bool(cpu_offload), variant
        self.negative = NEGATIVE if negative_prompt is None else negative_prompt
        self.sketch_side = int(sketch_side or min(512, self.family.native_side))
        self.sketch_mode = sketch_mode
        self.sketch_strength, self.final_strength = float(sketch_strength), float(final_strength)
        self.style_prompt = style_prompt
        self._layout = None

    # ------------------------------------------------------------------ loading
    def pipelines(self) -> tuple[Any, Any, threading.Lock]:
        """(text-to-image, image-to-image, lock), loaded on first use and shared across runs in this process."""
        device = pick_device(self.device_arg)
        dtype = _pick_dtype(self.dtype_arg, device, self.family)
        return _load(self.model, device, dtype, self.offload, self.variant)

    @property
    def layout(self) -> Any:
        if self._layout is None:
            from mmthink.modalities.image.render.embedded import EmbeddedImageBackend

            self._layout = EmbeddedImageBackend()
        return self._layout

    # ------------------------------------------------------------------ rendering
    def render(
        self,
        scene: Scene,
        *,
        quality: str = "sketch",
        size: tuple[int, int] = (768, 512),
        seed: int = 0,
        style: list[str] | None = None,
        init: ImageArtifact | None = None,
    ) -> ImageArtifact:
        return self.render_batch(scene, quality=quality, size=size, seeds=[seed], style=style, init=init)[0]

    def render_batch(
        self,
        scene: Scene,
        *,
        quality: str = "sketch",
        size: tuple[int, int] = (768, 512),
        seeds: list[int],
        style: list[str] | None = None,
        init: ImageArtifact | None = None,
    ) -> list[ImageArtifact]:
        """N seeds of one scene in one batched pipeline call (best-of-N drafts)."""
        import torch
        from PIL import Image

        t0 = time.perf_counter()
        if not seeds:
            raise InputError("seeds", "no seeds given", "pass at least one seed")
        want = (int(size[0]), int(size[1]))
        sketch = quality != "final"
        gen_size = self._gen_size(want, sketch)
        # where things are: the embedded layout of the same scene (also the init image for layout sketches)
        plan = self.layout.render(scene, quality="final", size=want, seed=seeds[0], style=style)
        t2i, i2i, lock = self.pipelines()
        prompt = scene_prompt(scene, [*(style or []), *([self.style_prompt] if self.style_prompt else [])])
        steps = self.family.sketch_steps if sketch else self.family.final_steps
        common: dict[str, Any] = {
            "prompt": [prompt] * len(seeds),
            "guidance_scale": self.family.guidance,
            "width": gen_size[0],
            "height": gen_size[1],
            "output_type": "pil",
        }
        if self.family.negative and self.family.guidance > 1.0 and self.negative:
            common["negative_prompt"] = [self.negative] * len(seeds)
        if sketch and self.sketch_mode == "text":
            source, strength = None, 1.0
        elif sketch:
            source, strength = plan.payload, self.sketch_strength
        else:
            base = init.payload if init is not None and init.payload is not None else plan.payload
            source = base
            strength = self.final_strength if init is not None else self.sketch_strength
        gens = [torch.Generator(device="cpu").manual_seed(int(s) % (2**63)) for s in seeds]
        t_plan = time.perf_counter()
        with lock, torch.inference_mode():
            if source is None:
                out = t2i(num_inference_steps=steps, generator=gens, **common)
            else:
                image = source.convert("RGB").resize(gen_size, Image.LANCZOS)
                # image-to-image runs int(steps * strength) steps: never fewer than one
                steps = max(steps, math.ceil(1.0 / strength))
                common.pop("width"), common.pop("height")
                out = i2i(
                    image=[image] * len(seeds), strength=strength, num_inference_steps=steps, generator=gens, **common
                )
        t_gen = time.perf_counter()
        arts = []
        for seed, img in zip(seeds, out.images):
            img = img.convert("RGB")
            if img.size != want:
                img = img.resize(want, Image.LANCZOS)
            buf = io.BytesIO()
            img.save(buf, "PNG", compress_level=3)
            placed = [replace(p) for p in plan.placed]
            meta = {
                "backend": self.name,
                "model": self.model,
                "family": self.family.name,
                "quality": quality,
                "size": list(want),
                "generated_size": list(gen_size),
                "seed": int(seed),
                "steps": steps,
                "guidance": self.family.guidance,
                "strength": round(strength, 3),
                "prompt": prompt,
                "init": "layout"
                if source is not None and (sketch or init is None)
                else ("accepted draft" if source is not None else None),
                "placed_source": "layout",
                "layout_findings": plan.meta.get("layout_findings", []),
                "background_rgb": plan.meta.get("background_rgb"),
                "batch": len(seeds),
                "ms": {
                    "layout": round((t_plan - t0) * 1000, 1),
                    "generate": round((t_gen - t_plan) * 1000, 1),
                    "total": round((time.perf_counter() - t0) * 1000, 1),
                },
            }
            if "negative_prompt" in common:
                meta["negative_prompt"] = self.negative
            arts.append(ImageArtifact("image", buf.getvalue(), "png", meta, img, placed, plan.background_rgb))
        return arts

    def _gen_size(self, want: tuple[int, int], sketch: bool) -> tuple[int, int]:
        """Sketches at the family's low setting; sizes rounded to what the model can take."""
        w, h = want
        if sketch and max(w, h) > self.sketch_side:
            k = self.sketch_side / max(w, h)
            w, h = w * k, h * k
        m = self.family.multiple
        return max(m, int(round(w / m)) * m), max(m, int(round(h / m)) * m)
