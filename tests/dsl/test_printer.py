"""Canonical printer (dsl.md §12): layout, list joins and minimal parentheses."""

from __future__ import annotations

import pytest

from mapper_gym.dsl import ast
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.printer import format_expr, format_program, format_statement
from tests.dsl.spec_programs import SECTION_6_EXAMPLE

A, B, C, X = ast.Name("a"), ast.Name("b"), ast.Name("c"), ast.Name("x")


def canonical(text: str) -> str:
    return format_program(parse(text))


def fmt_expr(text: str) -> str:
    """Canonical form of one expression given as source text."""
    (stmt,) = parse(f"x = {text};").statements
    assert isinstance(stmt, ast.Assign)
    return format_expr(stmt.value)


def test_section_12_example() -> None:
    text = "x=( a+b )*-(c)  ;  y = (p ? q : r) ? 1 : (2) ;"
    assert canonical(text) == "x = (a + b) * -c;\ny = (p ? q : r) ? 1 : 2;\n"


def test_section_6_example_layout() -> None:
    expected = """\
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
    assert canonical(SECTION_6_EXAMPLE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Task   init_grid , report   CPU ;", "Task init_grid,report CPU;"),
        ("Task * GPU , CPU;", "Task * GPU,CPU;"),
        ("Region * * CPU SOCKMEM , SYSMEM;", "Region * * CPU SOCKMEM,SYSMEM;"),
        ("Region t 007 * VIRTUAL;", "Region t 7 * VIRTUAL;"),
        ("IndexTaskMap halo , stencil2d tiles;", "IndexTaskMap halo,stencil2d tiles;"),
        ("IndexTaskMap GPU f;", "IndexTaskMap GPU f;"),
        ("SingleTaskMap * f;", "SingleTaskMap * f;"),
        ("Layout t r FBMEM;", "Layout t r FBMEM;"),
        (
            "Layout * 0 * SOA  Align == 64 No_Align Align>=8 SOA;",
            "Layout * 0 * SOA Align==64 No_Align Align>=8 SOA;",
        ),
        ("InstanceLimit t GPU 2;", "InstanceLimit t 2;"),
        ("InstanceLimit t * 02;", "InstanceLimit t 2;"),
        ("CollectMemory * 3;", "CollectMemory * 3;"),
        ("ControlReplicate a , b;", "ControlReplicate a,b;"),
        ('print( "n={} é" , a+1 ,b);', 'print("n={} é", a + 1, b);'),
        ('print("");', 'print("");'),
        ("x=-1;", "x = -1;"),
    ],
)
def test_statement_layout(text: str, expected: str) -> None:
    assert canonical(text) == expected + "\n"


def test_def_layout_and_blank_lines() -> None:
    text = (
        "def f(int a,Task t){x=a;print(\"{}\",x);return x;}"
        "def g(){return 1;}"
        "y=1;z=2;"
        "def h(IPoint p, ISpace s, MSpace m, bool b){return p;}"
    )
    assert canonical(text) == (
        "def f(int a, Task t) {\n"
        "    x = a;\n"
        '    print("{}", x);\n'
        "    return x;\n"
        "}\n"
        "\n"
        "def g() {\n"
        "    return 1;\n"
        "}\n"
        "\n"
        "y = 1;\n"
        "z = 2;\n"
        "\n"
        "def h(IPoint p, ISpace s, MSpace m, bool b) {\n"
        "    return p;\n"
        "}\n"
    )


def test_file_ends_with_one_newline_and_has_no_edge_blank_lines() -> None:
    text = canonical("\n\n# c\nx = 1;\n\n\n")
    assert text == "x = 1;\n"
    only_def = canonical("def f() { return 1; }")
    assert only_def == "def f() {\n    return 1;\n}\n"
    assert format_program(ast.Program(())) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Binary operands: looser binds get parentheses; equal binds only on the right.
        ("a + b + c", "a + b + c"),
        ("a + (b + c)", "a + (b + c)"),
        ("(a + b) + c", "a + b + c"),
        ("a - (b - c)", "a - (b - c)"),
        ("a * (b + c)", "a * (b + c)"),
        ("(a * b) + c", "a * b + c"),
        ("a < b < c", "a < b < c"),
        ("a < (b < c)", "a < (b < c)"),
        ("a == (b == c)", "a == (b == c)"),
        ("(a || b) && c", "(a || b) && c"),
        ("a || (b && c)", "a || b && c"),
        ("(a && b) || c", "a && b || c"),
        ("a && (b || c)", "a && (b || c)"),
        ("(a == b) < c", "(a == b) < c"),
        ("a % (b / c)", "a % (b / c)"),
        ("(a % b) / c", "a % b / c"),
        # Ternary: parenthesised as binary/unary operand, receiver, first or middle operand.
        ("a ? b : (c ? 1 : 2)", "a ? b : c ? 1 : 2"),
        ("(a ? b : c) ? 1 : 2", "(a ? b : c) ? 1 : 2"),
        ("a ? (b ? 1 : 2) : c", "a ? (b ? 1 : 2) : c"),
        ("a ? b ? 1 : 2 : c", "a ? (b ? 1 : 2) : c"),
        ("(a ? b : c) + 1", "(a ? b : c) + 1"),
        ("1 + (a ? b : c)", "1 + (a ? b : c)"),
        ("-(a ? b : c)", "-(a ? b : c)"),
        ("(a ? b : c)[0]", "(a ? b : c)[0]"),
        ("(a ? b : c).size", "(a ? b : c).size"),
        ("(a || b) ? a + b : a * b", "a || b ? a + b : a * b"),
        ("f(a ? b : c, (a ? b : c))", "f(a ? b : c, a ? b : c)"),
        ("(a ? b : c, 1)", "(a ? b : c, 1)"),
        # Unary minus and unpack.
        ("-(c)", "-c"),
        ("-(-x)", "-(-x)"),
        ("- -x", "-(-x)"),
        ("-(a + b)", "-(a + b)"),
        ("-a + b", "-a + b"),
        ("(-a) * b", "-a * b"),
        ("a * -b", "a * -b"),
        ("a - -b", "a - -b"),
        ("-t.ispace[0]", "-t.ispace[0]"),
        ("(-t).ispace[0]", "(-t).ispace[0]"),
        ("-(t.size)", "-t.size"),
        ("m[*(a + b)]", "m[*(a + b)]"),
        ("f(*-a)", "f(*(-a))"),
        ("(*t, 0)", "(*t, 0)"),
        ("m[*blk, *]", "m[*blk, *]"),
        # Receivers.
        ("(a + b)[0]", "(a + b)[0]"),
        ("(-x).size", "(-x).size"),
        ("(a, b)[0]", "(a, b)[0]"),
        ("(f(a)).len", "f(a).len"),
        ("(Machine(GPU))[0].has(FBMEM)", "Machine(GPU)[0].has(FBMEM)"),
        ("(m.split(0, 2))[1:]", "m.split(0, 2)[1:]"),
        ("(a * b).split(0, 1)", "(a * b).split(0, 1)"),
        ("(3).size", "3.size"),
        # Delimited positions never get top-level parentheses.
        ("f((a + b), (c))", "f(a + b, c)"),
        ("m[(a + b), (-c)]", "m[a + b, -c]"),
        ("t[(a + 1):(-1)]", "t[a + 1:-1]"),
        ("tuple((v * 2) for v in (t))", "tuple(v * 2 for v in t)"),
        ("tuple(v for v in (a, b))", "tuple(v for v in (a, b))"),
        ("((a + b), (c))", "(a + b, c)"),
        # Spacing and literals.
        ("t[1:]", "t[1:]"),
        ("t[:-1]", "t[:-1]"),
        ("t[:]", "t[:]"),
        ("t [ 0 ] . size", "t[0].size"),
        ("f( )", "f()"),
        ("a.split( 0 , 2 )", "a.split(0, 2)"),
        ("00042", "42"),
        ("True && False", "True && False"),
        ("a.has( SYSMEM )", "a.has(SYSMEM)"),
    ],
)
def test_expression_parentheses_and_spacing(text: str, expected: str) -> None:
    assert fmt_expr(text) == expected


def test_format_expr_on_constructed_nodes() -> None:
    assert format_expr(ast.Binary("*", ast.Binary("+", A, B), ast.Neg(C))) == "(a + b) * -c"
    assert format_expr(ast.Neg(ast.IntLit(3))) == "-3"
    assert format_expr(ast.Wildcard()) == "*"
    assert format_expr(ast.Unpack(ast.Ternary(A, B, C))) == "*(a ? b : c)"
    assert format_expr(ast.Slice(X, None, None)) == "x[:]"
    assert format_expr(ast.TupleComp(X, "v", ast.TupleExpr((A, B)))) == "tuple(x for v in (a, b))"
    assert format_statement(ast.Return(X)) == "return x;"
    with pytest.raises(TypeError):
        format_expr(ast.Param("int", "x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_statement(ast.IntLit(1))  # type: ignore[arg-type]


def test_printing_is_idempotent_on_spec_example() -> None:
    once = canonical(SECTION_6_EXAMPLE)
    assert canonical(once) == once
    assert parse(once) == parse(SECTION_6_EXAMPLE)
