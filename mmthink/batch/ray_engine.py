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

import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import BackendError, InputError
from .tasks import RESUME, AgentSpec, Task, build_agent, execute, execute_shipped, record

BUNDLES = ("auto", "shared", "ship")
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
        """``most``: no more actors than this by default (the number of requests): each one loads the models."""
        if bundles not in BUNDLES:
            raise InputError("bundles", f"unknown value {bundles!r}", f"use one of {', '.join(BUNDLES)}")
        for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(name, f"must be a non-negative number, got {value!r}", "e.g. 1 or 0.25")
        ray = _ray()
        self._started = False
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(address="local", log_to_driver=False, include_dashboard=False)
            except ConnectionError as e:
                raise InputError(
                    "address",
                    f"cannot reach the Ray cluster at {address}: {e}",
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
        resources = ray.cluster_resources()
        if not workers:
            fits = resources.get("CPU", 1) / num_cpus if num_cpus else resources.get("CPU", 1)
            if num_gpus:
                fits = min(fits, resources.get("GPU", 0) / num_gpus)
            workers = max(1, min(int(fits), most or int(fits)))
        if num_gpus and resources.get("GPU", 0) < num_gpus:
            raise InputError(
                "num_gpus",
                f"the cluster has {resources.get('GPU', 0):g} GPUs, an actor asks for {num_gpus:g}",
                "lower --num-gpus or add GPU nodes",
            )
        self.workers = int(workers)
        self._spec = spec
        self._actor_cls = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(BatchActor)
        self.actors = [self._actor_cls.remote(spec) for _ in range(self.workers)]
        self.shared = self._decide_shared(Path(out), bundles)

    def _decide_shared(self, out: Path, bundles: str) -> bool:
        """Ask every actor whether it reads the token file; this also waits until each has built its agent."""
        out.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(16)
        path = out / f".batch-token-{os.getpid()}"
        path.write_text(token, encoding="utf-8")
        try:
            sees = self.ray.get([a.sees.remote(str(path.resolve()), token) for a in self.actors])
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
