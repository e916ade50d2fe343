"""Legion flag parsing and size units (machine.md §1.2, §2; apps.md flag lines)."""

from __future__ import annotations

import pytest

from mapper_gym.machine import MachineError, load_machine, parse_legion_flags, parse_size_mib


@pytest.mark.parametrize(
    ("text", "mib"),
    [(0, 0), (15000, 15000), ("15000", 15000), ("15G", 15360), ("30g", 30720), ("512M", 512),
     ("1T", 1048576), ("2048K", 2), ("15GB", 15360)],
)
def test_sizes_are_mib_with_realm_suffixes(text, mib):
    assert parse_size_mib(text, "fsize") == mib


@pytest.mark.parametrize("bad", [-1, "1.5G", "15X", "1000K", True, 1.5, None])
def test_bad_sizes(bad):
    with pytest.raises(MachineError, match="fsize"):
        parse_size_mib(bad, "fsize")


def test_regent_flag_line_from_apps_md():
    flags = parse_legion_flags(
        "-ll:gpu 4 -ll:util 2 -ll:bgwork 2 -hl:sched 1024 -ll:csize 150000 -ll:fsize 15000 "
        "-ll:zsize 2048 -ll:rsize 512 -ll:gsize 0 -tm:use_semantic_name -dm:replicate 1 "
        "-dm:same_address_space -dm:memoize -lg:no_fence_elision -lg:parallel_replay 2"
    )
    assert flags == {
        "gpu": "4", "util": "2", "bgwork": "2", "csize": "150000", "fsize": "15000",
        "zsize": "2048", "rsize": "512",
    }


def test_distal_flag_lines_from_apps_md_build_the_described_machines():
    v100 = load_machine("lassen", nodes=4).with_legion_flags(
        "-ll:ocpu 1 -ll:othr 10 -ll:csize 150000 -ll:util 4 -dm:replicate 1 -ll:gpu 4 "
        "-ll:fsize 15000 -ll:bgwork 12 -ll:bgnumapin 1 -ll:zsize 64 -ll:rsize 0"
    )
    assert v100.processors_per_node("OMP") == 1 and v100.legion.omp_threads == 10
    assert v100.legion.bgwork == 12 and v100.nodes == 4
    cpu_build = load_machine("lassen", nodes=2, gpu=0).with_legion_flags(
        "-ll:ocpu 2 -ll:othr 18 -ll:onuma 1 -ll:csize 5000 -ll:nsize 75000 -ll:ncsize 0 "
        "-ll:util 2 -dm:replicate 1"
    )
    omps = cpu_build.processors_of("OMP", 1)
    assert [(p.socket, p.threads) for p in omps] == [(0, 18), (1, 18)]
    assert [cpu_build.best_memory(p, "SOCKMEM").socket for p in omps] == [0, 1]
    assert cpu_build.memories_of("FBMEM") == () and cpu_build.memories_of("ZCMEM") == ()


def test_application_flags_after_the_mapping_file_are_skipped():
    flags = parse_legion_flags(["-dslmapper", "-mapping", "circuit.dsl", "-ll:cpu", "4",
                                "-npp", "2500", "-wpp", "10000"])
    assert flags == {"cpu": "4"}


def test_unknown_ll_flag_is_an_error_with_a_suggestion():
    with pytest.raises(MachineError, match=r"unknown Legion flag '-ll:fsz'.*'-ll:fsize'"):
        parse_legion_flags("-ll:fsz 100")


def test_unmodelled_memories_accept_only_zero():
    assert parse_legion_flags("-ll:gsize 0 -ll:msize 0") == {}
    with pytest.raises(MachineError, match="not part of the machine model"):
        parse_legion_flags("-ll:gsize 1024")


def test_flag_without_value():
    with pytest.raises(MachineError, match="needs a value"):
        parse_legion_flags("-ll:cpu -ll:gpu 4")


@pytest.mark.parametrize("name", ["p100-node", "lassen", "local-cpu"])
def test_settings_round_trip_through_their_command_line(name):
    machine = load_machine(name)
    again = machine.with_legion_flags(machine.legion.to_flags())
    assert again.legion == machine.legion
