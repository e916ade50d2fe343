# Cannon, expert policy (apps.md §4.2).
# GPU, then OpenMP, then CPU: tasks 1-5, init_cublas and taco_fill run on GPUs; task_6, task_7,
# taco_validate and top_level (which have no GPU variant) run on OpenMP processors.
Task * GPU,OMP,CPU;

# Any processor: socket (NUMA) memory first, then system memory. GPUs: framebuffer first,
# then zero-copy memory.
Region * * * SOCKMEM,SYSMEM;
Region * * GPU FBMEM,ZCMEM;

# Row-major (C order) SOA instances everywhere: the cuBLAS leaf requires C order.
Layout * * * SOA C_order;

# Back-pressure: one in-flight instance of the DGEMM leaf and of the per-step inner task.
InstanceLimit task_4 1;
InstanceLimit task_6 1;

# The leaf's read-only inputs are released once it is done.
CollectMemory task_4 *;

gpus = Machine(GPU);
omps = Machine(OMP);

# Placement, fill: factor the nodes into a grid shaped like the 2-D launch (communication-
# minimising), give each node a contiguous block of tiles, factor the node's GPUs like the
# per-node block and deal its tiles out cyclically: tile (x, y) of a 2 x 2 block goes to GPU
# (x mod 2) + 2 (y mod 2).
def block_cyclic_gpu(Task t) {
    nodes = gpus.auto_split(0, t.ispace);
    node = t.ipoint * nodes.size[:-1] / t.ispace;
    local = nodes.auto_split(2, t.ispace / nodes.size[:-1]);
    return local[*node, *(t.ipoint % local.size[2:])];
}

# task_7 (one point per node) and taco_validate: the same node factorisation, on the node's
# first OpenMP processor.
def block_omp(Task t) {
    nodes = omps.auto_split(0, t.ispace);
    node = t.ipoint * nodes.size[:-1] / t.ispace;
    return nodes[*node, 0];
}

# init_cublas: one point per GPU, blocked over the flattened list of all GPUs.
def blocked_gpu(Task t) {
    flat = gpus.merge(0, 1);
    return flat[t.ipoint[0] * flat.size[0] / t.ispace[0]];
}

# The DGEMM leaf runs on the GPU of its parent task_5 (task_5 itself is left to the default
# policy, which keeps its four points on the node, one per GPU).
def same_gpu_as_parent(Task t) {
    return gpus[*t.parent.processor(gpus)];
}

IndexTaskMap task_1,task_2,task_3,taco_fill block_cyclic_gpu;
IndexTaskMap task_7,taco_validate block_omp;
IndexTaskMap init_cublas blocked_gpu;
SingleTaskMap task_4 same_gpu_as_parent;
