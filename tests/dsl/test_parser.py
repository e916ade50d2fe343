"""Parse phase: AST building, lexical rules, syntax errors, limits (dsl.md §2, §3, §9.2, §11)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from mapper_gym.dsl import ast
from mapper_gym.dsl import parser as parser_module
from mapper_gym.dsl.errors import DSLError
from mapper_gym.dsl.parser import RESERVED_WORDS, parse, token_display_name
from tests.dsl.spec_programs import (
    ALL_SPEC_PROGRAMS,
    EXPRESSION_SNIPPETS,
    SECTION_6_EXAMPLE,
    SECTION_8_11_B,
    expression_program,
)

A, B, C = ast.Name("a"), ast.Name("b"), ast.Name("c")


def expr(text: str) -> ast.Node:
    """The AST of one expression, parsed as ``x = <text>;``."""
    program = parse(expression_program(text))
    (stmt,) = program.statements
    assert isinstance(stmt, ast.Assign)
    return stmt.value


def only(text: str) -> ast.Node:
    (stmt,) = parse(text).statements
    return stmt


def parse_error(text: str | bytes) -> DSLError:
    with pytest.raises(DSLError) as caught:
        parse(text)
    error = caught.value
    assert error.kind == "parse"
    return error


def binary(op: str, left: ast.Node, right: ast.Node) -> ast.Binary:
    return ast.Binary(op, left, right)


def n(value: int) -> ast.IntLit:
    return ast.IntLit(value)


# ---------------------------------------------------------------------------------------------
# Programs from the reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ALL_SPEC_PROGRAMS, ids=[f"spec{i}" for i in range(len(ALL_SPEC_PROGRAMS))]
)
def test_every_spec_program_parses(text: str) -> None:
    program = parse(text)
    assert program.statements


def test_section_6_example_ast() -> None:
    program = parse(SECTION_6_EXAMPLE)
    kinds = [type(s).__name__ for s in program.statements]
    assert kinds == [
        "TaskStmt", "TaskStmt",
        "RegionStmt", "RegionStmt", "RegionStmt", "RegionStmt",
        "LayoutStmt", "LayoutStmt",
        "InstanceLimitStmt", "CollectMemoryStmt",
        "Assign", "Assign",
        "FuncDef", "FuncDef", "FuncDef",
        "IndexTaskMapStmt", "IndexTaskMapStmt", "SingleTaskMapStmt",
    ]
    assert program.statements[0] == ast.TaskStmt(("*",), ("GPU", "CPU"))
    assert program.statements[5] == ast.RegionStmt("stencil2d", 2, "GPU", ("ZCMEM",))
    assert program.statements[7] == ast.LayoutStmt(
        "saxpy", "coeffs", "FBMEM",
        (ast.LayoutConstraint("AOS"), ast.LayoutConstraint("Align", "==", 64)),
    )
    assert program.statements[15] == ast.IndexTaskMapStmt(("halo", "stencil2d"), "tiles")
    assert program.statements[16] == ast.IndexTaskMapStmt(("CPU",), "first_cpu")
    tiles = program.statements[12]
    assert isinstance(tiles, ast.FuncDef)
    assert tiles.params == (ast.Param("Task", "t"),)
    first = tiles.body[0]
    assert first == ast.Assign(
        "g",
        ast.MethodCall(
            ast.MethodCall(ast.Name("gpus"), "merge", (n(0), n(1))),
            "auto_split",
            (n(0), ast.Attr(ast.Name("t"), "ispace")),
        ),
    )
    assert list(program.functions()) == ["tiles", "first_cpu", "beside_parent"]


def test_section_8_11_b_ast() -> None:
    program = parse(SECTION_8_11_B)
    workers = program.statements[0]
    assert workers == ast.Assign(
        "workers", ast.MethodCall(ast.MachineExpr("GPU"), "slice", (n(1), n(1), n(3)))
    )
    spread = program.statements[1]
    assert isinstance(spread, ast.FuncDef)
    assert spread.body[1] == ast.Return(
        ast.Index(
            ast.Name("workers"),
            (
                binary("%", ast.Name("k"), ast.Index(
                    ast.Attr(ast.Name("workers"), "size"), (n(0),))),
                binary("/", ast.Name("k"), ast.Index(
                    ast.Attr(ast.Name("workers"), "size"), (n(0),))),
            ),
        )
    )
    assert program.statements[2] == ast.IndexTaskMapStmt(("saxpy",), "spread")


# ---------------------------------------------------------------------------------------------
# Statements (§3.1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Task * GPU;", ast.TaskStmt(("*",), ("GPU",))),
        ("Task t CPU,GPU,OMP;", ast.TaskStmt(("t",), ("CPU", "GPU", "OMP"))),
        ("Task a, b ,c IO,PY,PROC;", ast.TaskStmt(("a", "b", "c"), ("IO", "PY", "PROC"))),
        ("Region t r GPU FBMEM;", ast.RegionStmt("t", "r", "GPU", ("FBMEM",))),
        ("Region * * * SYSMEM,RDMEM;", ast.RegionStmt("*", "*", "*", ("SYSMEM", "RDMEM"))),
        ("Region t 007 CPU VIRTUAL;", ast.RegionStmt("t", 7, "CPU", ("VIRTUAL",))),
        ("Region t 0 OMP SOCKMEM,ZCMEM;", ast.RegionStmt("t", 0, "OMP", ("SOCKMEM", "ZCMEM"))),
        ("Layout t r FBMEM;", ast.LayoutStmt("t", "r", "FBMEM", ())),
        (
            "Layout * 3 * SOA AOS C_order F_order Compact Exact No_Align Align<=16 Align!=8;",
            ast.LayoutStmt("*", 3, "*", (
                ast.LayoutConstraint("SOA"), ast.LayoutConstraint("AOS"),
                ast.LayoutConstraint("C_order"), ast.LayoutConstraint("F_order"),
                ast.LayoutConstraint("Compact"), ast.LayoutConstraint("Exact"),
                ast.LayoutConstraint("No_Align"), ast.LayoutConstraint("Align", "<=", 16),
                ast.LayoutConstraint("Align", "!=", 8),
            )),
        ),
        (
            "Layout t r SYSMEM Align == 64 Align<1 Align>2 Align>=4;",
            ast.LayoutStmt("t", "r", "SYSMEM", (
                ast.LayoutConstraint("Align", "==", 64), ast.LayoutConstraint("Align", "<", 1),
                ast.LayoutConstraint("Align", ">", 2), ast.LayoutConstraint("Align", ">=", 4),
            )),
        ),
        ("InstanceLimit t 4;", ast.InstanceLimitStmt("t", 4)),
        ("CollectMemory * *;", ast.CollectMemoryStmt("*", "*")),
        ("CollectMemory t 1;", ast.CollectMemoryStmt("t", 1)),
        ("IndexTaskMap t f;", ast.IndexTaskMapStmt(("t",), "f")),
        ("IndexTaskMap * f;", ast.IndexTaskMapStmt(("*",), "f")),
        ("IndexTaskMap GPU f;", ast.IndexTaskMapStmt(("GPU",), "f")),
        ("IndexTaskMap OMP f;", ast.IndexTaskMapStmt(("OMP",), "f")),
        ("IndexTaskMap a,b f;", ast.IndexTaskMapStmt(("a", "b"), "f")),
        ("SingleTaskMap CPU g;", ast.SingleTaskMapStmt(("CPU",), "g")),
        ("SingleTaskMap a,b,c g;", ast.SingleTaskMapStmt(("a", "b", "c"), "g")),
        ("ControlReplicate top;", ast.ControlReplicateStmt(("top",))),
        ("ControlReplicate a,b;", ast.ControlReplicateStmt(("a", "b"))),
        ("x = 1;", ast.Assign("x", n(1))),
        ('print("hi");', ast.Print("hi", ())),
        ('print("{} and {}", 1, a);', ast.Print("{} and {}", (n(1), A))),
        ('print("");', ast.Print("", ())),
        ('print("é # // ; ok");', ast.Print("é # // ; ok", ())),
    ],
)
def test_statement_ast(text: str, expected: ast.Node) -> None:
    assert only(text) == expected


def test_legacy_instance_limit_keeps_kind_outside_equality() -> None:
    legacy = only("InstanceLimit t GPU 2;")
    assert isinstance(legacy, ast.InstanceLimitStmt)
    assert legacy.legacy_kind == "GPU"
    assert legacy == ast.InstanceLimitStmt("t", 2)
    star = only("InstanceLimit t * 0;")
    assert isinstance(star, ast.InstanceLimitStmt)
    assert star.legacy_kind == "*"
    modern = only("InstanceLimit t 2;")
    assert isinstance(modern, ast.InstanceLimitStmt)
    assert modern.legacy_kind is None


def test_func_def_ast() -> None:
    text = """
    def f(int a, bool b, IPoint p, ISpace s, MSpace m, Task t) {
        x = a;
        print("{}", x);
        return x;
        y = 2;
    }
    def g() { return f(); }
    """
    f, g = parse(text).statements
    assert f == ast.FuncDef(
        "f",
        tuple(ast.Param(ty, nm) for ty, nm in [
            ("int", "a"), ("bool", "b"), ("IPoint", "p"), ("ISpace", "s"), ("MSpace", "m"),
            ("Task", "t"),
        ]),
        (
            ast.Assign("x", A),
            ast.Print("{}", (ast.Name("x"),)),
            ast.Return(ast.Name("x")),
            ast.Assign("y", n(2)),
        ),
    )
    assert g == ast.FuncDef("g", (), (ast.Return(ast.Call("f", ())),))


# ---------------------------------------------------------------------------------------------
# Expressions (§3.2)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", n(0)),
        ("007", n(7)),
        ("2147483647", n(2147483647)),
        ("True", ast.BoolLit(True)),
        ("False", ast.BoolLit(False)),
        ("inside", ast.Name("inside")),
        ("f()", ast.Call("f", ())),
        ("f(a, *b)", ast.Call("f", (A, ast.Unpack(B)))),
        ("Machine(GPU)", ast.MachineExpr("GPU")),
        ("Machine(PROC)", ast.MachineExpr("PROC")),
        ("(a, b)", ast.TupleExpr((A, B))),
        ("(*a, 0, *b)", ast.TupleExpr((ast.Unpack(A), n(0), ast.Unpack(B)))),
        ("tuple(a * 2 for v in b)", ast.TupleComp(binary("*", A, n(2)), "v", B)),
        ("(a)", A),
        ("((a))", A),
        ("-a", ast.Neg(A)),
        ("- - a", ast.Neg(ast.Neg(A))),
        ("a[0]", ast.Index(A, (n(0),))),
        ("a[*, 1, *b]", ast.Index(A, (ast.Wildcard(), n(1), ast.Unpack(B)))),
        ("a[*]", ast.Index(A, (ast.Wildcard(),))),
        ("a[*-b]", ast.Index(A, (ast.Unpack(ast.Neg(B)),))),
        ("a[1:2]", ast.Slice(A, n(1), n(2))),
        ("a[:2]", ast.Slice(A, None, n(2))),
        ("a[1:]", ast.Slice(A, n(1), None)),
        ("a[:]", ast.Slice(A, None, None)),
        ("a[-1:b + 1]", ast.Slice(A, ast.Neg(n(1)), binary("+", B, n(1)))),
        ("a.size", ast.Attr(A, "size")),
        ("a.len", ast.Attr(A, "len")),
        ("a.volume", ast.Attr(A, "volume")),
        ("a.ipoint", ast.Attr(A, "ipoint")),
        ("a.ispace", ast.Attr(A, "ispace")),
        ("a.parent", ast.Attr(A, "parent")),
        ("a.split(0, 2)", ast.MethodCall(A, "split", (n(0), n(2)))),
        ("a.merge(0, 1)", ast.MethodCall(A, "merge", (n(0), n(1)))),
        ("a.swap(0, 1)", ast.MethodCall(A, "swap", (n(0), n(1)))),
        ("a.slice(0, 1, 2)", ast.MethodCall(A, "slice", (n(0), n(1), n(2)))),
        ("a.reverse(0)", ast.MethodCall(A, "reverse", (n(0),))),
        ("a.balance_split(0, 2)", ast.MethodCall(A, "balance_split", (n(0), n(2)))),
        ("a.auto_split(0, b)", ast.MethodCall(A, "auto_split", (n(0), B))),
        ("a.greedy_split(0, *b)", ast.MethodCall(A, "greedy_split", (n(0), ast.Unpack(B)))),
        ("a.processor(b)", ast.MethodCall(A, "processor", (B,))),
        ("a.split()", ast.MethodCall(A, "split", ())),
        ("a[0].has(FBMEM)", ast.Has(ast.Index(A, (n(0),)), "FBMEM")),
        ("a.has(VIRTUAL)", ast.Has(A, "VIRTUAL")),
        ("(a, b)[0]", ast.Index(ast.TupleExpr((A, B)), (n(0),))),
        ("a.size[0].len", ast.Attr(ast.Index(ast.Attr(A, "size"), (n(0),)), "len")),
        ("(-a).size", ast.Attr(ast.Neg(A), "size")),
        ("3.size", ast.Attr(n(3), "size")),
    ],
)
def test_expression_ast(text: str, expected: ast.Node) -> None:
    assert expr(text) == expected


@pytest.mark.parametrize("op", ast.BINARY_OPS)
def test_every_binary_operator(op: str) -> None:
    assert expr(f"a {op} b") == binary(op, A, B)


def test_precedence_and_associativity() -> None:
    # §3.2 notes.
    assert expr("a < b < c") == binary("<", binary("<", A, B), C)
    assert expr("-2 * 3") == binary("*", ast.Neg(n(2)), n(3))
    assert expr("-t.ispace[0]") == ast.Neg(
        ast.Index(ast.Attr(ast.Name("t"), "ispace"), (n(0),))
    )
    assert expr("a ? b : c ? 1 : 2") == ast.Ternary(A, B, ast.Ternary(C, n(1), n(2)))
    assert expr("a ? b ? 1 : 2 : c") == ast.Ternary(A, ast.Ternary(B, n(1), n(2)), C)
    assert expr("(a ? b : c) ? 1 : 2") == ast.Ternary(ast.Ternary(A, B, C), n(1), n(2))
    # Every binary level is left-associative.
    for op in ast.BINARY_OPS:
        assert expr(f"a {op} b {op} c") == binary(op, binary(op, A, B), C)
    assert expr("a - (b - c)") == binary("-", A, binary("-", B, C))
    # Levels, loosest first.
    assert expr("a || b && c") == binary("||", A, binary("&&", B, C))
    assert expr("a && b == c") == binary("&&", A, binary("==", B, C))
    assert expr("a != b < c") == binary("!=", A, binary("<", B, C))
    assert expr("a >= b + c") == binary(">=", A, binary("+", B, C))
    assert expr("a - b % c") == binary("-", A, binary("%", B, C))
    assert expr("a * -b") == binary("*", A, ast.Neg(B))
    assert expr("a + b * c - 1") == binary("-", binary("+", A, binary("*", B, C)), n(1))
    assert expr("a || b ? 1 : 2") == ast.Ternary(binary("||", A, B), n(1), n(2))
    assert expr("(a + b) * c") == binary("*", binary("+", A, B), C)
    assert expr("-a[0].size") == ast.Neg(ast.Attr(ast.Index(A, (n(0),)), "size"))
    assert expr("-a * b") == binary("*", ast.Neg(A), B)
    assert expr("a ? -b : c + 1") == ast.Ternary(A, ast.Neg(B), binary("+", C, n(1)))


# ---------------------------------------------------------------------------------------------
# Lexical rules (§2)
# ---------------------------------------------------------------------------------------------


def test_keywords_win_and_near_keywords_are_identifiers() -> None:
    stmt = only("Task Tasks,inside,format,CPUx,_GPU,cpu CPU;")
    assert stmt == ast.TaskStmt(("Tasks", "inside", "format", "CPUx", "_GPU", "cpu"), ("CPU",))
    for word in RESERVED_WORDS:
        error = parse_error(f"{word} = 1;")
        assert error.code == "E-SYNTAX"
        assert (error.line, error.column) in {(1, 1), (1, len(word) + 2)}
    assert parse_error("CPU = 1;").message.startswith("Syntax error, unexpected CPU")
    assert parse_error("x = size;").message.startswith("Syntax error, unexpected size")


def test_comments_and_whitespace() -> None:
    text = (
        "# hash comment é\n"
        "// slash comment\n"
        "x\t=\x0b1\x0c;\x07// trailing\r\n"
        "y = 2; # 日本\n"
        "z = a / b; //x"
    )
    program = parse(text)
    assert program.statements == (
        ast.Assign("x", n(1)), ast.Assign("y", n(2)), ast.Assign("z", binary("/", A, B))
    )


def test_string_may_hold_anything_but_quote_and_newline() -> None:
    stmt = only('print("a # b // c \\t {} \'x\' é");')
    assert stmt == ast.Print("a # b // c \\t {} 'x' é", ())


def test_bytes_input() -> None:
    assert parse(b"x = 1;") == parse("x = 1;")
    assert parse(bytearray(b"x = 1;")) == parse("x = 1;")
    assert parse('print("é");'.encode()) == ast.Program((ast.Print("é", ()),))


def test_non_text_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# §9.2: every row of the table, with message, hint and raw form
# ---------------------------------------------------------------------------------------------

SECTION_9_2_ROWS = [
    (
        "def f(Task t):\n    return t;\n",
        "Syntax error, unexpected :, expecting {",
        "function bodies are braces: `def f(Task t) { ...; }`; no colon",
        (1, 14),
    ),
    (
        "IndexTaskMap saxpy m f;",
        "Syntax error, unexpected T_Identifier, expecting ;",
        "legacy form: write `IndexTaskMap saxpy f;` and index the machine inside `f(Task t)`",
        (1, 22),
    ),
    (
        "def f(task) { return task; }",
        "Syntax error, unexpected T_Identifier",
        "parameters need a type: `Task task`",
        (1, 7),
    ),
    (
        "Layout * * GPU SOA;",
        "Syntax error, unexpected GPU",
        "the third field of Layout is a memory kind or `*`",
        (1, 12),
    ),
    (
        "Task 0 GPU;",
        "Syntax error, unexpected T_IntConstant, expecting T_Identifier or *",
        None,
        (1, 6),
    ),
    (
        "Region * x GPU ZCMEM\nLayout * * * SOA;",
        "Syntax error, unexpected Layout, expecting ; or ,",
        "missing `;`",
        (2, 1),
    ),
    (
        "x = m.split;",
        "Syntax error, unexpected ;, expecting (",
        "methods must be called",
        (1, 12),
    ),
    (
        "x = !y;",
        "Syntax error, unexpected !",
        "there is no `!`; use `y == False`",
        (1, 5),
    ),
    ("", "Syntax error, unexpected end of file", None, (1, 1)),
    ("# only a comment\n// and another\n", "Syntax error, unexpected end of file", None, (3, 1)),
    ("   ", "Syntax error, unexpected end of file", None, (1, 4)),
]


@pytest.mark.parametrize(("text", "message", "hint", "position"), SECTION_9_2_ROWS)
def test_section_9_2_table(
    text: str, message: str, hint: str | None, position: tuple[int, int]
) -> None:
    error = parse_error(text)
    assert error.code == "E-SYNTAX"
    assert error.message == message
    assert error.hint == hint
    assert (error.line, error.column) == position
    assert error.diagnostic.raw == f"Error at line {position[0]}:\n\t{message}"
    assert error.feedback() == f"Compile Error: {message}"


def test_paper_feedback_substring() -> None:
    error = parse_error("def tiles(Task t):\n    return gpus[0, 0];\n")
    assert "Syntax error, unexpected :, expecting {" in error.feedback()


def test_hints_adapt_to_the_program() -> None:
    assert parse_error("x = !ready;").hint == "there is no `!`; use `ready == False`"
    legacy = parse_error("SingleTaskMap a,b mgpu place;")
    assert legacy.message == "Syntax error, unexpected T_Identifier, expecting ;"
    assert legacy.hint == (
        "legacy form: write `SingleTaskMap a,b place;` and index the machine inside "
        "`place(Task t)`"
    )
    assert parse_error("def f(Task t, n) { return n; }").hint == (
        "parameters need a type: `Task n`"
    )
    assert parse_error("x = a.merge;").hint == "methods must be called"
    assert parse_error("x = 1\ny = 2;").hint == "missing `;`"
    assert parse_error("x = 1").hint == "missing `;`"
    region = parse_error("Region * * foo SYSMEM;")
    assert region.message == "Syntax error, unexpected T_Identifier"
    assert region.hint == "the third field of Region is a processor kind or `*`"


SYNTAX = "Syntax error, unexpected "
IN_BODY = ", expecting return or print or T_Identifier"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Mixed keyword, class and operator names, in the order of §2.4.
        (
            "def f(Task t) { return 1; ",
            SYNTAX + "end of file" + IN_BODY + " or }",
        ),
        ("InstanceLimit t GPU x;", SYNTAX + "T_Identifier, expecting T_IntConstant"),
        ('print(x);', SYNTAX + "T_Identifier, expecting T_StringConstant"),
        ('print("a" 1);', SYNTAX + "T_IntConstant, expecting , or )"),
        ("x = a.has(GPU);", SYNTAX + "GPU"),
        ("x = Machine(FBMEM);", SYNTAX + "FBMEM"),
        ("x = Machine(GPU;", SYNTAX + ";, expecting )"),
        ("x = tuple(a for 1 in b);", SYNTAX + "T_IntConstant, expecting T_Identifier"),
        ("x = tuple(a in b);", SYNTAX + "in"),
        ("x = (a);;", SYNTAX + ";"),
        ("x = *a;", SYNTAX + "*"),
        ("x = (*a);", SYNTAX + "), expecting ,"),
        ("x = (a,);", SYNTAX + ")"),
        ("x = ();", SYNTAX + ")"),
        ("x = f(*);", SYNTAX + ")"),
        ("x = a.size();", SYNTAX + "("),
        ("x = a[1:2:3];", SYNTAX + ":, expecting ]"),
        ("x = a.foo;", SYNTAX + "T_Identifier"),
        ("x = (a)(b);", SYNTAX + "("),
        ("Task * GPU CPU;", SYNTAX + "CPU, expecting ; or ,"),
        ("Task a,* GPU;", SYNTAX + "*, expecting T_Identifier"),
        ("ControlReplicate *;", SYNTAX + "*, expecting T_Identifier"),
        ("InstanceLimit * 2;", SYNTAX + "*, expecting T_Identifier"),
        ("IndexTaskMap IO f;", SYNTAX + "IO"),
        ("Region * * foo SYSMEM;", SYNTAX + "T_Identifier"),
        ("Layout * * * Align 64;", SYNTAX + "T_IntConstant"),
        ("Layout * * * Align==x;", SYNTAX + "T_Identifier, expecting T_IntConstant"),
        ("def f(Task t) { }", SYNTAX + "}" + IN_BODY),
        ("def f(Task t) { Task * GPU; }", SYNTAX + "Task" + IN_BODY),
        ("def f(Task t) { return 1; Task * GPU; }", SYNTAX + "Task" + IN_BODY + " or }"),
        ("return 1;", SYNTAX + "return"),
        ("def f(Task t) { def g() { return 1; } }", SYNTAX + "def" + IN_BODY),
        ("x = a = b;", SYNTAX + "="),
        ("x = a & b;", "Unrecognized character: &"),
        ("x = a | b;", "Unrecognized character: |"),
        ("x = a !== b;", SYNTAX + "="),
    ],
)
def test_other_syntax_errors(text: str, message: str) -> None:
    assert parse_error(text).message == message


def test_expected_tokens_follow_section_2_4_order() -> None:
    order = [
        token_display_name(t)
        for t in ("RETURN", "PRINT", "IDENT", "INT", "STRING", "SEMI", "COMMA", "RBRACE")
    ]
    assert order == ["return", "print", "T_Identifier", "T_IntConstant", "T_StringConstant",
                     ";", ",", "}"]
    assert token_display_name("$END") == "end of file"
    assert token_display_name("BANG") == "!"
    assert token_display_name("NO_ALIGN") == "No_Align"
    # Every terminal the parser can name has a rank in the ordering.
    displays = parser_module._terminal_displays()
    names = {d for t, d in displays.items() if t not in {"WS", "HASH_COMMENT", "SLASH_COMMENT"}}
    assert names <= set(parser_module._DISPLAY_RANK)
    assert set(parser_module._DISPLAY_RANK) - names == set()


# ---------------------------------------------------------------------------------------------
# Lexical errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "shown"),
    [("@", "@"), ("$", "$"), ("&", "&"), ("|", "|"), ("~", "~"), ("^", "^"), ("\\", "\\"),
     ("'", "'"), ("`", "`"), ("é", "U+00E9"), ("\u00a0", "U+00A0"), ("\x00", "U+0000"),
     ("\x1b", "U+001B"), ("😀", "U+1F600"), ("\ufeff", "U+FEFF")],
)
def test_unrecognized_character(char: str, shown: str) -> None:
    error = parse_error(f"x = 1;\n  y = a {char} b;")
    assert error.code == "E-LEX-CHAR"
    assert error.message == f"Unrecognized character: {shown}"
    assert (error.line, error.column) == (2, 9)
    assert error.diagnostic.raw == f"Error at line 2:\n\tUnrecognized character: {shown}"


def test_unterminated_string() -> None:
    error = parse_error('x = 1;\nprint("abc);\ny = 2;')
    assert error.code == "E-LEX-STRING"
    assert error.message == "Unterminate string constant"
    assert (error.line, error.column) == (2, 7)
    assert parse_error('print("abc').code == "E-LEX-STRING"


def test_integer_too_large() -> None:
    error = parse_error("x = 1 + 2147483648;")
    assert error.code == "E-LEX-INT"
    assert error.message == "Integer constant too large: 2147483648"
    assert (error.line, error.column) == (1, 9)
    assert error.diagnostic.raw == "Error at line 1:\n\tInteger constant too large: 2147483648"
    assert parse_error("Region t 99999999999 GPU FBMEM;").code == "E-LEX-INT"
    assert parse_error("x = " + "9" * 5000 + ";").code == "E-LEX-INT"
    # Leading zeros do not count.
    assert expr("0000000000000002147483647") == n(2147483647)
    assert expr("0" * 6000) == n(0)


def test_invalid_utf8() -> None:
    error = parse_error(b"x = 1;\ny = \xff;")
    assert error.code == "E-LEX-UTF8"
    assert error.message == "Input is not valid UTF-8"
    assert (error.line, error.column) == (2, 5)
    # Even inside a comment the text must be UTF-8.
    assert parse_error(b"# \xc3\x28\nx = 1;").code == "E-LEX-UTF8"
    # A str holding a lone surrogate cannot be UTF-8 either.
    surrogate = parse_error('x = 1; print("\ud800");')
    assert surrogate.code == "E-LEX-UTF8"
    assert (surrogate.line, surrogate.column) == (1, 15)


def test_first_error_in_text_order_wins() -> None:
    # A syntax error before a lexical error is reported, as flex/bison would.
    assert parse_error("Task 0 GPU;\nx = @;").code == "E-SYNTAX"
    assert parse_error("x = @;\nTask 0 GPU;").code == "E-LEX-CHAR"
    # A syntax error before a lexical limit.
    assert parse_error("Task 0 GPU;\nx = 99999999999;").code == "E-SYNTAX"


# ---------------------------------------------------------------------------------------------
# Limits (§11)
# ---------------------------------------------------------------------------------------------


def limit_message(what: str, limit: int) -> str:
    return f"Resource limit exceeded: {what} (limit {limit})"


def assert_limit(text: str | bytes, what: str, limit: int, position: tuple[int, int]) -> None:
    error = parse_error(text)
    assert error.code == "E-LIMIT"
    assert error.message == limit_message(what, limit)
    assert (error.line, error.column) == position


def test_program_size_limit() -> None:
    head = "x = 1;\n#"
    fits = head + "a" * (65536 - len(head))
    assert len(fits.encode()) == 65536
    assert parse(fits) == parse("x = 1;")
    assert_limit(fits + "a", "program text bytes", 65536, (2, 65536 - len(head) + 2))
    assert_limit((fits + "a").encode(), "program text bytes", 65536, (2, 65536 - len(head) + 2))
    # Counted in bytes, not characters.
    wide = head + "é" * ((65536 - len(head)) // 2 + 1)
    assert len(wide) < 65536 < len(wide.encode())
    assert parse_error(wide).code == "E-LIMIT"


def token_program(tokens: int) -> str:
    """A valid program of exactly ``tokens`` tokens (>= 11) with two statements."""
    # x = f(1, ..., 1); is 2k + 7 tokens for k commas; y = 1; is 4 and y = -1; is 5.
    rest = tokens - 4 if tokens % 2 else tokens - 5
    commas = (rest - 7) // 2
    call = "x = f(" + "1," * commas + "1);"
    tail = "y = 1;" if tokens % 2 else "y = -1;"
    return call + "\n" + tail


def test_token_limit() -> None:
    parse(token_program(10000))
    text = token_program(10001)
    assert_limit(text, "program tokens", 10000, (2, len(text.splitlines()[1])))


def test_identifier_and_string_length() -> None:
    assert expr("a" * 128) == ast.Name("a" * 128)
    assert_limit("x = 1 + " + "a" * 129 + ";", "identifier length", 128, (1, 9))
    assert only('print("' + "s" * 256 + '");') == ast.Print("s" * 256, ())
    assert_limit('print("' + "s" * 257 + '");', "string literal length", 256, (1, 7))
    assert_limit('print("' + "é" * 257 + '");', "string literal length", 256, (1, 7))


def test_nesting_limit() -> None:
    assert expr("(" * 32 + "1" + ")" * 32) == n(1)
    assert_limit("x = " + "(" * 33 + "1" + ")" * 33 + ";", "nesting of ( [ {", 32, (1, 37))
    # Braces and brackets count too; a closed parenthesis does not.
    inside_def = "def f(Task t) { return " + "a[" * 31 + "0" + "]" * 31 + "; }"
    parse(inside_def)
    deeper = "def f(Task t) { return " + "a[" * 32 + "0" + "]" * 32 + "; }"
    assert_limit(deeper, "nesting of ( [ {", 32, (1, 24 + 2 * 31 + 1))
    # Checked while lexing: an unbalanced flood never reaches the parser.
    assert_limit("x = " + "(" * 10000, "nesting of ( [ {", 32, (1, 37))
    assert_limit("x = " + "a[" * 10000, "nesting of ( [ {", 32, (1, 70))


def test_expression_depth_limit() -> None:
    assert expr("-" * 63 + "1") is not None
    assert_limit("x = " + "-" * 64 + "1;", "expression depth", 64, (1, 5))
    chain = "1" + "+1" * 63
    parse(expression_program(chain))
    assert_limit(expression_program(chain + "+1"), "expression depth", 64, (1, 5))
    # A long chain far beyond the limit, without any recursion in the parser.
    assert_limit("x = " + "- " * 4000 + "1;", "expression depth", 64, (1, 4 + 2 * 3936 + 1))


def test_tuple_literal_limit() -> None:
    items = ", ".join(str(i) for i in range(16))
    assert len(expr(f"({items})").items) == 16  # type: ignore[attr-defined]
    text = f"x = ({items}, 99);"
    assert_limit(text, "tuple literal length", 16, (1, text.index("99") + 1))


def test_statement_limits() -> None:
    parse("x = 1;\n" * 1000)
    assert_limit("x = 1;\n" * 1001, "top-level statements", 1000, (1001, 1))
    defs = "".join(f"def f{i}() {{ return 1; }}\n" for i in range(201))
    assert_limit(defs, "defs", 200, (201, 1))
    parse(defs.rsplit("def", 1)[0])
    body = "def f() {\n" + "x = 1;\n" * 200 + "return x;\n}"
    assert_limit(body, "statements per body", 200, (202, 1))
    parse(body.replace("x = 1;\n", "", 1))
    params = ", ".join(f"int p{i}" for i in range(17))
    text = f"def f({params}) {{ return 1; }}"
    assert_limit(text, "parameters", 16, (1, text.index("int p16") + 1))
    parse(text.replace(", int p16", ""))


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("Task {} GPU;", "t{}"),
        ("ControlReplicate {};", "t{}"),
        ("IndexTaskMap {} f;", "t{}"),
        ("SingleTaskMap {} f;", "t{}"),
        ("Task t {};", "CPU"),
        ("Region t r GPU {};", "FBMEM"),
    ],
)
def test_names_in_one_list_limit(template: str, name: str) -> None:
    names = [name.format(i) for i in range(257)]
    parse(template.format(",".join(names[:256])))
    text = template.format(",".join(names))
    position = len(template.split("{}")[0]) + len(",".join(names[:256])) + 2
    assert_limit(text, "names in one list", 256, (1, position))


def test_earliest_structural_breach_is_reported() -> None:
    deep = "x = " + "-" * 70 + "1;\n"
    long_tuple = "y = (" + ", ".join("1" * 17) + ");\n"
    assert parse_error(long_tuple + deep).message == limit_message("tuple literal length", 16)
    assert parse_error(deep + long_tuple).message == limit_message("expression depth", 64)
    # A syntax error anywhere wins over a structural breach found after the parse.
    assert parse_error(deep + "Task 0 GPU;").code == "E-SYNTAX"


def test_limit_error_has_plain_raw_text() -> None:
    error = parse_error("x = " + "(" * 40)
    assert error.diagnostic.raw is None
    assert error.diagnostic.raw_text() == limit_message("nesting of ( [ {", 32)


# ---------------------------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------------------------


def test_statement_and_node_positions() -> None:
    text = (
        "# header\n"
        "Task *\tGPU;\n"
        "  gpus = Machine(GPU);\n"
        'print("é", 1);  x = (a + b) * -c;\n'
        "def f(Task t) {\n"
        "    return gpus[t.ipoint[0], *];\n"
        "}\n"
    )
    task, gpus, prnt, x, f = parse(text).statements
    assert (task.line, task.column) == (2, 1)
    assert (gpus.line, gpus.column) == (3, 3)
    assert isinstance(gpus, ast.Assign)
    assert (gpus.value.line, gpus.value.column) == (3, 10)
    assert (prnt.line, prnt.column) == (4, 1)
    assert isinstance(prnt, ast.Print)
    assert (prnt.args[0].line, prnt.args[0].column) == (4, 12)  # code points, not bytes
    assert isinstance(x, ast.Assign)
    assert (x.line, x.column) == (4, 17)
    product = x.value
    assert isinstance(product, ast.Binary)
    assert (product.line, product.column) == (4, 21)  # starts at the "("
    assert isinstance(product.left, ast.Binary)
    assert (product.left.line, product.left.column) == (4, 22)
    assert (product.right.line, product.right.column) == (4, 31)
    assert isinstance(f, ast.FuncDef)
    assert (f.line, f.column) == (5, 1)
    assert (f.params[0].line, f.params[0].column) == (5, 7)
    ret = f.body[0]
    assert (ret.line, ret.column) == (6, 5)
    assert isinstance(ret, ast.Return)
    index = ret.value
    assert isinstance(index, ast.Index)
    assert (index.line, index.column) == (6, 12)
    first, star = index.items
    assert (first.line, first.column) == (6, 17)
    assert (star.line, star.column) == (6, 30)


def test_every_node_has_a_position() -> None:
    program = parse(SECTION_6_EXAMPLE)
    pending: list[object] = [program]
    seen = 0
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Node):
            assert node.line >= 1 and node.column >= 1, node
            seen += 1
            pending.extend(getattr(node, f) for f in node.__dataclass_fields__)
        elif isinstance(node, tuple):
            pending.extend(node)
    assert seen > 100


def test_tab_is_one_column_and_cr_is_not_a_line_break() -> None:
    error = parse_error("x = 1;\r\t\ty = @;")
    assert (error.line, error.column) == (1, 14)


def test_end_of_file_position_is_after_the_last_character() -> None:
    error = parse_error("x = 1")
    assert (error.line, error.column) == (1, 6)
    error = parse_error("x = 1\n\n")
    assert (error.line, error.column) == (3, 1)
    assert error.diagnostic.raw == "Error at line 3:\n\tSyntax error, unexpected end of file"


# ---------------------------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------------------------


def test_internal_failure_becomes_e_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_source: object) -> str:
        raise RecursionError("simulated")

    monkeypatch.setattr(parser_module, "_decode", explode)
    error = parse_error("x = 1;")
    assert error.code == "E-INTERNAL"
    assert error.message == "Internal error"


def test_parser_is_reusable_after_errors() -> None:
    for text in ("x = (", "x = @", "x = " + "-" * 100 + "1;", "Task 0 GPU;"):
        parse_error(text)
    assert parse("x = 1;") == ast.Program((ast.Assign("x", n(1)),))


def test_concurrent_parses_do_not_share_state() -> None:
    """Per-parse state lives in a thread-local; results must not leak between threads."""
    texts = [SECTION_6_EXAMPLE, SECTION_8_11_B, "x = " + "-" * 70 + "1;", "Task 0 GPU;"] * 8

    def outcome(text: str) -> object:
        try:
            return parse(text)
        except DSLError as error:
            return (error.code, error.message, error.line, error.column)

    expected = [outcome(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(outcome, texts)) == expected


@pytest.mark.parametrize("snippet", EXPRESSION_SNIPPETS)
def test_expression_snippets_are_single_expressions(snippet: str) -> None:
    assert isinstance(expr(snippet), ast.Node)
