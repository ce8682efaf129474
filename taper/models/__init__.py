"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from taper.models import guards
from taper.models.audit import AuditEvent
from taper.models.base import Base
from taper.models.booking import Appointment, ClinicSession, Leave
from taper.models.finding import (
    CohortImport,
    CohortMapping,
    Invitation,
    InvitationBatch,
    PracticeRecordLine,
)
from taper.models.follow_up import FollowUp
from taper.models.messages import Message
from taper.models.organisation import Organisation
from taper.models.patient import Patient
from taper.models.plan import Plan, PlanDocument, PlanVersion, PlanVersionStep, SharedDecision
from taper.models.regimen import RecordedRegimen
from taper.models.risk import RecordedRiskAssessment
from taper.models.sharing import Concern, ConcernStatusChange, LetterReceipt, RevisionNoticeRead, Supply
from taper.models.sign_in import FailedSignIns, RecoveryCode
from taper.models.submission import KeptWork, SubmissionKey
from taper.models.user import User
from taper.models.worklist import WorklistItem

__all__ = ["Appointment", "AuditEvent", "Base", "ClinicSession", "CohortImport", "CohortMapping", "Concern",
           "ConcernStatusChange", "FailedSignIns", "FollowUp", "Invitation", "InvitationBatch", "KeptWork", "Leave",
           "LetterReceipt", "Message", "Organisation", "Patient", "Plan", "PlanDocument", "PlanVersion",
           "PlanVersionStep", "PracticeRecordLine", "RecordedRegimen", "RecordedRiskAssessment", "RecoveryCode",
           "RevisionNoticeRead", "SharedDecision", "SubmissionKey", "Supply", "User", "WorklistItem", "guards"]
