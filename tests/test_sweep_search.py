"""The search is W&B's own code; these tests check that genlat feeds it the trials' results."""

import math

from genlat.keys import Best
from genlat.sweep.search import propose, sweep_runs, to_stop
from genlat.sweep.spec import import_sweeps
from genlat.sweep.trial import Trial

BAYES = {
    "method": "bayes",
    "metric": {"name": "epoch/loss_g", "goal": "minimize"},
    "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}, "zn": {"values": [8, 16]}},
}
LOSS_G = Best("epoch/loss_g")


def _trial(i, params, state="finished", losses=()):
    t = Trial.new(i, params, ["lr", "zn"], None)
    t.state, t.history = state, [{"epoch": e + 1, "epoch/loss_g": v} for e, v in enumerate(losses)]
    return t


def test_bayes_proposes_from_the_results_fed_back():
    config = import_sweeps().SweepConfig(BAYES)
    params, info = propose(config, [], LOSS_G)
    assert "no valid samples" in info["warnings"]  # nothing to learn from yet
    # results: the loss falls with lr; one trial failed (imputed as the worst), one still running
    trials = [
        _trial(i, {"lr": lr, "zn": 8}, losses=[loss])
        for i, (lr, loss) in enumerate([(1e-5, 3.0), (1e-4, 2.0), (1e-3, 1.0)])
    ]
    trials.append(_trial(3, {"lr": 5e-3, "zn": 16}, state="failed"))
    trials.append(_trial(4, {"lr": 2e-3, "zn": 16}, state="running", losses=[1.5]))
    params, info = propose(config, trials, LOSS_G)
    assert "no valid samples" not in info["warnings"]
    assert 1e-5 <= params["lr"] <= 1e-2 and params["zn"] in (8, 16)
    assert isinstance(params["lr"], float) and isinstance(params["zn"], int)  # plain values, not numpy
    assert math.isfinite(info["predicted_value"]) and 0 < info["predicted_value"] < 4


def test_grid_skips_trials_it_has_and_ends():
    config = import_sweeps().SweepConfig(
        {"method": "grid", "parameters": {"zn": {"values": [8, 16]}, "lr": {"value": 1e-4}}}
    )
    assert propose(config, [], Best())[0] == {"zn": 8, "lr": 1e-4}
    assert propose(config, [_trial(0, {"zn": 8, "lr": 1e-4}, state="failed")], Best())[0]["zn"] == 16
    done = [_trial(i, {"zn": zn, "lr": 1e-4}, state=s) for i, (zn, s) in enumerate([(8, "diverged"), (16, "running")])]
    assert propose(config, done, Best()) is None


def test_hyperband_names_the_trailing_running_trial():
    config = import_sweeps().SweepConfig({**BAYES, "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2}})
    trials = [
        _trial(0, {"lr": 1e-4, "zn": 8}, "finished", [1.0, 0.5, 0.4]),
        _trial(1, {"lr": 2e-4, "zn": 8}, "stopped", [1.1, 0.9]),
        _trial(2, {"lr": 3e-4, "zn": 8}, "running", [2.0, 1.9]),  # behind at epochs 1 and 2
        _trial(3, {"lr": 4e-4, "zn": 8}, "running", [0.9, 0.45]),  # ahead
        _trial(4, {"lr": 5e-4, "zn": 8}, "running", []),  # no epoch yet
    ]
    assert to_stop(config, trials, LOSS_G) == [trials[2].name]


def test_the_search_is_fed_each_trials_best_epoch_not_its_last():
    """Before: the summary fed to the search was the last epoch's value, where W&B's (define_metric
    summary=min|max) and `--status` hold the best over epochs."""
    falls_then_rises = _trial(0, {"lr": 1e-4, "zn": 8}, losses=[3.0, 1.0, 2.0])
    (run,) = sweep_runs([falls_then_rises], LOSS_G)
    assert run.summary_metrics == {"epoch/loss_g": 1.0}
    (run,) = sweep_runs([falls_then_rises], Best("epoch/loss_g", "maximize"))
    assert run.summary_metrics == {"epoch/loss_g": 3.0}
    (run,) = sweep_runs([_trial(1, {"lr": 1e-4, "zn": 8}, state="running")], LOSS_G)
    assert run.summary_metrics == {}  # nothing logged yet


def test_best_is_one_definition():
    rows = [{"epoch": 1, "eval/fd": 9.0}, {"epoch": 2}, {"epoch": 3, "eval/fd": 4.0}, {"epoch": 4, "eval/fd": 4.0},
            {"epoch": 5, "eval/fd": float("nan")}]  # fmt: skip
    assert Best() == Best.of(None) == Best.of({"goal": "maximize"}) == Best("eval/fd", "minimize")  # the study's
    assert Best().value(rows) == 4.0 and Best().epoch(rows) == 3  # the first epoch that reached it
    assert (
        Best("eval/fd", "maximize").epoch(rows) == 1
        and Best.of({"name": "eval/recall", "goal": "maximize"}).summary == "max"
    )
    assert Best("eval/kid").value(rows) is None and Best("eval/kid").epoch(rows) is None
