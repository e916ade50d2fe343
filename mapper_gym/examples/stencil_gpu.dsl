# A mapper for a 2-D stencil on GPUs: every tile on a GPU, data in framebuffer memory,
# tiles placed in blocks so that neighbouring tiles share a GPU or a node.
Task * GPU,CPU;

Region * * GPU FBMEM;
Region * * CPU SYSMEM;

Layout * * * SOA F_order;

gpus = Machine(GPU);

def block2d(Task t) {
    grid = gpus.merge(0, 1).auto_split(0, t.ispace);
    return grid[t.ipoint[0] * grid.size[0] / t.ispace[0],
                t.ipoint[1] * grid.size[1] / t.ispace[1]];
}

def near_parent(Task t) {
    here = t.parent.processor(gpus);
    return gpus[here[0], *];
}

IndexTaskMap GPU block2d;
SingleTaskMap GPU near_parent;
