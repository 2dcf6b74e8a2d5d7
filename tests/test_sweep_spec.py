"""Bad sweep files are refused before any trial starts: one line per problem, exit code 2, DIR untouched."""

import json

import pytest
import yaml

from genlat.sweep.cli import sweep_main
from genlat.sweep.spec import load_spec
from tests.helpers import ROOT, sweep_file


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # `program: train.py` resolves from the current folder, as with wandb agent


def _edit(path, change):
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config))
    return path


BAD = {
    "malformed YAML": (lambda p: p.write_text("method: grid\nparameters: [zn: 1\n"), "not valid YAML: line"),
    "unknown method": (lambda p: _edit(sweep_file(p), lambda c: c.update(method="annealing")), "'annealing' is not one of"),
    "schema violation": (lambda p: _edit(sweep_file(p), lambda c: c["parameters"].update(lr={"values": 0.1})), "invalid hyperparameter configuration: lr"),
    "unknown key": (lambda p: _edit(sweep_file(p), lambda c: c.update(agents=3)), "'agents' was unexpected"),
    "grid with a range": (lambda p: _edit(sweep_file(p), lambda c: c["parameters"].update(lr={"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-3})), "disallowed type with grid search"),
    "bayes without metric": (lambda p: _edit(sweep_file(p, method="bayes"), lambda c: c.pop("metric")), 'requires "metric"'),
    "unknown parameter": (lambda p: sweep_file(p, params={"latent": 3}), "train.py has no flag --latent"),
    "refused value": (lambda p: sweep_file(p, zn=(0, 8)), "--zn=0: must be a positive integer"),
    "refused range end": (lambda p: sweep_file(p, params={"lr": {"min": -1.0, "max": 1.0}}), "--lr=-1.0: must be a positive"),
    "placement flag": (lambda p: sweep_file(p, params={"name": "x"}), "set by genlat sweep"),
    "no args macro": (lambda p: sweep_file(p, command=["${env}", "${interpreter}", "${program}"]), "has no ${args}"),
    "missing program": (lambda p: _edit(sweep_file(p), lambda c: c.update(program="nope.py")), "nope.py is not a file"),
    "not a mapping": (lambda p: p.write_text("- a\n- b\n"), "a sweep file is a YAML mapping"),
    "missing file": (lambda p: None, "cannot read the sweep file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_file_is_refused_with_one_line_each(case, tmp_path, capsys):
    make, expected = BAD[case]
    path = tmp_path / "bad.yaml"
    make(path)
    code = sweep_main([str(path), "--dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert "Traceback" not in err
    assert all(line.startswith("genlat: error: ") for line in err.splitlines())
    assert not (tmp_path / "out").exists()


def test_several_problems_are_all_reported(tmp_path, capsys):
    path = sweep_file(tmp_path / "bad.yaml", zn=(0, 8), params={"latent": 3})
    assert sweep_main([str(path), "--dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and any("--zn=0" in ln for ln in err) and any("--latent" in ln for ln in err)


def test_bad_invocations_leave_an_existing_sweep_alone(tmp_path, capsys):
    from genlat.sweep.state import SweepState

    good = load_spec(sweep_file(tmp_path / "a.yaml"))
    state = SweepState(tmp_path / "out")
    state.create_or_check(good)
    before = {p.name: p.read_bytes() for p in state.root.iterdir() if p.is_file()}
    other = sweep_file(tmp_path / "a2.yaml", zn=(8, 32))
    assert sweep_main([str(other), "--dir", str(state.root)]) == 4  # another sweep file: refused
    assert "of another sweep file" in capsys.readouterr().err
    assert sweep_main([str(tmp_path / "a.yaml"), "--dir", str(state.root), "--workers", "0"]) == 2
    assert sweep_main([str(tmp_path / "a.yaml"), "--dir", str(state.root), "--count", "-1"]) == 2
    assert sweep_main(["--status", str(state.root), str(tmp_path / "a.yaml")]) == 2
    assert sweep_main([str(tmp_path / "a.yaml"), "--dir", str(state.root), "--frobnicate"]) == 2
    assert {p.name: p.read_bytes() for p in state.root.iterdir() if p.is_file()} == before
    # the same sweep written differently (comments, key order) is the same sweep
    same = tmp_path / "a.yaml"
    same.write_text("# a comment\n" + yaml.safe_dump(yaml.safe_load(same.read_text()), sort_keys=True))
    state.create_or_check(load_spec(same))


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious.txt").write_text("keep me")
    assert sweep_main([str(sweep_file(tmp_path / "a.yaml")), "--dir", str(tmp_path / "out")]) == 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["precious.txt"]
    assert sweep_main(["--status", str(tmp_path / "out")]) == 2  # a wrong argument, not an output problem
    assert sweep_main(["--sync", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("not a genlat sweep directory") == 3 and "--status " in err and "--sync " in err


def test_a_problem_of_the_sweeps_constants_is_said_once(tmp_path, capsys):
    path = sweep_file(tmp_path / "bad.yaml", params={"ngf": 0})
    assert sweep_main([str(path), "--dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--ngf=0: must be a positive integer" in err[0], err


def test_constants_that_clash_are_said_once(tmp_path, capsys):
    path = sweep_file(tmp_path / "bad.yaml", params={"batch_size": 128, "epoch_size": 64})
    assert sweep_main([str(path), "--dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--batch_size=128: larger than --epoch_size=64" in err[0], err


@pytest.mark.parametrize("grace", ["-5", "nan", "inf"])
def test_a_negative_grace_is_refused(tmp_path, capsys, grace):
    assert sweep_main([str(sweep_file(tmp_path / "a.yaml")), "--dir", str(tmp_path / "out"), f"--grace={grace}"]) == 2
    assert "--grace=" in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text", ["{}", "[]", '{"name": "x", "method": "grid", "fingerprint": "f", "trials": [7]}', "{cut"]
)
def test_a_damaged_sweep_json_is_one_line_for_status_and_run(tmp_path, capsys, text):
    sweep = tmp_path / "out"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(text)
    (sweep / ".sweep.lock").touch()
    assert sweep_main(["--status", str(sweep)]) == 4
    assert sweep_main([str(sweep_file(tmp_path / "a.yaml")), "--dir", str(sweep)]) == 4
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 2 and "Traceback" not in err and str(sweep / "sweep.json") in err
    assert (sweep / "sweep.json").read_text() == text  # left as it was, for the user to restore


def test_the_study_files_are_valid():
    study = load_spec("sweep.yaml")
    assert study.method == "grid" and study.program == "train.py"
    assert study.config["parameters"]["zn"]["values"] == [50, 100, 150, 500]
    assert len(study.config["parameters"]["lr"]["values"]) >= 2
    assert study.config["metric"] == {"name": "eval/fd", "goal": "minimize"}
    assert study.command == ["${env}", "accelerate", "launch", "${program}", "${args_no_boolean_flags}"]
    bayes = load_spec("sweeps/bayes.yaml")
    assert bayes.method == "bayes" and bayes.config["early_terminate"]["type"] == "hyperband"
    assert bayes.config["parameters"]["lr"]["distribution"] == "log_uniform_values"
    assert "zn" in bayes.varying and bayes.command == study.command
    json.dumps(bayes.config)  # plain data, storable in the state


def test_the_main_job_runs_three_seeds_of_each_latent_size_at_the_default_precision():
    quick = load_spec("sweeps/quick.yaml")
    params = quick.config["parameters"]
    assert quick.method == "grid" and params["zn"]["values"] == [50, 100, 150, 500]
    assert params["seed"]["values"] == [0, 1, 2]  # one seed answers nothing (issue 13)
    assert "mixed_precision" not in params  # the run's default picks the precision for the machine


def test_the_fp32_parity_sweep_is_the_main_job_in_fp32():
    """The README's bf16-against-fp32 table compares the same trials: only the precision may differ."""
    quick, fp32 = load_spec("sweeps/quick.yaml"), load_spec("sweeps/quick-fp32.yaml")
    params = dict(fp32.config["parameters"])
    assert params.pop("mixed_precision") == {"value": "no"}
    assert params == quick.config["parameters"] and fp32.command == quick.command and fp32.name != quick.name
