"""The one error type of the machine models.

Every problem a user can cause (an unknown preset, a bad override, a node count the machine does
not support, a malformed or unlabelled machine file) is raised as :class:`MachineError`, a
``ValueError`` with a message meant to be read by a person and, through the environment's
feedback, by an optimizer. ``key`` names the setting or file entry at fault when there is one.
"""

from __future__ import annotations


class MachineError(ValueError):
    """A machine model could not be built or queried as asked."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def __str__(self) -> str:
        return self.message
