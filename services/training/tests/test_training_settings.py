"""The programme's rules come from configuration (``FURSA_TRAINING_*``) and absurd ones stop
the service at start."""

from __future__ import annotations

import json

import pytest

from fursa.shared.contracts import Pathway
from fursa.training.curriculum import DEFAULT_CURRICULUM
from fursa.training.settings import TrainingSettings


def test_the_development_seed_and_rules_apply_by_default() -> None:
    rules = TrainingSettings().rules()

    assert rules.curriculum == DEFAULT_CURRICULUM
    assert (rules.completion.min_attendance_share, rules.completion.pass_mark) == (0.75, 10)
    assert (rules.early_warning.window_sessions, rules.early_warning.threshold) == (5, 0.6)


def test_an_agreements_curriculum_and_rules_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    curriculum = {
        "school_reintegration": {"modules": {"literacy": 60}},
        "vocational_training": {
            "modules": {"literacy": 30},
            "workshops": {"electricity": 120},
            "workshops_required": 1,
        },
        "socio_professional_insertion": {"modules": {"life_skills": 50}},
    }
    monkeypatch.setenv("FURSA_TRAINING_CURRICULUM", json.dumps(curriculum))
    monkeypatch.setenv("FURSA_TRAINING_MIN_ATTENDANCE_SHARE", "0.8")
    monkeypatch.setenv("FURSA_TRAINING_AT_RISK_WINDOW_SESSIONS", "8")

    rules = TrainingSettings().rules()

    vocational = rules.curriculum[Pathway.VOCATIONAL_TRAINING]
    assert (vocational.modules, vocational.workshops) == ({"literacy": 30}, {"electricity": 120})
    assert rules.completion.min_attendance_share == 0.8
    assert rules.early_warning.window_sessions == 8


def test_a_curriculum_without_every_pathway_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FURSA_TRAINING_CURRICULUM", json.dumps({"school_reintegration": {"modules": {"x": 1}}})
    )

    with pytest.raises(ValueError, match="FURSA_TRAINING_CURRICULUM lacks"):
        TrainingSettings().rules()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FURSA_TRAINING_MIN_ATTENDANCE_SHARE", "1.2"),
        ("FURSA_TRAINING_PASS_MARK", "25"),
        ("FURSA_TRAINING_AT_RISK_THRESHOLD", "0"),
        ("FURSA_TRAINING_CURRICULUM", '{"school_reintegration": {"modules": {"literacy": -4}}}'),
    ],
)
def test_absurd_rules_stop_the_service(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValueError, match=variable.removeprefix("FURSA_TRAINING_").lower()):
        TrainingSettings()


def test_an_episode_that_could_never_end_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FURSA_TRAINING_AT_RISK_THRESHOLD", "0.9")
    monkeypatch.setenv("FURSA_TRAINING_AT_RISK_MARGIN", "0.2")

    with pytest.raises(ValueError, match="threshold"):
        TrainingSettings().rules()
