"""The Ray engine as the README's "A Ray cluster" section describes it, tried the way a newcomer would.

Settings Ray cannot honour are refused before anything is written; actors the cluster cannot place are
refused at once instead of waiting forever; and the driver's ``MMTHINK_*`` settings (the checkpoint
database above all) reach the actors even on a cluster started before they were set. The tests that
need Ray start a real local one (2 CPUs) and skip, saying why, where Ray is not installed.
"""

from __future__ import annotations

import math
import signal
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import mmthink
from mmthink.batch.ray_engine import capacity
from mmthink.cli import main
from mmthink.errors import InputError

TINY = {"width": 128, "height": 96}
PROMPTS = ["three red apples on a table", "a blue cup to the left of a green ball"]


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: an engine that waits for actors Ray cannot place would block forever."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"still waiting after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------ checked before anything is written (no Ray needed)
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("num_gpus", 1.5),  # more than one GPU must be whole GPUs
        ("num_gpus", 0.00001),  # Ray counts in steps of 0.0001
        ("num_cpus", math.nan),
        ("num_cpus", math.inf),
        ("num_gpus", -0.5),
        ("bundles", "elsewhere"),
    ],
)
def test_ray_settings_ray_cannot_honour_are_refused_before_anything_is_written(
    tmp_path: Path, option: str, value: object
) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError) as e:
        mmthink.batch(PROMPTS, out, engine="ray", **{option: value})
    assert e.value.field == option and e.value.fix
    assert not out.exists()


def test_the_cli_says_what_is_wrong_with_a_gpu_share_instead_of_a_traceback(tmp_path: Path, capsys) -> None:
    req = tmp_path / "r.jsonl"
    req.write_text("a red ball\n")
    assert main(["batch", str(req), "--out", str(tmp_path / "out"), "--engine", "ray", "--num-gpus", "1.5"]) == 2
    assert "num_gpus" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bundles_is_only_for_the_ray_engine(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        mmthink.batch(PROMPTS, tmp_path / "out", bundles="ship")
    assert e.value.field == "bundles" and "--engine ray" in e.value.fix
    assert not (tmp_path / "out").exists()


def test_without_ray_the_batch_says_how_to_install_it_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(InputError) as e:
        mmthink.batch(PROMPTS, tmp_path / "out", engine="ray")
    assert e.value.field == "engine" and "mmthink[ray]" in e.value.fix
    assert not (tmp_path / "out").exists()


def _node(cpus: float, gpus: float = 0.0, alive: bool = True) -> dict:
    return {"Alive": alive, "Resources": {"CPU": cpus, **({"GPU": gpus} if gpus else {})}}


def test_capacity_counts_actors_node_by_node() -> None:
    """An actor lives on one node: what is left over on each node does not add up to another actor."""
    two_gpu_nodes = [_node(8, 1), _node(8, 1)]
    assert capacity(two_gpu_nodes, 1, 0.4) == 4  # 2 per GPU, not 2 / 0.4 = 5
    assert capacity(two_gpu_nodes, 1, 0.25) == 8
    assert capacity(two_gpu_nodes, 3, 0.25) == 4  # the CPUs run out first: 2 per node
    assert capacity([_node(3), _node(3)], 2, 0) == 2  # 1 per node, not 6 / 2 = 3
    assert capacity([_node(1.5), _node(1.5)], 1, 0) == 2  # not int(3 / 1) = 3
    assert capacity([_node(0.7)], 0.1, 0) == 7  # 0.7 / 0.1 is 6.999... in floating point
    assert capacity([_node(2), _node(64, alive=False)], 1, 0) == 2  # a dead node holds nothing
    assert capacity([_node(2)], 4, 0) == 0
    assert capacity([_node(2)], 0, 0) is None  # actors that reserve nothing: no limit


# ------------------------------------------------------------ addresses (before any Ray is started in this process)
def test_an_address_ray_cannot_parse_is_an_input_error_not_a_traceback(tmp_path: Path, capsys) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'mmthink[ray]')")
    req = tmp_path / "r.jsonl"
    req.write_text("a red ball\n")
    for address in ("justtext", "head:notaport"):
        assert main(["batch", str(req), "--out", str(tmp_path / "out"), "--engine", "ray", "--address", address]) == 2
        err = capsys.readouterr().err
        assert "address" in err and address in err


def test_ray_address_in_the_environment_is_the_cluster_used_without_address(tmp_path: Path, monkeypatch) -> None:
    """``ray job submit`` runs the driver with RAY_ADDRESS set: the batch belongs on that cluster, not on a new
    local Ray started beside it."""
    pytest.importorskip("ray", reason="ray is not installed (pip install 'mmthink[ray]')")
    monkeypatch.setenv("RAY_ADDRESS", "justtext")
    with _deadline(60), pytest.raises(InputError) as e:
        mmthink.batch([{"prompt": PROMPTS[0], **TINY}], tmp_path / "out", engine="ray")
    assert e.value.field == "address" and "RAY_ADDRESS" in str(e.value)


# ------------------------------------------------------------ on a real local Ray
@pytest.mark.slow
def test_actors_bigger_than_any_node_are_refused_at_once(tmp_path: Path, local_ray) -> None:
    with _deadline(60), pytest.raises(InputError) as e:
        mmthink.batch([{"prompt": PROMPTS[0], **TINY}], tmp_path / "out", engine="ray", num_cpus=4)
    assert e.value.field == "num_cpus" and "2" in e.value.problem


@pytest.mark.slow
def test_more_workers_than_the_cluster_holds_are_refused_at_once(tmp_path: Path, local_ray, capsys) -> None:
    req = tmp_path / "r.jsonl"
    req.write_text("a red ball\na blue cup\na green kite\n")
    with _deadline(60):
        rc = main(["batch", str(req), "--out", str(tmp_path / "out"), "--engine", "ray", "--workers", "8"])
    err = capsys.readouterr().err
    assert rc == 2 and "workers" in err and "holds 2 actors reserving 1 CPU each" in err
    # half a CPU each: two CPUs hold four, and three requests need no more than three (each loads the models)
    with _deadline(60):
        res = mmthink.batch(
            [{"prompt": p, **TINY} for p in ("a red ball", "a blue cup", "a green kite")],
            tmp_path / "out2",
            engine="ray",
            workers=4,
            num_cpus=0.5,
        )
    assert res.ok and res.workers == 3, res.records


def _threads(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")}


@pytest.mark.slow
def test_the_drivers_checkpoint_url_reaches_actors_of_a_cluster_started_before_it_was_set(
    tmp_path: Path, local_ray, monkeypatch
) -> None:
    """A cluster started with ``ray start`` runs actors in its own environment, not the driver's shell's."""
    db = tmp_path / "shared" / "checkpoints.sqlite"
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", f"sqlite:///{db}")  # set after the Ray above started
    res = mmthink.batch([{"prompt": p, **TINY} for p in PROMPTS], tmp_path / "out", engine="ray", num_cpus=0.5)
    assert res.ok, res.records
    assert {r["run_id"] for r in res.records} <= _threads(db)  # the runs checkpointed where the driver said
    for rec in res.records:
        assert not list((res.out / rec["run_id"]).glob(".checkpoint.sqlite*"))


@pytest.mark.slow
def test_the_ray_index_says_what_the_local_one_says(tmp_path: Path, local_ray) -> None:
    """Same requests, same records (line, id, status, the final's content, steps), whichever engine ran them;
    bundles sent back as .mmtrace bytes open as the ones written in place do."""
    reqs = [{"prompt": PROMPTS[0], **TINY}, {"prompt": PROMPTS[1], "seed": 7, "id": "cup-7", **TINY}, {"seed": "x"}]

    def comparable(res: mmthink.batch.BatchResult) -> list[dict]:
        keep = ("line", "id", "status", "modality", "steps", "action", "field")
        return [
            {**{k: r[k] for k in keep if k in r}, "final": r["final"].split("/")[-1] if r.get("final") else None}
            for r in res.records
        ]

    local = mmthink.batch(reqs, tmp_path / "local", workers=1)
    for bundles in ("shared", "ship"):
        ray = mmthink.batch(reqs, tmp_path / bundles, engine="ray", workers=2, num_cpus=0.5, bundles=bundles)
        assert comparable(ray) == comparable(local)
        for rec in ray.records[:2]:
            assert mmthink.load_trace(ray.out / rec["run_id"]).status == "succeeded"


def slow_agent() -> mmthink.Agent:
    """An embedded agent that takes a while to build, as one loading large models does."""
    import time

    time.sleep(3)
    return mmthink.Agent.from_profile("embedded")


@pytest.mark.slow
def test_actors_slow_to_start_are_reported_while_the_driver_waits(
    tmp_path: Path, local_ray, monkeypatch, capsys
) -> None:
    from mmthink.batch import ray_engine

    local_ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors need not import tests/
    monkeypatch.setattr(ray_engine, "WAIT_NOTICE_S", 0.5)
    res = mmthink.batch([{"prompt": PROMPTS[0], **TINY}], tmp_path / "out", engine="ray", agent=slow_agent)
    assert res.ok, res.records
    assert "waiting for 1 of 1 Ray actors to start" in capsys.readouterr().err
