"""Capacity planning: per center and pathway, the places against the demand, so that a
directorate can argue for a new center (or more places) where learners wait.

A center's free places are its places less the learners holding one; its unmet demand, the
learners waiting beyond those free places; its occupancy, the enrolled as a share of its places.
A figure withheld for publication (``None``) leaves what it would reveal unknown (``""``), never
guessed: the occupancy of a center with 1 to 4 learners would give their number away."""

from __future__ import annotations

from dataclasses import dataclass

from fursa.console.tables import Cell


@dataclass(frozen=True)
class Intake:
    """One center's intake on one pathway and school year, as the enrollment service counts
    it (``places`` ``None``: no limit; ``enrolled``/``waitlisted`` ``None``: withheld)."""

    places: int | None
    enrolled: int | None
    waitlisted: int | None

    @property
    def unmet(self) -> Cell:
        """Learners waiting beyond the free places: the demand the center cannot take."""
        if self.waitlisted is None:
            return None
        if self.places is None:
            return 0
        if self.enrolled is None:
            return ""
        return max(self.waitlisted - max(self.places - self.enrolled, 0), 0)

    @property
    def occupancy(self) -> Cell:
        """The enrolled as a percentage of the places (empty when unknown or unlimited)."""
        if not self.places or self.enrolled is None:
            return ""
        return round(self.enrolled * 100 / self.places, 1)

    @property
    def over_capacity(self) -> bool:
        return self.places is not None and self.enrolled is not None and self.enrolled > self.places

    @property
    def waiting(self) -> bool:
        """Learners wait (a withheld count is 1 to 4 of them)."""
        return self.waitlisted is None or self.waitlisted > 0

    @property
    def strained(self) -> bool:
        """Over capacity or with a waiting list: where more places are needed."""
        return self.over_capacity or self.waiting
