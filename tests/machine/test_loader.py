"""load_machine: overrides, their validation, and structured errors for bad input."""

from __future__ import annotations

import pytest

from mapper_gym.machine import Machine, MachineError, load_machine

MIB = 1 << 20


def test_machine_error_is_a_value_error_with_a_key():
    with pytest.raises(ValueError) as info:
        load_machine("p100-node", cpus=4)
    assert isinstance(info.value, MachineError)
    assert info.value.key == "cpus"
    assert "'cpu'" in str(info.value)  # suggests the close name


def test_unknown_preset_lists_the_presets():
    with pytest.raises(MachineError, match=r"unknown machine preset 'p200'.*lassen.*p100-node"):
        load_machine("p200")


def test_base_layer_is_not_a_preset():
    with pytest.raises(MachineError, match="unknown machine preset"):
        load_machine("_base")


def test_missing_file_path():
    with pytest.raises(MachineError, match="machine file not found"):
        load_machine("/nonexistent/machine.toml")


@pytest.mark.parametrize("nodes", [1, 2, 16, 64])
def test_lassen_node_range_accepts_one_to_sixty_four(nodes):
    assert load_machine("lassen", nodes=nodes).nodes == nodes


@pytest.mark.parametrize("nodes", [0, 65, -1])
def test_lassen_rejects_out_of_range_nodes(nodes):
    with pytest.raises(MachineError, match=r"out of range.*1\.\.64") as info:
        load_machine("lassen", nodes=nodes)
    assert info.value.key == "nodes"


@pytest.mark.parametrize("name", ["p100-node", "local-cpu"])
def test_single_node_presets_reject_more_nodes_and_say_why(name):
    with pytest.raises(MachineError, match=r"no network.*lassen"):
        load_machine(name, nodes=2)


def test_nodes_must_be_an_integer():
    with pytest.raises(MachineError, match="integer"):
        load_machine("lassen", nodes="4")  # type: ignore[arg-type]


def test_processor_overrides_change_the_counts():
    m = load_machine("p100-node", cpu=4, gpu=2, util=1, omp=2, omp_threads=4, io=1, py=1)
    assert [m.processors_per_node(k) for k in ("CPU", "GPU", "UTIL", "OMP", "IO", "PY")] == [
        4, 2, 1, 2, 1, 1,
    ]
    assert len(m.processors_of("GPU")) == 2
    assert all(p.threads == 4 for p in m.processors_of("OMP"))
    # OpenMP groups are spread one per socket
    assert [p.socket for p in m.processors_of("OMP")] == [0, 1]
    assert len(m.memories_of("FBMEM", 0)) == 2


@pytest.mark.parametrize(
    ("flag", "value", "kind", "mib"),
    [
        ("csize", 2048, "SYSMEM", 2048),
        ("csize", "8G", "SYSMEM", 8192),
        ("fsize", "15G", "FBMEM", 15360),
        ("zsize", 64, "ZCMEM", 64),
        ("rsize", 1024, "RDMEM", 1024),
        ("nsize", "1G", "SOCKMEM", 1024),
    ],
)
def test_memory_size_overrides(flag, value, kind, mib):
    m = load_machine("p100-node", **{flag: value})
    assert m.memory(kind, 0).capacity == mib * MIB
    assert m.source(f"legion.{flag}").label == "U"


@pytest.mark.parametrize(("flag", "kind"), [("zsize", "ZCMEM"), ("rsize", "RDMEM"),
                                             ("csize", "SYSMEM")])
def test_size_zero_means_absent(flag, kind):
    m = load_machine("p100-node", **{flag: 0})
    assert m.memories_of(kind) == ()
    assert m.memories_per_node(kind) == 0


def test_zero_copy_exists_only_with_gpus():
    m = load_machine("p100-node", gpu=0)
    assert m.memories_of("ZCMEM") == () and m.memories_of("FBMEM") == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gpu": 5}, "needs 5 GPUs, but a node has 4"),
        ({"ranks_per_node": 2}, "needs 8 GPUs"),
        ({"fsize": 16384}, "does not fit in a GPU's memory"),
        ({"fsize": 0}, "every GPU needs a framebuffer"),
        ({"csize": 300000}, "exceed the node's"),
        ({"nsize": 200000}, "does not fit in a socket"),
        ({"cpu": 0}, "top-level task"),
        ({"util": 0}, "utility processors"),
        ({"bgwork": 0}, "background workers"),
        ({"omp_threads": 0}, "at least one thread"),
        ({"cpu": -1}, "must be >= 0"),
        ({"cpu": 1.5}, "non-negative integer"),
        ({"csize": "lots"}, "expected a size in MiB"),
        ({"onuma": 2}, "expected 0/1"),
        ({"ranks_per_node": 0}, "ranks_per_node must be an integer >= 1"),
    ],
)
def test_bad_overrides_are_structured_errors(overrides, message):
    with pytest.raises(MachineError, match=message):
        load_machine("p100-node", **overrides)


def test_gpu_override_on_a_cpu_only_machine():
    with pytest.raises(MachineError, match="a node has 0"):
        load_machine("local-cpu", gpu=1)


def test_lassen_sockmem_needs_ncsize_zero():
    # machine.md §2: -ll:ncsize 0 keeps Realm from carving SOCKMEM out of GPU NUMA domains
    with pytest.raises(MachineError, match="CPU-less NUMA domains"):
        load_machine("lassen", nsize=75000, csize=5000)
    m = load_machine("lassen", nsize=75000, ncsize=0, csize=5000, omp=2, omp_threads=18)
    assert len(m.memories_of("SOCKMEM", 0)) == 2


def test_overrides_return_new_machines_and_leave_the_original_alone():
    base = load_machine("lassen")
    bigger = base.with_overrides(nodes=4, util=4)
    assert (base.nodes, base.processors_per_node("UTIL")) == (1, 2)
    assert (bigger.nodes, bigger.processors_per_node("UTIL")) == (4, 4)
    assert bigger == load_machine("lassen", nodes=4, util=4)
    assert hash(bigger) == hash(load_machine("lassen", nodes=4, util=4))
    assert bigger.fingerprint == load_machine("lassen", nodes=4, util=4).fingerprint
    assert bigger.fingerprint != base.fingerprint


def test_with_legion_settings_applies_application_flags():
    # the V100 GPU build of the DISTAL apps, one rank per node (apps.md)
    m = load_machine("lassen", nodes=2).with_legion_settings(
        omp=1, omp_threads=10, csize=150000, util=4, gpu=4, fsize=15000, bgwork=12, zsize=64,
        rsize=0,
    )
    assert isinstance(m, Machine)
    assert m.nodes == 2
    assert m.legion.bgwork == 12 and m.legion.util == 4
    assert m.memory("ZCMEM", 1).capacity == 64 * MIB
    assert m.memories_of("RDMEM") == ()
    assert m.source("legion.bgwork").label == "U"


def test_with_legion_settings_rejects_the_node_count_and_unknown_flags():
    m = load_machine("lassen")
    with pytest.raises(MachineError, match="unknown Legion setting 'nodes'"):
        m.with_legion_settings(nodes=4)
    with pytest.raises(MachineError, match=r"unknown Legion setting 'fbsize'.*'fsize'"):
        m.with_legion_settings(fbsize=1000)


def test_processor_and_memory_lookups_fail_clearly():
    m = load_machine("p100-node")
    with pytest.raises(MachineError, match=r"no processor GPU\[0, 4\]"):
        m.processor("GPU", 0, 4)
    with pytest.raises(MachineError, match="no memory SOCKMEM"):
        m.memory("SOCKMEM", 0)
    with pytest.raises(MachineError, match="kernel class"):
        m.efficiency("dense_sgemm")


# ----------------------------------------------------------------------------------------------
# Machine files written by users


def _write(tmp_path, text, name="m.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_unlabelled_value_in_a_user_file_is_refused(tmp_path):
    path = _write(tmp_path, 'extends = "p100-node"\n[gpu]\nhbm_sustained_gbs = 600.0\n')
    with pytest.raises(MachineError, match=r"needs a record with a label.*gpu.hbm_sustained_gbs"):
        load_machine(path)


def test_bad_label_is_refused(tmp_path):
    path = _write(tmp_path, 'extends = "p100-node"\n[gpu.hbm_sustained_gbs]\nvalue = 600.0\n'
                            'label = "X"\nnote = "who knows"\n')
    with pytest.raises(MachineError, match="label"):
        load_machine(path)


def test_unknown_key_is_refused(tmp_path):
    path = _write(tmp_path, 'extends = "p100-node"\n[gpu.hbm_sustianed_gbs]\nvalue = 600.0\n'
                            'label = "A"\nnote = "a typo in the key"\n')
    with pytest.raises(MachineError, match=r"gpu.hbm_sustianed_gbs: unknown key"):
        load_machine(path)


def test_invalid_toml_is_a_machine_error(tmp_path):
    with pytest.raises(MachineError, match="invalid TOML"):
        load_machine(_write(tmp_path, "[gpu\n"))


def test_cyclic_extends_is_refused(tmp_path):
    _write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    path = _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(MachineError, match="cyclic"):
        load_machine(path)


def test_widening_the_affinity_table_is_refused(tmp_path):
    path = _write(
        tmp_path,
        'extends = "p100-node"\n[affinity.GPU]\nSYSMEM = [50, 50]\nFBMEM = [200, 5]\n'
        'label = "A"\nnote = "GPUs reading pageable memory"\n',
    )
    with pytest.raises(MachineError, match="narrow"):
        load_machine(path)


def test_a_user_cluster_of_p100_nodes(tmp_path):
    path = _write(
        tmp_path,
        'extends = "p100-node"\n'
        "[machine.nodes]\ndefault = 1\nmin = 1\nmax = 4\n"
        'label = "S"\nnote = "the group\'s four-node P100 scripts"\n'
        "[network.rails]\ncount = 1\nsockets = [0]\nlabel = \"A\"\nnote = \"one EDR adapter\"\n"
        '[network.rail_peak_gbs]\nvalue = 12.5\nlabel = "V"\nnote = "EDR 100 Gb/s"\n'
        '[network.rail_gbs]\nvalue = 11.0\nlabel = "A"\nnote = "sustained, as Preset B"\n'
        '[network.latency_us]\nvalue = 1.5\nlabel = "A"\nnote = "as Preset B"\n'
        '[network.gpudirect]\nvalue = false\nlabel = "A"\nnote = "no GPUDirect assumed"\n'
        '[network.fabric]\nvalue = "one switch"\nlabel = "A"\nnote = "four nodes on a switch"\n',
    )
    m = load_machine(path, nodes=4)
    assert m.nodes == 4 and len(m.processors_of("GPU")) == 16
    path_ = m.copy_path(m.memory("FBMEM", 0, 0), m.memory("FBMEM", 3, 0))
    assert path_.route == "network" and path_.staged  # staged through host memory
