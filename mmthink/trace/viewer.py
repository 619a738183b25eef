"""The static page that replays a run: ``render(manifest, steps)`` gives the HTML as a string.

This module writes nothing and imports nothing but the schema and the JSON sanitiser: the writer
puts the page next to a run's assets, and ``mmthink view`` puts a fresh one in a folder of its
own. Rendered here, in Python, so the page reads fine with scripts off and every step is in the
DOM as ``<div class="step step-<kind>" data-index=N>``; a small inline script only filters and
shows raw JSON. Everything from the trace is escaped, media are referenced by relative path,
and a Content-Security-Policy lets nothing but the page's own script run and nothing load
from the network, so a bundle from a stranger is safe to open from ``file://``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmthink.trace.jsonio import jsonable, script_safe
from mmthink.trace.schema import MIME, STEP_KINDS, Step

_HERE = Path(__file__).resolve().parent
VIEWABLE = ("png", "jpg", "jpeg", "gif", "webp", "wav", "mp3", "ogg", "mp4", "webm", "json")
"""Asset extensions the page links to or embeds; never html or svg, which could carry a script."""
_SAFE_ASSET = re.compile(r"^assets/[0-9a-f]{64}\.(?:" + "|".join(VIEWABLE) + r")$")
_TAG = re.compile(r"<(/?)([A-Za-z_][\w\-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_KIND_LABEL = {
    "thought": "thought",
    "draft": "draft",
    "observation": "observation",
    "decision": "decision",
    "final": "final",
    "error": "error",
}
_FILTERS = (
    ("all", "All"),
    ("thought", "Thoughts"),
    ("draft", "Drafts"),
    ("observation", "Observations"),
    ("decision", "Decisions"),
    ("error", "Errors"),
)
_MEDIA = ("image", "audio", "video")


def esc(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


@lru_cache(maxsize=1)
def _static() -> tuple[str, str]:
    return ((_HERE / "viewer.css").read_text(encoding="utf-8"), (_HERE / "viewer.js").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- formatting
def fmt_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
        return "–"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m} min {sec:02d} s"


def fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, float, str)) for x in v) and len(v) <= 6:
        return ", ".join(fmt_value(x) for x in v)
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(jsonable(v), ensure_ascii=False)
    return str(v)


def _asset_ok(rel: Any) -> bool:
    return isinstance(rel, str) and bool(_SAFE_ASSET.fullmatch(rel))


def _obj(v: Any) -> dict[str, Any]:
    """``v`` if it is a JSON object, else an empty one: a field of the wrong type shows as absent."""
    return v if isinstance(v, dict) else {}


def _dict(step: Step | dict[str, Any]) -> dict[str, Any]:
    d = step.to_dict() if isinstance(step, Step) else dict(step)
    return _obj(jsonable(d))


# --------------------------------------------------------------------------- pieces
def highlight_tags(text: str) -> str:
    """Escaped chain of thought with the protocol's step tags shown as highlighted chips."""
    out: list[str] = []
    pos = 0
    open_name: str | None = None
    for m in _TAG.finditer(text):
        closing, name, _attrs, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
        chunk = esc(text[pos : m.start()])
        out.append(f'<span class="tag-body">{chunk}</span>' if open_name and chunk else chunk)
        cls = re.sub(r"[^a-z0-9_-]", "", name.lower())
        out.append(f'<span class="tag tag-{cls}">{esc(m.group(0))}</span>')
        if closing:
            open_name = None if open_name == name else open_name
        elif not selfclose:
            open_name = name
        pos = m.end()
    tail = esc(text[pos:])
    out.append(f'<span class="tag-body">{tail}</span>' if open_name and tail else tail)
    return "".join(out)


def _media(kind: str, rel: Any, label: str = "", big: bool = False) -> str:
    if not _asset_ok(rel):
        return f'<div class="missing">unsafe or missing {esc(kind)} asset {esc(rel)}</div>'
    src = esc(rel)
    cls = "media big" if big else "media"
    if kind == "image":
        return (
            f'<figure class="{cls} media-image"><a href="{src}" target="_blank" rel="noopener">'
            f'<img src="{src}" alt="{esc(label or "image draft")}" decoding="async"></a></figure>'
        )
    if kind == "audio":
        return (
            f'<figure class="{cls} media-audio"><audio controls preload="metadata" src="{src}"></audio>'
            f'<figcaption><a href="{src}" download>download</a></figcaption></figure>'
        )
    if kind == "video":
        return (
            f'<figure class="{cls} media-video"><video controls preload="metadata" playsinline src="{src}">'
            f'</video><figcaption><a href="{src}" download>download</a></figcaption></figure>'
        )
    return f'<div class="missing">cannot show {esc(kind)}: <a href="{src}">{src}</a></div>'


def _table(rows: Any) -> str:
    if not isinstance(rows, list) or not rows:
        return '<p class="muted">(empty table)</p>'
    cols: list[str] = []
    for r in rows:
        for k in r.keys() if isinstance(r, dict) else ["value"]:
            if k not in cols:
                cols.append(str(k))
    numeric = {
        c
        for c in cols
        if all(
            isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
            for r in rows
            if isinstance(r, dict) and r.get(c) is not None
        )
    }
    head = "".join(f'<th class="num">{esc(c)}</th>' if c in numeric else f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for r in rows:
        r = r if isinstance(r, dict) else {"value": r}
        cells = []
        for c in cols:
            v = r.get(c)
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            shown = esc(fmt_value(v)) if v is not None else ""
            cells.append(f'<td class="num">{shown}</td>' if num else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _score(score: Any, passed: Any) -> str:
    out = []
    if isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score):
        pct = max(0.0, min(1.0, float(score))) * 100
        tone = "good" if pct >= 75 else "mid" if pct >= 50 else "bad"
        out.append(
            f'<span class="score score-{tone}" title="score {score:.3f}"><span class="bar">'
            f'<span class="fill" style="width:{pct:.0f}%"></span></span>'
            f'<span class="val">{score:.2f}</span></span>'
        )
    if passed is True:
        out.append('<span class="badge pass">pass</span>')
    elif passed is False:
        out.append('<span class="badge fail">fail</span>')
    return "".join(out)


def _chips(metrics: dict[str, Any], skip: Iterable[str] = (), limit: int = 10) -> str:
    chips = []
    for k, v in metrics.items():
        if (
            k in skip
            or v is None
            or isinstance(v, (dict, list))
            and not (isinstance(v, list) and len(v) <= 6 and all(isinstance(x, (int, float, str)) for x in v))
        ):
            continue
        chips.append(f'<span class="chip"><span class="k">{esc(k)}</span> {esc(fmt_value(v))}</span>')
        if len(chips) >= limit:
            break
    return f'<div class="chips">{"".join(chips)}</div>' if chips else ""


def _findings(text: str) -> str:
    items = [t.strip() for t in re.split(r";\s+", text) if t.strip()]
    if len(items) <= 1:
        return f'<p class="text">{esc(text)}</p>'
    return '<ul class="findings">' + "".join(f"<li>{esc(t)}</li>" for t in items) + "</ul>"


def _parts(d: dict[str, Any], kind: str) -> tuple[str, str]:
    """(text html, media html) for a step's parts."""
    texts, media = [], []
    for p in d.get("parts") or []:
        if not isinstance(p, dict):
            continue
        t = p.get("type")
        if t == "reasoning":
            texts.append(f'<div class="cot">{highlight_tags(str(p.get("text") or ""))}</div>')
        elif t == "text":
            body = str(p.get("text") or "")
            if not body.strip():
                continue
            if kind == "observation":
                texts.append(_findings(body))
            elif kind == "error" or "Traceback (most recent call last)" in body:
                texts.append(f'<pre class="errtext">{esc(body)}</pre>')
            elif kind == "draft":
                texts.append(f'<pre class="scene">{esc(body)}</pre>')
            else:
                texts.append(f'<p class="text">{esc(body)}</p>')
        elif t in _MEDIA:
            media.append(_media(t, p.get("asset"), d.get("title", "")))
        elif t == "table":
            texts.append(_table(p.get("rows")))
        else:
            what = esc(p.get("text") or p.get("asset") or "")
            texts.append(f'<p class="text"><span class="muted">[{esc(t)}]</span> {what}</p>')
    return "".join(texts), "".join(media)


def _is_image_draft(d: dict[str, Any]) -> bool:
    parts = d.get("parts") or []
    return d.get("kind") == "draft" and any(isinstance(p, dict) and p.get("type") == "image" for p in parts)


def _step_html(d: dict[str, Any], t0: float | None, draft_index: dict[str, Any]) -> str:
    kind = str(d.get("kind")) if d.get("kind") in STEP_KINDS else "error"
    idx = d.get("index")
    started, ended = d.get("started"), d.get("ended")
    took = ended - started if isinstance(started, (int, float)) and isinstance(ended, (int, float)) else None
    at = started - t0 if t0 is not None and isinstance(started, (int, float)) else None
    metrics = _obj(d.get("metrics"))
    ref = d.get("ref")
    ref_html = ""
    if ref:
        target = draft_index.get(str(ref))
        ref_html = (
            f'<a class="ref" href="#step-{esc(target)}">{esc(ref)}</a>'
            if target is not None and target != idx
            else f'<span class="ref">{esc(ref)}</span>'
        )
    head = (
        f'<header class="step-head"><span class="idx">#{esc(idx)}</span>'
        f'<span class="kind kind-{kind}">{_KIND_LABEL[kind]}</span>'
        f'<span class="title">{esc(d.get("title") or kind)}</span>{ref_html}'
        f'<span class="grow"></span>{_score(d.get("score"), d.get("passed"))}'
        f'<span class="node" title="graph node">{esc(d.get("node"))}</span>'
        f'<span class="time" title="step time (ended - started); +offset from the first step">'
        f"{esc(fmt_seconds(took))}{f' · +{esc(fmt_seconds(at))}' if at is not None else ''}</span></header>"
    )
    text, media = _parts(d, kind)
    if kind == "draft":
        attrs = _obj(metrics.get("attrs"))
        facts = {
            **{k: v for k, v in attrs.items() if k != "id"},
            **{k: v for k, v in metrics.items() if k not in ("attrs", "tag", "best_of")},
        }
        media = _candidates(metrics.get("best_of"), d.get("title", "")) or media
        body = f'<div class="draft-grid"><div class="draft-text">{text}{_chips(facts)}</div>{media}</div>'
    elif kind == "observation":
        body = text + _chips(metrics, skip=("findings",))
        found = metrics.get("findings")
        if isinstance(found, list) and found and not text:
            body += "<ul class='findings'>" + "".join(f"<li>{esc(f)}</li>" for f in found) + "</ul>"
    elif kind == "thought":
        body = text + _chips({k: v for k, v in metrics.items() if k.startswith("tokens") or k in ("stop", "reason")})
    else:
        body = media + text + (_chips(metrics) if kind in ("decision", "final") else "")
    extra = ""
    if metrics:
        extra += (
            f'<details class="metrics"><summary>metrics</summary>'
            f"<pre>{esc(json.dumps(metrics, ensure_ascii=False, indent=2))}</pre></details>"
        )
    extra += '<details class="raw" data-raw="1"><summary>raw step</summary><pre></pre></details>'
    data_ref = f' data-ref="{esc(ref)}"' if ref else ""
    return (
        f'<div class="step step-{kind}" id="step-{esc(idx)}" data-index="{esc(idx)}" data-kind="{kind}"{data_ref}>'
        f'{head}<div class="step-body">{body}</div><div class="step-foot">{extra}</div></div>'
    )


def _timeline(ds: list[dict[str, Any]], t0: float | None) -> str:
    draft_index: dict[str, Any] = {}
    for d in ds:
        if d.get("kind") == "draft" and d.get("ref") is not None:
            draft_index[str(d["ref"])] = d.get("index")
    out: list[str] = []
    group: list[str] = []

    def flush() -> None:
        if len(group) > 1:
            out.append('<div class="strip">' + "".join(group) + "</div>")
        else:
            out.extend(group)
        group.clear()

    for d in ds:
        html_ = _step_html(d, t0, draft_index)
        if _is_image_draft(d):
            group.append(html_)
            continue
        flush()
        out.append(html_)
    flush()
    return "".join(out)


def _candidates(info: Any, label: str) -> str:
    """Best-of-N drafts: every candidate with its seed and score, the chosen one first and marked."""
    cands = info.get("candidates") if isinstance(info, dict) else None
    if not isinstance(cands, list) or not cands or not all(isinstance(c, dict) for c in cands):
        return ""
    cells = []
    for c in sorted(cands, key=lambda c: not c.get("chosen")):
        rel = c.get("asset")
        if not _asset_ok(rel):
            continue
        mark = " chosen" if c.get("chosen") else ""
        cells.append(
            f'<figure class="media media-image cand{mark}"><a href="{esc(rel)}" target="_blank" '
            f'rel="noopener"><img src="{esc(rel)}" alt="{esc(label)} seed {esc(c.get("seed"))}" '
            f'decoding="async"></a><figcaption>seed {esc(c.get("seed"))} '
            f"{_score(c.get('score'), c.get('passed'))}"
            f"{' · chosen' if mark else ''}</figcaption></figure>"
        )
    return f'<div class="cands" title="best of {len(cands)}">{"".join(cells)}</div>' if cells else ""


def _glance(ds: list[dict[str, Any]]) -> str:
    """All image drafts side by side with the score their critique gave them."""
    scores: dict[str, tuple[Any, Any]] = {}
    for d in ds:
        if d.get("kind") == "observation" and d.get("ref") is not None:
            scores[str(d["ref"])] = (d.get("score"), d.get("passed"))
    cards = []
    for d in ds:
        if not _is_image_draft(d):
            continue
        rel = next(p.get("asset") for p in d["parts"] if isinstance(p, dict) and p.get("type") == "image")
        if not _asset_ok(rel):
            continue
        sc, ok = scores.get(str(d.get("ref")), (None, None))
        cards.append(
            f'<a class="thumb" href="#step-{esc(d.get("index"))}">'
            f'<img src="{esc(rel)}" alt="{esc(d.get("title"))}" decoding="async">'
            f'<span class="cap"><span>{esc(d.get("ref") or d.get("title"))}</span>{_score(sc, ok)}</span></a>'
        )
    if len(cards) < 2:
        return ""
    return (
        f'<section class="glance card"><h2>Drafts at a glance <span class="muted">({len(cards)})</span></h2>'
        f'<div class="thumbs">{"".join(cards)}</div></section>'
    )


def _meter(label: str, used: Any, limit: Any, fmt: Any = str) -> str:
    if not isinstance(used, (int, float)):
        return ""
    if isinstance(limit, (int, float)) and limit > 0:
        pct = min(100.0, 100.0 * used / limit)
        tone = "bad" if pct >= 100 else "mid" if pct >= 80 else "good"
        return (
            f'<div class="meter"><span class="ml">{esc(label)}</span><span class="bar">'
            f'<span class="fill fill-{tone}" style="width:{pct:.0f}%"></span></span>'
            f'<span class="mv">{esc(fmt(used))} / {esc(fmt(limit))}</span></div>'
        )
    return (
        f'<div class="meter"><span class="ml">{esc(label)}</span><span class="bar"></span>'
        f'<span class="mv">{esc(fmt(used))} <span class="muted">(no limit)</span></span></div>'
    )


def _describe(v: Any) -> str:
    if isinstance(v, dict):
        name = v.get("name") or ""
        rest = [f"{v[k]}" for k in ("model", "model_id", "script_name", "base_url") if v.get(k)]
        return f"{name} ({', '.join(rest)})" if rest else str(name or json.dumps(v))
    return "" if v is None else str(v)


def _header(m: dict[str, Any], ds: list[dict[str, Any]]) -> str:
    req = _obj(m.get("request"))
    text = req.get("text") or m.get("prompt") or "(no request text)"
    status = str(m.get("status") or "unknown")
    th = _obj(m.get("thinking"))
    mode = th.get("resolved") or th.get("mode") or "?"
    asked = th.get("mode")
    budget = _obj(m.get("budget"))
    timings = _obj(m.get("timings"))
    total = timings.get("seconds")
    if total is None and ds:
        starts = [d["started"] for d in ds if isinstance(d.get("started"), (int, float))]
        ends = [d["ended"] for d in ds if isinstance(d.get("ended"), (int, float))]
        total = max(ends) - min(starts) if starts and ends else None
    facts: list[tuple[str, Any]] = [
        (
            "Thinking",
            f"{mode}"
            + (f" (asked: {asked})" if asked and asked != mode else "")
            + (f" — {th['reason']}" if th.get("reason") else ""),
        ),
        ("Reasoner", _describe(m.get("reasoner"))),
    ]
    backends = m.get("backends")
    if isinstance(backends, dict):
        facts.append(("Backends", ", ".join(f"{k}: {v}" for k, v in backends.items() if v)))
    size = f"{req['width']}×{req['height']}" if req.get("width") and req.get("height") else ""
    facts += [
        ("Seed", m.get("seed", req.get("seed"))),
        ("Output", size),
        ("Created", m.get("created")),
        ("Total time", fmt_seconds(total)),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v not in (None, ""))
    meters = (
        _meter("thinking tokens", budget.get("tokens"), budget.get("max_tokens"))
        + _meter("drafts", budget.get("drafts"), budget.get("max_drafts"))
        + _meter("seconds", budget.get("seconds"), budget.get("max_seconds"), lambda s: f"{s:.1f}")
    )
    reason = m.get("reason")
    alert = f'<div class="alert alert-{esc(status)}">{esc(reason)}</div>' if reason else ""
    return (
        f'<header class="run card"><div class="brand"><span class="logo">mm</span>think trace'
        f'<span class="runid">{esc(m.get("run_id"))}</span></div>'
        f'<h1 class="request">{esc(text)}</h1>'
        f'<div class="badges"><span class="badge status status-{esc(status)}">{esc(status)}</span>'
        f'<span class="badge">{esc(m.get("modality") or req.get("modality") or "?")}</span>'
        f'<span class="badge think-{esc(mode)}">thinking {esc(mode)}</span>'
        f'<span class="badge">{len(ds)} steps</span></div>{alert}'
        f'<div class="header-grid"><dl class="facts">{dl}</dl>'
        f'<div class="budget"><h3>Budget used</h3>{meters or "<p class=muted>not recorded</p>"}</div>'
        "</div></header>"
    )


def _hero(m: dict[str, Any], ds: list[dict[str, Any]]) -> str:
    final: dict[str, Any] | None = m.get("final") if isinstance(m.get("final"), dict) else None
    if not final or not final.get("asset"):
        if m.get("status") == "awaiting_review":
            return (
                '<section class="hero card"><p class="muted">This run is paused for review: approve, revise or '
                "abort it with <code>mmthink resume RUN --approve | --revise NOTE | --abort</code>.</p></section>"
            )
        if m.get("status") == "running":
            return (
                '<section class="hero card"><p class="muted">This run is still going '
                "(or stopped without finishing).</p></section>"
            )
        return ""
    kind = final.get("kind") or MIME.get(str(final["asset"]).rsplit(".", 1)[-1], "/").split("/")[0]
    step = next((d for d in reversed(ds) if d.get("kind") == "final"), None)
    link = f' <a href="#step-{esc(step.get("index"))}">final step ↓</a>' if step else ""
    answer = m.get("answer")
    cap = f'<p class="answer">{esc(answer)}</p>' if answer else ""
    return (
        f'<section class="hero card"><h2>Final {esc(kind)}{link}</h2>'
        f"{_media(str(kind), final.get('asset'), 'final artifact', big=True)}{cap}</section>"
    )


def _toolbar(ds: list[dict[str, Any]], has_strip: bool) -> str:
    counts = {k: 0 for k in STEP_KINDS}
    for d in ds:
        counts[str(d.get("kind")) if d.get("kind") in counts else "error"] += 1
    btns = []
    for key, label in _FILTERS:
        n = len(ds) if key == "all" else counts[key]
        if key in ("decision", "error") and not n:
            continue
        pressed = "true" if key == "all" else "false"
        btns.append(
            f'<button type="button" data-filter="{key}" aria-pressed="{pressed}">{label} '
            f'<span class="count">{n}</span></button>'
        )
    strip = (
        '<label class="toggle"><input type="checkbox" id="strip-toggle" checked> image drafts side by side</label>'
        if has_strip
        else ""
    )
    return (
        f'<nav class="toolbar" aria-label="filter steps"><div class="filters">{"".join(btns)}</div>'
        f'<div class="tools">{strip}<button type="button" id="expand-all">expand details</button></div></nav>'
    )


# --------------------------------------------------------------------------- page
def render(manifest: dict[str, Any], steps: Iterable[Step | dict[str, Any]]) -> str:
    """The whole page as one string: no external URLs, media by relative ``assets/`` path.

    Pure: it reads ``viewer.css``/``viewer.js`` from the package and nothing else, writes nothing.
    """
    css, js = _static()
    m = _obj(jsonable(manifest) if isinstance(manifest, dict) else {})
    ds = [_dict(s) for s in steps if isinstance(s, (Step, dict))]
    starts = [d["started"] for d in ds if isinstance(d.get("started"), (int, float))]
    t0 = min(starts) if starts else None
    timeline = _timeline(ds, t0)
    payload = script_safe({"manifest": m, "steps": ds})
    script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    csp = (
        "default-src 'none'; img-src 'self' file: data: blob:; media-src 'self' file: blob:; "
        f"style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    req = _obj(m.get("request"))
    title = str(req.get("text") or m.get("run_id") or "trace")
    title = title if len(title) <= 80 else title[:77] + "…"
    generated = datetime.fromtimestamp(time.time(), timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = (
        _header(m, ds)
        + _hero(m, ds)
        + _glance(ds)
        + _toolbar(ds, '<div class="strip">' in timeline)
        + f'<main class="timeline" id="timeline">{timeline or "<p class=muted>No steps yet.</p>"}</main>'
        + f'<footer class="foot">schema {esc(m.get("schema"))} · {len(ds)} steps · page written {esc(generated)}'
        " · open <code>steps.jsonl</code> and <code>manifest.json</code> for the raw record</footer>"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)} · mmthink trace</title><style>{css}</style></head>\n"
        f'<body class="strip-on">{body}\n'
        f'<script type="application/json" id="trace-data">{payload}</script>\n'
        f"<script>{js}</script>\n</body></html>\n"
    )


render_html = render
"""The earlier name of :func:`render`."""
