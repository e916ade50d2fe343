"""mapper-gym: Legion mapping problems as Gymnasium environments.

The package is built as one straight path (see docs in README.md):
DSL text -> ``dsl.parse`` -> Program -> resolve -> MappingPlan -> backend -> RunResult.

Importing the package registers the nine environments ``Mapper-<App>-v0`` with Gymnasium
(:mod:`mapper_gym.registration`); nothing heavy is imported until one is made.
"""

from mapper_gym.native import activate as _activate_native

_activate_native()  # before any compiled module is imported (see mapper_gym/native.py)

from mapper_gym.registration import register_envs  # noqa: E402

__version__ = "0.1.0"

register_envs()
