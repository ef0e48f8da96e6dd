"""The yearly programme report and the capacity planning, without the services: what a center's
intake tells, and the PDF drawn from given figures in each language."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from fursa.console.capacity import Intake
from fursa.console.charts import bar_chart
from fursa.console.i18n import Language, local_number
from fursa.console.pages import Pages
from fursa.console.report import KeyFigure, YearReport, render_pdf
from fursa.console.settings import ConsoleSettings
from fursa.console.tables import Table
from fursa.console.territories import province_name, region_name


def test_a_full_center_with_learners_waiting_leaves_demand_unmet() -> None:
    intake = Intake(places=3, enrolled=3, waitlisted=7)
    assert (intake.unmet, intake.occupancy, intake.strained) == (7, 100.0, True)
    assert not intake.over_capacity


def test_free_places_take_in_part_of_the_waiting_list() -> None:
    assert Intake(places=10, enrolled=6, waitlisted=5).unmet == 1


def test_a_center_enrolled_beyond_its_places_is_over_capacity() -> None:
    intake = Intake(places=20, enrolled=24, waitlisted=0)
    assert (intake.over_capacity, intake.occupancy, intake.unmet) == (True, 120.0, 0)


def test_a_center_with_room_and_nobody_waiting_is_not_flagged() -> None:
    assert not Intake(places=20, enrolled=12, waitlisted=0).strained


def test_withheld_counts_reveal_nothing() -> None:
    """1 to 4 waiting: still a waiting list, its unmet demand withheld too; 1 to 4 enrolled:
    the occupancy would give them away."""
    waiting = Intake(places=20, enrolled=20, waitlisted=None)
    assert (waiting.unmet, waiting.strained) == (None, True)
    few = Intake(places=20, enrolled=None, waitlisted=0)
    assert (few.occupancy, few.unmet, few.strained) == ("", "", False)


def test_a_center_without_a_limit_has_no_occupancy() -> None:
    assert (Intake(places=None, enrolled=30, waitlisted=0).occupancy) == ""


BIDI_MARKS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    # pdftotext marks the direction of each run (embeddings) and writes a narrow no-break space
    # (French thousands) as a space: the words and figures are what counts.
    return BIDI_MARKS.sub("", text)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ar", ["التقرير السنوي للبرنامج", "عمالة مراكش", "الأرقام الرئيسية", "مركز النصر"]),
        (
            "fr",
            [
                "Rapport annuel du programme",
                "Préfecture de Marrakech",
                "Chiffres clés",
                "Centre Al-Nasr",
            ],
        ),
    ],
)
def test_the_report_prints_its_figures_and_withholds_small_cells(
    language: Language, words: list[str], tmp_path: Path
) -> None:
    pages = Pages(ConsoleSettings())
    center = words[-1]
    by_center = Table("enrolments", "—", ["—", "a", "b", "c", "d"], [[center, 12, None, 0, 37]])
    report = YearReport(
        school_year="2025/2026",
        area=province_name("071", language, lambda message: pages.translate(language, message)),
        drawn_up="1",
        figures=[KeyFigure("—", 4821), KeyFigure("—", None)],
        exits=Table("exits", "—", ["—", "a", "b"], [["—", 19, 0]]),
        certificates=Table("certificates", "—", ["—", "a", "b"], [["2025/2026", 23, 22]]),
        tables=[by_center],
        attendance=[Table("attendance", "—", ["—", "a", "b", "c"], [[center, 14, 91.5, None]])],
        indicators=[Table("indicators", "—", ["—", "a", "b", "c"], [[center, 61, None, 83.3]])],
        charts=[bar_chart("—", ["a"], [(center, [12])], right_to_left=language == "ar")],
    )
    pdf = render_pdf(pages.document(language, "report.html", report=report))
    (tmp_path.parent / f"report-{language}.pdf").write_bytes(pdf)
    text = pdf_text(pdf, tmp_path)
    for word in words:
        assert word in text
    for figure in (local_number(4821, language).replace("\u202f", " "), "37", "<5", "19", "23"):
        assert figure in text
    for rate in (83.3, 91.5):
        assert local_number(rate, language) in text


@pytest.mark.parametrize(
    ("language", "region", "province", "unknown"),
    [
        ("ar", "جهة مراكش آسفي", "عمالة مراكش", "الإقليم 072"),
        ("fr", "Région Marrakech-Safi", "Préfecture de Marrakech", "Province 072"),
    ],
)
def test_regions_and_provinces_are_named_in_the_persons_language(
    language: Language, region: str, province: str, unknown: str
) -> None:
    pages = Pages(ConsoleSettings())

    def _(message: str) -> str:
        return pages.translate(language, message)

    assert region_name("07", language, _) == region
    assert province_name("071", language, _) == province
    assert province_name("072", language, _) == unknown
