"""The JSON Lines store: torn tails, locking, corruption, the index."""

from __future__ import annotations

import json

import pytest

from experiments.cache import EvaluationStore, evaluation_key
from experiments.store import (
    ResultsStore,
    StoreCorrupt,
    StoreLocked,
    encode_record,
    read_records,
)


def _eval(unit: str, iteration: int, **extra) -> dict:
    return {"type": "eval", "id": f"{unit}-{iteration}", "unit": unit,
            "iteration": iteration, **extra}


def test_appends_are_indexed_and_read_back(tmp_path):
    path = tmp_path / "deep" / "results.jsonl"
    with ResultsStore(path) as store:
        store.append(_eval("u", 1, program="a"))
        store.append(_eval("u", 2, program="b"))
        store.append(_eval("v", 1))
        assert store.has("u-2") and not store.has("u-3")
        assert store.count("u") == 2 and not store.unit_finished("u")
        assert [r["program"] for r in store.evaluations("u").values()] == ["a", "b"]
        store.append({"type": "unit", "unit": "u"})
        store.append({"type": "wandb", "unit": "u"})
        assert store.unit_finished("u") and store.wandb_logged("u")
    with ResultsStore(path) as store:  # a new writer indexes the file
        assert store.count("u") == 2 and store.unit_finished("u") and store.count("v") == 1
    assert len(read_records(path)) == 5 and len(read_records(path, "eval")) == 3


def test_a_torn_last_line_is_skipped_by_readers_and_cut_by_the_next_writer(tmp_path):
    path = tmp_path / "results.jsonl"
    whole = encode_record(_eval("u", 1)) + encode_record(_eval("u", 2))
    path.write_bytes(whole + b'{"type": "eval", "id": "u-3", "unit": "u", "itera')
    assert [r["id"] for r in read_records(path)] == ["u-1", "u-2"]
    with ResultsStore(path) as store:
        assert store.repaired_bytes > 0 and store.count("u") == 2
        store.append(_eval("u", 3))
    assert path.read_bytes() == whole + encode_record(_eval("u", 3))


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_bytes(encode_record(_eval("u", 1)) + b"not json\n" + encode_record(_eval("u", 2)))
    with pytest.raises(StoreCorrupt, match=":2:"):
        read_records(path)
    with pytest.raises(StoreCorrupt):
        ResultsStore(path).open()
    path.write_bytes(b"[1, 2]\n")
    with pytest.raises(StoreCorrupt, match="object"):
        read_records(path)


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "results.jsonl"
    with ResultsStore(path):
        with pytest.raises(StoreLocked):
            ResultsStore(path).open()
        assert read_records(path) == []  # readers need no lock
    with ResultsStore(path) as store:  # released on close
        store.append(_eval("u", 1))


def test_records_are_single_ascii_lines(tmp_path):
    data = encode_record({"type": "eval", "program": "Task * GPU;\n# é ünïcode\n"})
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data)["program"].endswith("ünïcode\n")


def test_append_needs_an_open_store(tmp_path):
    with pytest.raises(RuntimeError, match="open the store"):
        ResultsStore(tmp_path / "r.jsonl").append({"type": "x"})


def test_the_evaluation_cache_keys_on_exact_programs(tmp_path):
    # Two layouts of one program evaluate alike but report errors at different positions, so
    # they are different evaluations.
    program = "Task * GPU;\n"
    spaced = "# a comment\nTask   *   GPU ;\n"
    identity = {"problem": ["Circuit", "A"], "feedback": "raw"}
    assert evaluation_key(identity, program) != evaluation_key(identity, spaced)
    assert evaluation_key(identity, program) == evaluation_key(dict(identity), "Task * GPU;\n")
    assert evaluation_key(identity, program) != evaluation_key({**identity, "feedback": "suggest"},
                                                               program)
    with EvaluationStore(tmp_path / "c.sqlite") as cache:
        key = evaluation_key(identity, program)
        assert cache.get(key) is None
        cache.put(key, {"reward": 1.5})
        cache.put(key, {"reward": 9.0})  # the first value stays
        assert cache.get(key) == {"reward": 1.5} and len(cache) == 1
        assert (cache.hits, cache.misses) == (1, 1)
    with EvaluationStore(tmp_path / "c.sqlite") as again:  # persistent
        assert again.get(key) == {"reward": 1.5}


def test_an_unusable_cache_turns_itself_off(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = EvaluationStore(blocker / "c.sqlite")  # a folder that cannot exist
    cache.put("k", {"x": 1})
    assert cache.get("k") is None and len(cache) == 0
