"""The runner: one record per evaluation, resumption by replay, the cache, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import content, read_records, run_experiment
from experiments.config import RunUnit
from experiments.runner import UnitTask, execute_unit
from experiments.store import ResultsStore
from tests.experiments.fakes import program_score
from tests.experiments.helpers import FAKE_AGENT, fake_config, options


def _by_id(records):
    return {r["id"]: r for r in records if r["type"] == "eval"}


def _contents(path: Path) -> dict[str, dict]:
    return {i: content(r) for i, r in _by_id(read_records(path)).items()}


def test_every_evaluation_is_one_record_with_program_observation_and_agent(
        tmp_path, evaluation_log):
    config = fake_config("basic")
    summary = run_experiment(config, options(tmp_path))
    records = read_records(summary.store)
    evals = [r for r in records if r["type"] == "eval"]
    assert summary.ok and summary.units_finished == 4
    assert len(evals) == summary.evaluations_written == 4 * 6
    assert len({r["id"] for r in evals}) == len(evals)
    assert [r["type"] for r in records].count("session") == 1
    assert [r["type"] for r in records].count("unit") == 4
    for record in evals:
        status, score = program_score(record["program"], record["app"])
        assert record["status"] == status
        assert record["reward"] == (score if status == "ok" else 0.0)
        assert record["observation"]["normalized"] == score
        assert record["observation"]["feedback"].startswith(record["raw_output"])
        assert record["agent"] == FAKE_AGENT and record["seed"] in (0, 1)
        assert record["info"]["step"] == record["iteration"]
        assert record["info"]["budget_left"] == 6 - record["iteration"]
        assert set(record["timing"]) == {"started", "propose_s", "evaluate_s", "observe_s"}
        assert record["usage"] is None and record["llm_calls"] == []
    for unit in {r["unit"] for r in evals}:
        trajectory = [r["best_so_far"] for r in sorted(
            (r for r in evals if r["unit"] == unit), key=lambda r: r["iteration"])]
        assert trajectory == sorted(trajectory)
        closing = next(r for r in records if r["type"] == "unit" and r["unit"] == unit)
        assert closing["trajectory"] == trajectory
        assert closing["best_score"] == trajectory[-1]
    # the agent repeats its best program every third step; without a cache it is re-evaluated
    assert evaluation_log.count() == 4 * 6


def test_a_second_invocation_skips_finished_units(tmp_path, evaluation_log):
    config = fake_config("again")
    first = run_experiment(config, options(tmp_path))
    before = first.store.read_bytes()
    evaluations = evaluation_log.count()
    second = run_experiment(config, options(tmp_path))
    assert second.units_skipped == 4 and second.evaluations_written == 0
    assert evaluation_log.count() == evaluations
    after = second.store.read_bytes()
    assert after.startswith(before)
    assert [json.loads(line)["type"] for line in after[len(before):].splitlines()] == ["session"]


def _cut_store(path: Path, keep_evals: int) -> list[str]:
    """Keep the session line and the first ``keep_evals`` eval lines: what a kill leaves."""
    kept, evals = [], 0
    for line in path.read_text().splitlines(keepends=True):
        record = json.loads(line)
        if record["type"] == "session":
            kept.append(line)
        elif record["type"] == "eval" and evals < keep_evals:
            kept.append(line)
            evals += 1
    path.write_text("".join(kept) + '{"type": "eval", "id": "torn')
    return kept


@pytest.mark.parametrize("keep", [0, 1, 5, 13, 23])
def test_resume_replays_recorded_evaluations_and_evaluates_only_the_rest(
        tmp_path, evaluation_log, keep):
    config = fake_config("resume")
    reference = run_experiment(config, options(tmp_path / "reference"))
    expected = _contents(reference.store)

    killed = options(tmp_path / "killed")
    store = run_experiment(config, killed).store
    kept = _cut_store(store, keep)
    evaluation_log.path.unlink()
    resumed = run_experiment(config, killed)

    assert resumed.ok
    assert resumed.evaluations_written == len(expected) - keep
    assert evaluation_log.count() == len(expected) - keep  # nothing finished is repeated
    final = store.read_text()
    assert final.startswith("".join(kept))  # nothing finished is lost
    records = read_records(store)
    ids = [r["id"] for r in records if r["type"] == "eval"]
    assert len(ids) == len(set(ids)) == len(expected)
    assert _contents(store) == expected
    counts: dict[str, int] = {}
    for line in kept:
        record = json.loads(line)
        if record["type"] == "eval":
            counts[record["unit"]] = counts.get(record["unit"], 0) + 1
    assert resumed.units_resumed == sum(1 for n in counts.values() if n < 6)


def test_a_unit_with_all_evaluations_but_no_closing_record_is_closed_without_running(
        tmp_path, evaluation_log):
    config = fake_config("closing", apps=("Circuit",), seeds=(0,))
    run = run_experiment(config, options(tmp_path))
    lines = [line for line in run.store.read_text().splitlines(keepends=True)
             if json.loads(line)["type"] != "unit"]
    run.store.write_text("".join(lines))
    evaluation_log.path.unlink()
    again = run_experiment(config, options(tmp_path))
    assert again.units_finished == 1 and again.evaluations_written == 0
    assert evaluation_log.count() == 0
    assert len(read_records(run.store, "unit")) == 1


def test_the_cache_serves_identical_records_across_experiments(tmp_path, evaluation_log):
    cache = tmp_path / "cache.sqlite"
    first = run_experiment(fake_config("first"), options(tmp_path, cache=str(cache)))
    first_evals = _by_id(read_records(first.store))
    # within the run, the agent's repeats of its best program were served from the cache
    repeats = [r for r in first_evals.values() if r["cached"]]
    assert repeats and all(r["iteration"] % 3 == 0 for r in repeats)
    assert evaluation_log.count() == len(first_evals) - len(repeats)

    evaluation_log.path.unlink()
    second = run_experiment(fake_config("second"), options(tmp_path, cache=str(cache)))
    second_evals = _by_id(read_records(second.store))
    assert evaluation_log.count() == 0
    assert second.evaluations_cached == len(second_evals) == len(first_evals)
    assert {i: content(r) for i, r in second_evals.items()} == {
        i: content(r) for i, r in first_evals.items()}

    uncached = run_experiment(fake_config("uncached"), options(tmp_path / "other"))
    assert _contents(uncached.store) == {i: content(r) for i, r in first_evals.items()}


def test_a_failing_unit_is_recorded_and_the_others_finish(tmp_path, evaluation_log):
    config = fake_config("failing", agents=("tests.experiments.fakes:CrashingAgent",
                                            FAKE_AGENT), apps=("Circuit",), seeds=(0,))
    summary = run_experiment(config, options(tmp_path))
    assert summary.units_failed == 1 and summary.units_finished == 1 and not summary.ok
    errors = read_records(summary.store, "unit_error")
    assert len(errors) == 1 and "agent exploded" in errors[0]["error"]
    assert "Traceback" in errors[0]["traceback"]
    # its two finished evaluations are kept, and a new invocation retries from there
    crashed = errors[0]["unit"]
    assert len([r for r in read_records(summary.store, "eval") if r["unit"] == crashed]) == 2
    again = run_experiment(config, options(tmp_path))
    assert again.units_failed == 1 and again.units_resumed == 1
    assert again.evaluations_written == 0


def test_an_agent_that_does_not_repeat_itself_cannot_be_resumed(tmp_path, evaluation_log):
    config = fake_config("forgetful", agents=("tests.experiments.fakes:ForgetfulAgent",),
                         apps=("Circuit",), seeds=(0,))
    store = run_experiment(config, options(tmp_path)).store
    _cut_store(store, 3)
    summary = run_experiment(config, options(tmp_path))
    assert summary.units_failed == 1
    assert "ReplayMismatch" in read_records(store, "unit_error")[0]["error"]


def test_execute_unit_rejects_records_with_gaps(tmp_path):
    unit = fake_config("gaps").units()[0]
    record = {"iteration": 2, "program": "x", "observation": {}, "reward": 0.0, "info": {},
              "status": "ok"}
    with pytest.raises(ValueError, match=r"not 1\.\.1"):
        execute_unit(UnitTask(unit=unit.to_dict(), done=(record,)), lambda m: None)


def test_units_round_trip_through_plain_data():
    for unit in fake_config("trip", budgets=(3, 7)).units():
        again = RunUnit.from_dict(json.loads(json.dumps(unit.to_dict())))
        assert again == unit and again.unit_id == unit.unit_id


def test_the_store_is_locked_while_an_experiment_writes_it(tmp_path):
    config = fake_config("locked", apps=("Circuit",), seeds=(0,))
    path = tmp_path / "runs" / "locked" / "results.jsonl"
    from experiments.store import StoreLocked

    with ResultsStore(path), pytest.raises(StoreLocked):
        run_experiment(config, options(tmp_path))
