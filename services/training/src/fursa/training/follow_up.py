"""Follow-up after the programme (e.g. at 6 and 12 months): where a learner is, and what each
situation must say. Plain rules, no framework."""

from __future__ import annotations

from dataclasses import dataclass

from fursa.shared.contracts import OutcomeStatus

# What each situation names: back in school says which school and level, vocational training
# which institution; the others name no place (a free text there could carry personal data).
NAMES: dict[OutcomeStatus, frozenset[str]] = {
    OutcomeStatus.BACK_IN_SCHOOL: frozenset({"school", "level"}),
    OutcomeStatus.VOCATIONAL_TRAINING: frozenset({"institution"}),
    OutcomeStatus.EMPLOYED: frozenset(),
    OutcomeStatus.APPRENTICED: frozenset(),
    OutcomeStatus.NONE: frozenset(),
}

REINTEGRATED = frozenset({OutcomeStatus.BACK_IN_SCHOOL, OutcomeStatus.VOCATIONAL_TRAINING})
"""Back in the formal system: school, or a vocational training institution."""

PLACED = frozenset({OutcomeStatus.EMPLOYED, OutcomeStatus.APPRENTICED})
"""In work: employed, or apprenticed with a master craftsman or a firm."""


@dataclass(frozen=True)
class FollowUp:
    """One follow-up of a learner ``months_after`` the end of their training."""

    months_after: int
    status: OutcomeStatus
    school: str | None = None
    level: str | None = None
    institution: str | None = None


def follow_up_errors(follow_up: FollowUp) -> list[tuple[str, str]]:
    """``(field, rule)`` for each field the situation requires and lacks, or must not carry."""
    required = NAMES[follow_up.status]
    errors: list[tuple[str, str]] = []
    for name in ("school", "level", "institution"):
        given = getattr(follow_up, name) is not None
        if name in required and not given:
            errors.append((name, "missing"))
        elif name not in required and given:
            errors.append((name, "not_for_status"))
    return errors
