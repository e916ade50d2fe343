# COSMA, expert policy (apps.md §4.5, the same as Johnson's).
# Written for one rank per GPU; with one process driving several GPUs the same ideas apply to
# the flattened list of all GPUs, which is what these functions index.
Task * GPU,OMP,CPU;

# Any processor: socket memory first, then system memory. GPUs: framebuffer, then zero-copy.
Region * * * SOCKMEM,SYSMEM;
Region * * GPU FBMEM,ZCMEM;

# Row-major (C order) SOA instances everywhere: the cuBLAS leaf requires C order.
Layout * * * SOA C_order;

CollectMemory task_4 *;

gpus = Machine(GPU);
omps = Machine(OMP);
flat = gpus.merge(0, 1);
flat_omp = omps.merge(0, 1);
flat_cpu = Machine(CPU).merge(0, 1);

# Placement and fill: linearise the 3-D point and deal the blocks cyclically over all ranks.
# The launches of A, B and C have the shapes (g, g, 1), (g, 1, g) and (1, g, g), so each
# linearises to 0 .. g*g - 1: start B and C one and two matrices further on, so that the three
# matrices spread over all ranks instead of stacking on the first g*g (with 4 ranks per node at
# n = 80000 three stacked 3.2 GB blocks leave no room for a task_4 point).
def cyclic_gpu(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    matrix = s[2] == 1 ? 0 : (s[1] == 1 ? 1 : 2);
    return flat[(k + matrix * t.ispace.volume) % flat.size[0]];
}

# taco_validate runs on OpenMP processors where the ranks have them, and falls back to its CPU
# variant where they do not (the four-ranks-per-node runs pass no -ll:ocpu).
def cyclic_host(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    return flat_omp.size[0] > 0 ? flat_omp[k % flat_omp.size[0]] : flat_cpu[k % flat_cpu.size[0]];
}

# task_4: factor the ranks into a 3-D grid shaped like the launch (communication-minimising)
# and give each rank a contiguous 3-D block of points.
def block3d_gpu(Task t) {
    grid = flat.auto_split(0, t.ispace);
    return grid[*(t.ipoint * grid.size / t.ispace)];
}

# init_cublas: one point per rank.
def per_gpu(Task t) {
    return flat[t.ipoint[0] % flat.size[0]];
}

IndexTaskMap task_1,task_2,task_3,taco_fill cyclic_gpu;
IndexTaskMap task_4 block3d_gpu;
IndexTaskMap init_cublas per_gpu;
IndexTaskMap taco_validate cyclic_host;
