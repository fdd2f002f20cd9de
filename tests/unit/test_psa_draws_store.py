"""The draws of a PSA on disk (``draws/``, column-major ``.npy``) and the summary streamed over them.

A run that writes its draws as it goes must give the arrays of a run in memory; the summary read a
block or a column at a time must give the numbers of the whole-array functions, bit for bit,
whatever the block sizes; and older ``draws.npz`` folders must still be read.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from costspine.analysis import draw_stats, psa_result
from costspine.analysis.decision import compute_ceac, compute_ceaf, compute_evpi, compute_net_benefit
from costspine.analysis.draw_stats import (
    compute_mc_convergence,
    stream_decision_curves,
    summarize_draws,
    summarize_incremental,
)
from costspine.analysis.psa import run_psa
from costspine.analysis.psa_draws_file import (
    DRAWS_DIR,
    DRAWS_FILE,
    DrawsWriter,
    load_psa_draws,
    save_draws,
    write_draws_dir,
)
from costspine.analysis.psa_result import DrawColumns, PSAResult
from costspine.analysis.psa_summary import summarize_psa
from costspine.errors import UsageError

ARRAYS = ("parameters", "costs", "outcomes")


def synthetic(n_draws=3000, n_categories=9, seed=5) -> PSAResult:
    """Three strategies, nine cost categories (so each draw's total is summed pairwise by numpy) and
    two outcomes, with costs and effects close enough that the CEAC is not trivial."""
    rng = np.random.default_rng(seed)
    costs = rng.gamma(2.0, 50.0, size=(n_draws, 3, n_categories)) * np.array([1.0, 1.1, 1.25])[None, :, None]
    qalys = rng.normal([1.0, 1.02, 1.05], 0.05, size=(n_draws, 3))
    outcomes = np.stack([qalys, qalys * 1.3], axis=-1)
    return PSAResult(
        scenario="synthetic",
        title="Synthetic draws",
        currency="GBP",
        effect_name="qalys",
        strategies=("a", "b", "c"),
        strategy_labels={},
        comparator="a",
        wtp=(2000.0, 5000.0, 20000.0),
        categories=tuple(f"k{i}" for i in range(n_categories)),
        outcome_names=("qalys", "lys"),
        parameter_names=("p", "q"),
        parameter_groups={},
        parameters=rng.uniform(size=(n_draws, 2)),
        costs=costs,
        outcomes=outcomes,
        seed=7,
        discount_outcomes=0.035,
    )


def on_disk(draws: PSAResult, tmp_path) -> PSAResult:
    write_draws_dir(draws, tmp_path / DRAWS_DIR)
    return load_psa_draws(tmp_path)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few dozen draws: every streamed pass crosses many block boundaries."""
    monkeypatch.setattr(draw_stats, "STREAM_BLOCK_ELEMENTS", 64 * 3 * 4)
    monkeypatch.setattr(draw_stats, "DRAW_BLOCK", 97)
    monkeypatch.setattr(psa_result, "BLOCK_VALUES", 500)


def test_a_run_writing_its_draws_to_disk_gives_the_arrays_of_a_run_in_memory(chancellor, tmp_path):
    held = run_psa(chancellor, 2500, seed=4)
    written = run_psa(chancellor, 2500, seed=4, draws_dir=tmp_path / DRAWS_DIR)
    assert held.store is None and written.store == str(tmp_path / DRAWS_DIR)
    for key in ARRAYS:
        assert np.array_equal(getattr(written, key), getattr(held, key)), key
    # column-major: one parameter's draws are one contiguous row of the file
    stored = np.load(tmp_path / DRAWS_DIR / "parameters.npy")
    assert stored.shape == (len(held.parameter_names), 2500)
    assert np.array_equal(stored[held.parameter_names.index("rr")], held.parameter("rr"))
    assert np.load(tmp_path / DRAWS_DIR / "costs.npy").shape == (2, len(held.categories), 2500)
    again = load_psa_draws(tmp_path)
    assert again.extra["fingerprint"] == held.extra["fingerprint"] and again.seed == 4
    assert all(np.array_equal(getattr(again, key), getattr(held, key)) for key in ARRAYS)


def test_resuming_saved_chunks_into_a_draws_folder(chancellor, tmp_path):
    first = run_psa(chancellor, 2500, seed=9, store_dir=tmp_path / "chunks", draws_dir=tmp_path / "one")
    resumed = run_psa(chancellor, 2500, seed=9, store_dir=tmp_path / "chunks", resume=True, draws_dir=tmp_path / "two")
    assert resumed.resumed_chunks == 3
    assert all(np.array_equal(getattr(first, key), getattr(resumed, key)) for key in ARRAYS)


def test_the_summary_of_draws_on_disk_is_the_summary_of_the_same_draws_in_memory(tmp_path, small_blocks):
    held = synthetic()
    disk = on_disk(held, tmp_path)
    a, b = summarize_psa(held, wtp=held.wtp), summarize_psa(disk, wtp=held.wtp)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    for name in ("ceac.csv", "ceaf.csv", "evpi.csv", "convergence.csv"):
        assert a.tables[name] == b.tables[name], name
    assert np.array_equal(a.tables["ce_plane.csv"][2](), b.tables["ce_plane.csv"][2]())


def test_draw_columns_read_exactly_the_draws_and_the_total_cost(tmp_path, small_blocks):
    held = synthetic(n_draws=1001)
    stored = on_disk(held, tmp_path)
    assert np.array_equal(stored.total_cost, held.total_cost)  # not numpy's sum over the memory map's strided axis
    with DrawColumns(held) as memory, DrawColumns(stored) as disk:
        for cols in (memory, disk):
            assert np.array_equal(cols.total_cost(2), held.total_cost[:, 2])  # numpy's own sum of the categories
            assert np.array_equal(cols.total_cost(1, 37, 700), held.total_cost[37:700, 1])
            assert np.array_equal(cols.cost(1, 8, 5, 9), held.costs[5:9, 1, 8])
            assert np.array_equal(cols.effect(0), held.effect[:, 0])
            assert np.array_equal(cols.parameter(1, 999), held.parameters[999:, 1])
            cost, effect = cols.cost_effect(10, 20)
            assert np.array_equal(cost, held.total_cost[10:20]) and np.array_equal(effect, held.effect[10:20])


def test_streamed_curves_are_the_whole_array_functions_bit_for_bit(small_blocks):
    draws = synthetic()
    cost, effect = draws.total_cost, draws.effect
    grid = np.linspace(0.0, 40000.0, 41)
    with DrawColumns(draws) as cols:
        curves = stream_decision_curves(cols, grid)
    assert np.array_equal(curves.ceac, compute_ceac(cost, effect, grid))
    ceaf = compute_ceaf(cost, effect, grid)
    assert np.array_equal(curves.expected_nmb, ceaf.expected_nmb)
    assert np.array_equal(curves.optimal, ceaf.optimal) and np.array_equal(curves.frontier_prob, ceaf.prob_cost_effective)
    assert np.array_equal(curves.evpi, compute_evpi(cost, effect, grid))
    assert np.array_equal(curves.mean_cost, cost.mean(axis=0)) and np.array_equal(curves.mean_effect, effect.mean(axis=0))
    assert 0 < curves.ceac[1, 20] < 1  # not a trivial case


def test_streamed_summary_is_the_whole_array_summary_bit_for_bit(small_blocks):
    draws = synthetic()
    cost, effect = draws.total_cost, draws.effect
    lam = np.asarray(draws.wtp)
    psa = summarize_psa(draws, wtp=draws.wtp)
    nmb = compute_net_benefit(cost, effect, lam)
    for k in range(3):
        whole = summarize_draws(cost[:, k])
        assert (psa.cost_total.mean[k], psa.cost_total.sd[k], psa.cost_total.upper[k]) == (whole.mean, whole.sd, whole.upper)
        assert psa.cost_by_category.lower[k, 8] == summarize_draws(draws.costs[:, k, 8]).lower
        assert psa.nmb.mean[k, 1] == summarize_draws(nmb[:, k, 1]).mean
    inc = summarize_incremental(cost, effect, comparator=0)
    for field in ("mean", "sd", "lower", "upper"):
        assert np.array_equal(getattr(psa.incremental.cost, field), getattr(inc.incremental_cost, field)), field
        assert np.array_equal(getattr(psa.incremental.effect, field), getattr(inc.incremental_effect, field)), field
    assert np.array_equal(psa.incremental.prob_cost_saving, inc.prob_cost_saving)
    assert np.array_equal(psa.incremental.prob_more_effect, inc.prob_more_effect)
    conv = compute_mc_convergence(nmb[:, 2, :] - nmb[:, 0, :], running=False)
    assert np.array_equal(psa.incremental.mc_mean[2], conv.running_mean[-1]) and np.array_equal(
        psa.incremental.mcse[2], conv.mcse
    )
    rows = [r for r in psa.tables["convergence.csv"][1] if r[0] == "c" and r[2] == lam[1]]
    assert [r[4] for r in rows] == conv.checkpoint_mean[:, 1].tolist()
    assert psa.incremental.nmb.upper[1, 2] == summarize_draws(nmb[:, 1, 2] - nmb[:, 0, 2]).upper
    # the printed summary is the one PSAResult.summary prints from the whole arrays
    assert psa.draws_text() == draws.summary(draws.wtp)


class _Untouchable:
    """Stands in for an array of draws that must not be read whole: only its shape is known."""

    def __init__(self, shape):
        self.shape, self.ndim = shape, len(shape)

    def __array__(self, *args, **kwargs):
        raise AssertionError("an array over every draw was read")

    def __getitem__(self, index):
        raise AssertionError("an array over every draw was sliced")


def test_the_summary_of_draws_on_disk_never_reads_a_whole_array(tmp_path):
    held = synthetic(n_draws=1500)
    disk = on_disk(held, tmp_path)
    guarded = dataclasses.replace(disk, **{key: _Untouchable(getattr(disk, key).shape) for key in ARRAYS})
    assert json.dumps(summarize_psa(guarded, wtp=held.wtp).to_dict()) == json.dumps(summarize_psa(held, wtp=held.wtp).to_dict())


def test_a_folder_of_an_older_costspine_is_read_from_draws_npz(tmp_path):
    held = synthetic(n_draws=50)
    with open(tmp_path / DRAWS_FILE, "wb") as handle:
        save_draws(held, handle)
    old = load_psa_draws(tmp_path)
    assert old.store is None and all(np.array_equal(getattr(old, key), getattr(held, key)) for key in ARRAYS)
    write_draws_dir(dataclasses.replace(held, seed=8), tmp_path / DRAWS_DIR)
    assert load_psa_draws(tmp_path).seed == 8  # both present: the folder (what psa writes now) is read


def test_an_unfinished_or_damaged_draws_folder_is_refused(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_psa_draws(tmp_path)
    writer = DrawsWriter(tmp_path / DRAWS_DIR, n_draws=10, shapes={"parameters": (2,), "costs": (3, 9), "outcomes": (3, 2)})
    writer.close()  # a run that stopped before its description was written
    with pytest.raises(UsageError, match="did not finish"):
        load_psa_draws(tmp_path)
    write_draws_dir(synthetic(n_draws=10), tmp_path / DRAWS_DIR)
    path = tmp_path / DRAWS_DIR / "costs.npy"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(UsageError, match=r"costs\.npy"):
        load_psa_draws(tmp_path)


def test_the_api_result_still_reads_its_draws_once_the_output_folder_is_committed(tmp_path):
    import costspine

    from helpers import CHANCELLOR

    written = costspine.psa(CHANCELLOR, draws=300, seed=2, out_dir=tmp_path / "psa")
    held = costspine.psa(CHANCELLOR, draws=300, seed=2)
    assert (tmp_path / "psa" / DRAWS_DIR / "meta.json").is_file()
    assert written.draws.store is None  # the staging folder it was written into is gone
    assert np.array_equal(written.draws.total_cost, held.draws.total_cost)
    assert np.array_equal(written.tables["ce_plane.csv"][2](), held.tables["ce_plane.csv"][2]())
