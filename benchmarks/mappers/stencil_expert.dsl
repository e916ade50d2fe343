# Stencil, expert policy (apps.md §2.10).
# Every task prefers a GPU and falls back to a CPU: stencil and increment run on GPUs, the
# CPU-only tasks (check, print_time, timing helpers) on CPUs.
Task * GPU,CPU;

# Framebuffer on GPUs, system memory on CPUs; no zero-copy memory.
Region * * GPU FBMEM;
Region * * CPU SYSMEM;

# SOA, Fortran order (x fastest) for every region.
Layout * * * SOA F_order;

gpus = Machine(GPU);
cpus = Machine(CPU);

# Tiles per node: one per GPU, or one per CPU on a machine without GPUs (stencil and increment
# then fall back to their CPU variants and are still placed in linear blocks).
per_node = gpus.size[1] > 0 ? gpus.size[1] : cpus.size[1];

# Linear block: tile i goes to node i / G, GPU i mod G, so consecutive tiles fill one node's
# GPUs before moving on to the next node.
def linear_block(Task t) {
    i = t.ipoint[0];
    return gpus.size[1] > 0 ? gpus[i / per_node % gpus.size[0], i % per_node]
                            : cpus[i / per_node % cpus.size[0], i % per_node];
}

# The CPU-only per-tile tasks go to the first CPU of the node that owns the tile.
def linear_block_cpu(Task t) {
    i = t.ipoint[0];
    return cpus[i / per_node % cpus.size[0], 0];
}

IndexTaskMap stencil,increment linear_block;
IndexTaskMap check,print_time linear_block_cpu;
