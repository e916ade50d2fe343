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

# Linear block: tile i goes to node i / G, GPU i mod G, so consecutive tiles fill one node's
# GPUs before moving on to the next node.
def linear_block_gpu(Task t) {
    i = t.ipoint[0];
    return gpus[i / gpus.size[1] % gpus.size[0], i % gpus.size[1]];
}

# The CPU-only per-tile tasks go to the first CPU of the node that owns the tile.
def linear_block_cpu(Task t) {
    i = t.ipoint[0];
    return cpus[i / gpus.size[1] % cpus.size[0], 0];
}

IndexTaskMap stencil,increment linear_block_gpu;
IndexTaskMap check,print_time linear_block_cpu;
