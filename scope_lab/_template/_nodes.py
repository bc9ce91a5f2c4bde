"""The compiled form of a template: a tiny tree that the evaluator walks.

Names are resolved at compile time: ``slot`` is the nesting depth of the loop
whose variable a name refers to, or ``-1`` for a template input.  Scoping is
static (loop variables are visible only inside their loop), so the evaluator
needs no scope chain, just one value per active loop.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

Node: TypeAlias = "str | Output | If | For"  # a str is literal text
Body: TypeAlias = "tuple[Node, ...]"

GLOBAL = -1


class Output(NamedTuple):
    """``{{ name }}`` or ``{{ name | default("text") }}``."""

    name: str
    slot: int
    default: str | None


class If(NamedTuple):
    """``if``/``elif`` branches as (name, slot, body), then the ``else`` body."""

    branches: tuple[tuple[str, int, Body], ...]
    orelse: Body


class For(NamedTuple):
    """``for <target> in <name>``: the target's value lives in slot ``target_slot``."""

    name: str
    slot: int
    target_slot: int
    body: Body
