# Solomonik, expert policy (apps.md §4.4).
Task * GPU,OMP,CPU;

# Any processor: socket memory first, then system memory. GPUs: framebuffer, then zero-copy.
Region * * * SOCKMEM,SYSMEM;
Region * * GPU FBMEM,ZCMEM;

# Row-major (C order) SOA instances everywhere: the cuBLAS leaf requires C order.
Layout * * * SOA C_order;

InstanceLimit task_4 1;
CollectMemory task_4 *;

gpus = Machine(GPU);
omps = Machine(OMP);

# task_5 over (r, r, c): factor the nodes into a 3-D grid shaped like the launch
# (communication-minimising), block the points over the nodes, factor each node's GPUs like
# its sub-block and spread the sub-block's points cyclically over them.
def block_cyclic_gpu(Task t) {
    nodes = gpus.auto_split(0, t.ispace);
    node = t.ipoint * nodes.size[:-1] / t.ispace;
    local = nodes.auto_split(3, t.ispace / nodes.size[:-1]);
    return local[*node, *(t.ipoint % local.size[3:])];
}

# Placement and fill: linearise the 3-D point, deal points cyclically over the nodes, then
# over the GPUs of a node.
def cyclic_nodes_gpu(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    return gpus[k % gpus.size[0], k / gpus.size[0] % gpus.size[1]];
}

def cyclic_nodes_omp(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    return omps[k % omps.size[0], k / omps.size[0] % omps.size[1]];
}

# init_cublas: blocked over the flattened list of all GPUs.
def blocked_gpu(Task t) {
    flat = gpus.merge(0, 1);
    return flat[t.ipoint[0] * flat.size[0] / t.ispace[0]];
}

# The DGEMM leaves run on the GPU of their parent task_5 point.
def same_gpu_as_parent(Task t) {
    return gpus[*t.parent.processor(gpus)];
}

IndexTaskMap task_5 block_cyclic_gpu;
IndexTaskMap task_1,task_2,task_3,taco_fill cyclic_nodes_gpu;
IndexTaskMap taco_validate cyclic_nodes_omp;
IndexTaskMap init_cublas blocked_gpu;
SingleTaskMap task_4 same_gpu_as_parent;
