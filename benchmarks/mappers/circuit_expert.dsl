# Circuit, expert policy (apps.md §1.10).
# GPU first, CPU as fallback: the three loop tasks run on GPUs; init, print and timing tasks
# only have CPU variants and run on CPUs.
Task * GPU,CPU;

# Framebuffer on GPUs, system memory on CPUs ...
Region * * GPU FBMEM;
Region * * CPU SYSMEM;

# ... except the shared and ghost node partitions of the loop tasks, which live in zero-copy
# memory so that all GPUs of a node use one host-resident instance of them.
Region calculate_new_currents rp_shared GPU ZCMEM;
Region calculate_new_currents rp_ghost GPU ZCMEM;
Region distribute_charge rp_shared GPU ZCMEM;
Region distribute_charge rp_ghost GPU ZCMEM;
Region update_voltages rp_shared GPU ZCMEM;

# SOA, C order everywhere (no effect on these 1-D regions).
Layout * * * SOA C_order;

gpus = Machine(GPU);
cpus = Machine(CPU);

# Superpieces per node: one per GPU, or one per CPU on a machine without GPUs (the loop tasks
# then fall back to their CPU variants and this mapper still places them in linear blocks).
per_node = gpus.size[1] > 0 ? gpus.size[1] : cpus.size[1];

# Linear block: superpiece i runs on node i / G, GPU i mod G.
def linear_block(Task t) {
    i = t.ipoint[0];
    return gpus.size[1] > 0 ? gpus[i / per_node % gpus.size[0], i % per_node]
                            : cpus[i / per_node % cpus.size[0], i % per_node];
}

# The CPU-only per-superpiece tasks go to the node that owns the superpiece, spread over its
# CPUs (CPU i mod 4 with four CPUs per node).
def linear_block_cpu(Task t) {
    i = t.ipoint[0];
    return cpus[i / per_node % cpus.size[0], i % cpus.size[1]];
}

IndexTaskMap calculate_new_currents,distribute_charge,update_voltages linear_block;
IndexTaskMap init_piece,init_pointers,print_summary linear_block_cpu;
