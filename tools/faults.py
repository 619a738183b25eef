"""Fault drills: kill runs at every node, break backends every way, fill the disk, run side by side, tamper.

    python tools/faults.py            # the table (about a minute on two cores)
    python tools/faults.py --json     # one JSON line: totals and one row per drill

Every drill goes through the public API (``Agent.run``, ``Agent.resume``, ``load_trace``) and is
judged against an uninterrupted reference run with the same seed: a run "finished or resumed
correctly" when its status is the expected one, its final file has the reference's bytes, and
its steps are the reference's steps, none lost and none twice. Kill drills run the agent in a
child process (``python tools/faults.py child ...``) that SIGKILLs itself at the chosen point.

The fault kit (a small box renderer, a tone "voice", wrappers that inject faults, ``toy_agent``)
is also what tests/test_durable.py and tests/test_faults.py use.
"""

from __future__ import annotations

import argparse
import errno
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mmthink.agent import Agent  # noqa: E402
from mmthink.config import make_config  # noqa: E402
from mmthink.core.faults import FaultPolicy  # noqa: E402
from mmthink.core.tags import Tag
from mmthink.modalities.base import (  # noqa: E402  # noqa: E402
    Artifact,
    Critique,  # noqa: E402
    ImageArtifact,
    Modality,
    Placed,
    RunContext,
)
from mmthink.modalities.image.scene import Scene, normalize_name
from mmthink.modalities.image.vocab import COLORS  # noqa: E402
from mmthink.reasoners.scripted import DemoScript, ScriptedReasoner  # noqa: E402

IMAGE_REQUEST = "Please create a cinematic image of an interstellar war. It needs to be epic."
SPEECH_SCRIPT = DemoScript(
    name="tones",
    request='Say "we still have time to heal our planet" with hope',
    modality="speech",
    thinking="A short hopeful line. Let me try it once:\n"
    '<draft_audio id="a1" emotion="hope">We still have time to heal our planet.</draft_audio>\n'
    "That is clear enough.\n",
    answer="Here is the line.\n<final_speech/>",
)
SEED = 7


# ------------------------------------------------------------------ a small real renderer
class BoxBackend:
    """Draws each scene element as coloured boxes where its attributes put it; deterministic per seed."""

    name = "boxes"
    thread_safe = True
    _SIZES = {"tiny": 0.05, "small": 0.09, "medium": 0.15, "large": 0.24, "huge": 0.34}
    _H = {"left": 0.22, "center": 0.5, "right": 0.78}
    _V = {"top": 0.22, "middle": 0.5, "bottom": 0.78}

    def render(
        self, scene: Scene, *, quality: str, size: tuple[int, int], seed: int, style: Any = None, init: Any = None
    ) -> ImageArtifact:
        import random

        from PIL import Image, ImageDraw

        w, h = size
        rng = random.Random(seed)
        bg = (18, 18, 36) if any("space" in s for s in scene.setting) else (236, 234, 226)
        img = Image.new("RGB", (w, h), bg)
        draw = ImageDraw.Draw(img)
        placed: list[Placed] = []
        for z, el in enumerate(scene.elements):
            rgb = COLORS.get(el.color or "", (rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220)))
            frac = self._SIZES.get(el.size or "", 0.12)
            bw, bh = max(2, int(w * frac)), max(2, int(h * frac))
            cx = self._H.get(el.h or "", rng.uniform(0.2, 0.8))
            cy = self._V.get(el.v or "", rng.uniform(0.2, 0.8))
            n = max(1, min(int(el.count or 1), 12))
            for i in range(n):
                x = int(w * cx + (i - (n - 1) / 2) * (bw + 2)) - bw // 2
                y = int(h * cy) - bh // 2
                box = (max(0, x), max(0, y), min(w, x + bw), min(h, y + bh))
                if box[2] <= box[0] or box[3] <= box[1]:
                    continue
                draw.rectangle(
                    (box[0], box[1], box[2] - 1, box[3] - 1),
                    fill=rgb,
                    outline=(0, 0, 0) if quality == "final" else None,
                )
                area = (box[2] - box[0]) * (box[3] - box[1])
                placed.append(Placed(normalize_name(el.name), i, box, "generic", el.color, rgb, z, 1.0, area))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return ImageArtifact(
            "image",
            buf.getvalue(),
            "png",
            {"backend": self.name, "quality": quality, "size": [w, h], "seed": seed},
            img,
            placed,
            bg,
        )


def zero_size_png() -> bytes:
    """A PNG whose header says 0 x 0 pixels: what a broken encoder can write."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


class Faulty:
    """Wraps a renderer (``render``) or a voice (``speak``): call N does what ``plan[N]`` says.

    Actions: raise, hang, kill (SIGKILL this process), marker (write the marker file, then wait
    to be killed), empty, zero (a 0 x 0 image), nan, silent. ``always`` applies to every call.
    """

    def __init__(
        self,
        inner: Any,
        plan: dict[int, str] | None = None,
        always: str | None = None,
        marker: str | Path | None = None,
        hang_s: float = 60.0,
    ) -> None:
        self.inner = inner
        self.plan = dict(plan or {})
        self.always = always
        self.marker = Path(marker) if marker else None
        self.hang_s = hang_s
        self.calls = 0
        self.release = threading.Event()  # set it to free calls that hang
        self.name = getattr(inner, "name", type(inner).__name__)
        self.thread_safe = getattr(inner, "thread_safe", False)

    def _before(self) -> str | None:
        self.calls += 1
        act = self.always or self.plan.get(self.calls)
        if act == "raise":
            raise RuntimeError(f"injected backend failure (call {self.calls})")
        if act == "hang":
            self.release.wait(self.hang_s)
        if act == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if act == "marker" and self.marker is not None:
            self.marker.write_text(str(os.getpid()))
            time.sleep(self.hang_s)
        return act

    def render(self, scene: Scene, **kw: Any) -> ImageArtifact:
        act = self._before()
        art = self.inner.render(scene, **kw)
        if act == "empty":
            art.data = b""
        elif act == "zero":
            from PIL import Image

            art.data, art.payload, art.placed = zero_size_png(), Image.new("RGB", (0, 0)), []
        return art

    def speak(self, text: str, *, seed: int) -> Artifact:
        act = self._before()
        art = self.inner.speak(text, seed=seed)
        if act in ("nan", "silent"):
            import numpy as np

            samples, rate = art.payload
            bad = np.full_like(samples, np.nan) if act == "nan" else np.zeros_like(samples)
            art.payload, art.data = (bad, rate), wav_bytes(bad, rate, float_format=act == "nan")
        elif act == "empty":
            art.data = b""
        return art


# ------------------------------------------------------------------ a toy voice
def wav_bytes(samples: Any, rate: int, float_format: bool = False) -> bytes:
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(
        buf, np.asarray(samples, dtype=np.float32), rate, format="WAV", subtype="FLOAT" if float_format else "PCM_16"
    )
    return buf.getvalue()


class ToneVoice:
    """One short tone per word: real audio with a length and level a critic can measure."""

    name = "tones"
    rate = 16000

    def speak(self, text: str, *, seed: int) -> Artifact:
        import numpy as np

        words = text.split() or ["…"]
        parts = []
        for i, _ in enumerate(words):
            t = np.arange(int(0.12 * self.rate)) / self.rate
            parts.append(0.3 * np.sin(2 * np.pi * (220 + 20 * ((i + seed) % 7)) * t))
            parts.append(np.zeros(int(0.04 * self.rate)))
        samples = np.concatenate(parts).astype(np.float32)
        return Artifact(
            "audio",
            wav_bytes(samples, self.rate),
            "wav",
            {"backend": self.name, "seconds": len(samples) / self.rate, "sample_rate": self.rate},
            (samples, self.rate),
        )


class ToneHandler:
    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.tool = voice

    def render(self, tag: Tag, ctx: RunContext) -> Artifact:
        return self.voice.speak(tag.body, seed=ctx.draft_seed(tag.id or ""))

    def critique(self, tag: Tag, art: Artifact, ctx: RunContext) -> Critique:
        import numpy as np

        samples, rate = art.payload
        words = len(tag.body.split())
        seconds = len(samples) / rate
        rms = float(np.sqrt(np.mean(np.square(samples))))
        expected = words * 0.16
        ok = abs(seconds - expected) < 0.05 and rms > 0.05
        return Critique(
            1.0 if ok else 0.3,
            ok,
            [] if ok else [f"{seconds:.2f} s for {words} words"],
            {"seconds": seconds, "rms": rms},
        )

    def restore(self, record: dict[str, Any], data: bytes) -> Artifact:
        import numpy as np
        import soundfile as sf

        samples, rate = sf.read(io.BytesIO(data), dtype="float32")
        return Artifact("audio", data, "wav", dict(record.get("meta") or {}), (np.asarray(samples), rate))


class ToneComposer:
    def __init__(self, handler: ToneHandler) -> None:
        self.handler = handler

    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        import numpy as np

        takes = [d for d in ctx.drafts if d.get("asset") and not d.get("error")]
        if not takes:
            raise ValueError("no speech draft to compose")
        arts = [ctx.cache.get(d["id"]) or self.handler.restore(d, ctx.read_asset(d["asset"])) for d in takes]
        samples = np.concatenate([a.payload[0] for a in arts])
        rate = arts[0].payload[1]
        return (
            Artifact("audio", wav_bytes(samples, rate), "wav", {"seconds": len(samples) / rate}, (samples, rate)),
            {"ref": ",".join(d["id"] for d in takes)},
        )


# ------------------------------------------------------------------ agents
def image_backend() -> Any:
    """The real embedded renderer where it is installed, else the box renderer."""
    try:
        from mmthink.modalities.image.render.embedded import EmbeddedImageBackend

        return EmbeddedImageBackend()
    except ImportError:
        return BoxBackend()


def toy_modalities(backend: Any, voice: Any = None) -> dict[str, Modality]:
    from mmthink.modalities.image.composer import ImageComposer
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.handler import SketchHandler

    sketch = SketchHandler(backend, ImageCritic())
    tones = ToneHandler(voice or ToneVoice())
    return {
        "image": Modality("image", {"sketch": sketch}, ImageComposer(sketch), "final_image"),
        "speech": Modality("speech", {"draft_audio": tones}, ToneComposer(tones), "final_speech"),
    }


def toy_agent(
    out: str | Path,
    *,
    backend: Any = None,
    voice: Any = None,
    script: str | DemoScript = "image",
    reasoner: Any = None,
    policy: FaultPolicy | None = None,
    **kw: Any,
) -> Agent:
    """The scripted image demo (or ``script``) with a real critic and a given renderer / voice."""
    backend = backend or image_backend()
    named = {"reasoner": "scripted", "script": script} if reasoner is None and isinstance(script, str) else {}
    return Agent(
        reasoner or ScriptedReasoner(script),
        config=make_config("embedded", out_dir=str(out), **named),
        modalities=toy_modalities(backend, voice),
        image_backend=backend,
        policy=policy or FaultPolicy.quick(timeout_s=3.0),
        **kw,
    )


# ------------------------------------------------------------------ judging
def signature(run_dir: Path) -> list[tuple[Any, ...]]:
    """What must match between runs: each step's kind, node, title, ref, texts and assets (not timings)."""
    out = []
    for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        parts = tuple(
            (
                p.get("type"),
                p.get("text") if p.get("type") != "text" or "Traceback" not in (p.get("text") or "") else "tb",
                p.get("asset"),
            )
            for p in d.get("parts") or []
        )
        out.append((d["kind"], d["node"], d.get("title"), d.get("ref"), parts))
    return out


def compare(run_dir: Path, ref_dir: Path | None) -> dict[str, Any]:
    from mmthink.trace.reader import load_trace

    row: dict[str, Any] = {"verify": [], "lost": 0, "dup": 0, "same_final": None}
    try:
        trace = load_trace(run_dir, verify=False)
        row["verify"] = trace.verify()
        row["status"] = trace.status
    except Exception as e:
        row["verify"] = [f"{type(e).__name__}: {e}"]
        return row
    if ref_dir is not None:
        got, want = Counter(signature(run_dir)), Counter(signature(ref_dir))
        row["lost"] = sum((want - got).values())
        row["dup"] = sum((got - want).values())
        ref_final = load_trace(ref_dir).final_path
        row["same_final"] = bool(
            trace.final_path and ref_final and trace.final_path.read_bytes() == ref_final.read_bytes()
        )
    return row


def child_cmd(
    out: Path,
    run_id: str,
    *,
    kill_node: str | None = None,
    kill_nth: int = 1,
    plan: dict[int, str] | None = None,
    marker: Path | None = None,
    seed: int = SEED,
    demo: str | None = None,
) -> list[str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "child",
        "--out",
        str(out),
        "--run-id",
        run_id,
        "--seed",
        str(seed),
    ]
    if kill_node:
        cmd += ["--kill-node", kill_node, "--kill-nth", str(kill_nth)]
    if plan:
        cmd += ["--plan", json.dumps({str(k): v for k, v in plan.items()})]
    if marker:
        cmd += ["--marker", str(marker)]
    if demo:
        cmd += ["--demo", demo]
    return cmd


def _child(args: argparse.Namespace) -> int:
    """One scripted image run; dies by SIGKILL where told to."""
    from mmthink.trace.writer import TraceWriter

    if args.kill_node:
        original = TraceWriter.append
        seen = {"n": 0}

        def append(self: TraceWriter, step: Any) -> Any:
            out = original(self, step)
            if step.node == args.kill_node:
                seen["n"] += 1
                if seen["n"] == args.kill_nth:
                    os.kill(os.getpid(), signal.SIGKILL)  # after the step is on disk, before the checkpoint
            return out

        TraceWriter.append = append  # type: ignore[method-assign]
    if args.demo:
        from mmthink import Agent

        agent = Agent.demo(args.demo)
        res = agent.run(agent.reasoner.script.request, out=args.out, run_id=args.run_id, seed=args.seed)
        print(json.dumps({"status": res.status, "final": str(res.final) if res.final else None}))
        return 0
    plan = {int(k): v for k, v in json.loads(args.plan).items()} if args.plan else {}
    backend = Faulty(image_backend(), plan, marker=args.marker, hang_s=120.0)
    res = toy_agent(args.out, backend=backend).run(IMAGE_REQUEST, run_id=args.run_id, seed=args.seed)
    print(json.dumps({"status": res.status, "final": str(res.final) if res.final else None}))
    return 0


# ------------------------------------------------------------------ the drills
class Drills:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.rows: list[dict[str, Any]] = []
        self._hung: list[Faulty] = []
        ref = toy_agent(work / "ref").run(IMAGE_REQUEST, seed=SEED)
        if not ref.ok:
            raise SystemExit(f"the reference run did not succeed: {ref.reason}")
        self.ref = ref.trace

    def add(self, drill: str, ok: bool, row: dict[str, Any], detail: str = "") -> None:
        self.rows.append(
            {
                "drill": drill,
                "ok": bool(ok),
                "lost": row.get("lost", 0),
                "dup": row.get("dup", 0),
                "verify_fail": 1 if row.get("verify") else 0,
                "detail": detail or "; ".join(row.get("verify") or []),
            }
        )

    # kill a child at a node, resume here, compare with the reference
    def kill(self, name: str, *, node: str | None = None, nth: int = 1, plan: dict[int, str] | None = None) -> None:
        rid = "kill-" + "".join(c if c.isalnum() else "-" for c in name)
        out = self.work / rid
        proc = subprocess.run(
            child_cmd(out, rid, kill_node=node, kill_nth=nth, plan=plan), capture_output=True, timeout=120
        )
        killed = proc.returncode == -signal.SIGKILL
        counter = Faulty(image_backend())
        res = toy_agent(out, backend=counter).resume(out / rid)
        row = compare(out / rid, self.ref)
        ok = killed and res.ok and row["same_final"] and not row["lost"] and not row["dup"] and not row["verify"]
        self.add(
            f"kill at {name}",
            ok,
            row,
            f"killed={killed}, resumed {res.status}, renders on resume {counter.calls}, same final={row['same_final']}",
        )

    def demo_kill(self, modality: str, nth: int) -> None:
        """A real speech or video run killed after its nth draft resumes to the very final an uninterrupted run
        makes (takes are read back from the bundle's own bytes on both paths, so no sample differs)."""
        from mmthink import Agent

        out = self.work / f"demo-{modality}"
        ref = subprocess.run(child_cmd(out, "ref", demo=modality), capture_output=True, timeout=300)
        proc = subprocess.run(
            child_cmd(out, "killed", kill_node="act", kill_nth=nth, demo=modality), capture_output=True, timeout=300
        )
        killed = proc.returncode == -signal.SIGKILL
        res = Agent.demo(modality).resume(out / "killed")
        row = compare(out / "killed", out / "ref")
        ok = (
            ref.returncode == 0
            and killed
            and res.ok
            and row["same_final"]
            and not row["lost"]
            and not row["dup"]
            and not row["verify"]
        )
        self.add(
            f"SIGKILL after draft {nth} of the {modality} demo",
            ok,
            row,
            f"killed={killed}, resumed {res.status}, byte-identical final={row['same_final']}",
        )

    def backend(
        self,
        name: str,
        *,
        plan: dict[int, str] | None = None,
        always: str | None = None,
        expect: str = "failed",
        speech: bool = False,
        contains: str = "",
    ) -> None:
        out = self.work / ("backend-" + "".join(c if c.isalnum() else "-" for c in name))
        faulty = Faulty(ToneVoice() if speech else image_backend(), plan, always, hang_s=30.0)
        self._hung.append(faulty)
        kw = {"voice": faulty, "script": SPEECH_SCRIPT} if speech else {"backend": faulty}
        agent = toy_agent(out, policy=FaultPolicy.quick(timeout_s=1.0, attempts=2), **kw)
        res = agent.run(
            SPEECH_SCRIPT.request if speech else IMAGE_REQUEST, seed=SEED, modality="speech" if speech else None
        )
        row = compare(res.trace, None if speech or expect != "succeeded" else self.ref)
        errors = [json.loads(x) for x in (res.trace / "steps.jsonl").read_text().splitlines() if '"error"' in x]
        recorded = any(e["kind"] == "error" for e in errors)
        ok = (
            res.status == expect
            and recorded
            and not row["verify"]
            and (contains in (res.reason or "") if expect == "failed" else True)
        )
        if expect == "succeeded" and not speech:
            ok = ok and row["same_final"] is True
            row["lost"] = row["dup"] = 0  # error steps are expected extras here; lost counted below
            row["lost"] = sum((Counter(signature(self.ref)) - Counter(signature(res.trace))).values())
            ok = ok and row["lost"] == 0
        self.add(f"backend: {name}", ok, row, f"{res.status}: {res.reason or 'error step recorded, retried'}")

    def disk_full(self) -> None:
        import mmthink.trace.writer as tw

        original = tw.atomic_write

        def full(path: Path, data: bytes, **kw: bool) -> None:
            if Path(path).parent.name == tw.ASSETS:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            original(path, data, **kw)

        tw.atomic_write = full
        try:
            res = toy_agent(self.work / "disk-full").run(IMAGE_REQUEST, seed=SEED)
        finally:
            tw.atomic_write = original
        row = compare(res.trace, None)
        ok = res.status == "failed" and "disk full" in (res.reason or "") and not row["verify"]
        self.add("disk full writing an asset", ok, row, f"{res.status}: {res.reason}")

    def disk_full_at(self, where: str) -> None:
        """ENOSPC at the SQLite checkpoint or at a step line: ``failed``, one reason, nothing retried."""
        import sqlite3

        from langgraph.checkpoint.sqlite import SqliteSaver

        from mmthink.trace.writer import TraceWriter

        cls, name = (SqliteSaver, "put") if where == "checkpoint" else (TraceWriter, "append")
        original, calls = getattr(cls, name), {"n": 0}

        def full(obj: Any, *a: Any, **k: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == (4 if where == "checkpoint" else 3):
                if where == "checkpoint":
                    raise sqlite3.OperationalError("database or disk is full")
                raise OSError(errno.ENOSPC, "No space left on device", str(obj.root / "steps.jsonl"))
            return original(obj, *a, **k)

        setattr(cls, name, full)
        try:
            res = toy_agent(self.work / f"disk-full-{where}").run(IMAGE_REQUEST, seed=SEED)
        finally:
            setattr(cls, name, original)
        row = compare(res.trace, None)
        manifest = json.loads((res.trace / "manifest.json").read_text())
        ok = (
            res.status == manifest["status"] == "failed"
            and manifest["reason"] == res.reason
            and (res.reason or "").startswith("disk full while")
            and not row["verify"]
        )
        self.add(
            f"disk full at the {'SQLite checkpoint' if where == 'checkpoint' else 'steps.jsonl append'}",
            ok,
            row,
            f"{res.status}: {res.reason}",
        )

    def moved(self, how: str) -> None:
        """A killed run moved (or copied) to another folder resumes where it lies, same final as the reference."""
        rid = f"{how}-run"
        out = self.work / f"{how}-from"
        proc = subprocess.run(child_cmd(out, rid, kill_node="act", kill_nth=2), capture_output=True, timeout=120)
        killed = proc.returncode == -signal.SIGKILL
        dest = self.work / f"{how}-to" / "elsewhere" / rid
        dest.parent.mkdir(parents=True)
        (shutil.move if how == "moved" else shutil.copytree)(str(out / rid), str(dest))
        try:
            res = toy_agent(dest.parent).resume(dest)
            status = res.status
        except Exception as e:  # the old refusal ("has moved since") counts as a failed drill
            status = f"{type(e).__name__}: {e}"
        row = compare(dest, self.ref)
        ok = (
            killed
            and status == "succeeded"
            and row["same_final"]
            and not row["lost"]
            and not row["dup"]
            and not row["verify"]
        )
        self.add(
            f"killed run {how} to another folder, resumed there",
            ok,
            row,
            f"killed={killed}, resumed {status}, same final={row['same_final']}",
        )

    def bad_inputs(self) -> None:
        """Bad CLI and API input: exit 2 / InputError naming the field, nothing written."""
        import contextlib

        from mmthink import cli
        from mmthink.errors import InputError

        out = self.work / "bad-inputs"
        a_file = self.work / "a-file.txt"
        a_file.write_text("x")
        huge = str(10**29)
        cli_cases = [
            ["run", "a red \udcff apple"],
            ["run", "apple", "--budget-tokens", huge],
            ["run", "apple", "--best-of", huge],
            ["run", "apple", "--max-drafts", huge],
            ["run", "apple", "--seed", huge],
            ["run", "apple", "--width", huge],
            ["run", "apple", "--max-seconds", "nan"],
            ["run", "apple", "--max-seconds", "inf"],
            ["run", "apple", "--max-seconds", "1e309"],
            ["run", "apple", "--device", "tpu"],
        ]
        cli_cases = [c + ["--out", str(out), "-q"] for c in cli_cases]
        cli_cases += [["run", "apple", "--out", o, "-q"] for o in (str(a_file), str(a_file / "x"), "o" * 5000, "")]
        held = 0
        for argv in cli_cases:
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = cli.main(argv)
            held += rc == 2 and err.getvalue().startswith("mmthink: error: ") and err.getvalue().count("\n") == 1
        agent = toy_agent(out)
        api_cases = [
            lambda: agent.stream(IMAGE_REQUEST, out=123),
            lambda: agent.stream(IMAGE_REQUEST, run_id=5),
            lambda: agent.stream("a\x00b"),
            lambda: agent.stream(IMAGE_REQUEST, max_seconds=float("nan")),
            lambda: agent.run(IMAGE_REQUEST, on_token="x"),
            lambda: agent.resume(123),
            lambda: Agent.from_profile(thinking=5),
            lambda: Agent.from_profile(reasoner_options=5),
            lambda: Agent.from_profile(limits={"max_drafts": float("nan")}),
            lambda: __import__("mmthink").load_trace(None),
        ]
        for call in api_cases:
            try:
                call()
            except InputError:
                held += 1
            except Exception:
                pass
        written = out.exists() and any(out.iterdir())
        total = len(cli_cases) + len(api_cases)
        self.rows.append(
            {
                "drill": f"bad inputs: {len(cli_cases)} CLI, {len(api_cases)} API",
                "ok": held == total and not written,
                "lost": 0,
                "dup": 0,
                "verify_fail": 0,
                "detail": f"{held}/{total} refused naming the field; folder written: {written}",
            }
        )

    def threads(self) -> None:
        out = self.work / "threads"
        agent = toy_agent(out)
        results: list[Any] = []
        ts = [threading.Thread(target=lambda: results.append(agent.run(IMAGE_REQUEST, seed=SEED))) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        rows = [compare(r.trace, self.ref) for r in results]
        ok = (
            len(results) == 3
            and len({r.trace for r in results}) == 3
            and all(r.ok for r in results)
            and all(x["same_final"] and not x["lost"] and not x["dup"] and not x["verify"] for x in rows)
        )
        self.add("3 runs in threads", ok, _sum(rows), f"{[r.status for r in results]}")

    def processes(self) -> None:
        out = self.work / "procs"
        procs = [
            subprocess.Popen(child_cmd(out, f"proc-{i}"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for i in range(2)
        ]
        codes = [p.wait(120) for p in procs]
        rows = [compare(out / f"proc-{i}", self.ref) for i in range(2)]
        ok = codes == [0, 0] and all(
            x["same_final"] and not x["lost"] and not x["dup"] and not x["verify"] for x in rows
        )
        self.add("2 runs in processes", ok, _sum(rows), f"exit codes {codes}")

    def tamper(self) -> None:
        from mmthink.errors import BundleError
        from mmthink.trace.reader import load_trace

        copy = self.work / "tampered"
        shutil.copytree(self.ref, copy)
        asset = sorted((copy / "assets").glob("*.png"))[0]
        data = bytearray(asset.read_bytes())
        data[len(data) // 2] ^= 0xFF
        asset.write_bytes(bytes(data))
        try:
            load_trace(copy)
            detected = False
        except BundleError:
            detected = True
        self.rows.append(
            {
                "drill": "tampered bundle",
                "ok": detected,
                "lost": 0,
                "dup": 0,
                "verify_fail": 0,
                "detail": "tampering detected by load_trace" if detected else "NOT detected",
            }
        )

    def hostile_bundles(self) -> None:
        """Bundles made to hurt the reader (see ``hostile_bundle_rows``), built from the reference run."""
        self.rows += hostile_bundle_rows(self.ref, self.work / "hostile")

    def close(self) -> None:
        for f in self._hung:
            f.release.set()


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "lost": sum(r["lost"] for r in rows),
        "dup": sum(r["dup"] for r in rows),
        "verify": [v for r in rows for v in r["verify"]],
    }


# ------------------------------------------------------------------ hostile bundles
def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip written field by field: ``(name, stored bytes, crc32, uncompressed size, method)`` each.

    Lets a drill build what ``zipfile`` will not: one deflated block reused for hundreds of bomb
    entries, or 400,000 entries, in a second.
    """
    central, off = [], 0
    with open(path, "wb") as f:
        for name, data, crc, size, method in entries:
            n = name.encode()
            head = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), size, len(n), 0)
            f.write(head + n + data)
            central.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    20,
                    20,
                    0,
                    method,
                    0,
                    0,
                    crc,
                    len(data),
                    size,
                    len(n),
                    0,
                    0,
                    0,
                    0,
                    0o100644 << 16,
                    off,
                )
                + n
            )
            off += len(head) + len(n) + len(data)
        cd = b"".join(central)
        f.write(cd)
        count = len(entries)
        if count > 0xFFFF:  # zip64 end records carry the real count
            f.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), off))
            f.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, off + len(cd), 1))
            count = 0xFFFF
        f.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(cd), off, 0))
    return path


def _bundle_entries(root: Path, top: str = "run") -> list[tuple[str, bytes, int, int, int]]:
    return [
        (f"{top}/{p.relative_to(root).as_posix()}", p.read_bytes(), zlib.crc32(p.read_bytes()), p.stat().st_size, 0)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    ]


def _cli_measured(args: list[str], work: Path, name: str) -> dict[str, Any]:
    """``python -m mmthink.cli ARGS`` with its own temp and view folders; exit code, output, peak memory."""
    tmp, views = work / f"tmp-{name}", work / "views"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp), "MMTHINK_VIEW_DIR": str(views), "PYTHONPATH": str(ROOT)}
    out_f, err_f, rss_f = work / f"{name}.out", work / f"{name}.err", work / f"{name}.rss"
    # a small wrapper starts the CLI: Linux counts the RSS of the process a child was forked from in
    # the child's peak, so forking straight from this (large) process would overstate it
    wrap = (
        "import resource, subprocess, sys; rc = subprocess.call([sys.executable, '-m', 'mmthink.cli', "
        "*sys.argv[2:]]); open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
        ".ru_maxrss)); sys.exit(rc)"
    )
    with open(out_f, "wb") as o, open(err_f, "wb") as e:
        rc = subprocess.call([sys.executable, "-c", wrap, str(rss_f), *args], stdout=o, stderr=e, env=env)
    out, err = out_f.read_text("utf-8", "replace"), err_f.read_text("utf-8", "replace")
    raw = [c for c in out + err if not (c.isprintable() or c == "\n")]
    return {
        "rc": rc,
        "out": out,
        "err": err,
        "mib": round(int(rss_f.read_text()) / 1024, 1),
        "clean": not raw and "Traceback" not in err,
        "tmp_left": len(list(tmp.iterdir())),
    }


def hostile_bundle_rows(ref: Path, work: Path) -> list[dict[str, Any]]:
    """One row per hostile bundle: the reader must refuse it (exit 3, one clear message, no traceback,
    nothing raw on the terminal, no temp copy) or, for ``view``, render its own page and never the bundle's."""
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []

    def row(drill: str, ok: bool, detail: str) -> None:
        rows.append({"drill": drill, "ok": bool(ok), "lost": 0, "dup": 0, "verify_fail": 0, "detail": detail})

    def copy(name: str) -> Path:
        dst = work / name
        shutil.copytree(ref, dst, ignore=shutil.ignore_patterns(".*"))
        return dst

    def refused(drill: str, target: Path, want: str, cmd: str = "verify", max_lines: int = 21) -> dict[str, Any]:
        r = _cli_measured([cmd, str(target)], work, drill.split(":")[0].replace(" ", "-") + str(len(rows)))
        lines = r["err"].count("\n")
        ok = r["rc"] == 3 and r["clean"] and want in r["err"] and lines <= max_lines and not r["tmp_left"]
        first = (r["err"].strip().splitlines() or [""])[0].replace(f"{target}: ", "")
        first = first.replace("mmthink: bad bundle: ", "")
        row(drill, ok, f"exit {r['rc']}, {r['err'].count(chr(10))} stderr line(s), peak {r['mib']} MiB: {first[:70]}")
        return r

    # the viewer and verify
    b = copy("scripted")
    (b / "index.html").write_text("<script>window.__owned = 1</script>", encoding="utf-8")
    r = _cli_measured(["view", str(b)], work, "scripted")
    page = Path(r["out"].strip())
    fresh = r["rc"] == 0 and page.is_file() and b.resolve() not in page.resolve().parents
    row(
        "bundle: a scripted index.html (view)",
        fresh and "__owned" not in page.read_text("utf-8"),
        f"exit {r['rc']}, page rendered at {page.parent.name}/index.html, bundle page not used",
    )
    for name in ("steps.jsonl", "manifest.json"):
        b = copy("link-" + name)
        (b / name).rename(work / ("outside-" + name))
        os.symlink(work / ("outside-" + name), b / name)
        refused(f"bundle: {name} is a symlink", b, f"{name} is a symlink")
    b = copy("unknown")
    (b / "page.html").write_text("<script>x</script>")
    refused("bundle: an unknown file", b, "unknown file 'page.html'")
    b = copy("escapes")
    (b / "assets" / "x\x1b[2J\x1b]0;owned\x07.png").write_bytes(b"x")
    refused("bundle: escape codes in an asset name", b, "\\x1b[2J")
    from mmthink.trace.viewer import render

    page_html = render(
        {},
        [
            {"index": '1"><script>alert(1)</script>', "kind": "draft", "ref": "s1", "parts": []},
            {"index": 1, "kind": "observation", "ref": "s1", "parts": []},
        ],
    )
    row(
        "viewer: a draft index in an href",
        page_html.count("<script") == 2 and "&quot;&gt;&lt;script" in page_html,
        "escaped in the href; the page has only its own two scripts",
    )

    # zips
    base = _bundle_entries(ref)
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = zeros.compress(bytes(8 * 1024**2)) + zeros.flush()
    crc = zlib.crc32(bytes(8 * 1024**2))
    bomb = _raw_zip(
        work / "bomb.mmtrace", base + [(f"run/assets/{i:064x}.wav", block, crc, 8 * 1024**2, 8) for i in range(511)]
    )
    r = refused("zip: 511 entries of 8 MiB zeros", bomb, "a zip bomb")
    rows[-1]["detail"] = f"{bomb.stat().st_size / 1e6:.1f} MB file refused, nothing written; " + rows[-1]["detail"]
    many = _raw_zip(work / "many.mmtrace", base + [(f"run/{i:07d}", b"", 0, 0, 0) for i in range(400_000)])
    refused("zip: 400,000 entries", many, f"{len(base) + 400_000} entries, more than the 10000")
    refused(
        "zip: a file that is also a folder",
        _raw_zip(work / "ff.mmtrace", base + [("run/assets", b"x", zlib.crc32(b"x"), 1, 0)]),
        "both a file and a folder",
    )
    refused(
        "zip: a 300-byte name",
        _raw_zip(work / "long.mmtrace", base + [("run/" + "a" * 300, b"", 0, 0, 0)]),
        "longer than 255",
    )
    good = _raw_zip(work / "good.mmtrace", base)
    bad = _raw_zip(
        work / "bad.mmtrace",
        [
            (n, d[:-1] + b"!" if "/assets/" in n else d, zlib.crc32(d[:-1] + b"!" if "/assets/" in n else d), s, m)
            for n, d, _, s, m in base
        ],
    )
    left, codes = 0, []
    for z in (good, bad):
        for cmd in ("verify", "view"):
            r = _cli_measured([cmd, str(z)], work, f"temp-{z.stem}-{cmd}")
            left += r["tmp_left"]
            codes.append(r["rc"])
    row(
        "zip: temp copies after verify/view (ok and refused)",
        codes == [0, 0, 3, 3] and left == 0,
        f"exit codes {codes}, {left} file(s) left in the temp folder",
    )

    # the loader
    def with_line(name: str, line: bytes) -> Path:
        b = copy(name)
        with open(b / "steps.jsonl", "ab") as f:
            f.write(line + b"\n")
        return b

    refused("loader: 100,000 nested arrays", with_line("deep", b"[" * 100_000 + b"]" * 100_000), "nested more than 64")
    refused(
        'loader: a step whose parts are ["hello"]',
        with_line("hello", b'{"index": 99, "kind": "thought", "parts": ["hello"]}'),
        "parts[0] must be an object",
    )
    refused(
        "loader: an object as an asset",
        with_line("obj", b'{"index": 99, "kind": "draft", "parts": [{"type": "image", "asset": {"a": 1}}]}'),
        "parts[0].asset must be a string",
    )
    refused(
        "loader: NaN and Infinity literals",
        with_line("nan", b'{"index": 99, "kind": "thought", "parts": [], "score": NaN, "started": Infinity}'),
        "NaN is not JSON",
    )
    b = copy("million")
    with open(b / "steps.jsonl", "ab") as f:
        f.write(b'{"index": 1, "kind": "thought", "parts": ["hello"]}\n' * 1_000_000)
    refused("loader: 1,000,000 bad lines", b, "and 999980 more problem(s) not listed")
    return rows


def run_matrix(work: Path, demos: bool = True) -> dict[str, Any]:
    started = time.time()
    d = Drills(work)
    try:
        for node, nth in (
            ("route", 1),
            ("think", 1),
            ("act", 1),
            ("critique", 1),
            ("think", 3),
            ("act", 2),
            ("critique", 2),
            ("compose", 1),
        ):
            d.kill(f"{node} #{nth}", node=node, nth=nth)
        d.kill("mid-render of draft 2", plan={2: "kill"})
        if demos:
            d.demo_kill("speech", 3)
            d.demo_kill("video", 5)
        d.backend("exception once", plan={1: "raise"}, expect="succeeded")
        d.backend("exception always", always="raise", contains="RuntimeError")
        d.backend("hang once", plan={1: "hang"}, expect="succeeded")
        d.backend("hang always", always="hang", contains="hangs")
        d.backend("empty file", plan={1: "empty", 2: "empty"}, contains="no data")
        d.backend("zero-size image", always="zero", contains="zero size")
        d.backend("NaN audio", always="nan", speech=True, contains="NaN")
        d.backend("silent audio", always="silent", speech=True, contains="silent")
        d.disk_full()
        d.disk_full_at("checkpoint")
        d.disk_full_at("steps")
        d.moved("moved")
        d.moved("copied")
        d.bad_inputs()
        d.threads()
        d.processes()
        d.tamper()
        d.hostile_bundles()
    finally:
        d.close()
    rows = d.rows
    return {
        "runs": len(rows),
        "correct": sum(r["ok"] for r in rows),
        "steps_lost": sum(r["lost"] for r in rows),
        "steps_duplicated": sum(r["dup"] for r in rows),
        "bundles_failing_verification": sum(r["verify_fail"] for r in rows),
        "seconds": round(time.time() - started, 1),
        "rows": rows,
    }


def _print_table(res: dict[str, Any]) -> None:
    width = max(len(r["drill"]) for r in res["rows"])
    print(f"{'drill':<{width}}  ok   lost  dup  verify  detail")
    for r in res["rows"]:
        print(
            f"{r['drill']:<{width}}  {'yes' if r['ok'] else 'NO ':<3}  {r['lost']:>4}  {r['dup']:>3}  "
            f"{r['verify_fail']:>6}  {r['detail'][:90]}"
        )
    print(
        f"\nruns tried: {res['runs']}   finished or resumed correctly: {res['correct']}   "
        f"steps lost: {res['steps_lost']}   steps duplicated: {res['steps_duplicated']}   "
        f"bundles failing verification: {res['bundles_failing_verification']}   ({res['seconds']} s)"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    p.add_argument("--keep", default=None, help="keep the runs in this folder (default: a temporary one)")
    p.add_argument(
        "--quick", action="store_true", help="skip the drills on the real speech and video demos (about 80 s)"
    )
    sub = p.add_subparsers(dest="cmd")
    c = sub.add_parser("child", help="(internal) one run in this process, killed where told")
    c.add_argument("--out", required=True)
    c.add_argument("--run-id", required=True)
    c.add_argument("--seed", type=int, default=SEED)
    c.add_argument("--kill-node", default=None)
    c.add_argument("--kill-nth", type=int, default=1)
    c.add_argument("--plan", default=None)
    c.add_argument("--marker", default=None)
    c.add_argument("--demo", default=None, help="run this modality's demo (real TTS, frames, music) instead")
    args = p.parse_args(argv)
    if args.cmd == "child":
        return _child(args)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mmthink-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        res = run_matrix(work, demos=not args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(res))
    else:
        _print_table(res)
    good = res["correct"] == res["runs"] and not res["steps_lost"] and not res["bundles_failing_verification"]
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
