"""The runner on the real environments (simulator): pool, resume, cache, LLM tape, validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import (
    AgentSpec,
    ExperimentConfig,
    content,
    read_records,
    run_experiment,
    validate_records,
)
from tests.experiments.fakes import LLM_LOG_VARIABLE
from tests.experiments.helpers import options

LLM = AgentSpec("llm", options={"client": "tests.experiments.fakes:scripted_llm"}, label="llm")
RANDOM = AgentSpec("random")


def _config(name: str, agents=(RANDOM,), apps=("Circuit", "Stencil"),
            seeds=(0, 1), budgets=(3,)) -> ExperimentConfig:
    return ExperimentConfig(name=name, agents=tuple(agents), apps=apps, seeds=seeds,
                            budgets=budgets, feedback=("suggest",))


def _contents(path: Path) -> dict[str, dict]:
    return {r["id"]: content(r) for r in read_records(path, "eval")}


def _cut(path: Path, keep: int) -> int:
    """Keep the first ``keep`` evaluations of every unit (a kill in the middle of each)."""
    kept, seen, dropped = [], {}, 0
    for line in path.read_text().splitlines(keepends=True):
        record = json.loads(line)
        if record["type"] in ("unit", "wandb"):
            continue
        if record["type"] == "eval":
            seen[record["unit"]] = seen.get(record["unit"], 0) + 1
            if seen[record["unit"]] > keep:
                dropped += 1
                continue
        kept.append(line)
    path.write_text("".join(kept))
    return dropped


def test_the_pool_gives_the_records_of_one_process_on_the_simulator(tmp_path):
    config = _config("sim-pool")
    serial = run_experiment(config, options(tmp_path / "serial"))
    pooled = run_experiment(config, options(tmp_path / "pool", executor="process", workers=2))
    assert serial.ok and pooled.ok
    assert _contents(pooled.store) == _contents(serial.store)
    records = read_records(serial.store, "eval")
    assert {r["app"] for r in records} == {"Circuit", "Stencil"}
    assert all(r["info"]["unit"] for r in records)
    assert any(r["status"] == "ok" for r in records)


@pytest.mark.parametrize("agent", [AgentSpec("random"), AgentSpec("opentuner"),
                                   AgentSpec("coordinate")], ids=lambda a: a.name)
def test_real_agents_resume_by_replay_to_the_same_records(tmp_path, agent):
    config = _config(f"resume-{agent.name}", agents=(agent,), apps=("Circuit",), seeds=(1,),
                     budgets=(6,))
    reference = _contents(run_experiment(config, options(tmp_path / "reference")).store)
    store = run_experiment(config, options(tmp_path / "cut")).store
    dropped = _cut(store, 4)
    resumed = run_experiment(config, options(tmp_path / "cut"))
    assert resumed.ok and resumed.units_resumed == 1
    assert resumed.evaluations_written == dropped == 2
    assert _contents(store) == reference


def test_the_cache_serves_simulator_evaluations_identically(tmp_path):
    cache = str(tmp_path / "cache.sqlite")
    first = run_experiment(_config("cache-a"), options(tmp_path, cache=cache))
    second = run_experiment(_config("cache-b"), options(tmp_path, cache=cache))
    assert second.evaluations_cached == second.evaluations_written == 12
    assert _contents(second.store) == _contents(first.store)
    other_feedback = ExperimentConfig(name="cache-c", agents=(AgentSpec("random"),),
                                      apps=("Circuit",), seeds=(0,), budgets=(3,),
                                      feedback=("raw",))
    third = run_experiment(other_feedback, options(tmp_path, cache=cache))
    assert third.evaluations_cached == 0  # the feedback level is part of the key


def test_llm_runs_record_replies_and_usage_and_resume_without_asking_again(
        tmp_path, monkeypatch):
    log = tmp_path / "requests.log"
    monkeypatch.setenv(LLM_LOG_VARIABLE, str(log))
    config = _config("llm", agents=(LLM,), apps=("Circuit",), seeds=(0,), budgets=(5,))
    reference = run_experiment(config, options(tmp_path / "reference"))
    assert reference.ok, reference.errors
    evals = sorted(read_records(reference.store, "eval"), key=lambda r: r["iteration"])
    assert evals[0]["llm_calls"] == []  # the start mapper
    for record in evals[1:]:
        assert len(record["llm_calls"]) == 1 and record["llm_calls"][0]["ok"]
        usage = record["usage"]
        assert usage["completion_tokens"] == 15 and usage["prompt_tokens"] > 0
        assert usage["cost_usd"] == pytest.approx(
            (usage["prompt_tokens"] * 2.5 + 15 * 10.0) / 1e6)
    unit = read_records(reference.store, "unit")[0]
    assert unit["usage"]["requests"] == 4
    assert unit["usage"]["total_tokens"] == sum(r["usage"]["total_tokens"] for r in evals[1:])
    assert len(log.read_text().splitlines()) == 4

    store = run_experiment(config, options(tmp_path / "cut")).store
    log.unlink()
    _cut(store, 3)
    resumed = run_experiment(config, options(tmp_path / "cut"))
    assert resumed.ok and resumed.units_resumed == 1
    assert len(log.read_text().splitlines()) == 2  # iterations 4 and 5 only
    assert _contents(store) == _contents(reference.store)


def test_validation_confirms_honest_results_and_catches_edited_ones(tmp_path):
    config = _config("validate", agents=(AgentSpec("random"), AgentSpec("expert")),
                     apps=("Circuit",), seeds=(0,), budgets=(3,))
    store = run_experiment(config, options(tmp_path)).store
    records = read_records(store)
    results = validate_records(records)
    assert len(results) == 2 and all(r.valid for r in results), results
    expert = next(r for r in results if r.agent == "expert")
    assert expert.measured == pytest.approx(1.0)

    def edited(change) -> list[dict]:
        copy = json.loads(json.dumps(records))
        change(copy)
        return copy

    def inflate(copy):  # claim a better score for the random agent's best program
        best = max((r for r in copy if r["type"] == "eval" and r["agent"] == "random"),
                   key=lambda r: r["reward"])
        best["reward"] = best["normalized"] = best["reward"] + 0.5

    verdicts = {r.agent: r for r in validate_records(edited(inflate))}
    assert verdicts["random"].verdict == "mismatch" and "score" in verdicts["random"].message
    assert verdicts["expert"].valid

    def swap_program(copy):  # the expert's program under the random agent's record
        expert_program = next(r["program"] for r in copy
                              if r["type"] == "eval" and r["agent"] == "expert")
        for record in copy:
            if record["type"] == "eval" and record["agent"] == "random":
                record["program"] = expert_program
                record["reward"] = record["normalized"] = 0.123
                record["status"] = "ok"

    assert validate_records(edited(swap_program))[0].verdict == "mismatch"

    def claim(copy):  # a unit record that claims more than its evaluations hold
        for record in copy:
            if record["type"] == "unit" and record["agent"] == "random":
                record["best_score"] = 5.0

    verdict = next(r for r in validate_records(edited(claim)) if r.agent == "random")
    assert verdict.verdict == "mismatch" and "claims" in verdict.message


def test_an_api_key_echoed_by_the_endpoint_never_reaches_the_results(tmp_path, monkeypatch):
    secret = "sk-test-NEVER-STORE-4f2a9e"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    leaky = AgentSpec("llm", options={"client": "tests.experiments.fakes:leaky_llm"})
    config = _config("leak", agents=(leaky,), apps=("Circuit",), seeds=(0,), budgets=(3,))
    summary = run_experiment(config, options(tmp_path))
    assert summary.ok
    text = summary.store.read_text()
    assert secret not in text and "[REDACTED]" in text


@pytest.mark.parametrize("agent, backend, message", [
    (AgentSpec("llm", options={"colour": "red", "base_url": "http://127.0.0.1:9/v1"}), "sim",
     "unknown options colour"),
    (AgentSpec("llm"), "sim", "no LLM endpoint"),
    (AgentSpec("random", options={"temperature": 3}), "sim", "temperature"),
    # p100-node has GPUs: the real backend cannot run it on this host (or is not installed)
    (AgentSpec("random"), "legion", r"environment Circuit on p100-node \(legion\)"),
])
def test_agents_and_backends_that_cannot_run_fail_before_any_unit(
        tmp_path, monkeypatch, agent, backend, message):
    from experiments import ConfigError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = ExperimentConfig(name="pre", agents=(agent,), apps=("Circuit",),
                              backends=(backend,))
    with pytest.raises(ConfigError, match=message):
        run_experiment(config, options(tmp_path))
    assert not (tmp_path / "runs" / "pre" / "results.jsonl").exists()


def test_measuring_backends_get_a_noise_tolerance():
    from experiments.validate import MEASURED_TOLERANCE, default_tolerance

    assert default_tolerance("sim") == 1e-9
    assert default_tolerance("legion") == MEASURED_TOLERANCE
    assert 0.0 < MEASURED_TOLERANCE < 0.5  # still refutes a doubled score
