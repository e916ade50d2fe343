"""The mapping DSL: parser, canonical printer, checker and interpreter (dsl.md)."""

from mapper_gym.dsl import ast
from mapper_gym.dsl.context import AppInfo, SimpleTopology, TaskInfo, Topology
from mapper_gym.dsl.errors import CheckFailed, Diagnostic, DSLError

__all__ = [
    "AppInfo",
    "CheckFailed",
    "DSLError",
    "Diagnostic",
    "SimpleTopology",
    "TaskInfo",
    "Topology",
    "ast",
]
