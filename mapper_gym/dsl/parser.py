"""Parse phase of the mapping DSL: program text to :class:`~mapper_gym.dsl.ast.Program`.

The grammar (``grammar.lark``) is a direct LALR(1) transcription of dsl.md §3, compiled once per
process. The AST is built *during* the LALR parse by an inline transformer, so no lark parse tree
is ever materialised; that, plus the single lexer pass, is what keeps a 100-line program well
under the 10 ms budget.

Every failure is a :class:`~mapper_gym.dsl.errors.DSLError` with ``kind="parse"`` (dsl.md §9.1,
§9.2, §11); no other exception escapes :func:`parse`, and every input finishes in time linear in
its (bounded) size.

Order of checks. The byte size of the text and its UTF-8 validity are checked first, on the
whole text. Everything else is found in text order, the way the original flex/bison tools do it:
the lexer hands one token at a time to the parser, and checks each token against the lexical
limits (token count, identifier and string length, nesting of ``( [ {``, integer range) before
the parser sees it. So the first lexical error, lexical limit or syntax error in the text is the
one reported. The structural limits (statements, ``def`` count, body length, parameters, names
in a list, expression height, tuple-literal length) are checked after a successful parse; if
several are exceeded, the one at the earliest position is reported.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from mapper_gym.dsl import ast
from mapper_gym.dsl.errors import DSLError, limit_error

__all__ = [
    "MAX_DEFS",
    "MAX_EXPR_DEPTH",
    "MAX_IDENT_CHARS",
    "MAX_INT",
    "MAX_LIST_NAMES",
    "MAX_NESTING",
    "MAX_PARAMS",
    "MAX_PROGRAM_BYTES",
    "MAX_PROGRAM_TOKENS",
    "MAX_STATEMENTS",
    "MAX_STRING_CHARS",
    "MAX_TOP_LEVEL_STATEMENTS",
    "MAX_TUPLE_ITEMS",
    "RESERVED_WORDS",
    "parse",
    "token_display_name",
]

# ---------------------------------------------------------------------------------------------
# Limits of dsl.md §11 that the parse phase enforces. The texts after each constant are the
# ``<what>`` of ``Resource limit exceeded: <what> (limit <n>)``.
# ---------------------------------------------------------------------------------------------

MAX_PROGRAM_BYTES = 65536  # "program text bytes"
MAX_PROGRAM_TOKENS = 10000  # "program tokens"
MAX_IDENT_CHARS = 128  # "identifier length"
MAX_STRING_CHARS = 256  # "string literal length" (characters between the quotes)
MAX_NESTING = 32  # "nesting of ( [ {"
MAX_INT = 2147483647  # E-LEX-INT beyond this
MAX_TOP_LEVEL_STATEMENTS = 1000  # "top-level statements"
MAX_DEFS = 200  # "defs"
MAX_STATEMENTS = 200  # "statements per body"
MAX_PARAMS = 16  # "parameters"
MAX_LIST_NAMES = 256  # "names in one list"
MAX_EXPR_DEPTH = 64  # "expression depth"
MAX_TUPLE_ITEMS = 16  # "tuple literal length"

_MAX_INT_DIGITS = len(str(MAX_INT))

# ---------------------------------------------------------------------------------------------
# Token names in messages (dsl.md §2.4)
# ---------------------------------------------------------------------------------------------

#: Reserved words in the order of dsl.md §2.3 (``Task`` appears once, with the statements).
_KEYWORD_ORDER: tuple[str, ...] = (
    "Task", "Region", "Layout", "InstanceLimit", "CollectMemory", "IndexTaskMap",
    "SingleTaskMap", "ControlReplicate", "def", "return", "print",
    "SOA", "AOS", "C_order", "F_order", "Compact", "Exact", "Align", "No_Align",
    "CPU", "GPU", "OMP", "IO", "PY", "PROC",
    "SYSMEM", "FBMEM", "ZCMEM", "RDMEM", "SOCKMEM", "VIRTUAL",
    "int", "bool", "IPoint", "ISpace", "MSpace",
    "size", "len", "volume", "ipoint", "ispace", "parent", "split", "merge", "swap", "slice",
    "reverse", "balance_split", "auto_split", "greedy_split", "has", "processor",
    "Machine", "tuple", "for", "in", "True", "False",
)
#: Words that can never be identifiers (dsl.md §2.3).
RESERVED_WORDS: frozenset[str] = frozenset(_KEYWORD_ORDER)
#: Operators and punctuation in the order of dsl.md §2.2.
_OPERATOR_ORDER: tuple[str, ...] = (
    ";", ",", "=", "(", ")", "{", "}", "[", "]", ":", "?", ".", "*", "+", "-", "/", "%",
    "<", ">", "<=", ">=", "==", "!=", "&&", "||", "!",
)
_CLASS_NAMES: dict[str, str] = {
    "IDENT": "T_Identifier",
    "INT": "T_IntConstant",
    "STRING": "T_StringConstant",
    "$END": "end of file",
}
_DISPLAY_RANK: dict[str, int] = {
    name: rank
    for rank, name in enumerate(
        (*_KEYWORD_ORDER, "T_Identifier", "T_IntConstant", "T_StringConstant",
         *_OPERATOR_ORDER, "end of file")
    )
}
#: At most this many acceptable tokens are listed after "expecting" (bison's convention).
_MAX_EXPECTED_LISTED = 4

_OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSERS = frozenset({"RPAR", "RSQB", "RBRACE"})
_PROC_KIND_TYPES = frozenset({"CPU", "GPU", "OMP", "IO", "PY", "PROC"})
_MEM_KIND_TYPES = frozenset({"SYSMEM", "FBMEM", "ZCMEM", "RDMEM", "SOCKMEM", "VIRTUAL"})
_TYPE_NAME_TYPES = frozenset(
    {"INT_TYPE", "BOOL_TYPE", "IPOINT_TYPE", "ISPACE_TYPE", "MSPACE_TYPE", "TASK"}
)
_STATEMENT_KEYWORD_TYPES = frozenset(
    {"TASK", "REGION", "LAYOUT", "INSTANCELIMIT", "COLLECTMEMORY", "INDEXTASKMAP",
     "SINGLETASKMAP", "CONTROLREPLICATE", "DEF", "RETURN", "PRINT"}
)
_METHOD_TYPES = frozenset(
    {"SPLIT", "MERGE", "SWAP", "SLICE", "REVERSE", "BALANCE_SPLIT", "AUTO_SPLIT",
     "GREEDY_SPLIT", "PROCESSOR"}
)


# ---------------------------------------------------------------------------------------------
# Per-parse state shared by the post-lexer and the AST builder
# ---------------------------------------------------------------------------------------------


@dataclass
class _Session:
    """What one parse learns on the way; lives in a thread-local while that parse runs.

    ``heights`` and ``group_start`` are keyed by ``id(node)``: every node is alive until the
    parse ends (held by its parent or by the parser's value stack), so ids are stable.
    """

    heights: dict[int, int] = field(default_factory=dict)
    #: Start of a parenthesised expression: its ``(``, which the node itself does not record.
    group_start: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: Structural-limit breaches (line, column, what, limit), reported after the parse.
    violations: list[tuple[int, int, str, int]] = field(default_factory=list)
    last_token: Token | None = None
    previous_token: Token | None = None

    def violate(self, line: int, column: int, what: str, limit: int) -> None:
        self.violations.append((line, column, what, limit))


_STATE = threading.local()


def _session() -> _Session:
    return _STATE.session  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Lexical checks between the lexer and the parser
# ---------------------------------------------------------------------------------------------


class _LexicalLimits:
    """lark post-lexer: checks each token against the lexical limits before the parser sees it.

    It also keeps the ``!`` terminal alive (``always_accept``): no rule uses it, and lark would
    otherwise drop it from the lexer, turning ``!`` into a lexical error instead of the
    ``Syntax error, unexpected !`` of dsl.md §9.2.
    """

    always_accept = ("BANG",)

    def process(self, stream: Any) -> Any:
        session = _session()
        depth = 0
        for count, token in enumerate(stream, start=1):
            session.previous_token = session.last_token
            session.last_token = token
            if count > MAX_PROGRAM_TOKENS:
                raise limit_error(
                    "parse", "program tokens", MAX_PROGRAM_TOKENS, token.line, token.column
                )
            kind = token.type
            if kind in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise limit_error(
                        "parse", "nesting of ( [ {", MAX_NESTING, token.line, token.column
                    )
            elif kind in _CLOSERS:
                if depth:
                    depth -= 1
            elif kind == "IDENT":
                if len(token) > MAX_IDENT_CHARS:
                    raise limit_error(
                        "parse", "identifier length", MAX_IDENT_CHARS, token.line, token.column
                    )
            elif kind == "INT":
                significant = token.lstrip("0")
                if len(significant) > _MAX_INT_DIGITS or (
                    len(significant) == _MAX_INT_DIGITS and int(significant) > MAX_INT
                ):
                    raise _source_error(
                        "E-LEX-INT", f"Integer constant too large: {token}",
                        token.line, token.column,
                    )
            elif kind == "STRING" and len(token) - 2 > MAX_STRING_CHARS:
                raise limit_error(
                    "parse", "string literal length", MAX_STRING_CHARS, token.line, token.column
                )
            yield token


# ---------------------------------------------------------------------------------------------
# AST construction, run by the LALR parser at each reduction
# ---------------------------------------------------------------------------------------------


def _int_value(token: Token) -> int:
    """Value of an INT token already checked against MAX_INT (leading zeros allowed)."""
    return int(token.lstrip("0") or "0")


def _region_ref(token: Token) -> str | int:
    return _int_value(token) if token.type == "INT" else str(token)


class _ASTBuilder(Transformer):  # type: ignore[type-arg]
    """Callbacks of the grammar's rules; each receives the rule's children, tokens included.

    Every terminal of the grammar is named, so tokens are never filtered out: a node's
    position is the position of its first token (for an expression that starts with ``(``,
    the parenthesis). Expression heights are tracked here, bottom-up, so the depth limit costs
    no recursive walk.
    """

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _start(session: _Session, node: ast.Node) -> tuple[int, int]:
        return session.group_start.get(id(node), (node.line, node.column))

    @staticmethod
    def _finish(session: _Session, node: ast.Node, *children: ast.Node | None) -> ast.Node:
        heights = session.heights
        height = 1 + max((heights.get(id(c), 1) for c in children if c is not None), default=0)
        if height > 1:
            heights[id(node)] = height
            if height == MAX_EXPR_DEPTH + 1:  # report the smallest subtree that is too deep
                start = session.group_start.get(id(node), (node.line, node.column))
                session.violate(*start, "expression depth", MAX_EXPR_DEPTH)
        return node

    @staticmethod
    def _check_names(session: _Session, tokens: list[Token]) -> tuple[str, ...]:
        if len(tokens) > MAX_LIST_NAMES:
            extra = tokens[MAX_LIST_NAMES]
            session.violate(extra.line, extra.column, "names in one list", MAX_LIST_NAMES)
        return tuple(str(t) for t in tokens)

    # -- program and statements ---------------------------------------------------------------

    def start(self, children: list[Any]) -> ast.Program:
        session = _session()
        if len(children) > MAX_TOP_LEVEL_STATEMENTS:
            extra = children[MAX_TOP_LEVEL_STATEMENTS]
            session.violate(
                extra.line, extra.column, "top-level statements", MAX_TOP_LEVEL_STATEMENTS
            )
        defs = [s for s in children if isinstance(s, ast.FuncDef)]
        if len(defs) > MAX_DEFS:
            session.violate(defs[MAX_DEFS].line, defs[MAX_DEFS].column, "defs", MAX_DEFS)
        first = children[0]
        return ast.Program(tuple(children), line=first.line, column=first.column)

    def task_stmt(self, c: list[Token]) -> ast.TaskStmt:
        session = _session()
        names = [t for t in c[1:] if t.type == "IDENT" or t.type == "STAR"]
        kinds = [t for t in c[1:] if t.type in _PROC_KIND_TYPES]
        return ast.TaskStmt(
            self._check_names(session, names), self._check_names(session, kinds),
            line=c[0].line, column=c[0].column,
        )

    def region_stmt(self, c: list[Token]) -> ast.RegionStmt:
        memories = self._check_names(_session(), c[4:-1:2])
        return ast.RegionStmt(
            str(c[1]), _region_ref(c[2]), str(c[3]), memories,
            line=c[0].line, column=c[0].column,
        )

    def layout_stmt(self, c: list[Any]) -> ast.LayoutStmt:
        return ast.LayoutStmt(
            str(c[1]), _region_ref(c[2]), str(c[3]), tuple(c[4:-1]),
            line=c[0].line, column=c[0].column,
        )

    def constraint(self, c: list[Token]) -> ast.LayoutConstraint:
        word = c[0]
        if len(c) == 3:
            return ast.LayoutConstraint(
                str(word), str(c[1]), _int_value(c[2]), line=word.line, column=word.column
            )
        return ast.LayoutConstraint(str(word), line=word.line, column=word.column)

    def limit_stmt(self, c: list[Token]) -> ast.InstanceLimitStmt:
        legacy_kind = str(c[2]) if len(c) == 5 else None
        return ast.InstanceLimitStmt(
            str(c[1]), _int_value(c[-2]), legacy_kind, line=c[0].line, column=c[0].column
        )

    def collect_stmt(self, c: list[Token]) -> ast.CollectMemoryStmt:
        return ast.CollectMemoryStmt(
            str(c[1]), _region_ref(c[2]), line=c[0].line, column=c[0].column
        )

    def index_map_stmt(self, c: list[Token]) -> ast.IndexTaskMapStmt:
        keys = self._check_names(_session(), c[1:-2:2])
        return ast.IndexTaskMapStmt(keys, str(c[-2]), line=c[0].line, column=c[0].column)

    def single_map_stmt(self, c: list[Token]) -> ast.SingleTaskMapStmt:
        keys = self._check_names(_session(), c[1:-2:2])
        return ast.SingleTaskMapStmt(keys, str(c[-2]), line=c[0].line, column=c[0].column)

    def replicate_stmt(self, c: list[Token]) -> ast.ControlReplicateStmt:
        tasks = self._check_names(_session(), c[1:-1:2])
        return ast.ControlReplicateStmt(tasks, line=c[0].line, column=c[0].column)

    def func_def(self, c: list[Any]) -> ast.FuncDef:
        session = _session()
        params = [x for x in c if isinstance(x, ast.Param)]
        body = [x for x in c if isinstance(x, ast.Assign | ast.Return | ast.Print)]
        if len(params) > MAX_PARAMS:
            extra = params[MAX_PARAMS]
            session.violate(extra.line, extra.column, "parameters", MAX_PARAMS)
        if len(body) > MAX_STATEMENTS:
            extra = body[MAX_STATEMENTS]
            session.violate(extra.line, extra.column, "statements per body", MAX_STATEMENTS)
        return ast.FuncDef(
            str(c[1]), tuple(params), tuple(body), line=c[0].line, column=c[0].column
        )

    def param(self, c: list[Token]) -> ast.Param:
        return ast.Param(str(c[0]), str(c[1]), line=c[0].line, column=c[0].column)

    def assign_stmt(self, c: list[Any]) -> ast.Assign:
        return ast.Assign(str(c[0]), c[2], line=c[0].line, column=c[0].column)

    def return_stmt(self, c: list[Any]) -> ast.Return:
        return ast.Return(c[1], line=c[0].line, column=c[0].column)

    def print_stmt(self, c: list[Any]) -> ast.Print:
        return ast.Print(str(c[2])[1:-1], tuple(c[4:-2:2]), line=c[0].line, column=c[0].column)

    # -- expressions --------------------------------------------------------------------------

    def ternary(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        node = ast.Ternary(c[0], c[2], c[4], line=line, column=column)
        return self._finish(session, node, c[0], c[2], c[4])

    def binary(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        node = ast.Binary(str(c[1]), c[0], c[2], line=line, column=column)
        return self._finish(session, node, c[0], c[2])

    def neg(self, c: list[Any]) -> ast.Node:
        node = ast.Neg(c[1], line=c[0].line, column=c[0].column)
        return self._finish(_session(), node, c[1])

    def index(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        items = c[2:-1:2]
        node = ast.Index(c[0], tuple(items), line=line, column=column)
        return self._finish(session, node, c[0], *items)

    def slice(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        inner = c[2:-1]  # [lo?, COLON, hi?]
        colon_at = next(i for i, x in enumerate(inner) if isinstance(x, Token))
        lo = inner[0] if colon_at == 1 else None
        hi = inner[colon_at + 1] if colon_at + 1 < len(inner) else None
        node = ast.Slice(c[0], lo, hi, line=line, column=column)
        return self._finish(session, node, c[0], lo, hi)

    def attr(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        node = ast.Attr(c[0], str(c[2]), line=line, column=column)
        return self._finish(session, node, c[0])

    def method_call(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        args = c[4:-1:2]
        node = ast.MethodCall(c[0], str(c[2]), tuple(args), line=line, column=column)
        return self._finish(session, node, c[0], *args)

    def has(self, c: list[Any]) -> ast.Node:
        session = _session()
        line, column = self._start(session, c[0])
        node = ast.Has(c[0], str(c[4]), line=line, column=column)
        return self._finish(session, node, c[0])

    def group(self, c: list[Any]) -> ast.Node:
        """``( expr )``: no node of its own; the expression now starts at the ``(``."""
        _session().group_start[id(c[1])] = (c[0].line, c[0].column)
        return c[1]  # type: ignore[no-any-return]

    def int_lit(self, c: list[Token]) -> ast.IntLit:
        return ast.IntLit(_int_value(c[0]), line=c[0].line, column=c[0].column)

    def true_lit(self, c: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(True, line=c[0].line, column=c[0].column)

    def false_lit(self, c: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(False, line=c[0].line, column=c[0].column)

    def name(self, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), line=c[0].line, column=c[0].column)

    def call(self, c: list[Any]) -> ast.Node:
        args = c[2:-1:2]
        node = ast.Call(str(c[0]), tuple(args), line=c[0].line, column=c[0].column)
        return self._finish(_session(), node, *args)

    def machine(self, c: list[Token]) -> ast.MachineExpr:
        return ast.MachineExpr(str(c[2]), line=c[0].line, column=c[0].column)

    def tuple_lit(self, c: list[Any]) -> ast.Node:
        session = _session()
        items = c[1:-1:2]
        if len(items) > MAX_TUPLE_ITEMS:
            line, column = self._start(session, items[MAX_TUPLE_ITEMS])
            session.violate(line, column, "tuple literal length", MAX_TUPLE_ITEMS)
        node = ast.TupleExpr(tuple(items), line=c[0].line, column=c[0].column)
        return self._finish(session, node, *items)

    def tuple_comp(self, c: list[Any]) -> ast.Node:
        node = ast.TupleComp(c[2], str(c[4]), c[6], line=c[0].line, column=c[0].column)
        return self._finish(_session(), node, c[2], c[6])

    def unpack(self, c: list[Any]) -> ast.Node:
        node = ast.Unpack(c[1], line=c[0].line, column=c[0].column)
        return self._finish(_session(), node, c[1])

    def wildcard(self, c: list[Token]) -> ast.Wildcard:
        return ast.Wildcard(line=c[0].line, column=c[0].column)


# ---------------------------------------------------------------------------------------------
# The compiled parser (built once per process)
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """Compile ``grammar.lark`` (about 0.3 s, dominated by strict mode's collision check)."""
    grammar = resources.files("mapper_gym.dsl").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        strict=True,
        # Positions come from the tokens themselves (see _ASTBuilder): with an inline
        # transformer lark's propagate_positions would only annotate its own temporary trees
        # of inlined rules, at a cost of about 15% of the parse time.
        propagate_positions=False,
        maybe_placeholders=False,
        transformer=_ASTBuilder(),
        postlex=_LexicalLimits(),
    )


@lru_cache(maxsize=1)
def _terminal_displays() -> dict[str, str]:
    """Terminal name -> its name in messages (dsl.md §2.4)."""
    displays = dict(_CLASS_NAMES)
    for terminal in _parser().terminals:
        if terminal.name not in displays and terminal.pattern.type == "str":
            displays[terminal.name] = terminal.pattern.value
    return displays


def token_display_name(terminal: str) -> str:
    """How a syntax error names the grammar terminal ``terminal`` (``SEMI`` -> ``;``)."""
    return _terminal_displays().get(terminal, terminal)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _source_error(
    code: str, message: str, line: int, column: int, hint: str | None = None
) -> DSLError:
    """A lexical or syntax error, whose ``raw`` is the original ``Error at line N:`` form."""
    return DSLError.make(
        "parse", code, message, line, column, hint=hint,
        raw=f"Error at line {line}:\n\t{message}",
    )


def _end_position(text: str) -> tuple[int, int]:
    """Line and column just after the last character of ``text``."""
    last_newline = text.rfind("\n")
    return text.count("\n") + 1, len(text) - last_newline


def _position_of_offset(text: str, offset: int) -> tuple[int, int]:
    return _end_position(text[:offset])


_CHARACTER_HINTS: dict[str, str] = {
    "&": "a lone `&` is not a token: logical and is `&&`",
    "|": "a lone `|` is not a token: logical or is `||`",
    "'": "strings use double quotes: `\"...\"`",
}


def _character_error(text: str, error: UnexpectedCharacters) -> DSLError:
    char = text[error.pos_in_stream]
    if char == '"':
        return _source_error(
            "E-LEX-STRING", "Unterminate string constant", error.line, error.column,
            hint='a string constant must end with `"` on the same line',
        )
    if " " <= char <= "~":
        shown = char
        hint = _CHARACTER_HINTS.get(char)
    else:
        shown = f"U+{ord(char):04X}"
        hint = (
            "non-ASCII characters may appear only in comments and strings"
            if ord(char) > 127 else None
        )
    return _source_error(
        "E-LEX-CHAR", f"Unrecognized character: {shown}", error.line, error.column, hint=hint
    )


def _flatten_tokens(values: list[Any]) -> list[Token]:
    """Tokens in the parser's value stack, in order (inlined rules leave lists or trees)."""
    found: list[Token] = []
    pending = list(reversed(values))
    while pending:
        value = pending.pop()
        if isinstance(value, Token):
            found.append(value)
        elif isinstance(value, Tree):
            pending.extend(reversed(value.children))
        elif isinstance(value, list):
            pending.extend(reversed(value))
    return found


def _open_statement(values: list[Any]) -> list[Token]:
    """Tokens of the statement being parsed when the error struck.

    Finished statements are AST nodes on the value stack, so the open statement starts at the
    last statement keyword left as a token (``Task`` counts unless it is a parameter type,
    i.e. follows ``(`` or ``,``).
    """
    tokens = _flatten_tokens(values)
    for i in range(len(tokens) - 1, -1, -1):
        kind = tokens[i].type
        if kind not in _STATEMENT_KEYWORD_TYPES:
            continue
        if kind == "TASK" and i > 0 and tokens[i - 1].type in ("LPAR", "COMMA"):
            continue
        return tokens[i:]
    return tokens


_FOLLOWING_NAME = re.compile(r"[ \t]*([_a-zA-Z][_a-zA-Z0-9]*)")


def _syntax_hint(
    text: str, error: UnexpectedToken, expected: set[str], session: _Session
) -> str | None:
    """Our hints for the common mistakes of dsl.md §9.2 (``hint`` of the record)."""
    unexpected = error.token.type
    values: list[Any] = (
        error.interactive_parser.parser_state.value_stack if error.interactive_parser else []
    )
    previous = values[-1] if values else None
    if unexpected == "COLON" and expected == {"LBRACE"}:
        return "function bodies are braces: `def f(Task t) { ...; }`; no colon"
    if unexpected == "BANG":
        following = _FOLLOWING_NAME.match(text, error.token.end_pos)
        operand = following.group(1) if following else "<expression>"
        return f"there is no `!`; use `{operand} == False`"
    if (
        expected == {"LPAR"}
        and isinstance(previous, Token)
        and previous.type in _METHOD_TYPES
    ):
        return "methods must be called"
    statement = _open_statement(values)
    opener = statement[0].type if statement else None
    if unexpected == "IDENT" and expected == {"SEMI"} and opener in (
        "INDEXTASKMAP", "SINGLETASKMAP"
    ):
        keys = ",".join(str(t) for t in statement[1:-1] if t.type != "COMMA") or "saxpy"
        func = str(error.token)
        return (
            f"legacy form: write `{statement[0]} {keys} {func};` and index the machine "
            f"inside `{func}(Task t)`"
        )
    if unexpected == "IDENT" and "INT_TYPE" in expected:
        return f"parameters need a type: `Task {error.token}`"
    if opener == "LAYOUT" and "FBMEM" in expected:
        return "the third field of Layout is a memory kind or `*`"
    if opener == "REGION" and "CPU" in expected and "FBMEM" not in expected:
        return "the third field of Region is a processor kind or `*`"
    if "SEMI" in expected:
        last = session.previous_token if unexpected != "$END" else session.last_token
        on_new_line = last is not None and error.token.type != "$END" and (
            error.token.line > (last.end_line or last.line)
        )
        if unexpected in _STATEMENT_KEYWORD_TYPES or unexpected == "$END" or on_new_line:
            return "missing `;`"
    return None


def _syntax_error(text: str, error: UnexpectedToken, session: _Session) -> DSLError:
    token = error.token
    if token.type == "$END":
        line, column = _end_position(text)
    else:
        line, column = token.line, token.column
    expected = (
        set(error.interactive_parser.accepts()) if error.interactive_parser
        else set(error.expected)
    )
    message = f"Syntax error, unexpected {token_display_name(token.type)}"
    if 0 < len(expected) <= _MAX_EXPECTED_LISTED:
        names = sorted(
            (token_display_name(t) for t in expected),
            key=lambda name: (_DISPLAY_RANK.get(name, len(_DISPLAY_RANK)), name),
        )
        message += ", expecting " + " or ".join(names)
    hint = _syntax_hint(text, error, expected, session)
    return _source_error("E-SYNTAX", message, line, column, hint=hint)


def _internal_error(session: _Session | None) -> DSLError:
    token = session.last_token if session is not None else None
    line, column = (token.line, token.column) if token is not None else (0, 0)
    return DSLError.make("parse", "E-INTERNAL", "Internal error", line, column)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _decode(source: str | bytes | bytearray | memoryview) -> str:
    """Check the byte-size limit and UTF-8 validity; return the text."""
    if isinstance(source, str):
        ascii_only = source.isascii()
        # surrogatepass: a lone surrogate counts as the 3 bytes it would take in a file.
        size = len(source) if ascii_only else len(source.encode("utf-8", "surrogatepass"))
        if size > MAX_PROGRAM_BYTES:
            prefix = source.encode("utf-8", "surrogatepass")[:MAX_PROGRAM_BYTES]
            line, column = _end_position(prefix.decode("utf-8", "ignore"))
            raise limit_error("parse", "program text bytes", MAX_PROGRAM_BYTES, line, column)
        if not ascii_only:
            try:
                source.encode("utf-8")
            except UnicodeEncodeError as bad:  # lone surrogates cannot be UTF-8
                line, column = _position_of_offset(source, bad.start)
                raise _source_error(
                    "E-LEX-UTF8", "Input is not valid UTF-8", line, column
                ) from None
        return source
    data = bytes(source)
    if len(data) > MAX_PROGRAM_BYTES:
        line, column = _end_position(data[:MAX_PROGRAM_BYTES].decode("utf-8", "ignore"))
        raise limit_error("parse", "program text bytes", MAX_PROGRAM_BYTES, line, column)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line, column = _end_position(data[: bad.start].decode("utf-8", "ignore"))
        raise _source_error("E-LEX-UTF8", "Input is not valid UTF-8", line, column) from None


def parse(source: str | bytes) -> ast.Program:
    """Parse one DSL program (dsl.md §2, §3) into an AST whose nodes carry line and column.

    ``source`` is text or UTF-8 bytes (``bytearray`` and ``memoryview`` are accepted too).
    Raises :class:`DSLError` with ``kind="parse"`` and one of the codes E-LEX-CHAR,
    E-LEX-STRING, E-LEX-INT, E-LEX-UTF8, E-SYNTAX, E-LIMIT or E-INTERNAL for any bad input;
    never another exception. Raises ``TypeError`` if ``source`` is not text or bytes.
    """
    if not isinstance(source, str | bytes | bytearray | memoryview):
        raise TypeError(f"parse() needs str or bytes, not {type(source).__name__}")
    # Outside the safety net on purpose: a grammar that does not build is a broken install
    # (for example interegular missing for strict mode), not a property of the input.
    parser = _parser()
    session: _Session | None = None
    try:
        text = _decode(source)
        session = _Session()
        _STATE.session = session
        try:
            program: ast.Program = parser.parse(text)
        except UnexpectedCharacters as error:
            raise _character_error(text, error) from None
        except UnexpectedToken as error:
            raise _syntax_error(text, error, session) from None
        except UnexpectedInput as error:  # any other lark complaint: still a syntax error
            line, column = getattr(error, "line", 0) or 0, getattr(error, "column", 0) or 0
            raise _source_error("E-SYNTAX", "Syntax error", line, column) from None
        if session.violations:
            line, column, what, limit = min(session.violations)
            raise limit_error("parse", what, limit, line, column)
        return program
    except DSLError:
        raise
    except (RecursionError, MemoryError):
        raise _internal_error(session) from None
    except Exception:
        raise _internal_error(session) from None
    finally:
        _STATE.session = None
