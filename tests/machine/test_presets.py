"""The shipped presets: they load, every value is sourced, and they say what machine.md says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import mapper_gym.machine as machine_pkg
from mapper_gym.machine import list_presets, load_machine

PRESETS_DIR = Path(machine_pkg.__file__).with_name("presets")
MIB = 1 << 20
GIB = 1 << 30
STRUCTURAL = {"extends", "machine.name", "machine.description"}


def test_list_presets_names_the_three_presets():
    assert list_presets() == ("lassen", "local-cpu", "p100-node")


@pytest.mark.parametrize("name", ["p100-node", "lassen", "local-cpu"])
def test_every_preset_loads(name):
    machine = load_machine(name)
    assert machine.name == name
    assert machine.nodes == 1
    assert machine.processors and machine.memories and machine.links


def test_default_preset_is_the_paper_node():
    assert load_machine().name == "p100-node"


# ----------------------------------------------------------------------------------------------
# Evidence labels, checked on the raw files independently of the loader


def _walk(table, prefix=""):
    """Yield (dotted path, value, covering record or None) for every leaf of a raw TOML file."""
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "label" in value:
            for field, leaf in value.items():
                if field not in ("label", "note"):
                    yield f"{path}.{field}", leaf, value
        elif isinstance(value, dict):
            yield from _walk(value, path + ".")
        else:
            yield path, value, None


def _data_files():
    return sorted(PRESETS_DIR.glob("*.toml"))


def test_data_files_exist():
    names = {p.name for p in _data_files()}
    assert {"_base.toml", "p100-node.toml", "lassen.toml", "local-cpu.toml"} <= names


@pytest.mark.parametrize("path", _data_files(), ids=lambda p: p.name)
def test_every_value_in_every_file_has_a_label_and_a_note(path):
    raw = tomllib.loads(path.read_text())
    leaves = list(_walk(raw))
    assert leaves
    numeric = 0
    for dotted, value, record in leaves:
        if dotted in STRUCTURAL:
            continue
        assert record is not None, f"{path.name}: {dotted} = {value!r} has no label"
        assert record["label"] in set("VRSPDA"), f"{path.name}: {dotted}: bad label"
        assert isinstance(record["note"], str) and len(record["note"].strip()) >= 10, (
            f"{path.name}: {dotted}: the source note is missing or too short"
        )
        if isinstance(value, int | float) or (
            isinstance(value, list) and all(isinstance(v, int | float) for v in value)
        ):
            numeric += 1
    assert numeric > 5


def test_loaded_machine_keeps_a_source_for_every_value():
    machine = load_machine("lassen")
    assert machine.source("gpu.peak.fp64_tflops").label == "V"
    assert machine.source("gpu.hbm_sustained_gbs").label == "A"
    assert machine.source("legion.fsize").label == "S"
    assert machine.source("legion.ib_zsize").label == "R"  # from the base layer
    assert machine.source("overheads.point_task.untraced_us").label == "A"
    assert "TOP500" in machine.source("host.clock.ghz").note
    assert all(src.label in set("VRSPDA") for src in machine.sources.values())


# ----------------------------------------------------------------------------------------------
# Preset A: the paper's node (machine.md §3, §3.4)


def test_p100_node_has_four_p100s_two_per_socket():
    m = load_machine("p100-node")
    gpus = m.processors_of("GPU")
    assert len(gpus) == 4
    assert [g.socket for g in gpus] == [0, 0, 1, 1]
    assert m.processors_per_node("GPU") == 4
    assert m.processors_per_node("CPU") == 1
    assert m.processors_per_node("UTIL") == 2
    assert m.hardware.gpu is not None
    assert m.hardware.gpu.fp64_flops == pytest.approx(4.7e12)
    assert m.hardware.gpu.hbm_bandwidth == pytest.approx(540e9)
    assert m.hardware.host.sockets == 2 and m.hardware.host.usable_cores == 20
    assert m.hardware.host.dram_bytes == 256 * GIB


def test_p100_node_memories_are_the_regent_settings():
    m = load_machine("p100-node")
    fbs = m.memories_of("FBMEM", 0)
    assert len(fbs) == 4
    assert all(fb.capacity == 15000 * MIB for fb in fbs)
    # "16 GB-ish as Legion sees it": 15000 MiB is 15.7 GB
    assert 15e9 < fbs[0].capacity < 16e9
    assert [fb.gpu for fb in fbs] == [0, 1, 2, 3]
    assert m.memory("SYSMEM", 0).capacity == 150000 * MIB
    assert m.memory("ZCMEM", 0).capacity == 2048 * MIB
    assert m.memory("RDMEM", 0).capacity == 512 * MIB
    assert m.memories_of("SOCKMEM", 0) == ()


def test_p100_node_distal_gpu_build_settings():
    # apps.md: -ll:ocpu 1 -ll:othr 1 -ll:util 2 -ll:bgwork 2 -ll:gpu 4 -ll:fsize 15G
    #          -ll:nsize 30G -ll:ncsize 0, csize default
    m = load_machine("p100-node").with_legion_flags(
        "-ll:ocpu 1 -ll:othr 1 -ll:util 2 -ll:bgwork 2 -ll:gpu 4 -ll:fsize 15G "
        "-ll:nsize 30G -ll:ncsize 0 -ll:csize 512 -ll:zsize 64 -ll:rsize 0"
    )
    assert m.memory("FBMEM", 0, 3).capacity == 15 * GIB
    assert m.memory("ZCMEM", 0).capacity == 64 * MIB
    assert [s.socket for s in m.memories_of("SOCKMEM", 0)] == [0, 1]
    assert all(s.capacity == 30 * GIB for s in m.memories_of("SOCKMEM", 0))
    assert m.memories_of("RDMEM", 0) == ()
    assert m.processors_per_node("OMP") == 1


# ----------------------------------------------------------------------------------------------
# Preset B: Lassen-like (machine.md §4)


def test_lassen_sixteen_nodes_have_sixty_four_gpus():
    m = load_machine("lassen", nodes=16)
    assert m.nodes == 16 and m.hosts == 16
    gpus = m.processors_of("GPU")
    assert len(gpus) == 16 * 4
    assert {(g.node, g.index) for g in gpus} == {(n, i) for n in range(16) for i in range(4)}
    assert len(m.memories_of("FBMEM")) == 64
    assert m.network is not None and m.network.rails == 2


def test_lassen_four_ranks_per_node_layout():
    # machine.md §4.3: 4N address spaces, each 1 GPU, 1 CPU, 1 util, 37500 MiB SYSMEM,
    # its own 64 MiB ZCMEM and a 15000 MiB framebuffer; Machine(GPU) = (4N, 1)
    m = load_machine(
        "lassen", nodes=2, ranks_per_node=4, gpu=1, cpu=1, util=1, csize=37500, zsize=64
    )
    assert m.nodes == 8 and m.hosts == 2
    assert m.processors_per_node("GPU") == 1
    gpus = m.processors_of("GPU")
    assert [(g.node, g.host, g.gpu) for g in gpus] == [
        (a, a // 4, a % 4) for a in range(8)
    ]
    for node in range(8):
        assert m.memory("SYSMEM", node).capacity == 37500 * MIB
        assert m.memory("ZCMEM", node).capacity == 64 * MIB
        assert len(m.memories_of("FBMEM", node)) == 1
        gpu = m.processor("GPU", node, 0)
        # each rank's host memories live on its GPU's socket
        assert m.memory("SYSMEM", node).socket == gpu.socket


# ----------------------------------------------------------------------------------------------
# local-cpu: the CPU-only development machine


def test_local_cpu_has_no_gpu_and_no_gpu_memories():
    m = load_machine("local-cpu")
    assert m.hardware.gpu is None and m.hardware.zero_copy is None and m.network is None
    assert m.processors_per_node("GPU") == 0
    assert m.processors_per_node("CPU") == 2
    assert m.memories_of("FBMEM") == () and m.memories_of("ZCMEM") == ()
    assert not m.can_use("CPU", "ZCMEM")
    assert not m.can_use("GPU", "FBMEM")
    assert m.can_use("CPU", "SYSMEM")
    assert m.hardware.host.sockets == 1 and m.hardware.host.usable_cores == 2
    assert 23 * GIB < m.hardware.host.dram_bytes <= 24 * GIB


# ----------------------------------------------------------------------------------------------
# Data drives the model: a recalibrated file changes the figures, no code involved


def test_a_file_extending_a_preset_recalibrates_the_model(tmp_path):
    calibrated = tmp_path / "p100-calibrated.toml"
    calibrated.write_text(
        'extends = "p100-node"\n'
        "[gpu.hbm_sustained_gbs]\n"
        'value = 600.0\nlabel = "A"\nnote = "calibrated against a STREAM run"\n'
        "[gpu.host_link]\n"
        'gbs = 11.0\nlatency_us = 8.0\nlabel = "A"\nnote = "calibrated pinned copies"\n'
    )
    base = load_machine("p100-node")
    m = load_machine(str(calibrated))
    gpu = m.processor("GPU", 0, 0)
    assert m.access(gpu, m.memory("FBMEM", 0, 0)).bandwidth == pytest.approx(600e9)
    assert base.access(base.processor("GPU", 0, 0), base.memory("FBMEM", 0, 0)).bandwidth == (
        pytest.approx(540e9)
    )
    path = m.copy_path(m.memory("SYSMEM", 0), m.memory("FBMEM", 0, 0))
    assert path.bandwidth == pytest.approx(11e9)
    assert path.latency == pytest.approx(8e-6 + m.hardware.host.inter_socket_latency)
    assert m.source("gpu.host_link.gbs").note == "calibrated pinned copies"
    assert m != base and m.fingerprint != base.fingerprint
    assert m.name == "p100-calibrated"  # named after its file, not after the preset it extends
