# Solomonik, Legion's default mapper.
# The default mapper prefers a GPU variant when the node has GPUs, then OpenMP, then CPU; every
# other decision (memories, layouts, index-launch placement, single-task placement) is left to
# the default policy by saying nothing about it. Note that the default layout is Fortran order,
# which the row-major cuBLAS leaf (task_4) rejects (apps.md §4.1).
Task * GPU,OMP,CPU;
