"""MapperEnv: registration, spaces, episodes, rewards, robustness to bad actions, determinism,
the feedback hook, Gymnasium's checker and vector environments."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mapper_gym
from benchmarks import APP_NAMES, get_app
from mapper_gym.backends import BackendUnavailable, EvaluationCache
from mapper_gym.config import RunConfig
from mapper_gym.envs import (
    MAX_FEEDBACK_CHARS,
    STATUS_NAMES,
    TEXT_CHARSET,
    FeedbackContext,
    FeedbackUnavailable,
    observation_text,
    plain,
)
from mapper_gym.registration import APP_ENV_IDS, env_id

IDS = [APP_ENV_IDS[app] for app in APP_NAMES]
SMALL = {"problem": "small", "feedback": "raw"}


def make(app: str = "Stencil", **kwargs) -> gym.Env:
    options = {**SMALL, "cache": EvaluationCache(), **kwargs}
    return gym.make(env_id(app), **options)


def _has_autoguide() -> bool:
    try:
        importlib.import_module("mapper_gym.feedback")
    except ModuleNotFoundError as error:
        if error.name == "mapper_gym.feedback":
            return False
        raise
    return True


# ---------------------------------------------------------------------------------------------
# Registration and construction (no simulation needed)
# ---------------------------------------------------------------------------------------------


def test_nine_ids_registered_by_importing_the_package():
    assert list(APP_ENV_IDS) == list(APP_NAMES)
    assert IDS == [
        "Mapper-Circuit-v0", "Mapper-Stencil-v0", "Mapper-Pennant-v0", "Mapper-Cannon-v0",
        "Mapper-SUMMA-v0", "Mapper-PUMMA-v0", "Mapper-Johnson-v0", "Mapper-Solomonik-v0",
        "Mapper-COSMA-v0",
    ]
    for ident in IDS:
        spec = gym.spec(ident)
        assert spec.entry_point == "mapper_gym.envs:MapperEnv"
    mapper_gym.registration.register_envs()  # idempotent: no "overriding" warning


def test_registration_is_lazy_in_a_fresh_interpreter():
    code = (
        "import sys, mapper_gym, gymnasium as gym\n"
        "assert 'Mapper-COSMA-v0' in gym.registry\n"
        "heavy = [m for m in sys.modules if m.startswith(('benchmarks', 'mapper_gym.envs',"
        " 'mapper_gym.sim', 'mapper_gym.dsl', 'mapper_gym.backends'))]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_make_time_errors():
    with pytest.raises(BackendUnavailable):
        gym.make("Mapper-Stencil-v0", backend="legion", machine="p100-node", feedback="raw")
    with pytest.raises(ValueError, match="unknown backend"):
        gym.make("Mapper-Stencil-v0", backend="cuda", feedback="raw")
    with pytest.raises(ValueError, match="unknown feedback level 'loud'"):
        gym.make("Mapper-Stencil-v0", feedback="loud")
    with pytest.raises(ValueError, match="budget"):
        gym.make("Mapper-Stencil-v0", feedback="raw", budget=0)
    with pytest.raises(ValueError, match="unknown problem"):
        gym.make("Mapper-Stencil-v0", feedback="raw", problem="Z")
    with pytest.raises(ValueError):
        gym.make("Mapper-Stencil-v0", feedback="raw", machine="p100-node", nodes=3)
    with pytest.raises(ValueError, match="RunConfig"):
        gym.make("Mapper-Stencil-v0", feedback="raw", config={"collect": False})


def test_autoguide_levels_need_the_feedback_module():
    if _has_autoguide():
        env = gym.make("Mapper-Stencil-v0", problem="small")  # default level "suggest"
        assert env.unwrapped.feedback_level == "suggest"
        env.reset()
        obs, *_ = env.step("def f(Task t):\n  return 0;\n")
        raw = "Compile Error: Syntax error, unexpected :, expecting {"
        assert obs["feedback"].startswith(raw) and len(obs["feedback"]) > len(raw)
        assert obs in env.observation_space
    else:
        for level in ("explain", "suggest"):
            with pytest.raises(FeedbackUnavailable, match="AutoGuide"):
                gym.make("Mapper-Stencil-v0", feedback=level)
        with pytest.raises(NotImplementedError):
            gym.make("Mapper-Stencil-v0")  # the default level is "suggest"


def test_spaces():
    env = make().unwrapped
    assert isinstance(env.action_space, gym.spaces.Text)
    assert env.action_space.max_length == 65536 and env.action_space.min_length == 0
    assert set("Task * GPU;\n\tdef f(Task t) { return m[0, *]; } # x\r") <= set(
        env.action_space.character_set)
    obs = env.observation_space
    assert set(obs.spaces) == {"throughput", "normalized", "status", "stdout", "stderr",
                               "feedback"}
    assert obs["status"].n == len(STATUS_NAMES) == 4
    assert STATUS_NAMES == ("ok", "compile_error", "runtime_error", "timeout")


def test_reset_describes_the_problem_without_the_expert():
    env = make("Circuit")
    obs, info = env.reset(seed=3)
    assert obs["status"] == 0 and float(obs["throughput"]) == 0.0
    assert obs["stdout"] == obs["stderr"] == obs["feedback"] == ""
    tasks = {t["name"]: t for t in info["app"]["tasks"]}
    assert "calculate_new_currents" in tasks
    assert all("requirements" in t and "launches" in t for t in tasks.values())
    assert info["machine"]["nodes"] == 1
    assert info["machine"]["processors_per_node"]["GPU"] == 4
    assert info["problem"] == "small" and info["budget"] == 10
    assert info["statuses"] == list(STATUS_NAMES)
    assert "expert" not in repr(info).lower()
    assert env.unwrapped._expert is None  # nothing was evaluated by reset
    _, info2 = env.reset()
    assert info2 == info and info2 is not info and info2["app"] is not info["app"]


def test_observation_text_escapes_and_truncates():
    assert observation_text("plain\ttext\n", 100) == "plain\ttext\n"
    assert observation_text("π≈3", 100) == "\\u03c0\\u22483"
    assert observation_text("\x00\U0001f600", 100) == "\\u0000\\U0001f600"
    long = "x" * 5000 + "y" * 5000
    short = observation_text(long, 1000)
    assert len(short) == 1000
    assert short.startswith("x") and short.endswith("y")
    kept = short.count("x") + short.count("y")
    assert f"[... {10000 - kept} characters truncated ...]" in short
    assert all(c in TEXT_CHARSET for c in observation_text("\u2603" * 10, 30))


def test_plain_makes_fresh_json_data():
    from types import MappingProxyType

    source = {"a": MappingProxyType({"x": (1, 2)}), "b": np.float64(2.5), 3: {1, 2}}
    out = plain(source)
    assert out == {"a": {"x": [1, 2]}, "b": 2.5, "3": [1, 2]}
    assert type(out["b"]) is float


# ---------------------------------------------------------------------------------------------
# Episodes (need the simulator)
# ---------------------------------------------------------------------------------------------


def test_expert_scores_one_and_default_scores_positive():
    env = make("Stencil")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(get_app("Stencil").expert_mapper())
    assert STATUS_NAMES[obs["status"]] == "ok" == info["status"]
    assert reward == pytest.approx(1.0) and float(obs["normalized"]) == pytest.approx(1.0)
    assert float(obs["throughput"]) > 0 and info["unit"] == "points*steps/s"
    assert obs["feedback"].startswith("Performance Metric: ")
    assert obs["stdout"]  # the program's own lines
    assert not terminated and not truncated
    assert info["elapsed"] > 0 and info["step"] == 1 and info["budget_left"] == 9
    assert info["plan"]["tasks"]["stencil"]["kind"] == "GPU"
    assert isinstance(info["stats"], dict) and "processor_busy" in info["stats"]
    assert info["error"] == {}
    assert obs in env.observation_space
    obs, reward, *_ = env.step(get_app("Stencil").default_mapper())
    assert obs["status"] == 0 and reward > 0
    assert reward == pytest.approx(float(obs["normalized"]))


def test_budget_truncates_and_then_needs_a_reset():
    env = make("Stencil", budget=3)
    env.reset()
    flags = [env.step("")[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(gym.error.ResetNeeded, match="budget"):
        env.unwrapped.step("")
    env.reset()
    assert env.step("")[3] is False


def test_step_before_reset_is_refused():
    env = make().unwrapped
    with pytest.raises(gym.error.ResetNeeded):
        env.step("Task * GPU;")


BAD_ACTIONS = [
    "",
    "   \n\t",
    "def f(Task t):\n  return 0;",
    "Task * GPU; ☃ Region * * GPU FBMEM;",
    "\ud800\udfff",  # lone surrogates: not encodable as UTF-8
    "\x00\x01\x02",
    b"\xff\xfe\xfd",
    "Task * GPU;\n" * 10000,  # beyond the DSL's 65536 bytes
    "x" * 1_000_000,
    "(" * 5000,
    None,
    12,
    ["Task * GPU;"],
]


@pytest.mark.parametrize("action", BAD_ACTIONS, ids=range(len(BAD_ACTIONS)))
def test_bad_actions_never_raise(action):
    env = make("Pennant")
    env.reset()
    obs, reward, _, _, info = env.step(action)
    assert obs in env.observation_space
    assert STATUS_NAMES[obs["status"]] == "compile_error"
    assert reward == 0.0 and float(obs["normalized"]) == 0.0
    assert obs["feedback"].startswith("Compile Error: ")
    assert obs["stderr"]
    assert info["error"]["severity"] == "error"


def test_runtime_error_observation():
    env = make("Stencil")
    env.reset()
    program = (
        "gpus = Machine(GPU);\n"
        "def f(Task t) { return gpus[0, 7]; }\n"
        "IndexTaskMap stencil f;\n"
    )
    obs, reward, *_ , info = env.step(program)
    assert STATUS_NAMES[obs["status"]] == "runtime_error"
    assert obs["feedback"].startswith("Execution Error: ")
    assert reward == 0.0
    assert info["error"]["kind"] == "map" and info["error"]["line"] > 0


def test_determinism_across_environments_and_seeds():
    text = get_app("Circuit").default_mapper()
    results = []
    for seed in (0, 0, 99):
        env = make("Circuit", cache=False)
        env.reset(seed=seed)
        results.append(env.step(text))
    (obs0, r0, *_, info0) = results[0]
    for obs, reward, _, _, info in results[1:]:
        assert reward == r0
        assert obs.keys() == obs0.keys()
        for key in obs0:
            assert np.array_equal(obs[key], obs0[key]) if key in ("throughput", "normalized") \
                else obs[key] == obs0[key]
        assert info == info0


def test_returned_data_is_never_shared():
    env = make("Stencil")
    env.reset()
    text = get_app("Stencil").expert_mapper()
    obs1, _, _, _, info1 = env.step(text)
    obs2, _, _, _, info2 = env.step(text)  # served from the cache
    assert info1["plan"] == info2["plan"] and info1["stats"] == info2["stats"]
    info1["plan"]["tasks"].clear()
    obs1["throughput"][...] = -1.0
    assert info2["plan"]["tasks"] and float(obs2["throughput"]) > 0


def test_feedback_hook_receives_the_context():
    seen: list[FeedbackContext] = []

    def mine(result, context):
        seen.append(context)
        return f"[{context.step}/{context.budget}] {result.status} on {context.problem.app_name}"

    env = make("Stencil", feedback=mine, budget=2)
    env.reset()
    obs, *_ = env.step("")
    assert obs["feedback"] == "[1/2] compile_error on Stencil"
    obs, *_ = env.step(get_app("Stencil").expert_mapper())
    assert obs["feedback"] == "[2/2] ok on Stencil"
    assert seen[1].level == "custom" and len(seen[1].history) == 1
    assert seen[1].history[0].status == "compile_error"


def test_broken_feedback_falls_back_to_raw_output():
    def broken(result, context):
        raise RuntimeError("oops")

    env = make("Stencil", feedback=broken)
    env.reset()
    obs, _, _, _, info = env.step("")
    assert obs["feedback"] == "Compile Error: Syntax error, unexpected end of file"
    assert info["feedback_error"] == "RuntimeError: oops"


def test_feedback_is_bounded():
    env = make("Stencil", feedback=lambda result, context: "\u00e9" * (MAX_FEEDBACK_CHARS + 5))
    env.reset()
    obs, *_ = env.step("")
    assert len(obs["feedback"]) == MAX_FEEDBACK_CHARS
    assert obs in env.observation_space


def test_render_ansi():
    env = make("Stencil", render_mode="ansi")
    env.reset()
    assert "no program evaluated yet" in env.render()
    env.step(get_app("Stencil").expert_mapper())
    text = env.render()
    assert "step 1/10: ok" in text and "normalized 1.0000" in text


def test_config_reaches_the_backend():
    env = make("Stencil", config=RunConfig(layout_checks=False))
    assert env.unwrapped.config == RunConfig(layout_checks=False)


def test_expert_failure_is_reported_not_fatal(monkeypatch):
    env = make("Stencil")
    env.reset()
    app = get_app("Stencil")
    monkeypatch.setattr(type(app), "expert_mapper", lambda self, machine=None: "Task * GPU; @")
    obs, reward, _, _, info = env.step(app.default_mapper())
    assert obs["status"] == 0 and float(obs["throughput"]) > 0
    assert reward == 0.0 and "Unrecognized character" in info["expert_error"]


# ---------------------------------------------------------------------------------------------
# Gymnasium's checker and vector environments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ident", IDS)
def test_check_env(ident):
    env = gym.make(ident, problem="small", feedback="raw")
    check_env(env.unwrapped)
    env.close()


def test_check_env_on_the_groups_size():
    env = gym.make("Mapper-Cannon-v0", feedback="raw")
    check_env(env.unwrapped)


def test_sync_vector_env():
    text = get_app("Stencil").expert_mapper()
    envs = gym.vector.SyncVectorEnv([lambda: make("Stencil", budget=2)] * 2)
    obs, _ = envs.reset(seed=[1, 2])
    assert obs["status"].shape == (2,)
    obs, rewards, terminated, truncated, _ = envs.step((text, ""))
    assert not terminated.any() and not truncated.any()
    assert rewards[0] == pytest.approx(1.0) and rewards[1] == 0.0
    assert list(obs["status"]) == [0, 1]
    assert obs["feedback"][1].startswith("Compile Error")
    _, _, _, truncated, _ = envs.step((text, text))
    assert list(truncated) == [True, True]
    envs.close()


def test_async_vector_env():
    text = get_app("SUMMA").expert_mapper()
    fns = [lambda: gym.make("Mapper-SUMMA-v0", **SMALL)] * 2
    envs = gym.vector.AsyncVectorEnv(fns, shared_memory=False)
    try:
        envs.reset(seed=0)
        obs, rewards, *_ = envs.step((text, "Task * GPU;\nLayout * * * F_order;\n"))
        assert rewards[0] == pytest.approx(1.0)
        assert obs["status"].tolist()[0] == 0
        assert isinstance(obs["feedback"][1], str)
    finally:
        envs.close()
