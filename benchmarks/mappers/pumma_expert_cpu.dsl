# PUMMA, expert policy for the CPU build (apps.md §4.2 "CPU build"; the GPU build's expert
# policy adapted). This Legion has no OpenMP processors, so the CPU build's variants are CPU
# variants and every task runs on CPU processors, with its instances in system memory.
Task * CPU;
Region * * * SYSMEM;

# Row-major (C order) SOA instances everywhere: the leaf's cblas_dgemm takes its leading
# dimensions from dimension 0's stride and rejects Fortran order.
Layout * * * SOA C_order;

# Back-pressure: one in-flight instance of the DGEMM leaf and of the per-step inner task
# (task_5 in the CPU build, which has no task_7).
InstanceLimit task_4 1;
InstanceLimit task_5 1;

# The leaf's read-only inputs are released once it is done.
CollectMemory task_4 *;

cpus = Machine(CPU);

# Fill, placement, validation and the grid launch task_6, all over the (gx, gy) processor
# grid: factor all processors into a grid shaped like the launch (communication-minimising)
# and give each processor a contiguous block of points, so grid point (i, j) owns tile (i, j)
# of every matrix on the processor that computes it.
def block_cpu(Task t) {
    grid = cpus.merge(0, 1).auto_split(0, t.ispace);
    return grid[*(t.ipoint * grid.size / t.ispace)];
}

# The per-step task stays on the processor of its grid point. Its two row-half DGEMM leaves
# (an index launch) are left to the default policy, which slices them over the node's
# processors, one half each, as the original's halves went to a node's two OpenMP processors.
def same_cpu_as_parent(Task t) {
    return cpus[*t.parent.processor(cpus)];
}

IndexTaskMap task_1,task_2,task_3,taco_fill,taco_validate,task_6 block_cpu;
SingleTaskMap task_5 same_cpu_as_parent;
