"""Sample event data for the contract tests: one valid instance of every registered type."""

import uuid
from datetime import UTC, date, datetime

import pytest

from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    Consent,
    EventData,
    ExitOutcomeRecorded,
    Guardian,
    LearnerAtRisk,
    LearnerEnrolled,
    LearnerErased,
    LearnerOutcomeRecorded,
    LearnerPII,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    LearnerWithdrawn,
    NotificationFailed,
    NotificationSent,
    ReferralStatusChanged,
    TrainingCompleted,
    all_types,
)
from fursa.shared.contracts.registry import registry
from fursa.shared.contracts.training import FollowUpDue

LEARNER_ID = "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8e"
ENROLLMENT_ID = "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8f"
CENTER_ID = "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def _id() -> str:
    return str(uuid.uuid4())


def learner_enrolled() -> LearnerEnrolled:
    """A learner of the Al-Nasr center (Marrakech), enrolled for 2024/2025."""
    return LearnerEnrolled(
        enrollment_id=ENROLLMENT_ID,
        learner_id=LEARNER_ID,
        association_id=_id(),
        center_id=CENTER_ID,
        region_code="07",
        province_code="351",
        pathway="vocational_training",
        school_year="2024/2025",
        enrolled_on=date(2024, 9, 16),
        pii=LearnerPII(
            first_name_ar="عبد الله",
            last_name_ar="آيت الإدريسي",
            first_name_latin="Abdellah",
            last_name_latin="Aït El-Idrissi",
            birth_date=date(2009, 3, 2),
            sex="male",
            guardian=Guardian(
                name="Fatima Zahra Aït El-Idrissi",
                phone="+212612345678",
                email="fz.idrissi@example.ma",
                preferred_language="ar",
            ),
            consent=Consent(data_use=True, notifications=True),
        ),
    )


def samples() -> dict[str, EventData]:
    """One valid data instance per registered type, keyed by type."""
    by_type: dict[str, EventData] = {
        "fursa.enrollment.learner-enrolled.v1": learner_enrolled(),
        "fursa.training.training-completed.v1": TrainingCompleted(
            training_id=_id(),
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            center_id=CENTER_ID,
            pathway="vocational_training",
            workshops=["tailoring", "computing"],
            hours_attended=412.5,
            attendance_rate=0.87,
            result="passed",
            completed_on=date(2025, 6, 27),
        ),
        "fursa.certification.certificate-issued.v1": CertificateIssued(
            certificate_id=_id(),
            certificate_number="MS-2025-000123",
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            kind="diploma",
            pathway="vocational_training",
            issued_on=date(2025, 7, 10),
            verification_url="https://fursa.example.ma/verify/MS-2025-000123",
        ),
        "fursa.notify.notification-sent.v1": NotificationSent(
            delivery_id=_id(),
            learner_id=LEARNER_ID,
            recipient_kind="guardian",
            channel="sms",
            template="learner_enrolled.ar",
            cause_event_id="0192f0c4-5b1e-7c3a-9d2e-000000000001",
            cause_type="fursa.enrollment.learner-enrolled.v1",
            sent_at=datetime(2024, 9, 16, 9, 30, tzinfo=UTC),
        ),
    }
    enrolled = learner_enrolled()
    by_type |= {
        "fursa.enrollment.learner-waitlisted.v1": LearnerWaitlisted(
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            association_id=enrolled.association_id,
            center_id=CENTER_ID,
            region_code="07",
            province_code="351",
            pathway="vocational_training",
            school_year="2024/2025",
            position=3,
            waitlisted_on=date(2024, 9, 16),
            pii=enrolled.pii,
        ),
        "fursa.enrollment.learner-updated.v1": LearnerUpdated(
            learner_id=LEARNER_ID,
            association_id=enrolled.association_id,
            changed=["guardian.phone", "consent.notifications"],
            updated_at=datetime(2024, 10, 1, 8, 0, tzinfo=UTC),
            pii=enrolled.pii,
        ),
        "fursa.enrollment.learner-transferred.v1": LearnerTransferred(
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            association_id=_id(),
            from_center_id=CENTER_ID,
            to_center_id=_id(),
            region_code="07",
            province_code="352",
            pathway="vocational_training",
            transferred_on=date(2024, 11, 4),
        ),
        "fursa.enrollment.learner-withdrawn.v1": LearnerWithdrawn(
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            association_id=enrolled.association_id,
            center_id=CENTER_ID,
            pathway="vocational_training",
            reason="work",
            withdrawn_on=date(2025, 2, 3),
        ),
        "fursa.enrollment.exit-outcome-recorded.v1": ExitOutcomeRecorded(
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            association_id=enrolled.association_id,
            center_id=CENTER_ID,
            pathway="vocational_training",
            exit_outcome="back_in_school",
            left_on=date(2025, 6, 30),
            recorded_on=date(2025, 9, 20),
        ),
        "fursa.enrollment.learner-erased.v1": LearnerErased(
            learner_id=LEARNER_ID,
            enrollment_ids=[ENROLLMENT_ID],
            erased_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        ),
        "fursa.training.learner-at-risk.v1": LearnerAtRisk(
            training_id=_id(),
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            center_id=CENTER_ID,
            pathway="vocational_training",
            window_sessions=10,
            attendance_rate=0.4,
            threshold=0.6,
            detected_on=date(2024, 12, 2),
        ),
        "fursa.training.learner-outcome-recorded.v1": LearnerOutcomeRecorded(
            outcome_id=_id(),
            training_id=_id(),
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            center_id=CENTER_ID,
            pathway="vocational_training",
            months_after=6,
            status="vocational_training",
            institution="ISTA Marrakech",
            recorded_on=date(2025, 12, 27),
        ),
        "fursa.training.follow-up-due.v1": FollowUpDue(
            training_id=_id(),
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            center_id=CENTER_ID,
            pathway="vocational_training",
            months_after=6,
            completed_on=date(2025, 6, 27),
            due_on=date(2025, 12, 27),
        ),
        "fursa.certification.certificate-revoked.v1": CertificateRevoked(
            certificate_id=_id(),
            certificate_number="MS-2025-000123",
            enrollment_id=ENROLLMENT_ID,
            learner_id=LEARNER_ID,
            reason="issued_in_error",
            revoked_on=date(2025, 7, 20),
        ),
        "fursa.enrollment.referral-status-changed.v1": ReferralStatusChanged(
            referral_id=_id(),
            agreement_id=_id(),
            association_id=_id(),
            partner_id=_id(),
            reference="ADD-2025/117",
            status="closed",
            closing_reason="no_place",
            changed_on=date(2025, 9, 30),
            sharing="status",
        ),
        "fursa.notify.notification-failed.v1": NotificationFailed(
            delivery_id=_id(),
            learner_id=LEARNER_ID,
            recipient_kind="guardian",
            channel="sms",
            template="learner_enrolled.ar",
            cause_event_id="0192f0c4-5b1e-7c3a-9d2e-000000000001",
            cause_type="fursa.enrollment.learner-enrolled.v1",
            attempts=8,
            last_error="http_503",
            failed_at=datetime(2024, 9, 17, 9, 30, tzinfo=UTC),
        ),
    }
    # The partner feed's contracts carry their own example (the partner catalog shows it).
    by_type.update(
        {
            spec.type: spec.model.model_validate(spec.model.model_json_schema()["examples"][0])
            for spec in registry().values()
            if spec.context == "partner"
        }
    )
    # A new registered type must get a sample here, or the round-trip tests would skip it.
    assert sorted(by_type) == all_types()
    return by_type


@pytest.fixture(params=all_types())
def sample(request: pytest.FixtureRequest) -> EventData:
    """Valid data of each registered type in turn."""
    return samples()[request.param]


@pytest.fixture
def enrolled() -> LearnerEnrolled:
    """Valid learner-enrolled data."""
    return learner_enrolled()
