# Johnson, expert policy for the CPU build (apps.md §4.3; the GPU build's expert policy
# adapted). This Legion has no OpenMP processors, so the CPU build's variants are CPU variants:
# every task runs on CPU processors, with its instances in system memory.
Task * CPU;
Region * * * SYSMEM;

# Row-major (C order) SOA instances everywhere: the leaf's cblas_dgemm takes its leading
# dimensions from dimension 0's stride and rejects Fortran order.
Layout * * * SOA C_order;

CollectMemory task_4 *;

flat = Machine(CPU).merge(0, 1);

# Fill, placement and validation: linearise the 3-D point and deal the blocks cyclically over
# all processors, B and C one and two matrices further on than A so that the three matrices
# spread out. Fill and placement of a block land on the same processor, so the write-discard
# placement keeps the filled values in the same instance.
def cyclic_cpu(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    matrix = s[2] == 1 ? 0 : (s[1] == 1 ? 1 : 2);
    return flat[(k + matrix * t.ispace.volume) % flat.size[0]];
}

# task_5, the compute grid (the GPU build's task_4): factor the processors into a 3-D grid
# shaped like the launch (communication-minimising) and give each a contiguous block of points.
# Its two row-half leaves are left to the default policy, which slices them over the node's
# processors, one half each.
def block3d_cpu(Task t) {
    grid = flat.auto_split(0, t.ispace);
    return grid[*(t.ipoint * grid.size / t.ispace)];
}

IndexTaskMap task_1,task_2,task_3,taco_fill,taco_validate cyclic_cpu;
IndexTaskMap task_5 block3d_cpu;
