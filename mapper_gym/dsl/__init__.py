"""The mapping DSL: parser, canonical printer, checker and interpreter (dsl.md).

The phases of dsl.md §1 map onto these functions::

    program = parse(text)                      # parse   -> ast.Program or DSLError
    findings = check(program, app, topology)   # check   -> sorted Diagnostics
    loaded = load(program, topology)           # load    -> LoadedProgram or DSLError
    point = loaded.call_entry("f", task, kind="GPU")   # map, per launch point

``compile_program`` runs parse, check and load in one call; ``format_program`` prints the
canonical form that is the cache key of an evaluation.
"""

from mapper_gym.dsl import ast
from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import AppInfo, SimpleTopology, TaskInfo, Topology
from mapper_gym.dsl.errors import CheckFailed, Diagnostic, DSLError
from mapper_gym.dsl.interpreter import LoadedProgram, ProcessorRef, TaskRef, load
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.pipeline import Compiled, compile_program, diagnose
from mapper_gym.dsl.policy import LayoutSpec, Policy, build_policy, resolve_layout
from mapper_gym.dsl.printer import format_expr, format_program

#: ``format`` as the issue names it; ``format_program`` avoids shadowing the builtin.
format = format_program

__all__ = [
    "AppInfo",
    "CheckFailed",
    "Compiled",
    "DSLError",
    "Diagnostic",
    "LayoutSpec",
    "LoadedProgram",
    "Policy",
    "ProcessorRef",
    "SimpleTopology",
    "TaskInfo",
    "TaskRef",
    "Topology",
    "ast",
    "build_policy",
    "check",
    "compile_program",
    "diagnose",
    "format",
    "format_expr",
    "format_program",
    "load",
    "parse",
    "resolve_layout",
]
