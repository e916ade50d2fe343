# Pennant, expert policy (apps.md §3.10).
# GPU first, then CPU.
Task * GPU,CPU;

# Framebuffer on GPUs, system memory on CPUs ...
Region * * GPU FBMEM;
Region * * CPU SYSMEM;

# ... except the boundary-point partitions, which go to zero-copy memory for every GPU task,
# so that the GPUs of a node share one host instance of all boundary points.
Region * rp_all_shared_p GPU ZCMEM;
Region * rp_all_ghost_p GPU ZCMEM;

# SOA, C order.
Layout * * * SOA C_order;

gpus = Machine(GPU);
cpus = Machine(CPU);

# Linear cyclic, keyed by processor kind: point i goes round-robin over the nodes first, then
# over the GPUs of a node (node i mod N, GPU i / N).
def linear_cyclic_gpu(Task t) {
    i = t.ipoint[0];
    return gpus[i % gpus.size[0], i / gpus.size[0] % gpus.size[1]];
}

# CPU index launches (initialize_topology, init_pointers, ...) go to the CPU of node i mod N.
def linear_cyclic_cpu(Task t) {
    i = t.ipoint[0];
    return cpus[i % cpus.size[0], 0];
}

IndexTaskMap GPU linear_cyclic_gpu;
IndexTaskMap CPU linear_cyclic_cpu;

# The scalar single tasks (calc_global_dt, continue_simulation) run on a CPU of the node that
# runs their parent.
def parent_node_cpu(Task t) {
    here = t.parent.processor(cpus);
    return cpus[here[0], 0];
}

SingleTaskMap calc_global_dt,continue_simulation parent_node_cpu;
