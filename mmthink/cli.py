"""mmthink command line: run a request, replay a demo, open a trace bundle.

Exit codes (``mmthink --help`` lists them): 0 succeeded; 1 failed or stopped (its bundle is still written);
2 bad input (a one-line reason names the field); 3 a bundle could not be opened or verified; 4 paused for
review; 5 unmet (a final that falls short); 6 refused; 7 another process is writing that run folder.
``mmthink batch``: 0 every line succeeded, 1 some line did not (``batch.jsonl`` says which), 2 the
requests file cannot be read or an option is bad, 130 interrupted (run it again to resume).
Heavy modules load only inside the command that needs them, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUNDLE, EXIT_PAUSED, EXIT_UNMET, EXIT_REFUSED, EXIT_BUSY = range(8)
EXIT_BY_STATUS = {"succeeded": EXIT_OK, "unmet": EXIT_UNMET, "refused": EXIT_REFUSED, "awaiting_review": EXIT_PAUSED}
"""Every other status (failed, stopped) exits 1."""

EPILOG = """examples:
  mmthink run "three red apples on a table, a blue cup to the left of them" --out runs/
  mmthink run "a lighthouse at dusk /no_think"
  mmthink demo image
  mmthink run "a castle under the moon" --review    # approve / revise / abort before the final
  mmthink resume runs/<run-id>         # continue a run that was killed or paused
  mmthink resume runs/<run-id> --revise "make the moon bigger"
  mmthink view runs/<run-id>           # prints the viewer path (add --open to open a browser)
  mmthink verify runs/<run-id>.mmtrace
  mmthink batch prompts.jsonl --out runs/batch1 --workers 2   # again to resume

exit codes: 0 succeeded: the final passed its critique and came from the reasoner's own accepted drafts
            1 the run failed or was stopped (its bundle is kept and verifies)
            2 bad input (one line names the field and the fix; nothing was written)
            3 a bundle that cannot be opened or verified
            4 paused for review (resume with --approve, --revise NOTE or --abort)
            5 unmet: a final was delivered but falls short (the findings say how)
            6 refused: this reasoner cannot make what was asked (the reason says what can)
            7 busy: another process is writing that run folder (one writer per run); nothing was done"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mmthink",
        description="Interleaved multimodal reasoning: think in sketches, draft audio and storyboards, "
        "critique them, revise, and compose the final image, speech or video. "
        "Every run is saved as a trace bundle with an HTML viewer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    def run_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--modality", default=None, help="image | speech | video | auto (default: auto from the words)")
        sp.add_argument(
            "--thinking", default=None, help="on | off | auto (default: the profile's, or /think, /no_think)"
        )
        sp.add_argument("--budget-tokens", default=None, help="thinking-token budget (s1 budget forcing)")
        sp.add_argument("--min-tokens", default=None, help="think at least this many tokens (s1 'Wait')")
        sp.add_argument("--max-drafts", default=None, help="most drafts to render before composing")
        sp.add_argument("--max-seconds", default=None, type=float, help="wall-clock budget for thinking")
        sp.add_argument("--best-of", default=None, help="render N seeds of each sketch and keep the best (default 1)")
        sp.add_argument("--seed", default=None, help="random seed (integer)")
        sp.add_argument("--width", default=None, help="final image/video width in pixels")
        sp.add_argument("--height", default=None, help="final image/video height in pixels")
        sp.add_argument("--out", default="runs", help="folder for trace bundles (default: runs/)")
        sp.add_argument("--zip", action="store_true", help="also write a .mmtrace zip of the bundle")
        sp.add_argument(
            "--fallback-planner",
            action="store_true",
            help="if the reasoner leaves no usable draft, plan the final from the request instead of "
            "failing (the run is then 'unmet', never 'succeeded')",
        )
        sp.add_argument("--json", action="store_true", help="print the result as JSON instead of a summary")
        sp.add_argument("--quiet", "-q", action="store_true", help="no progress display")
        sp.add_argument(
            "--review",
            action="store_true",
            help="pause before the final render to approve, revise or abort (asks on the terminal)",
        )

    r = sub.add_parser("run", help="run a request end to end", description="Run one request through the agent.")
    r.add_argument("prompt", help="what to make, in words")
    r.add_argument("--profile", default="embedded", help="embedded (default) | gpu | server")
    r.add_argument("--reasoner", default=None, help="heuristic | hf | openai_compat (overrides the profile)")
    r.add_argument("--model", default=None, help="reasoner model id, folder or served name")
    r.add_argument("--image-backend", default=None, help="embedded | diffusers (overrides the profile)")
    r.add_argument("--image-model", default=None, help="diffusers pipeline: cached hub id or local folder")
    r.add_argument("--clip-model", default=None, help="CLIP/SigLIP model for the image critic: hub id or folder")
    r.add_argument("--device", default=None, help="cuda | mps | cpu (default: the best available)")
    run_opts(r)

    d = sub.add_parser(
        "demo",
        help="replay a scripted demo (image, speech, video)",
        description="Replay a demo script: the chain of thought is scripted, "
        "the drafts, critiques and final are rendered for real.",
    )
    d.add_argument("name", help="image | speech | video, or a path to a script .md")
    run_opts(d)

    rs = sub.add_parser(
        "resume",
        help="continue a run that was killed or paused for review",
        description="Continue a run from its last checkpoint (stored in the run folder). "
        "Steps already written are not repeated and accepted drafts are not redrawn.",
    )
    rs.add_argument("run", help="the run folder (or a run id under --out)")
    rs.add_argument("--out", default="runs", help="where run ids are looked up (default: runs/)")
    decide = rs.add_mutually_exclusive_group()
    decide.add_argument("--approve", action="store_true", help="approve the planned final of a paused run")
    decide.add_argument("--revise", metavar="NOTE", default=None, help="send the reasoner back to work with a note")
    decide.add_argument(
        "--abort", metavar="REASON", nargs="?", const="", default=None, help="stop a paused run (status 'stopped')"
    )
    rs.add_argument("--json", action="store_true", help="print the result as JSON instead of a summary")
    rs.add_argument("--quiet", "-q", action="store_true", help="no progress display")

    v = sub.add_parser("view", help="print (or open) the HTML viewer of a bundle")
    v.add_argument("bundle", help="a run folder or a .mmtrace zip")
    v.add_argument("--open", action="store_true", help="open it in the default browser")

    vf = sub.add_parser("verify", help="check a bundle's schema and asset hashes")
    vf.add_argument("bundle", help="a run folder or a .mmtrace zip")
    _batch_parser(sub)
    return p


def _batch_parser(sub: Any) -> None:
    b = sub.add_parser(
        "batch",
        help="run every request of a JSONL file, one bundle each (resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a batch: one request per line (a prompt, or a JSON object with prompt, "
        "modality, seed, width, height, thinking, max_drafts, ...). Writes one bundle per "
        "request and DIR/batch.jsonl. Running it again resumes: finished bundles that "
        "verify are skipped, interrupted ones resumed, failed ones retried with "
        "--retry-failed.",
        epilog="exit codes: 0 every line succeeded, 1 some line did not (see batch.jsonl), "
        "2 unreadable requests file or bad option, 130 interrupted (run it again to resume)",
    )
    b.add_argument("requests", help="JSONL file, one prompt or request object per line")
    b.add_argument("--out", required=True, help="folder for the bundles and batch.jsonl")
    b.add_argument("--workers", type=int, default=None, help="worker processes or Ray actors (default: the cores)")
    b.add_argument("--engine", choices=("local", "ray"), default="local", help="local process pool (default) or Ray")
    b.add_argument(
        "--address",
        default=None,
        help="Ray cluster address (e.g. auto, or HOST:6379); default: $RAY_ADDRESS, else a local Ray",
    )
    b.add_argument("--num-cpus", type=float, default=None, help="CPUs reserved per Ray actor (default 1)")
    b.add_argument("--num-gpus", type=float, default=None, help="GPUs per Ray actor; fractions share a GPU (e.g. 0.25)")
    b.add_argument("--profile", default="embedded", help="agent profile for every worker (default: embedded)")
    b.add_argument("--retry-failed", action="store_true", help="run failed requests again (their bundles are kept)")
    b.add_argument(
        "--sync",
        choices=("end", "step"),
        default="end",
        help="fsync each bundle when its run ends (default; a re-run redoes what a power cut lost) or after every "
        "step, as single runs do",
    )
    b.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary table")


def _batch(args: argparse.Namespace) -> int:
    """Exit 0 when every line succeeded, 1 when any did not, 2 for an unreadable file (raised as InputError).

    Ctrl-C stops the batch (the pool's workers end, runs in flight stay resumable) and exits 130. A second
    Ctrl-C while it stops is only acknowledged: raised again, it would break the stopping half-way (a
    traceback from a lock or a thread join). A third leaves at once, for an exit that hangs (Python joins
    every thread at exit, and one an interrupted run had just started may wait forever).
    """
    import signal
    import threading

    from .batch import batch

    def leave(*_: Any) -> None:
        print("mmthink: interrupted", file=sys.stderr, flush=True)
        os._exit(130)

    def again(*_: Any) -> None:
        print("mmthink: still stopping (Ctrl-C again to quit at once)", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, leave)

    def stop(*_: Any) -> None:
        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()  # only there can handlers be set
    before = signal.signal(signal.SIGINT, stop) if main_thread else None
    stopping = False
    try:
        result = batch(
            args.requests,
            args.out,
            workers=args.workers,
            engine=args.engine,
            address=args.address,
            retry_failed=args.retry_failed,
            profile=args.profile,
            num_cpus=args.num_cpus,
            num_gpus=args.num_gpus,
            sync=args.sync,
            progress=not args.quiet,
            summary=not args.quiet,
        )
    except KeyboardInterrupt:
        stopping = True
        raise
    finally:
        if main_thread and not stopping:
            signal.signal(signal.SIGINT, before)
    return EXIT_OK if result.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return EXIT_OK
    if not args.cmd:
        _parser().print_help()
        return EXIT_INPUT
    from mmthink.errors import BundleError, InputError, MMThinkError, RunBusy

    try:
        if args.cmd in ("run", "demo"):
            return _run(args)
        if args.cmd == "resume":
            return _resume(args)
        if args.cmd == "view":
            return _view(args)
        if args.cmd == "verify":
            return _verify(args)
        if args.cmd == "batch":
            return _batch(args)
    except InputError as e:
        print(f"mmthink: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BundleError as e:
        print(f"mmthink: bad bundle: {e}", file=sys.stderr)
        return EXIT_BUNDLE
    except RunBusy as e:
        print(f"mmthink: busy: {e}", file=sys.stderr)
        return EXIT_BUSY
    except MMThinkError as e:
        print(f"mmthink: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("mmthink: interrupted", file=sys.stderr)
        return 130
    return EXIT_INPUT


def _run(args: argparse.Namespace) -> int:
    from mmthink.agent import Agent, load_demo

    if args.cmd == "demo":
        script = load_demo(args.name)
        agent = Agent.demo(args.name if not Path(args.name).suffix else args.name)
        prompt = script.request
        modality = args.modality or script.modality
    else:
        overrides: dict[str, Any] = {}
        if args.reasoner:
            overrides["reasoner"] = args.reasoner
        if args.model:
            overrides["reasoner_model"] = args.model
        for name in ("image_backend", "image_model", "clip_model", "device"):
            if getattr(args, name):
                overrides[name] = getattr(args, name)
        agent = Agent.from_profile(args.profile, **overrides)
        prompt, modality = args.prompt, args.modality
    if getattr(args, "fallback_planner", False):
        from mmthink.request import Request

        prompt = Request(text=prompt, options={"fallback_planner": True})
    progress = _Progress(quiet=args.quiet or args.json)
    stream = agent.stream(
        prompt,
        modality=modality,
        thinking=args.thinking,
        budget_tokens=args.budget_tokens,
        min_tokens=args.min_tokens,
        max_drafts=args.max_drafts,
        max_seconds=args.max_seconds,
        best_of=args.best_of,
        seed=args.seed,
        width=args.width,
        height=args.height,
        out=args.out,
        on_token=None,
        review=_reviewer(progress) if args.review else False,
    )
    progress.drive(stream)
    return _report(stream.result, args, zip_it=args.zip)


def _resume(args: argparse.Namespace) -> int:
    from mmthink.agent import Agent, _locate

    run_dir = _locate(args.run, Path(args.out))
    decision = None
    if args.approve:
        decision = "approve"
    elif args.revise is not None:
        decision = {"action": "revise", "note": args.revise}
    elif args.abort is not None:
        decision = {"action": "abort", "note": args.abort}
    progress = _Progress(quiet=args.quiet or args.json)
    agent = Agent.for_run(run_dir)
    stream = agent.resume_stream(run_dir, decision=decision, review=_reviewer(progress))
    progress.drive(stream)
    return _report(stream.result, args, zip_it=False)


def _report(res: Any, args: argparse.Namespace, zip_it: bool) -> int:
    assert res is not None
    zipped = None
    if zip_it and res.status != "awaiting_review":
        from mmthink.trace.reader import export_bundle

        zipped = export_bundle(res.trace)
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "run_id": res.run_id,
                    "status": res.status,
                    "final": str(res.final) if res.final else None,
                    "trace": str(res.trace),
                    "viewer": str(res.trace / "index.html"),
                    "reason": res.reason,
                    "mode": res.mode,
                    "modality": res.modality,
                    "seconds": round(res.seconds, 3),
                    "steps": res.steps,
                    "budget": res.budget,
                    "zip": str(zipped) if zipped else None,
                    "review": res.review,
                }
            )
        )
    else:
        _summary(res, zipped)
    if res.status == "awaiting_review":
        if not args.json:
            print(
                f"paused for review. Continue with:\n  mmthink resume {res.trace} --approve\n"
                f'  mmthink resume {res.trace} --revise "what to change"\n  mmthink resume {res.trace} --abort',
                file=sys.stderr,
            )
        return EXIT_PAUSED
    return EXIT_BY_STATUS.get(res.status, EXIT_FAILED)


def _reviewer(progress: _Progress) -> Any:
    """Ask on the terminal; with no terminal, stay paused (the caller prints how to continue)."""

    def ask(payload: dict[str, Any]) -> Any:
        if not sys.stdin.isatty():
            print(
                "mmthink: the run is paused for review, but stdin is not a terminal, so nobody can be asked; "
                "answer with `mmthink resume RUN_DIR --approve | --revise NOTE | --abort`",
                file=sys.stderr,
            )
            return None
        from mmthink.core.review import parse_decision
        from mmthink.errors import InputError

        with progress.paused():
            print(_review_text(payload), file=sys.stderr)
            while True:
                try:
                    line = input("approve / revise NOTE / abort [REASON]? ").strip()
                except EOFError:
                    return None
                if not line:
                    continue
                try:
                    return parse_decision(line)
                except InputError as e:
                    print(f"  {e}", file=sys.stderr)

    return ask


def _review_text(p: dict[str, Any]) -> str:
    lines = ["", "── review before the final ──"]
    d, c, f = p.get("draft"), p.get("critique"), p.get("final") or {}
    if d:
        lines.append(f"draft {d['id']} ({d['tag']}): {d.get('path')}")
        lines += ["  " + ln for ln in (d.get("body") or "").splitlines()[:12]]
    if c:
        score = c.get("score")
        lines.append(f"critique: score {score:.2f}" if isinstance(score, (int, float)) else "critique: no score")
        lines += [f"  - {x}" for x in (c.get("findings") or [])[:6]]
    planned = f.get("raw") or (f"<{f['tag']}>" if f.get("tag") else "the best draft (no final tag)")
    lines.append(f"planned final: {planned}")
    if f.get("why"):
        lines.append(f"  because {f['why']}")
    return "\n".join(lines)


class _Progress:
    """The live step list on stderr; it can step aside while a person is asked something."""

    ICONS = {"thought": "💭", "draft": "✏️ ", "observation": "🔎", "decision": "🧭", "final": "🏁", "error": "❗"}

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.status: Any = None

    def drive(self, stream: Any) -> None:
        if self.quiet:
            for _ in stream:
                pass
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            self.status = progress
            task = progress.add_task("thinking…", total=None)
            for step in stream:
                line = step.title or step.kind
                if step.score is not None:
                    line += f"  score {step.score:.2f}" + (
                        "  ✓" if step.passed else "  ✗" if step.passed is False else ""
                    )
                tokens = step.metrics.get("tokens_total")
                progress.console.print(
                    f"{self.ICONS.get(step.kind, '•')} [dim]{step.node:>8}[/] {line}"
                    + (f"  [dim]({tokens} thinking tokens)[/]" if tokens else "")
                )
                progress.update(task, description=f"{_next_label(step)}…")
        self.status = None

    def paused(self) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def pause() -> Any:
            if self.status is not None:
                self.status.stop()
            try:
                yield
            finally:
                if self.status is not None:
                    self.status.start()

        return pause()


def _next_label(step: Any) -> str:
    """What the run does next, in words that fit every modality."""
    return {
        "thought": "rendering the draft",
        "draft": "critiquing",
        "observation": "thinking",
        "decision": "thinking",
        "final": "saving",
    }.get(step.kind, "working")


def _summary(res: Any, zipped: Path | None) -> None:
    from rich.console import Console

    console = Console(soft_wrap=True)  # paths stay on one line, also when piped
    colour = {"succeeded": "green", "unmet": "yellow", "refused": "yellow"}.get(res.status, "red")
    console.print(
        f"[{colour}]{res.status}[/] in {res.seconds:.1f} s, {res.steps} steps, thinking {res.mode}", highlight=False
    )
    if res.final:
        console.print(f"final:  {res.final}", highlight=False, markup=False)
    findings = list(getattr(res, "findings", None) or [])
    if findings:
        console.print("falls short:", highlight=False)
        for f in findings:
            console.print(f"  - {f}", highlight=False, markup=False)
    elif res.reason:
        console.print(f"reason: {res.reason}", highlight=False, markup=False)
    console.print(f"trace:  {res.trace}")
    console.print(f"viewer: {res.trace / 'index.html'}")
    if zipped:
        console.print(f"zip:    {zipped}")


def _view(args: argparse.Namespace) -> int:
    """Never the bundle's own index.html: a page rendered from verified data, in a folder mmthink owns."""
    from mmthink.errors import MMThinkError
    from mmthink.trace.terminal import printable
    from mmthink.trace.view import view_bundle

    try:
        page = view_bundle(args.bundle)
    except MMThinkError as e:
        return _bundle_failure(e)
    print(printable(page))
    if args.open:
        import webbrowser

        webbrowser.open(page.as_uri())
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    """Every file checked in one streaming pass (a zip read in place); messages are terminal-safe."""
    from mmthink.errors import MMThinkError
    from mmthink.trace.reader import verify_bundle
    from mmthink.trace.terminal import printable

    try:
        report = verify_bundle(args.bundle)
    except MMThinkError as e:
        return _bundle_failure(e)
    if not report.ok:
        for p in report.problems:
            print(f"problem: {printable(p)}", file=sys.stderr)
        return EXIT_BUNDLE
    print(f"ok: {report.steps} steps, status {printable(report.status)}")
    return EXIT_OK


def _bundle_failure(e: Exception) -> int:
    """One terminal-safe line for an error about a bundle (its names come from whoever made it)."""
    from mmthink.errors import BundleError, InputError
    from mmthink.trace.terminal import printable

    if isinstance(e, BundleError):
        print(f"mmthink: bad bundle: {printable(e)}", file=sys.stderr)
        return EXIT_BUNDLE
    if isinstance(e, InputError):
        print(f"mmthink: error: {printable(e)}", file=sys.stderr)
        return EXIT_INPUT
    print(f"mmthink: {printable(e)}", file=sys.stderr)
    return EXIT_FAILED


def entry() -> int:
    """The ``mmthink`` console command: :func:`main` with a garbage collector sized for start-up and exit.

    Start-up builds hundreds of thousands of long-lived objects (langgraph's and langsmith's pydantic models,
    spaCy's vocabulary), and the default young-generation threshold (700) ran dozens of collections over
    them: ~0.2 s of the image demo. A threshold of 20,000 keeps cycles collected (every 20,000 allocations)
    at a fraction of the cost. At exit the heap holds spaCy's vocabulary, the pipeline's weights and the pydantic schemas of langgraph's
    dependencies, and the interpreter's last full collection over it took ~0.4 s: a sixth of the image demo.
    Every file a command writes is closed by the time ``main`` returns, so the heap is frozen
    (``gc.freeze``) and shutdown skips that collection; atexit handlers and thread joins still run.
    """
    import gc

    gc.set_threshold(20_000, 10, 10)
    code = main()
    sys.stdout.flush()
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
