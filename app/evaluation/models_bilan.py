"""The yearly bilan's free text: four sections a coordinator writes per project and year."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import VersionedMixin, db

INTERNAL = {"audience": "internal"}


class BilanSection(StrEnum):
    CONTEXT = "contexte"
    HIGHLIGHTS = "faits_marquants"
    DIFFICULTIES = "difficultes"
    OUTLOOK = "perspectives"

    @property
    def label(self) -> str:
        return SECTION_LABELS[self]


SECTION_LABELS = {
    BilanSection.CONTEXT: "Contexte",
    BilanSection.HIGHLIGHTS: "Faits marquants",
    BilanSection.DIFFICULTIES: "Difficultés",
    BilanSection.OUTLOOK: "Perspectives",
}


class BilanText(VersionedMixin, db.Model):
    """One section of a project's bilan for one calendar year.

    Written by the project's coordinators for a funder: it holds no household data by design
    (the form says so), but it is read only inside the app and in the documents the
    coordinator downloads, hence the ``internal`` audience. ``version`` (``VersionedMixin``)
    refuses an edit opened before another coordinator saved."""

    __tablename__ = "bilan_text"
    __table_args__ = (
        UniqueConstraint("project_id", "year", "section"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=INTERNAL)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True, info=INTERNAL
    )
    year: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    section: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    text: Mapped[str] = mapped_column(Text, default="", info=INTERNAL)
