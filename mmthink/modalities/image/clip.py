"""Image-text alignment with a CLIP or SigLIP model: does the picture show what the scene says, where it says it?

The structural critic knows where each element was *planned*; a diffusion model may paint
something else there. This hook crops each element's box and asks the model which of the
scene's element phrases (or "empty background") the crop reads as. An element whose own phrase
does not win is named in a finding. The whole image is also scored against the request.

Scores are the model's own: cosine similarity for the prompt (CLIP ViT-B/32 gives roughly
0.25-0.35 for a matching image and under 0.2 for an unrelated one) and softmax probabilities over
the scene's phrases for the elements, which need no calibration.
"""

from __future__ import annotations

import threading
from typing import Any

from mmthink.modalities.base import ImageArtifact, Placed
from mmthink.modalities.image.scene import Scene, normalize_name

__all__ = ["ClipScorer", "clip_hook"]

BACKGROUND = "an empty background"

_MODELS: dict[tuple[str, str], ClipScorer] = {}
_LOCK = threading.Lock()


class ClipScorer:
    """One loaded CLIP/SigLIP model and processor; shared per process, one call at a time."""

    def __init__(self, model_id: str, device: str | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoProcessor

        from mmthink.modalities.image.render.diffusers import from_cache_first, pick_device

        self.model_id = model_id
        self.device = pick_device(device)

        def explain(e: BaseException) -> str:
            return (
                f"cannot load CLIP model {model_id!r}: it is not a local folder or in the Hugging Face cache, "
                f"and this machine cannot download it. Download it where there is network "
                f"(`huggingface-cli download {model_id}`), copy it here and pass clip_model=FOLDER. "
                f"({type(e).__name__}: {str(e)[:160]})"
            )

        self.processor = from_cache_first(AutoProcessor.from_pretrained, model_id, explain)
        self.model = from_cache_first(AutoModel.from_pretrained, model_id, explain).to(self.device).eval()
        self.siglip = "siglip" in getattr(self.model.config, "model_type", "")
        self.lock = threading.Lock()
        self._torch = torch

    def scores(self, images: list[Any], texts: list[str]) -> tuple[Any, Any]:
        """(cosine similarities, logits) of every image against every text, as numpy arrays."""
        torch = self._torch
        pad = "max_length" if self.siglip else True
        inputs = self.processor(text=texts, images=images, return_tensors="pt", padding=pad, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with self.lock, torch.inference_mode():
            out = self.model(**inputs)
        img = torch.nn.functional.normalize(out.image_embeds.float(), dim=-1)
        txt = torch.nn.functional.normalize(out.text_embeds.float(), dim=-1)
        return (img @ txt.T).cpu().numpy(), out.logits_per_image.float().cpu().numpy()


def _scorer(model_id: str, device: str | None) -> ClipScorer:
    key = (model_id, device or "")
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = ClipScorer(model_id, device)
        return _MODELS[key]


def _phrase(el: Any) -> str:
    from mmthink.modalities.image.render.diffusers import element_phrase

    return element_phrase(el, places=False)


def _union(boxes: list[Placed], pad: float, w: int, h: int) -> tuple[int, int, int, int]:
    x0 = min(p.box[0] for p in boxes)
    y0 = min(p.box[1] for p in boxes)
    x1 = max(p.box[2] for p in boxes)
    y1 = max(p.box[3] for p in boxes)
    dx, dy = int((x1 - x0) * pad), int((y1 - y0) * pad)
    return max(0, x0 - dx), max(0, y0 - dy), min(w, x1 + dx), min(h, y1 + dy)


def clip_hook(model_id: str, device: str | None = None, prompt_threshold: float = 0.2, lazy: bool = True):
    """A critic hook ``(artifact, scene, prompt) -> (metrics, findings)`` for :class:`ImageCritic`.

    The model loads on first use (so a missing model fails inside a run and is recorded there),
    unless ``lazy=False``.
    """
    if not lazy:
        _scorer(model_id, device)

    def hook(art: ImageArtifact, scene: Scene, prompt: str) -> tuple[dict[str, Any], list[str]]:
        import numpy as np

        scorer = _scorer(model_id, device)
        img = art.payload.convert("RGB")
        w, h = img.size
        elements = [e for e in scene.elements if e.name]
        phrases = [_phrase(e) for e in elements]
        crops, owners = [img], []
        for i, el in enumerate(elements):
            boxes = [p for p in art.placed if normalize_name(p.name) == normalize_name(el.name)]
            if boxes:
                box = _union(boxes, 0.08, w, h)
                if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
                    crops.append(img.crop(box))
                    owners.append(i)
        texts = [prompt or scene.format(), *phrases, BACKGROUND]
        cos, logits = scorer.scores(crops, texts)
        metrics: dict[str, Any] = {"clip_model": model_id, "clip_prompt": round(float(cos[0, 0]), 4)}
        findings: list[str] = []
        if cos[0, 0] < prompt_threshold:
            findings.append(
                f"the picture matches the request weakly (CLIP {cos[0, 0]:.2f} < {prompt_threshold}): "
                "make the main subject larger and clearer"
            )
        per: dict[str, Any] = {}
        for row, i in enumerate(owners, start=1):
            lg = logits[row, 1:]  # over the element phrases and the background
            p = np.exp(lg - lg.max())
            p /= p.sum()
            own, top = float(p[i]), int(p.argmax())
            name = elements[i].name
            per[normalize_name(name)] = {
                "p": round(own, 3),
                "cos": round(float(cos[row, 1 + i]), 4),
                "reads_as": (phrases + [BACKGROUND])[top],
            }
            if top != i:
                findings.append(
                    f"the {name} region reads as {(phrases + [BACKGROUND])[top]!r} "
                    f"({float(p[top]):.2f}) more than {phrases[i]!r} ({own:.2f}): redraw the {name}"
                )
        metrics["clip_elements"] = per
        return metrics, findings

    return hook
