"""Reading LLM replies: the asked-for format, tolerated deviations, and unusable replies."""

from __future__ import annotations

import pytest

from agents.reply import WHOLE_PROGRAM_SECTIONS, ReplyError, parse_reply, section_name
from agents.sections import SECTION_NAMES

INDEX_BODY = ("gpus = Machine(GPU);\ndef f(Task t) {\n    return gpus[0, t.ipoint[0] % "
              "gpus.size[1]];\n}\nIndexTaskMap stencil f;")


def test_requested_format():
    reply = ("The framebuffer is faster.\n\n```dsl region\nRegion * * GPU FBMEM;\n```\n\n"
             f"```dsl index_task_map\n{INDEX_BODY}\n```\n")
    parsed = parse_reply(reply)
    assert parsed.sections == {"region": "Region * * GPU FBMEM;\n",
                               "index_task_map": INDEX_BODY + "\n"}
    assert parsed.repairs == ()


@pytest.mark.parametrize("label", ["### index_task_map", "**IndexTaskMap section:**",
                                   "Section: index task map", "6. `index_task_map`"])
def test_label_in_heading_before_the_fence(label):
    parsed = parse_reply(f"{label}\n```\n{INDEX_BODY}\n```")
    assert parsed.sections == {"index_task_map": INDEX_BODY + "\n"}
    assert any("label" in r for r in parsed.repairs)


def test_label_in_first_line_comment_or_other_tag():
    parsed = parse_reply(f"```\n# section: index_task_map\n{INDEX_BODY}\n```")
    assert parsed.sections["index_task_map"].strip() == INDEX_BODY
    parsed = parse_reply("```python task\nTask * GPU;\n```")
    assert parsed.sections == {"task": "Task * GPU;\n"}
    parsed = parse_reply("~~~dsl layout\nLayout * * * AOS;\n~~~")
    assert parsed.sections == {"layout": "Layout * * * AOS;\n"}


def test_json_replies():
    parsed = parse_reply('{"task": "Task * GPU;", "layout": ["Layout * * * C_order;"]}')
    assert parsed.sections == {"task": "Task * GPU;", "layout": "Layout * * * C_order;"}
    parsed = parse_reply('Sure!\n```json\n{"sections": {"InstanceLimit": ""}}\n```')
    assert parsed.sections == {"instance_limit": ""}


def test_missing_fences_with_prose():
    reply = ("I suggest:\nTask * GPU,CPU;\nTask placement stays the same otherwise.\n"
             "Region * * GPU ZCMEM;\ndef f(Task t):\n    return gpus[0,0];\n"
             "IndexTaskMap stencil f;\nThat should be faster.")
    parsed = parse_reply(reply)
    # three sections: a whole program, so the missing sections are cleared
    assert parsed.sections["task"] == "Task * GPU,CPU;"
    assert parsed.sections["region"] == "Region * * GPU ZCMEM;"
    # the Python-style def is NOT repaired: the compiler's feedback must see it
    assert parsed.sections["index_task_map"] == (
        "def f(Task t):\n    return gpus[0,0];\nIndexTaskMap stencil f;")
    assert parsed.sections["layout"] == "" and parsed.sections["single_task_map"] == ""
    assert "no code fences" in parsed.repairs[0]


def test_headings_without_fences():
    parsed = parse_reply("### task\nTask * CPU;\n### instance_limit\n(none)\n")
    assert parsed.sections == {"task": "Task * CPU;", "instance_limit": ""}


def test_whole_program_in_one_unlabelled_block_replaces_every_section():
    parsed = parse_reply("Full mapper:\n```dsl\nTask * GPU;\nRegion * * GPU FBMEM;\n"
                         "Layout * * * SOA;\n```")
    assert set(parsed.sections) == set(SECTION_NAMES)
    assert parsed.sections["index_task_map"] == ""
    assert WHOLE_PROGRAM_SECTIONS == 3


def test_partial_unlabelled_code_replaces_only_its_sections():
    parsed = parse_reply("```\nTask * GPU;\nRegion * * GPU FBMEM;\n```")
    assert parsed.sections == {"task": "Task * GPU;", "region": "Region * * GPU FBMEM;"}


def test_block_labelled_for_one_section_with_statements_of_others_is_split():
    reply = ("Here is the full mapper with updated task placement:\n```dsl\nTask * GPU;\n"
             "Region * * GPU FBMEM;\nLayout * * * SOA;\n```")
    parsed = parse_reply(reply)
    assert parsed.sections["task"] == "Task * GPU;"
    assert parsed.sections["region"] == "Region * * GPU FBMEM;"
    reply = ("```dsl index_task_map\ndef f(Task t) {\n return m[0,0];\n}\nIndexTaskMap a f;\n"
             "SingleTaskMap b f;\n```")
    parsed = parse_reply(reply)
    assert parsed.sections == {"index_task_map": "def f(Task t) {\n return m[0,0];\n}\n"
                                                 "IndexTaskMap a f;",
                               "single_task_map": "SingleTaskMap b f;"}


def test_unclosed_fence_and_repeated_sections():
    parsed = parse_reply("```dsl task\nTask * CPU;\n```\nActually:\n```dsl task\nTask * GPU;")
    assert parsed.sections == {"task": "Task * GPU;"}
    assert any("not closed" in r for r in parsed.repairs)
    assert any("more than once" in r for r in parsed.repairs)


def test_empty_block_clears_a_section():
    parsed = parse_reply("```dsl instance_limit\n# no limits\n```")
    assert parsed.sections == {"instance_limit": "# no limits\n"}


def test_non_code_blocks_are_ignored():
    reply = "```text\nPerformance Metric: 12 GFLOPS\n```\n```dsl task\nTask * GPU;\n```"
    assert parse_reply(reply).sections == {"task": "Task * GPU;\n"}
    reply = "```diff\n- Task * CPU;\n+ Task * GPU;\n```"
    with pytest.raises(ReplyError):
        parse_reply(reply)


@pytest.mark.parametrize("reply", ["", "   \n", "I cannot help with that.",
                                   '```json\n{"foo": 1}\n```', "{not json at all",
                                   "Task placement is fine as it is."])
def test_unusable_replies_raise_reply_error(reply):
    with pytest.raises(ReplyError):
        parse_reply(reply)


def test_reply_error_for_non_text():
    with pytest.raises(ReplyError):
        parse_reply(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("label", "name"), [
    ("task", "task"), ("Tasks", "task"), ("REGION", "region"), ("Layout section", "layout"),
    ("InstanceLimit", "instance_limit"), ("instance-limit", "instance_limit"),
    ("IndexTaskMap", "index_task_map"), ("index task map", "index_task_map"),
    ("def single_task_map", "single_task_map"), ("SingleTaskMap()", "single_task_map"),
    ("dsl", None), ("placement", None),
])
def test_section_names(label, name):
    assert section_name(label) == name


def test_fence_tags_with_other_separators():
    assert parse_reply("```dsl:region\nRegion * * GPU FBMEM;\n```").sections == {
        "region": "Region * * GPU FBMEM;\n"}
    assert parse_reply("```dsl section=layout\nLayout * * * AOS;\n```").sections == {
        "layout": "Layout * * * AOS;\n"}


def test_helpers_alone_never_replace_a_section():
    helper = "def near(Task t) {\n    return m[0, 0];\n}"
    # prose mentions a section, the block has none of its statements
    reply = (f"Here is a helper for the task placement:\n```\n{helper}\n```\n"
             "```dsl region\nRegion * * GPU FBMEM;\n```")
    parsed = parse_reply(reply)
    assert parsed.sections == {"region": "Region * * GPU FBMEM;\n"}
    assert any("no task statement" in r for r in parsed.repairs)
    # an unlabelled block of machine variables alone: not a section
    with pytest.raises(ReplyError):
        parse_reply("Machine variables:\n```\ngpus = Machine(GPU);\n```")
    # with the tag the model was asked for, a helper-only section is taken as written
    tagged = parse_reply(f"```dsl index_task_map\n{helper}\n```")
    assert tagged.sections == {"index_task_map": helper + "\n"}


def test_prose_label_may_clear_a_section():
    parsed = parse_reply("### instance_limit\n```\n# no limits\n```")
    assert parsed.sections == {"instance_limit": "# no limits\n"}
