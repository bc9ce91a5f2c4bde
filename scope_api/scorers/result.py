"""What one scorer says about one output."""

from __future__ import annotations

from dataclasses import dataclass

#: Details longer than this are cut, so one result row stays small.
MAX_DETAIL_CHARS = 2_000


@dataclass(frozen=True)
class Score:
    """A score in [0, 1] (``None``: not applicable) and why, for a person to read."""

    value: float | None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and not 0 <= self.value <= 1:
            raise ValueError(f"a score must be in [0, 1], got {self.value}")
        if self.detail is not None and len(self.detail) > MAX_DETAIL_CHARS:
            object.__setattr__(self, "detail", self.detail[: MAX_DETAIL_CHARS - 1] + "…")


def passed(ok: bool, detail: str | None = None) -> Score:
    """1 when ``ok``, else 0."""
    return Score(1.0 if ok else 0.0, detail)


def not_applicable(reason: str) -> Score:
    """A score that is left out of the result's ``scores`` and of every mean."""
    return Score(None, reason)
