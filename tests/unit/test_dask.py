"""PSA chunks on Dask: a LocalCluster on 127.0.0.1 gives exactly the in-process result."""

from __future__ import annotations

import numpy as np
import pytest

from costspine.analysis.psa import run_psa
from costspine.errors import AnalysisError, UsageError
from costspine.scenario.load import load_scenario

from helpers import CHANCELLOR

distributed = pytest.importorskip("distributed")


def same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("parameters", "costs", "outcomes"))


@pytest.fixture(scope="module")
def cluster():
    from costspine.analysis.psa_dask import local_cluster

    with local_cluster(2) as c:
        yield c


@pytest.fixture(scope="module")
def in_process(chancellor):
    return run_psa(chancellor, 3500, seed=17)


def test_existing_scheduler_gives_the_in_process_result_exactly(cluster, chancellor, in_process):
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    remote = run_psa(chancellor, 3500, seed=17, scheduler=cluster.scheduler_address)
    assert same(remote, in_process)


def test_local_workers_give_the_in_process_result_exactly(chancellor, in_process, monkeypatch):
    monkeypatch.setattr("costspine.analysis.psa.dask_pays_off", lambda *args, **kwargs: True)  # a cluster even for 3 s of work
    said = []
    assert same(run_psa(chancellor, 3500, seed=17, workers=2, progress=said.append), in_process)
    assert not said


def test_local_workers_step_aside_when_the_cluster_would_not_pay_off(chancellor, in_process, monkeypatch):
    def no_cluster(*args, **kwargs):
        raise AssertionError("no cluster should be started")

    monkeypatch.setattr("costspine.analysis.psa.run_on_dask", no_cluster)
    said = []
    assert same(run_psa(chancellor, 3500, seed=17, workers=2, progress=said.append), in_process)
    assert len(said) == 1 and said[0].startswith("--workers 2: the rest of this PSA takes about")
    assert "s of CPU here, too little for a local Dask cluster to pay off" in said[0]
    assert "running it here" in said[0]


def test_resume_on_the_cluster_after_an_in_process_interruption(cluster, chancellor, in_process, tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first(n):
        raise Stop

    with pytest.raises(Stop):
        run_psa(chancellor, 3500, seed=17, store_dir=tmp_path, on_chunk=stop_after_first)
    resumed = run_psa(chancellor, 3500, seed=17, store_dir=tmp_path, resume=True, scheduler=cluster.scheduler_address)
    assert resumed.resumed_chunks == 1
    assert same(resumed, in_process)
    assert len(list(tmp_path.glob("chunk-*.npz"))) == 4


def test_errors_in_a_remote_chunk_arrive_as_analysis_errors(cluster, tmp_path):
    text = CHANCELLOR.read_text(encoding="utf-8").replace('sdlog = "(log(0.710) - log(0.365)) / (2 * 1.96)"', "sdlog = 1.5")
    path = tmp_path / "wide_rr.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnalysisError, match=r"draw=\d+ strategy=comb .* outside \[0, 1\]"):
        run_psa(load_scenario(path), 2000, seed=1, scheduler=cluster.scheduler_address)


def test_unreachable_scheduler_is_a_usage_error(chancellor, monkeypatch):
    monkeypatch.setattr("costspine.analysis.psa_dask.SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(UsageError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:1"):
        run_psa(chancellor, 100, seed=1, scheduler="tcp://127.0.0.1:1")
