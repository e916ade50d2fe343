"""Sections: splitting programs by statement kind, rendering, dedup of shared helpers."""

from __future__ import annotations

from collections import Counter

import pytest

from agents.sections import (
    SECTION_NAMES,
    Sections,
    chunk_statements,
    clean,
    sections_from_program,
    split_program,
)
from benchmarks import APP_NAMES, get_app
from mapper_gym.dsl.errors import DSLError
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.printer import format_statement

KIND_OF_SECTION = {
    "task": {"TaskStmt", "ControlReplicateStmt"},
    "region": {"RegionStmt", "CollectMemoryStmt"},
    "layout": {"LayoutStmt"},
    "instance_limit": {"InstanceLimitStmt"},
    "index_task_map": {"IndexTaskMapStmt", "FuncDef", "Assign", "Print"},
    "single_task_map": {"SingleTaskMapStmt", "FuncDef", "Assign", "Print"},
}


def statements(text: str) -> Counter:
    return Counter(format_statement(s) for s in parse(text).statements)


@pytest.mark.parametrize("app", APP_NAMES)
@pytest.mark.parametrize("kind", ["expert", "default"])
def test_benchmark_mappers_split_into_sections_of_their_kind(app, kind):
    text = getattr(get_app(app), f"{kind}_mapper")()
    sections = sections_from_program(text)
    for name, body in sections.items():
        if body.strip():
            kinds = {type(s).__name__ for s in parse(body).statements}
            assert kinds <= KIND_OF_SECTION[name], (name, kinds)
    rendered = sections.render()
    # the same statements (order may change between sections), and splitting is stable
    assert statements(rendered) == statements(text)
    assert sections_from_program(rendered) == sections


def test_render_concatenates_in_order_and_skips_empty_sections():
    s = Sections(task="Task * GPU;", layout="Layout * * * SOA;",
                 single_task_map="# nothing here")
    assert s.render() == "Task * GPU;\n\nLayout * * * SOA;\n\n# nothing here\n"
    assert Sections().render() == ""


def test_identical_helpers_repeated_across_sections_are_emitted_once():
    index = ("gpus = Machine(GPU);\n"
             "def f(Task t) {\n    return gpus[0, t.ipoint[0] % gpus.size[1]];\n}\n"
             "IndexTaskMap a f;")
    single = ("gpus  =  Machine(GPU);  # same code, other spacing\n"
              "def g(Task t) {\n    return gpus[*t.parent.processor(gpus)];\n}\n"
              "SingleTaskMap b g;")
    program = Sections(index_task_map=index, single_task_map=single).render()
    assert program.count("Machine(GPU)") == 1
    parse(program)  # one binding of gpus: no E-GLOBAL-DUP
    from mapper_gym.dsl.checker import check

    assert not [d for d in check(parse(program)) if d.is_error]


def test_duplicates_within_one_section_and_different_definitions_are_kept():
    twice = "gpus = Machine(GPU);\ngpus = Machine(GPU);"
    assert Sections(index_task_map=twice).render().count("Machine(GPU)") == 2
    other = Sections(index_task_map="m = Machine(GPU);", single_task_map="m = Machine(CPU);")
    assert other.render().count("m = Machine") == 2


def test_helpers_follow_the_map_statement_that_uses_them():
    text = """
Task * GPU;
cpus = Machine(CPU);
gpus = Machine(GPU);
grid = gpus.merge(0, 1);
def near(Task t) {
    return cpus[*t.parent.processor(cpus)];
}
def flat(Task t) {
    return grid[t.ipoint[0] % grid.size[0]];
}
print("loaded");
IndexTaskMap a flat;
SingleTaskMap b near;
"""
    split = split_program(text)
    assert set(split) == {"task", "index_task_map", "single_task_map"}
    assert "cpus = Machine(CPU);" in split["single_task_map"]
    assert "def near" in split["single_task_map"]
    for needed in ("gpus = Machine(GPU);", "grid = gpus.merge(0, 1);", "def flat", "print"):
        assert needed in split["index_task_map"]
    assert "cpus" not in split["index_task_map"]


def test_helper_used_by_both_goes_to_index_section_which_comes_first():
    text = ("m = Machine(GPU);\ndef f(Task t) {\n    return m[0, 0];\n}\n"
            "IndexTaskMap a f;\nSingleTaskMap b f;\n")
    split = split_program(text)
    assert "def f" in split["index_task_map"] and "def f" not in split["single_task_map"]
    assert split["single_task_map"] == "SingleTaskMap b f;"


def test_text_with_errors_is_split_verbatim():
    text = """Task * GPU;
def f(Task t):
    i = t.ipoint[0];
    return gpus[0, i];
gpus = Machine(GPU);
IndexTaskMap stencil f;
Region * x GPU ZCMEM
Layout * * * SOA;
"""
    with pytest.raises(DSLError):
        parse(text)
    split = split_program(text)
    assert split["region"] == "Region * x GPU ZCMEM"  # the missing ; stays missing
    assert split["layout"] == "Layout * * * SOA;"
    assert split["index_task_map"].startswith("def f(Task t):\n    i = t.ipoint[0];")
    # every character is kept somewhere
    assert sorted(" ".join(split.values()).split()) == sorted(text.split())
    # and the compiler still reports both mistakes (the region section comes first)
    with pytest.raises(DSLError) as caught:
        parse(sections_from_program(text).render())
    assert caught.value.message == "Syntax error, unexpected Layout, expecting ; or ,"
    with pytest.raises(DSLError) as caught:
        parse(split["index_task_map"])
    assert caught.value.message == "Syntax error, unexpected :, expecting {"


def test_comments_stay_with_the_statement_below_them():
    text = "# processors\nTask * GPU;\n\n// memories\nRegion * * GPU FBMEM;\n"
    split = split_program(text)
    assert split == {"task": "# processors\nTask * GPU;",
                     "region": "// memories\nRegion * * GPU FBMEM;"}


def test_multiline_statements_and_strings_with_comment_characters():
    text = ('Task a,\n     b GPU;\nprint("# not a comment {}", 1);\n'
            "def f(Task t)\n{\n    return (t.ipoint[0],\n            0);\n}\nIndexTaskMap a f;\n")
    chunks = chunk_statements(text)
    assert [c.keyword for c in chunks] == ["Task", "print", "def", "IndexTaskMap"]
    assert chunks[0].text == "Task a,\n     b GPU;\n"
    assert chunks[2].defines == "f"


def test_section_api():
    s = Sections(task="Task * GPU;")
    assert s.get("task") == "Task * GPU;"
    with pytest.raises(KeyError):
        s.get("memory")
    with pytest.raises(KeyError):
        s.with_changes({"bogus": "x"})
    t = s.with_changes({"region": "\r\n  Region * * GPU FBMEM;   \r\n\n"})
    assert t.region == "  Region * * GPU FBMEM;"
    assert t.changed(s) == ("region",)
    assert Sections.from_dict(t.to_dict()) == t
    assert [name for name, _ in t.items()] == list(SECTION_NAMES)
    assert clean("\n\n a \n b  \n\n") == " a\n b"
