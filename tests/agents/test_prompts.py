"""Prompt data files and assembly: the DSL reference is valid DSL, templates fill completely,
history and descriptions render what the paper's agent receives."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from agents.prompts import (
    MAX_FEEDBACK_CHARS,
    Example,
    HistoryEntry,
    default_examples,
    describe_app,
    describe_app_info,
    describe_machine,
    format_repair_message,
    generate_messages,
    improve_messages,
    load_template,
    render_history,
    render_sections,
    system_prompt,
)
from agents.reply import parse_reply
from agents.sections import SECTION_NAMES, Sections
from benchmarks import get_app
from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import SimpleTopology
from mapper_gym.dsl.parser import parse

PROMPT_FILES = sorted(p.name for p in resources.files("agents").joinpath("prompts").iterdir()
                      if p.name.endswith(".md"))

INFO = {
    "app": {"name": "Stencil", "tasks": [
        {"name": "stencil", "variants": ["CPU", "GPU"], "inner": False, "launches": [[4]],
         "requirements": [{"index": 0, "names": ["private", "points"], "privilege": "RW",
                           "fields": ["input", "output"]}]},
        {"name": "main", "variants": ["CPU"], "inner": True, "launches": [],
         "requirements": []},
    ]},
    "machine": {"name": "p100-node", "nodes": 2, "hosts": 2, "ranks_per_node": 1,
                "processors_per_node": {"CPU": 1, "GPU": 4},
                "memories_per_node": {"SYSMEM": {"count": 1, "capacity_bytes": 2**34},
                                      "FBMEM": {"count": 4, "capacity_bytes": 16 * 2**30}},
                "text": "P100 nodes."},
    "budget": 10,
}


def test_prompt_files_ship_with_the_package():
    assert set(PROMPT_FILES) >= {"dsl_reference.md", "system.md", "iteration.md",
                                 "generate.md", "format_repair.md", "task_improve.md",
                                 "task_generate.md"}


def test_dsl_reference_examples_are_valid_programs():
    text = load_template("dsl_reference").template
    blocks = re.findall(r"```\n(.*?)```", text, re.DOTALL)
    programs = [b for b in blocks if "def " in b or "Machine(" in b]
    assert programs, "the reference should show complete examples"
    topology = SimpleTopology(nodes=2, processors={"CPU": 2, "GPU": 4})
    for program in programs:
        if program.lstrip().startswith("def name"):
            program = "m = Machine(GPU);\n" + program.replace("x = t.ipoint[0];", "x = 1;")
        findings = check(parse(program), None, topology)
        assert not [d for d in findings if d.is_error], (program, findings)


def test_system_prompt_has_sections_reference_and_format():
    text = system_prompt()
    for name in SECTION_NAMES:
        assert f"`{name}`" in text
    assert "# Mapping DSL: condensed reference" in text
    assert "```dsl region" in text
    assert "$" not in text.replace("$$", "")  # every placeholder filled
    # the example answer in the system prompt is itself a readable reply
    example = text[text.index("```dsl region"):]
    example = example[: example.index("```", 10) + 3]
    assert set(parse_reply(example).sections) == {"region"}


def test_descriptions_from_reset_info():
    app = describe_app(INFO)
    assert "task stencil [leaf; variants CPU,GPU; index 4]" in app
    assert "region 0: names private, points; RW {input, output}" in app
    assert describe_app({"app_text": "given text", **INFO}) == "given text"
    assert describe_machine(INFO) == "P100 nodes."  # the machine's own description
    counts = {**INFO["machine"], "text": ""}
    machine = describe_machine({"machine": counts})
    assert machine.startswith("Machine p100-node: 2 node(s).")
    assert "Processors per node: 1 CPU, 4 GPU." in machine
    assert "4 FBMEM of 16 GiB" in machine
    multi = describe_machine({"machine": {"nodes": 8, "ranks_per_node": 4}})
    assert "runs 4 Legion ranks" in multi
    with pytest.raises(ValueError):
        describe_app({})
    with pytest.raises(ValueError):
        describe_machine({})


def test_describe_app_info_of_a_benchmark():
    text = describe_app_info(get_app("SUMMA").app_info())
    assert text.startswith("Application SUMMA.")
    assert "task task_4 [leaf; variants GPU; single]" in text


def test_render_sections_round_trips_through_the_reply_parser():
    sections = Sections(task="Task * GPU;", index_task_map="m = Machine(GPU);")
    text = render_sections(sections)
    assert text.count("```dsl ") == 6 and "# (empty)" in text
    parsed = parse_reply(text)
    assert parsed.sections["task"].strip() == "Task * GPU;"
    assert parsed.sections["region"].strip() == "# (empty)"


def test_history_rendering():
    entries = [
        HistoryEntry(1, "Task * CPU;", 0.0, "runtime_error", "Execution Error: boom",
                     note="the start mapper"),
        HistoryEntry(2, "Task * GPU;", 0.9, "ok", "Performance Metric: 1",
                     changed=("task",)),
        HistoryEntry(3, "Task * CPU;", 0.0, "runtime_error", "x" * (MAX_FEEDBACK_CHARS + 500)),
    ]
    text = render_history(entries)
    assert "## Step 1: score 0.0000, runtime_error\nNote: the start mapper" in text
    assert "Sections changed: task" in text
    assert "Program: identical to step 1." in text
    assert "characters omitted" in text
    quiet = render_history(entries, show_feedback=False)
    assert "Execution Error" not in quiet and "Performance Metric" not in quiet
    windowed = render_history(entries[:2], window=1)
    assert "Program: omitted (older step)." in windowed and "```dsl\nTask * GPU;" in windowed
    assert render_history([]) == "No program has been evaluated yet."


def test_improve_messages_hold_problem_sections_history_and_best():
    history = [HistoryEntry(1, "Task * CPU;", 0.25, "ok", "Performance Metric: 3 GFLOPS"),
               HistoryEntry(2, "Task * GPU;", 0.5, "ok", "Performance Metric: 6 GFLOPS")]
    messages = improve_messages("APP TEXT", "MACHINE TEXT", Sections(task="Task * GPU;"),
                                history, step=3, budget=10)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    for needed in ("APP TEXT", "MACHINE TEXT", "```dsl task\nTask * GPU;\n```",
                   "Performance Metric: 6 GFLOPS", "evaluation 3 of 10",
                   "best score so far is 0.5000 (step 2)"):
        assert needed in user
    assert "$" not in user


def test_generate_messages_have_no_history_and_optional_examples():
    zero = generate_messages("APP", "MACHINE", Sections(task="Task * CPU;"))[1]["content"]
    assert "History" not in zero and "Example mappers" not in zero
    example = Example("Other", "Application Other.", "Task * GPU;")
    few = generate_messages("APP", "MACHINE", Sections(), [example])[1]["content"]
    assert "# Example mappers for other applications" in few
    assert "## Other" in few and "```dsl\nTask * GPU;\n```" in few


def test_default_examples_exclude_the_application_and_are_deterministic():
    first = default_examples("Stencil", 5, seed=3)
    assert len(first) == 5 and "Stencil" not in {e.app for e in first}
    assert [e.app for e in default_examples("stencil", 5, seed=3)] == [e.app for e in first]
    assert all(e.program.strip() and e.description.startswith("Application ") for e in first)
    assert len(default_examples(None, 20)) == 9


def test_format_repair_message():
    message = format_repair_message("the reply is empty")
    assert message["role"] == "user"
    assert "the reply is empty" in message["content"]
    assert "index_task_map" in message["content"]
