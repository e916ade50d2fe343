# Circuit, Legion's default mapper.
# The default mapper prefers a GPU variant when the node has GPUs, then CPU (these Regent machines have no OpenMP processors); every
# other decision (memories, layouts, index-launch placement, single-task placement) is left to
# the default policy by saying nothing about it.
Task * GPU,CPU;
