# Solomonik, expert policy for the CPU build (apps.md §4.4; the GPU build's expert policy
# adapted). This Legion has no OpenMP processors, so the CPU build's variants are CPU variants:
# every task runs on CPU processors, with its instances in system memory.
Task * CPU;
Region * * * SYSMEM;

# Row-major (C order) SOA instances everywhere: the leaf's cblas_dgemm takes its leading
# dimensions from dimension 0's stride and rejects Fortran order.
Layout * * * SOA C_order;

# One in-flight DGEMM leaf per processor, and its read-only inputs released once it is done.
InstanceLimit task_4 1;
CollectMemory task_4 *;

cpus = Machine(CPU);
flat = cpus.merge(0, 1);

# task_5 over (r, r, c): factor the processors into a 3-D grid shaped like the launch and
# block the points over it.
def block3d_cpu(Task t) {
    grid = flat.auto_split(0, t.ispace);
    return grid[*(t.ipoint * grid.size / t.ispace)];
}

# Fill, placement and validation: linearise the point and deal the blocks cyclically over the
# processors (fill and placement of a block on the same processor, so the write-discard
# placement keeps the filled values).
def cyclic_cpu(Task t) {
    p = t.ipoint;
    s = t.ispace;
    k = p[0] + s[0] * (p[1] + s[1] * p[2]);
    return flat[k % flat.size[0]];
}

# The r3 DGEMM steps of a point run on the processor of their parent task_5.
def same_cpu_as_parent(Task t) {
    return cpus[*t.parent.processor(cpus)];
}

IndexTaskMap task_5 block3d_cpu;
IndexTaskMap task_1,task_2,task_3,taco_fill,taco_validate cyclic_cpu;
SingleTaskMap task_4 same_cpu_as_parent;
