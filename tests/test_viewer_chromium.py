"""The trace viewer in a real browser: headless Chromium over the DevTools protocol.

Skipped where Chromium is not installed. The protocol runs over ``--remote-debugging-pipe``
(file descriptors 3 and 4, NUL-separated JSON), so no websocket package is needed.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from mmthink.trace.reader import load_trace
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import TraceWriter

pytestmark = pytest.mark.chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WAIT = 60.0  # a guard against a hung browser, not a performance assertion


def _high(fd: int) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class DevTools:
    """A minimal DevTools client: one page target, commands and events, over a pipe pair."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # lift the browser's ends above 4 so moving them onto 3 and 4 cannot clobber one with the other
        to_chrome_r, from_chrome_w = (_high(to_chrome_r), _high(from_chrome_w))
        args = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "--window-size=1280,2000",
            "about:blank",
        ]

        def onto_3_and_4() -> None:  # in the child, before exec: Chromium reads fd 3 and writes fd 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        # every other descriptor Python opened is close-on-exec, so close_fds=False leaks nothing
        self.proc = subprocess.Popen(
            args,
            preexec_fn=onto_3_and_4,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + WAIT
        while True:
            got = self._read(deadline)
            if got.get("id") == self._next:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                return got.get("result", {})
            self.events.append(got)

    def wait_event(self, name: str) -> dict[str, Any]:
        for ev in self.events:
            if ev.get("method") == name:
                return ev
        deadline = time.monotonic() + WAIT
        while True:
            got = self._read(deadline)
            self.events.append(got)
            if got.get("method") == name:
                return got

    def open(self, url: str) -> None:
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=False
        )["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def eval(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads the page produced."""
        out = []
        for ev in self.events:
            p = ev.get("params", {})
            if ev.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails", {}))[:400])
            elif ev.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args", []))[:400])
            elif ev.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(p["entry"].get("text", "")[:400])
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


MEDIA_STATE = """(async () => {
  const imgs = [...document.images];
  const media = [...document.querySelectorAll('audio, video')];
  const until = Date.now() + 30000;
  const ready = () => imgs.every(i => i.complete) && media.every(m => m.readyState >= 1 || m.error);
  while (!ready() && Date.now() < until) { await new Promise(r => setTimeout(r, 50)); }
  return {
    images: imgs.map(i => ({src: i.getAttribute('src'), w: i.naturalWidth})),
    media: media.map(m => ({tag: m.tagName.toLowerCase(), src: m.getAttribute('src'), ready: m.readyState,
                            duration: Number.isFinite(m.duration) ? m.duration : -1,
                            error: m.error ? m.error.code : 0,
                            w: m.tagName === 'VIDEO' ? m.videoWidth : null})),
    steps: [...document.querySelectorAll('.step')].map(e => ({cls: e.className, index: e.dataset.index})),
    scripts: document.scripts.length,
    pwned: window.__pwned === 1,
  };
})()"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, make_png: Any, make_wav: Any, mp4_bytes: bytes) -> Path:
    root = tmp_path_factory.mktemp("viewer") / "run-1"
    w = TraceWriter(
        root,
        {
            "request": {"text": 'a red kite <b>over</b> a green hill & a "quote"', "modality": "image"},
            "modality": "image",
            "reasoner": {"name": "scripted", "script_name": "kite"},
            "thinking": {"mode": "auto", "resolved": "on", "reason": "difficulty 0.7 >= 0.5"},
            "budget": {"max_tokens": 100, "tokens": 42, "max_drafts": 4, "drafts": 3},
        },
    )
    w.append(Step("decision", "route", "thinking on", [Part("text", "Thinking on: difficulty 0.7.")]))
    w.append(
        Step(
            "thought",
            "think",
            "thinking",
            [
                Part(
                    "reasoning",
                    'Plan the kite.\n<sketch id="s1">\nkite: red, top\n'
                    '</sketch>\n<img src=x onerror="window.__pwned=1">',
                )
            ],
        )
    )
    img1, img2 = (
        w.put_asset(make_png(96, 64, (200, 40, 40)), "png"),
        w.put_asset(make_png(96, 64, (40, 160, 60)), "png"),
    )
    w.append(Step("draft", "act", "sketch s1", [Part("text", "kite: red, top"), Part("image", asset=img1)], ref="s1"))
    w.append(
        Step(
            "draft",
            "act",
            "frame f1",
            [Part("text", "hill: green"), Part("image", asset=img2)],
            ref="f1",
            metrics={"tag": "frame"},
        )
    )
    img3, img4 = w.put_asset(make_png(96, 64, (30, 30, 200)), "png"), w.put_asset(make_png(96, 64, (90, 90, 90)), "png")
    w.append(
        Step(
            "draft",
            "act",
            "sketch s2",
            [Part("text", "kite: blue, top"), Part("image", asset=img3), Part("image", asset=img4)],
            ref="s2",
            metrics={
                "best_of": {
                    "n": 2,
                    "candidates": [
                        {"seed": 8, "score": 0.4, "passed": False, "asset": img4, "chosen": False},
                        {"seed": 7, "score": 0.9, "passed": True, "asset": img3, "chosen": True},
                    ],
                }
            },
        )
    )
    w.append(
        Step(
            "observation",
            "critique",
            "critique of s1",
            [Part("text", "kite found; hill missing")],
            ref="s1",
            score=0.5,
            passed=False,
            metrics={"objects": 1, "nan_metric": float("nan")},
        )
    )
    wav = w.put_asset(make_wav(0.6), "wav")
    w.append(Step("draft", "act", "draft_audio a1", [Part("text", "Fly, kite!"), Part("audio", asset=wav)], ref="a1"))
    w.append(
        Step(
            "observation",
            "critique",
            "critique of a1",
            [Part("text", "words: 2/2 heard")],
            ref="a1",
            score=0.9,
            passed=True,
            metrics={"pitch_slope": 1.3},
        )
    )
    w.append(
        Step(
            "error",
            "act",
            "frame f2 failed",
            [Part("text", "BackendError: out of memory </script><script>window.__pwned=1</script>")],
            ref="f2",
        )
    )
    vid = w.put_asset(mp4_bytes, "mp4")
    w.append(
        Step(
            "final",
            "compose",
            "final video",
            [
                Part("video", asset=vid),
                Part(
                    "table",
                    rows=[
                        {"scene": 1, "start": 0.0, "end": 0.5, "narration": "Fly"},
                        {"scene": 2, "start": 0.5, "end": 1.0},
                    ],
                ),
            ],
        )
    )
    w.finish("succeeded", final={"asset": vid, "kind": "video", "ext": "mp4"})
    return root


@pytest.fixture(scope="module")
def page(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not CHROMIUM:
        pytest.skip("chromium is not on PATH (tools/install_chromium.sh installs it)")
    dt = DevTools(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    try:
        dt.open((bundle / "index.html").resolve().as_uri())
        yield dt
    finally:
        dt.close()


def test_page_loads_every_step_and_all_media(page: DevTools, bundle: Path) -> None:
    state = page.eval(MEDIA_STATE)
    trace = load_trace(bundle)
    assert [s["index"] for s in state["steps"]] == [str(i) for i in range(len(trace.steps))]
    for el, step in zip(state["steps"], trace.steps):
        assert f"step step-{step.kind}" in el["cls"]
    # three drafts in the timeline (the best-of-2 one with both candidates) + three at a glance; each decoded
    assert len(state["images"]) == 7 and all(i["w"] == 96 for i in state["images"]), state["images"]
    chosen = page.eval("[...document.querySelectorAll('.cand')].map(f => [f.className, f.textContent])")
    assert [c[0] for c in chosen] == ["media media-image cand chosen", "media media-image cand"], chosen
    assert "seed 7" in chosen[0][1] and "chosen" in chosen[0][1] and "seed 8" in chosen[1][1]
    kinds = sorted(m["tag"] for m in state["media"])
    assert kinds == ["audio", "video", "video"], state["media"]  # final step + hero
    for m in state["media"]:
        assert m["error"] == 0 and m["ready"] >= 1 and m["duration"] > 0, m
        if m["tag"] == "video":
            assert m["w"] == 160
    assert [m["duration"] for m in state["media"] if m["tag"] == "audio"] == [pytest.approx(0.6, abs=0.02)]
    assert state["scripts"] == 2 and not state["pwned"]
    assert page.errors() == []


def test_text_is_escaped_not_markup(page: DevTools) -> None:
    texts = page.eval("""({
      h1: document.querySelector('h1.request').textContent,
      err: document.querySelector('.step-error .errtext').textContent,
      tags: [...document.querySelectorAll('.step-thought .tag')].map(t => t.textContent),
      injected: document.querySelectorAll('.step img[src="x"], h1 b').length,
    })""")
    assert texts["h1"] == 'a red kite <b>over</b> a green hill & a "quote"'
    assert "</script><script>window.__pwned=1</script>" in texts["err"]
    assert texts["tags"][:2] == ['<sketch id="s1">', "</sketch>"]
    assert texts["injected"] == 0


def test_filter_buttons_and_raw_step(page: DevTools) -> None:
    visible = "[...document.querySelectorAll('.step')].filter(e => !e.hidden && e.offsetParent !== null)"
    for kind, n in (("thought", 1), ("draft", 4), ("observation", 2), ("error", 1)):
        got = page.eval(f"""(() => {{
          document.querySelector('[data-filter="{kind}"]').click();
          return {visible}.map(e => e.dataset.kind); }})()""")
        assert got == [kind] * n
    assert page.eval(f"document.querySelector('[data-filter=\"all\"]').click(); {visible}.length") == 10
    raw = page.eval("""(() => { const d = document.querySelector('#step-5 details.raw'); d.open = true;
      return new Promise(r => setTimeout(() => r(d.querySelector('pre').textContent), 50)); })()""")
    step = json.loads(raw)
    assert step["index"] == 5 and step["score"] == 0.5 and step["metrics"]["nan_metric"] is None
    table = page.eval("[...document.querySelectorAll('.step-final table tr')].map(r => r.children.length)")
    assert table == [4, 4, 4]
    assert page.errors() == []
