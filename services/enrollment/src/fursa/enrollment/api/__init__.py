"""The enrollment HTTP API: thin routes over the service layer, one module per subject.

Every route needs a bearer token of a role it serves (403 otherwise: a partner's system is
served only the reference data and its own referrals) and answers within the caller's scope:
a record outside it answers 404, exactly like one that does not exist.
"""

from fursa.enrollment.api.enrollments import router as enrollments
from fursa.enrollment.api.imports import router as imports
from fursa.enrollment.api.indicators import router as indicators
from fursa.enrollment.api.learners import router as learners
from fursa.enrollment.api.reference import router as reference
from fursa.enrollment.api.referrals import router as referrals
from fursa.enrollment.api.statistics import router as statistics
from fursa.enrollment.api.waiting_lists import router as waiting_lists

ROUTERS = (
    reference,
    referrals,
    enrollments,
    waiting_lists,
    learners,
    imports,
    statistics,
    indicators,
)

__all__ = ["ROUTERS"]
