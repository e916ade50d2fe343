"""Mapping resolution: a compiled DSL program, an application and a machine → a MappingPlan.

``resolve`` (:mod:`.resolver`) applies dsl.md §6 decision by decision; whatever the program
leaves open is decided by our model of Legion's DefaultMapper (:mod:`.default_mapper`, which
documents that model precisely). Execution errors and warnings of resolution are built in
:mod:`.errors`.
"""

from mapper_gym.mapping.default_mapper import DEFAULT_KIND_RANKING
from mapper_gym.mapping.resolver import resolve

__all__ = ["DEFAULT_KIND_RANKING", "resolve"]
