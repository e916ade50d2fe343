# PUMMA, expert policy (apps.md §4.2, PUMMA variant). The group's PUMMA file is in an older
# form: nodes split into two balanced factors, GPUs into 2 x 2, blocked over the node factors
# and cyclic over the GPU factors, and memory collection for every task and region.
Task * GPU,OMP,CPU;

# Any processor: socket memory first, then system memory. GPUs: framebuffer, then zero-copy.
Region * * * SOCKMEM,SYSMEM;
Region * * GPU FBMEM,ZCMEM;

# Row-major (C order) SOA instances everywhere: the cuBLAS leaf requires C order.
Layout * * * SOA C_order;

InstanceLimit task_4 1;
InstanceLimit task_6 1;

CollectMemory * *;

gpus = Machine(GPU);
omps = Machine(OMP);

# Placement and fill: (node factor 0, node factor 1, GPU factor 0, GPU factor 1).
def balanced_block_cyclic_gpu(Task t) {
    grid = gpus.balance_split(0, 2).balance_split(2, 2);
    node = t.ipoint * grid.size[:2] / t.ispace;
    return grid[*node, *(t.ipoint % grid.size[2:])];
}

# task_7 (one point per node) and taco_validate: blocked over the node factors, first OpenMP
# processor of the node.
def balanced_block_omp(Task t) {
    grid = omps.balance_split(0, 2);
    node = t.ipoint * grid.size[:2] / t.ispace;
    return grid[*node, 0];
}

def blocked_gpu(Task t) {
    flat = gpus.merge(0, 1);
    return flat[t.ipoint[0] * flat.size[0] / t.ispace[0]];
}

def same_gpu_as_parent(Task t) {
    return gpus[*t.parent.processor(gpus)];
}

IndexTaskMap task_1,task_2,task_3,taco_fill balanced_block_cyclic_gpu;
IndexTaskMap task_7,taco_validate balanced_block_omp;
IndexTaskMap init_cublas blocked_gpu;
SingleTaskMap task_4 same_gpu_as_parent;
