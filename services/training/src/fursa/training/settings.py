"""The training service's configuration: ``FURSA_TRAINING_*`` environment variables.

The curriculum is JSON in ``FURSA_TRAINING_CURRICULUM`` (pathway → modules, workshops and
how many workshops to pass); the development seed is
:data:`~fursa.training.curriculum.DEFAULT_CURRICULUM`. It is the default: a center's own
curriculum, set through the API, applies where one is set.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fursa.shared.contracts import Pathway
from fursa.shared.settings import ServiceSettings
from fursa.training.curriculum import DEFAULT_CURRICULUM, CompletionRule, PathwayPlan
from fursa.training.early_warning import EarlyWarning
from fursa.training.service import TrainingRules


class TrainingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FURSA_TRAINING_", extra="ignore")

    port: int = 8002
    database_url: str = "sqlite:///var/training.db"
    public_base_url: str = "http://127.0.0.1:8002"
    curriculum: dict[Pathway, PathwayPlan] = Field(default_factory=lambda: DEFAULT_CURRICULUM)
    # Completion: attended hours over required hours, and the pass mark out of 20.
    min_attendance_share: Annotated[float, Field(ge=0, le=1)] = 0.75
    pass_mark: Annotated[float, Field(ge=0, le=20)] = 10.0
    # Early warning: attendance over the last N sessions under the threshold; the episode
    # ends at threshold + margin.
    at_risk_window_sessions: Annotated[int, Field(ge=1, le=100)] = 5
    at_risk_threshold: Annotated[float, Field(gt=0, le=1)] = 0.6
    at_risk_margin: Annotated[float, Field(ge=0, le=1)] = 0.1
    # How often the follow-up reminders look for milestones falling due (seconds).
    follow_up_reminder_period_s: Annotated[float, Field(gt=0, le=86400)] = 3600.0

    def rules(self) -> TrainingRules:
        """The programme's rules as this deployment configures them (fails fast if absurd)."""
        missing = set(Pathway) - set(self.curriculum)
        if missing:
            raise ValueError(f"{self.env_name('curriculum')} lacks {sorted(missing)}")
        return TrainingRules(
            curriculum=dict(self.curriculum),
            completion=CompletionRule(
                min_attendance_share=self.min_attendance_share, pass_mark=self.pass_mark
            ),
            early_warning=EarlyWarning(
                window_sessions=self.at_risk_window_sessions,
                threshold=self.at_risk_threshold,
                margin=self.at_risk_margin,
            ),
        )
