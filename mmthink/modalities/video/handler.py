"""Video steps: ``<frame>`` storyboard frames, ``<music>`` cues, ``<draft_audio scene=..>`` narration,
and the composer that cuts them into a movie.

One storyboard style per run (derived from the request and the seed, so a resumed run gets the
same one) keeps frames reading as one film. Each scene uses its last frame that passed (else
its best), re-rendered at full quality for the cut; music cues span the scenes named in their
``scenes`` attribute; narration takes are chosen like speech takes, per scene.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.core.tags import Tag
from mmthink.modalities.base import Artifact, Critique, ImageArtifact, Modality, RunContext
from mmthink.modalities.registry import service
from mmthink.modalities.video.plan import scene_number

DEFAULT_SIZE = (640, 360)


def video_size(ctx: RunContext) -> tuple[int, int]:
    """640x360 unless the request set a size; always even (H.264 with yuv420p needs it)."""
    w, h = ctx.request.width, ctx.request.height
    if (w, h) == (768, 512):  # the image default: the user did not ask for a size
        w, h = DEFAULT_SIZE
    return w - w % 2, h - h % 2


def _style(ctx: RunContext):
    from mmthink.modalities.video.frames import storyboard_style

    if "style" not in ctx.cache:
        ctx.cache["style"] = storyboard_style(ctx.request.text, ctx.seed)
    return ctx.cache["style"]


class FrameHandler:
    def __init__(self, tool: Any, critic: Any) -> None:
        self.tool = tool
        self.critic = critic

    def render(self, tag: Tag, ctx: RunContext) -> ImageArtifact:
        scene_no = _int(tag.attrs.get("scene"), 1)  # 0 or less: the tool says how to number scenes
        w, h = video_size(ctx)
        scale = min(1.0, 480 / max(w, h))
        art = self.tool.render(
            tag.body,
            style=_style(ctx),
            quality="sketch",
            size=(max(16, int(w * scale)), max(16, int(h * scale))),
            scene_no=scene_no,
        )
        art.meta["placed"] = [p.__dict__ for p in art.placed]
        return art

    def critique(self, tag: Tag, art: Artifact, ctx: RunContext) -> Critique:
        previous = []
        for d in ctx.drafts:
            if d.get("tag") == "frame" and d.get("passed") and d["id"] != tag.id and d.get("asset"):
                previous.append(ctx.cache.get(d["id"]) or self.restore(d, ctx.read_asset(d["asset"])))
        return self.critic.critique_frame(art, scene_text=tag.body, style=_style(ctx), previous=previous)

    def restore(self, record: dict[str, Any], data: bytes) -> ImageArtifact:
        restored: ImageArtifact = service("image", "restore_image")(record, data)
        return restored


class MusicHandler:
    def __init__(self, tool: Any) -> None:
        self.tool = tool

    def render(self, tag: Tag, ctx: RunContext) -> Artifact:
        seconds = _float(tag.attrs.get("seconds"), 10.0)
        return self.tool.render(
            mood=tag.attrs.get("mood", "wonder"), seconds=seconds, seed=ctx.draft_seed(tag.id or "")
        )

    def critique(self, tag: Tag, art: Artifact, ctx: RunContext) -> Critique:
        """Exact length, healthy level, no clipping: what a cue needs before it goes under narration."""
        samples, sr = art.payload
        x = np.asarray(samples, dtype=np.float32)
        asked = _float(tag.attrs.get("seconds"), 10.0)
        seconds = x.shape[0] / sr
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        rms_db = 20 * np.log10(float(np.sqrt(np.mean(np.square(x)))) + 1e-9) if x.size else -120.0
        findings = []
        if abs(seconds - asked) > 0.05:
            findings.append(f"the cue lasts {seconds:.2f} s, {asked:.2f} s was asked")
        if peak >= 0.999:
            findings.append(f"the cue clips (peak {peak:.3f})")
        if rms_db < -40:
            findings.append(f"the cue is nearly silent ({rms_db:.0f} dBFS)")
        checks = 3
        return Critique(
            (checks - len(findings)) / checks,
            not findings,
            findings,
            {"seconds": round(seconds, 3), "peak": round(peak, 3), "rms_dbfs": round(rms_db, 1)},
        )

    def restore(self, record: dict[str, Any], data: bytes) -> Artifact:
        import soundfile as sf

        x, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
        return Artifact("audio", data, "wav", dict(record.get("meta") or {}), (x, sr))


class VideoComposer:
    def __init__(self, frames: FrameHandler, narration: Any | None, music: MusicHandler) -> None:
        self.frames = frames
        self.narration = narration
        self.music = music

    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        """Cut the film from each scene's chosen frame, narration and music, then hold it against the plan.

        The plan (the request's shot list and the scenes, narration and music the drafts were written for)
        goes to the critic, so a film that lacks a planned scene, line or cue fails; a frame used although it
        did not pass its critique is named in ``stand_ins``.
        """
        from mmthink.modalities.video.compositor import Cut, MusicSpan, compose_video, scene_span
        from mmthink.modalities.video.plan import film_plan

        frames = self._per_scene(ctx, "frame")
        if not frames:
            raise ValueError('there is no storyboard frame to cut: draw at least one <frame scene="1">')
        plan = film_plan(ctx.request.text, ctx.drafts)
        scenes = sorted(frames)
        narr = {}
        accepted_takes = service("speech", "accepted_takes")
        for t in accepted_takes([d for d in ctx.drafts if (d.get("attrs") or {}).get("scene")]):
            narr[_int(t["attrs"].get("scene"), 0)] = t
        cuts, refs, stand_ins = [], [], []
        size = video_size(ctx)
        for no in scenes:
            f = frames[no]
            if not f.get("passed"):
                shown = "; ".join(str(x) for x in (f.get("findings") or [])[:2])
                stand_ins.append(
                    f"scene {no} uses frame {f['id']}, which did not pass its critique "
                    f"(score {float(f.get('score') or 0.0):.2f}" + (f": {shown}" if shown else "") + ")"
                )
            art = self.frames.tool.render(f["body"], style=_style(ctx), quality="final", size=size, scene_no=no)
            n = narr.get(no)
            narration = None
            if n is not None and self.narration is not None:
                narration = ctx.cache.get(n["id"]) or self.narration.restore(n, ctx.read_asset(n["asset"]))
                if not n.get("passed"):
                    shown = "; ".join(str(x) for x in (n.get("findings") or [])[:2])
                    stand_ins.append(
                        f"scene {no} is narrated by take {n['id']}, which did not pass its critique "
                        f"(score {float(n.get('score') or 0.0):.2f}" + (f": {shown}" if shown else "") + ")"
                    )
            cuts.append(
                Cut(
                    frame=art,
                    seconds=_float((f.get("attrs") or {}).get("seconds"), 5.0),
                    narration=narration,
                    subtitle=(n or {}).get("body", "") if narration is not None else "",
                    scene=no,
                )
            )
            refs.append(f["id"] + (f"+{n['id']}" if narration is not None and n else ""))
        spans = []
        for d in ctx.drafts:
            if d.get("tag") == "music" and not d.get("error") and d.get("asset"):
                audio = ctx.cache.get(d["id"]) or self.music.restore(d, ctx.read_asset(d["asset"]))
                first, last = scene_span((d.get("attrs") or {}).get("scenes") or "all", len(scenes))
                spans.append(MusicSpan(audio, first, last))
        from mmthink.modalities.video.critic import VideoCritic

        # work files stay in the run folder (a killed run leaves nothing in the temp folder; resume clears them)
        with tempfile.TemporaryDirectory(prefix="video-", dir=ctx.work_dir()) as tmp:
            art = compose_video(
                cuts, Path(tmp) / "final.mp4", size=size, fps=ctx.request.fps, music=spans or None, progress=False
            )
            planned = float(art.meta.get("duration") or art.meta.get("seconds") or 0.0)
            check = VideoCritic().critique_video(
                art, planned_seconds=planned, plan=plan
            )  # reads the file where it lies
        art.meta.pop("path", None)  # gone with the work folder
        rows = [
            {"scene": s.get("scene", i + 1), **{k: v for k, v in s.items() if k in ("start", "end", "subtitle")}}
            for i, s in enumerate(art.meta.get("scenes") or [])
        ]
        # the film's score is the file's, times the share of scenes cut from a frame that passed
        share = 1.0 - len(stand_ins) / max(1, len(cuts))
        facts: dict[str, Any] = {
            "ref": ",".join(refs),
            "scenes": len(cuts),
            "table": rows,
            "score": round(check.score * share, 3),
            "file_score": check.score,
            "passed": check.passed,
            "findings": check.findings,
            "plan": plan.to_dict(),
        }
        if stand_ins:
            facts["stand_ins"] = stand_ins
        return art, facts

    @staticmethod
    def _per_scene(ctx: RunContext, tag: str) -> dict[int, dict[str, Any]]:
        groups: dict[int, list[dict[str, Any]]] = {}
        for d in ctx.drafts:
            if d.get("tag") == tag and not d.get("error") and d.get("asset"):
                groups.setdefault(scene_number((d.get("attrs") or {}).get("scene"), 1) or 1, []).append(d)
        out = {}
        for no, takes in groups.items():
            passed = [t for t in takes if t.get("passed")]
            out[no] = passed[-1] if passed else max(reversed(takes), key=lambda t: t.get("score") or 0.0)
        return out


def _int(v: Any, default: int) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return default


def _float(v: Any, default: float) -> float:
    try:
        return float(str(v).strip())
    except (TypeError, ValueError):
        return default


def build(cfg: Any, image_backend: Any, mods: dict[str, Modality]) -> Modality:
    from mmthink.modalities.video.critic import VideoCritic
    from mmthink.modalities.video.frames import FrameTool
    from mmthink.modalities.video.music import MusicTool

    frames = FrameHandler(FrameTool(image_backend), VideoCritic())
    music = MusicHandler(MusicTool(backend=cfg.music_backend, model=cfg.music_model, device=cfg.device))
    handlers: dict[str, Any] = {"frame": frames, "music": music}
    narration = mods.get("speech").handlers.get("draft_audio") if "speech" in mods else None
    if narration is not None:
        handlers["draft_audio"] = narration
    return Modality("video", handlers, VideoComposer(frames, narration, music), "final_video")
