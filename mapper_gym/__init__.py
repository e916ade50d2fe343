"""mapper-gym: Legion mapping problems as Gymnasium environments.

The package is built as one straight path (see docs in README.md):
DSL text -> ``dsl.parse`` -> Program -> resolve -> MappingPlan -> backend -> RunResult.
"""

__version__ = "0.1.0"
