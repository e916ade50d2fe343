"""Machine models for the simulator: presets as data files, a loader, and the derived model.

Quick tour::

    from mapper_gym.machine import load_machine

    m = load_machine()                               # "p100-node", the paper's node
    m = load_machine("lassen", nodes=16)             # 16 Lassen-like nodes
    m = m.with_legion_settings(util=4, bgwork=12)    # an application's -ll: flags
    gpu = m.processor("GPU", node=0, index=2)
    fb = m.best_memory(gpu, "FBMEM")                 # its own framebuffer
    m.access(gpu, m.memory("ZCMEM", 0))              # zero-copy bandwidth, latency, links
    m.copy_path(fb, m.memory("FBMEM", 1, 0))         # a copy across the network

Units are SI everywhere in the model: bytes, bytes/s, seconds, flop/s. Machine files use unit
suffixes in their key names and are converted once when read.

Terms: a *host* is a physical node; a *node* is a Legion address space (the DSL's node), so
``Machine.nodes == Machine.hosts * Machine.ranks_per_node``; ``load_machine(nodes=...)``
counts hosts.

Every hardware figure lives in ``presets/*.toml`` with an evidence label and a source note
(machine.md); :attr:`Machine.sources` keeps them, and values set at load time are labelled
``U``. The DSL front end sees a Machine through the ``Topology`` protocol of
:mod:`mapper_gym.dsl.context`.
"""

from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.flags import LEGION_SETTINGS, parse_legion_flags, parse_size_mib
from mapper_gym.machine.loader import DEFAULT_PRESET, list_presets, load_machine, realm_defaults
from mapper_gym.machine.machine import OVERRIDES, Machine
from mapper_gym.machine.model import (
    DSL_PROCESSOR_KINDS,
    HOST_MEMORY_KINDS,
    LABELS,
    MEMORY_KINDS,
    PROCESSOR_KINDS,
    Access,
    AffinityTable,
    Compute,
    CopyPath,
    CoreBudget,
    GpuSpec,
    HardwareSpec,
    HostSpec,
    KernelEfficiency,
    LegionSettings,
    Link,
    Memory,
    NetworkSpec,
    NodeRange,
    NominalAffinity,
    Overheads,
    PeerRoute,
    Processor,
    Source,
    ZeroCopySpec,
)

__all__ = [
    "DEFAULT_PRESET",
    "DSL_PROCESSOR_KINDS",
    "HOST_MEMORY_KINDS",
    "LABELS",
    "LEGION_SETTINGS",
    "MEMORY_KINDS",
    "OVERRIDES",
    "PROCESSOR_KINDS",
    "Access",
    "AffinityTable",
    "Compute",
    "CopyPath",
    "CoreBudget",
    "GpuSpec",
    "HardwareSpec",
    "HostSpec",
    "KernelEfficiency",
    "LegionSettings",
    "Link",
    "Machine",
    "MachineError",
    "Memory",
    "NetworkSpec",
    "NodeRange",
    "NominalAffinity",
    "Overheads",
    "PeerRoute",
    "Processor",
    "Source",
    "ZeroCopySpec",
    "list_presets",
    "load_machine",
    "parse_legion_flags",
    "parse_size_mib",
    "realm_defaults",
]
