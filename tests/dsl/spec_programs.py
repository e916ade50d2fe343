"""Programs and snippets transcribed from the language reference (dsl.md), as test data.

Expression snippets that the reference shows inside prose are wrapped into an assignment
``x = <expr>;`` so that each entry is a complete program.
"""

from __future__ import annotations

#: §6: the illustrative 2-D stencil mapper.
SECTION_6_EXAMPLE = """\
# illustrative policy; task and region names come from the application
Task * GPU,CPU;
Task init_grid,report CPU;

Region * * CPU SOCKMEM,SYSMEM;
Region * * GPU FBMEM;
Region halo grid_ghost GPU ZCMEM,FBMEM;
Region stencil2d 2 GPU ZCMEM;

Layout * * * C_order;
Layout saxpy coeffs FBMEM AOS Align==64;

InstanceLimit reduce_step 2;
CollectMemory halo grid_ghost;

gpus = Machine(GPU);
cpus = Machine(CPU);

def tiles(Task t) {
    g = gpus.merge(0, 1).auto_split(0, t.ispace);
    return g[t.ipoint[0] * g.size[0] / t.ispace[0], t.ipoint[1] * g.size[1] / t.ispace[1]];
}

def first_cpu(Task t) {
    return cpus[t.ipoint[0] % cpus.size[0], 0];
}

def beside_parent(Task t) {
    here = t.parent.processor(gpus);
    return gpus[here[0], (here[1] + 1) % gpus.size[1]];
}

IndexTaskMap halo,stencil2d tiles;
IndexTaskMap CPU first_cpu;
SingleTaskMap reduce_step beside_parent;
"""

#: §8.11 (b): leave GPU 0 of every node free.
SECTION_8_11_B = """\
workers = Machine(GPU).slice(1, 1, 3);          # size (3, 3)
def spread(Task t) {
    k = t.ipoint[0] % workers.volume;
    return workers[k % workers.size[0], k / workers.size[0]];
}
IndexTaskMap saxpy spread;
"""

#: Statement snippets quoted in §6, §10 and §12.
STATEMENT_SNIPPETS: tuple[str, ...] = (
    "Task init_grid,report CPU;",
    "Region * * CPU SOCKMEM,SYSMEM;",
    "IndexTaskMap halo,stencil2d tiles;",
    "Layout saxpy coeffs FBMEM AOS Align==64;",
    "Layout * * * C_order;",
    "InstanceLimit reduce_step 2;",
    "InstanceLimit t GPU 2;",
    "InstanceLimit t * 2;",
    "CollectMemory halo grid_ghost;",
    "CollectMemory * 2;",
    "IndexTaskMap halo tiles; IndexTaskMap halo other;",
    "IndexTaskMap * f;",
    "SingleTaskMap * f;",
    "SingleTaskMap reduce_step beside_parent;",
    "ControlReplicate main_task;",
    "ControlReplicate a,b;",
    "Layout * * * SOA Align==64 No_Align;",
    'print("gpus {}", Machine(GPU));',
)

#: Expressions quoted in §3.2, §4, §7, §8 and §12.
EXPRESSION_SNIPPETS: tuple[str, ...] = (
    "a < b < c",
    "-t.ispace[0]",
    "-2 * 3",
    "a ? b : c ? d : e",
    "-7 / 2 == -3",
    "-7 % 2 == -1",
    "7 % -2 == 1",
    "(6, 4) / (3, 1)",
    "(7, 5) % (2, 2)",
    "(6, 4, 2)[:-1]",
    "t[1:]",
    "t[:-1]",
    "t[:]",
    "t[5:]",
    "m[:-1]",
    "gpus[2, *]",
    "gpus[here[0], *]",
    "m[*blk, *cyc]",
    "m[*blk, *]",
    "f(*pair)",
    "(*t, 0)",
    "gpus[0].has(FBMEM)",
    "gpus[0].has(SYSMEM)",
    "Machine(CPU)[0].has(SYSMEM)",
    "g.split(1, 2).size",
    "g.merge(0, 1)[12]",
    "g.split(1, 3)",
    "g.merge(1, 0)",
    "g.swap(0, 1)",
    "g.slice(1, 1, 3)",
    "g.reverse(0)",
    "Machine(CPU).balance_split(0, 2)",
    "Machine(CPU).balance_split(0, 3)",
    "gpus.merge(0, 1).auto_split(0, (6, 4))",
    "g.greedy_split(0, t.ispace)",
    "t.parent.processor(gpus.split(1, 2))",
    "t.parent.processor(gpus.merge(0, 1))",
    "tuple(ip[i] * 2 for i in (0, 1))",
    "-(-x)",
    "(a + b)[0]",
    "(-x).size",
    "f()",
    "m.size.len",
    "t.ipoint.volume",
)


def expression_program(expr: str) -> str:
    """A one-statement program assigning ``expr``."""
    return f"x = {expr};"


#: Every spec text above as a complete program.
ALL_SPEC_PROGRAMS: tuple[str, ...] = (
    SECTION_6_EXAMPLE,
    SECTION_8_11_B,
    *STATEMENT_SNIPPETS,
    *(expression_program(e) for e in EXPRESSION_SNIPPETS),
    "x = m[*(a + b)];",
)
