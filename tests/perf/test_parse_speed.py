"""Speed of the parse phase (target: median under 10 ms for a realistic ~100-line program).

Run with ``python -m pytest tests/perf/test_parse_speed.py --benchmark-enable``; in the normal
suite (``--benchmark-disable``) the benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

from mapper_gym.dsl import ast
from mapper_gym.dsl.parser import parse

#: A mapper of the size and shape optimizers produce: policy tables, machine views, several
#: entry functions with index arithmetic, splits, wildcards and a recursive helper.
REALISTIC_PROGRAM = """\
# Mapper for a 3-D stencil with a halo exchange and a reduction tree.
Task * GPU,OMP,CPU;
Task init_grid,report,checkpoint CPU;
Task reduce_leaf,reduce_inner OMP,CPU;
Task io_write IO,CPU;

Region * * CPU SOCKMEM,SYSMEM;
Region * * OMP SOCKMEM,SYSMEM;
Region * * GPU FBMEM;
Region halo grid_ghost GPU ZCMEM,FBMEM;
Region halo 1 GPU FBMEM,ZCMEM;
Region stencil3d * GPU FBMEM;
Region stencil3d coeffs * ZCMEM;
Region reduce_leaf partials OMP SOCKMEM;
Region io_write * * SYSMEM;
Region top_level * * VIRTUAL;

Layout * * * C_order SOA;
Layout stencil3d grid FBMEM F_order SOA Align==128;
Layout stencil3d coeffs ZCMEM AOS C_order Exact;
Layout halo grid_ghost * SOA C_order Compact;
Layout reduce_leaf 0 SOCKMEM AOS Align>=64 No_Align;
Layout io_write * SYSMEM C_order Exact Compact;

InstanceLimit reduce_leaf 4;
InstanceLimit halo GPU 8;
InstanceLimit io_write 1;
CollectMemory halo grid_ghost;
CollectMemory stencil3d coeffs;
CollectMemory * 2;
ControlReplicate top_level;

gpus = Machine(GPU);
cpus = Machine(CPU);
omps = Machine(OMP);
nodes = gpus.size[0];
per_node = gpus.size[1];
flat = gpus.merge(0, 1);
blocks = (2, 2, 1);

def clamp(int v, int hi) {
    return v < 0 ? 0 : v >= hi ? hi - 1 : v;
}

def linear3(IPoint p, ISpace s) {
    return p[0] + s[0] * (p[1] + s[1] * p[2]);
}

def block3d(Task t) {
    ip = t.ipoint;
    sp = t.ispace;
    g = flat.auto_split(0, sp);
    idx = tuple(ip[i] * g.size[i] / sp[i] for i in (0, 1, 2));
    return g[*idx];
}

def cyclic(Task t) {
    k = linear3(t.ipoint, t.ispace);
    return flat[k % flat.volume];
}

def halo_map(Task t) {
    ip = t.ipoint;
    sp = t.ispace;
    node = clamp(ip[0] * nodes / sp[0], nodes);
    gpu = (ip[1] + ip[2] * sp[1]) % per_node;
    return gpus[node, gpu];
}

def reduce_map(Task t) {
    leaf = t.ipoint[0];
    c = omps.balance_split(1, 2);
    print("leaf {} of {}", leaf, t.ispace[0]);
    return c[leaf % c.size[0], *, 0];
}

def near_parent(Task t) {
    here = t.parent.processor(gpus);
    nxt = (here[1] + 1) % gpus.size[1];
    ok = gpus[here[0], nxt].has(FBMEM) && here[1] >= 0;
    return ok ? gpus[here[0], nxt] : gpus[here[0], 0];
}

def any_cpu(Task t) {
    here = t.parent.processor(cpus);
    return cpus[here[0], *];
}

def tile2d(Task t) {
    m = gpus.split(1, 2).swap(0, 1);
    x = t.ipoint[0] * m.size[0] / t.ispace[0];
    y = t.ipoint[1] * m.size[1] / t.ispace[1];
    z = -(-t.ipoint[0]) % m.size[2];
    return m[x, y, z];
}

def greedy(Task t) {
    g = gpus.greedy_split(1, t.ispace[:-1]).reverse(0);
    sizes = g.size[1:];
    return g[t.ipoint[0] % g.size[0], *(t.ipoint[1:] % sizes)];
}

IndexTaskMap stencil3d block3d;
IndexTaskMap halo halo_map;
IndexTaskMap reduce_leaf,reduce_inner reduce_map;
IndexTaskMap GPU cyclic;
IndexTaskMap CPU greedy;
IndexTaskMap init_grid,report tile2d;
SingleTaskMap checkpoint near_parent;
SingleTaskMap io_write,report any_cpu;
SingleTaskMap OMP any_cpu;
"""


def test_realistic_program_is_about_100_lines() -> None:
    lines = REALISTIC_PROGRAM.count("\n")
    assert 90 <= lines <= 130
    program = parse(REALISTIC_PROGRAM)
    assert sum(isinstance(s, ast.FuncDef) for s in program.statements) == 10


def test_parse_speed(benchmark) -> None:  # type: ignore[no-untyped-def]
    program = benchmark(parse, REALISTIC_PROGRAM)
    assert isinstance(program, ast.Program)
    assert len(program.statements) > 50
