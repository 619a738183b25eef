"""The Ray engine: a pool of Ray actors, each holding one Agent, on one machine or a cluster.

Each actor reserves ``num_cpus`` and ``num_gpus`` (fractions allowed: ``num_gpus=0.25`` puts four
small-model actors on one GPU) and builds its Agent once. Where bundles go is decided by looking:
the driver writes a token file into the output folder and every actor checks whether it can read
it. If all can (one machine, or a shared file system), actors write bundles there directly and
interrupted runs are resumed in place; otherwise each actor runs into a private temporary folder
and returns the bundle as ``.mmtrace`` bytes, which the driver verifies and unpacks into the
output folder.
"""

from __future__ import annotations

import math
import os
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import BackendError, InputError
from .tasks import RESUME, AgentSpec, Task, build_agent, execute, execute_shipped, record

BUNDLES = ("auto", "shared", "ship")
STEPS_PER_UNIT = 10_000
"""Ray counts resources in steps of 0.0001 (a finer share is refused)."""
WAIT_NOTICE_S = 30.0
"""How long actors may take to start before the driver says what it is waiting for."""
MAX_REPLACEMENTS = 3
"""Actors started in place of ones that died, before the rest of the batch is left for a re-run."""


class BatchActor:
    """One Agent, built when the actor starts; ``run`` does one task."""

    def __init__(self, spec: AgentSpec) -> None:
        self.agent = build_agent(spec)

    def sees(self, token_path: str, token: str) -> bool:
        """Whether this actor's node reads the driver's output folder (a shared path)."""
        try:
            return Path(token_path).read_text(encoding="utf-8") == token
        except OSError:
            return False

    def run(self, task: Task, ship: bool) -> tuple[dict[str, Any], bytes | None]:
        if ship:
            return execute_shipped(self.agent, task)
        return execute(self.agent, task), None


def check_settings(num_cpus: float | None, num_gpus: float | None, bundles: str) -> None:
    """Refuse what Ray could not honour, before anything is written or started (Ray's own errors for these
    are a ValueError deep inside actor creation)."""
    if bundles not in BUNDLES:
        raise InputError("bundles", f"unknown value {bundles!r}", f"use one of {', '.join(BUNDLES)}")
    for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise InputError(name, f"must be a non-negative number, got {value!r}", "e.g. 1 or 0.25")
        if abs(value * STEPS_PER_UNIT - round(value * STEPS_PER_UNIT)) > 1e-6:
            raise InputError(name, f"{value!r} is finer than Ray counts (steps of 0.0001)", "e.g. 0.25 or 0.125")
    if num_gpus is not None and num_gpus > 1 and num_gpus != int(num_gpus):
        raise InputError(
            "num_gpus",
            f"{num_gpus:g}: more than one GPU per actor must be a whole number",
            "give a share of one GPU (e.g. 0.5) or whole GPUs (e.g. 2)",
        )
    _ray()  # installed? (the engine needs it next)


def _units(x: float) -> int:
    return int(round(float(x) * STEPS_PER_UNIT))


def capacity(nodes: list[dict[str, Any]], num_cpus: float, num_gpus: float) -> int | None:
    """How many actors reserving ``num_cpus`` / ``num_gpus`` the live nodes hold (``ray.nodes()``); None when
    they reserve nothing. Counted node by node, since an actor lives on one node: two nodes with one GPU
    each hold four actors of 0.4 GPU, not five."""
    asks = {key: _units(v) for key, v in (("CPU", num_cpus), ("GPU", num_gpus)) if v}
    if not asks:
        return None
    total = 0
    for node in nodes:
        if node.get("Alive", True):
            have = node.get("Resources") or {}
            total += min(_units(have.get(key, 0)) // need for key, need in asks.items())
    return total


def _share(num_cpus: float, num_gpus: float) -> str:
    """What one actor reserves, in words: ``1 CPU``, ``0.5 CPU and 0.25 GPU``."""
    return " and ".join(f"{v:g} {name}" for name, v in (("CPU", num_cpus), ("GPU", num_gpus)) if v)


def _unplaceable(nodes: list[dict[str, Any]], num_cpus: float, num_gpus: float) -> InputError:
    """The error for an actor no node can hold, naming the setting at fault."""
    live = [n.get("Resources") or {} for n in nodes if n.get("Alive", True)]
    gpus = [r.get("GPU", 0) for r in live]
    if num_gpus and not any(gpus):
        return InputError(
            "num_gpus",
            f"the cluster has 0 GPUs, an actor asks for {num_gpus:g}",
            "lower --num-gpus or add GPU nodes",
        )
    cpus = max((r.get("CPU", 0) for r in live), default=0)
    if num_cpus and _units(num_cpus) > _units(cpus):
        return InputError(
            "num_cpus",
            f"no node of the cluster has {num_cpus:g} CPUs for one actor (the largest has {cpus:g})",
            "lower --num-cpus (fractions allowed) or add a larger node",
        )
    if num_gpus and _units(num_gpus) > _units(max(gpus)):
        return InputError(
            "num_gpus",
            f"no node of the cluster has {num_gpus:g} GPUs for one actor (the largest has {max(gpus):g})",
            "lower --num-gpus (fractions share a GPU) or add a larger node",
        )
    return InputError(
        "num_cpus",
        f"no node of the cluster has both {num_cpus:g} CPUs and {num_gpus:g} GPUs for one actor",
        "lower --num-cpus or --num-gpus",
    )


def _forwarded_env() -> dict[str, str]:
    """The driver's ``MMTHINK_*`` settings (the checkpoint database above all), for the actors: on a cluster
    started with ``ray start`` an actor's environment is that of its node's ``ray start``, not the driver's."""
    return {k: v for k, v in os.environ.items() if k.startswith("MMTHINK_")}


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("engine", "the ray engine needs Ray", "pip install 'mmthink[ray]'") from None
    return ray


class RayEngine:
    name = "ray"

    def __init__(
        self,
        spec: AgentSpec,
        out: Path,
        workers: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        bundles: str = "auto",
        most: int | None = None,
    ) -> None:
        """``most``: no more actors than this (the number of requests): each one loads the models."""
        check_settings(num_cpus, num_gpus, bundles)
        ray = _ray()
        self._started = False
        if not ray.is_initialized():
            # `ray job submit` runs the driver with RAY_ADDRESS set: the batch belongs on that cluster
            source = "" if address else " (from RAY_ADDRESS)"
            address = address or os.environ.get("RAY_ADDRESS") or None
            try:
                if address:
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(address="local", log_to_driver=False, include_dashboard=False)
            except (ConnectionError, ValueError) as e:  # ValueError: an address Ray cannot parse
                raise InputError(
                    "address",
                    f"cannot reach the Ray cluster at {address}{source}: {e}",
                    "start it with `ray start --head` and pass its address (--address auto on a cluster "
                    "node); if Ray logged InvalidAuthToken, set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN "
                    "(`ray get-auth-token` on the head)",
                ) from None
            self._started = True
        self.ray = ray
        self.actors: list[Any] = []
        try:
            self._start(spec, out, workers, num_cpus, num_gpus, bundles, most)
        except BaseException:
            self.close()  # a Ray this engine started is not left running
            raise

    def _start(
        self,
        spec: AgentSpec,
        out: Path,
        workers: int | None,
        num_cpus: float,
        num_gpus: float,
        bundles: str,
        most: int | None,
    ) -> None:
        ray = self.ray
        nodes = ray.nodes()
        fits = capacity(nodes, num_cpus, num_gpus)
        if fits == 0:  # Ray would keep the actors pending forever
            raise _unplaceable(nodes, num_cpus, num_gpus)
        if fits is not None and workers and workers > fits:
            raise InputError(
                "workers",
                f"the cluster holds {fits} actors reserving {_share(num_cpus, num_gpus)} each, asked for {workers}",
                "lower --workers, or reserve less per actor with --num-cpus / --num-gpus (fractions allowed)",
            )
        if not workers:
            fits = fits or max(1, int(ray.cluster_resources().get("CPU", 1)))
            workers = max(1, min(fits, most or fits))
        elif most:  # each actor loads the models: none for want of a request (as the local pool does)
            workers = min(workers, most)
        self.workers = int(workers)
        self._spec = spec
        env = _forwarded_env()
        options: dict[str, Any] = {"num_cpus": num_cpus, "num_gpus": num_gpus}
        if env:
            options["runtime_env"] = {"env_vars": env}
        self._actor_cls = ray.remote(**options)(BatchActor)
        self.actors = [self._actor_cls.remote(spec) for _ in range(self.workers)]
        self.shared = self._decide_shared(Path(out), bundles)

    def _decide_shared(self, out: Path, bundles: str) -> bool:
        """Ask every actor whether it reads the token file; this also waits until each has built its agent."""
        out.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(16)
        path = out / f".batch-token-{os.getpid()}"
        path.write_text(token, encoding="utf-8")
        try:
            refs = [a.sees.remote(str(path.resolve()), token) for a in self.actors]
            _, waiting = self.ray.wait(refs, num_returns=len(refs), timeout=WAIT_NOTICE_S)
            if waiting:  # the nodes' CPUs may be held by other jobs, or the models are slow to load
                print(
                    f"mmthink batch: waiting for {len(waiting)} of {len(refs)} Ray actors to start "
                    "(placed when the cluster has their CPUs/GPUs free, then loading the models)",
                    file=sys.stderr,
                )
            sees = self.ray.get(refs)
        except self.ray.exceptions.RayError as e:  # the agent failed to build in the actor (not always picklable)
            lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
            cause = next((ln for ln in reversed(lines) if "Error" in ln.split(":")[0]), lines[-1])
            raise BackendError(f"a Ray worker could not build its agent: {cause}") from None
        finally:
            path.unlink(missing_ok=True)
        return all(sees) if bundles == "auto" else bundles == "shared"

    def run(self, tasks: Iterable[Task], on_result: Callable[[dict[str, Any], bytes | None], None]) -> None:
        """Keep every actor busy with one task. An actor that dies is replaced (up to :data:`MAX_REPLACEMENTS`
        times) and its task runs again, resumed in place when bundles are on a shared path."""
        ray = self.ray
        queue = list(tasks)[::-1]
        idle = list(self.actors)
        running: dict[Any, tuple[Any, Task]] = {}
        replaced = 0
        while queue or running:
            while idle and queue:
                actor, task = idle.pop(), queue.pop()
                running[actor.run.remote(task, not self.shared)] = (actor, task)
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                actor, task = running.pop(ref)
                try:
                    rec, data = ray.get(ref)
                except ray.exceptions.RayActorError as e:
                    self.actors.remove(actor)
                    if replaced >= MAX_REPLACEMENTS:
                        on_result(
                            record(
                                task,
                                "interrupted",
                                reason=f"the Ray worker died ({type(e).__name__}); run the batch again to resume",
                            ),
                            None,
                        )
                        if not self.actors:  # nobody is left to run the rest
                            for rest in queue[::-1]:
                                on_result(
                                    record(rest, "interrupted", reason="no Ray worker is left; run the batch again"),
                                    None,
                                )
                            queue = []
                        continue
                    replaced += 1
                    fresh = self._actor_cls.remote(self._spec)
                    self.actors.append(fresh)
                    idle.append(fresh)
                    started = self.shared and (Path(task.out) / task.run_id).exists()
                    queue.append(replace(task, action=RESUME) if started else task)
                    continue
                except ray.exceptions.RayError as e:
                    on_result(record(task, "failed", reason=f"{type(e).__name__}: {e}"), None)
                    idle.append(actor)
                    continue
                idle.append(actor)
                on_result(rec, data)

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self._started:
            self.ray.shutdown()
            self._started = False
