//! The one place where service errors become HTTP answers: each service's refusals get
//! their status (through the [`ApiError`] variant) and their stable code; failures become an
//! opaque 500 that keeps the whole source chain for the log.

use super::{ApiError, codes};
use crate::service::accounts::AccountError;
use crate::service::audit::AuditError;
use crate::service::compliance::ComplianceError;
use crate::service::import::ImportError;
use crate::service::import_jobs::JobError;
use crate::service::import_sources::SourceError;
use crate::service::media::{MediaError, ReceiveError};
use crate::service::notify::NotifyError;
use crate::service::review::ReviewError;
use crate::service::search::SearchError;
use crate::service::stats::StatsError;
use crate::service::uploads::UploadError;
use crate::service::webhooks::WebhookError;
use crate::service::works::WorkError;
use crate::storage::ingest::UploadRefusal;

/// A 403 for a missing role, with the refusal's own message.
fn forbidden(refusal: impl ToString) -> ApiError {
    ApiError::Forbidden(refusal.to_string())
}

/// A 409 with `code` and the refusal's own message.
fn conflict(code: &'static str, refusal: impl ToString, field: Option<&str>) -> ApiError {
    ApiError::Conflict { code, message: refusal.to_string(), field: field.map(str::to_owned) }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::AdminRequired => forbidden(error),
            WebhookError::NotFound => ApiError::NotFound { code: codes::WEBHOOK_NOT_FOUND, message: error.to_string() },
            WebhookError::Field(field) => ApiError::Field(field),
            WebhookError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<NotifyError> for ApiError {
    fn from(error: NotifyError) -> Self {
        ApiError::internal(error)
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::AdminRequired => forbidden(error),
            ImportError::Field(field) => ApiError::Field(field),
            ImportError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<JobError> for ApiError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::NotFound => ApiError::NotFound { code: codes::IMPORT_NOT_FOUND, message: error.to_string() },
            JobError::AlreadyStarted | JobError::NotFinished => conflict(codes::IMPORT_STATE, error, None),
            JobError::Import(import) => import.into(),
            JobError::Source(SourceError::Archive { .. }) => ApiError::Unprocessable {
                code: codes::UNSAFE_ARCHIVE,
                message: error.to_string(),
                field: Some("file".into()),
            },
            JobError::Source(SourceError::TooManyFiles) => ApiError::Unprocessable {
                code: codes::INVALID_FIELD,
                message: error.to_string(),
                field: Some("file".into()),
            },
            JobError::Source(_) | JobError::Task(_) => ApiError::internal(error),
        }
    }
}

impl From<WorkError> for ApiError {
    fn from(error: WorkError) -> Self {
        match error {
            WorkError::NotFound => ApiError::work_not_found(),
            WorkError::CommentNotFound => ApiError::comment_not_found(),
            WorkError::PublicationNotFound => {
                ApiError::NotFound { code: codes::PUBLICATION_NOT_FOUND, message: "no such publication record".into() }
            }
            WorkError::RoleRequired(_) | WorkError::NotCreator => forbidden(error),
            WorkError::NotEditable(_) => conflict(codes::WORK_NOT_EDITABLE, error, Some("status")),
            WorkError::VersionConflict { current } => ApiError::VersionConflict { current },
            WorkError::NotDeleted => conflict(codes::WORK_NOT_DELETED, error, None),
            WorkError::Field(field) => ApiError::Field(field),
            WorkError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(error: ReviewError) -> Self {
        match error {
            ReviewError::Work(work) => work.into(),
            ReviewError::Illegal { .. } => conflict(codes::ILLEGAL_TRANSITION, error, Some("action")),
            ReviewError::NotYours(_) => forbidden(error),
            ReviewError::SelfReview => ApiError::SelfReview,
            ReviewError::CommentRequired => ApiError::Unprocessable {
                code: codes::COMMENT_REQUIRED,
                message: error.to_string(),
                field: Some("comment".into()),
            },
            ReviewError::AlreadySignedOff => conflict(codes::ALREADY_SIGNED_OFF, error, None),
            ReviewError::AlreadyDecided => conflict(codes::ILLEGAL_TRANSITION, error, Some("action")),
            ReviewError::Compliance(compliance) => compliance.into(),
            ReviewError::Field(field) => ApiError::Field(field),
            ReviewError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<ComplianceError> for ApiError {
    fn from(error: ComplianceError) -> Self {
        let message = error.to_string();
        match error {
            ComplianceError::Blocked(findings) => {
                ApiError::Compliance { code: codes::COMPLIANCE_BLOCKED, message, findings }
            }
            ComplianceError::Unacknowledged(findings) => {
                ApiError::Compliance { code: codes::COMPLIANCE_UNACKNOWLEDGED, message, findings }
            }
            ComplianceError::FindingNotFound => ApiError::NotFound { code: codes::FINDING_NOT_FOUND, message },
            ComplianceError::ListNotFound => ApiError::NotFound { code: codes::WORDLIST_NOT_FOUND, message },
            ComplianceError::NotOpen(_) => conflict(codes::FINDING_NOT_OPEN, message, Some("status")),
            ComplianceError::NotMaskable(_) => conflict(codes::FINDING_NOT_MASKABLE, message, Some("field")),
            ComplianceError::RoleRequired(_) => forbidden(message),
            ComplianceError::SelfReview => ApiError::SelfReview,
            ComplianceError::Work(work) => work.into(),
            ComplianceError::Field(field) => ApiError::Field(field),
            ComplianceError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<MediaError> for ApiError {
    fn from(error: MediaError) -> Self {
        match error {
            MediaError::Work(work) => work.into(),
            MediaError::NotFound => ApiError::media_not_found(),
            MediaError::DerivativeNotFound(message) => {
                ApiError::NotFound { code: codes::DERIVATIVE_NOT_FOUND, message }
            }
            MediaError::RoleRequired(_) => forbidden(error),
            MediaError::Refused(refusal) => refusal.into(),
            MediaError::StorageFull => ApiError::InsufficientStorage,
            MediaError::FileMissing => ApiError::NotFound {
                code: codes::FILE_MISSING,
                message: "the stored file is missing: reprocess the media".into(),
            },
            MediaError::Storage(_)
            | MediaError::Ingest(_)
            | MediaError::Task(_)
            | MediaError::Corrupt(_)
            | MediaError::Db(_) => ApiError::internal(error),
        }
    }
}

/// A body the HTTP layer read is already an [`ApiError`]; what the bytes were refused for
/// maps like any media refusal.
impl From<ReceiveError<ApiError>> for ApiError {
    fn from(error: ReceiveError<ApiError>) -> Self {
        match error {
            ReceiveError::Body(body) => body,
            ReceiveError::Media(media) => media.into(),
        }
    }
}

impl From<UploadRefusal> for ApiError {
    fn from(refusal: UploadRefusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            UploadRefusal::EmptyFile => {
                ApiError::Unprocessable { code: codes::EMPTY_FILE, message, field: Some("file".into()) }
            }
            UploadRefusal::UnsupportedType => ApiError::UnsupportedMediaType(message),
            UploadRefusal::TooLarge { .. } => ApiError::UploadTooLarge(message),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::InvalidCredentials => ApiError::InvalidCredentials,
            AccountError::AccountDisabled => ApiError::AccountDisabled,
            AccountError::TooManyAttempts { retry_after_secs } => ApiError::TooManyAttempts { retry_after_secs },
            AccountError::Unauthenticated(why) => ApiError::Unauthenticated(why),
            AccountError::UserNotFound => ApiError::user_not_found(),
            AccountError::UsernameTaken => conflict(codes::USERNAME_TAKEN, error, Some("username")),
            AccountError::AdminRequired => forbidden(error),
            AccountError::Field(field) => ApiError::Field(field),
            AccountError::Task(_) | AccountError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::AdminRequired => forbidden(error),
            AuditError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::InvalidQuery(message) => ApiError::InvalidSearch(message),
            SearchError::Index(_) | SearchError::Db(_) => ApiError::internal(error),
        }
    }
}

impl From<StatsError> for ApiError {
    fn from(error: StatsError) -> Self {
        ApiError::internal(error)
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::NotFound => ApiError::NotFound { code: codes::UPLOAD_NOT_FOUND, message: error.to_string() },
            UploadError::OffsetMismatch { .. } => {
                ApiError::Conflict { code: codes::UPLOAD_OFFSET_MISMATCH, message: error.to_string(), field: None }
            }
            UploadError::Complete => {
                ApiError::Conflict { code: codes::UPLOAD_COMPLETE, message: error.to_string(), field: None }
            }
            UploadError::TooLarge { .. } | UploadError::BeyondLength => ApiError::UploadTooLarge(error.to_string()),
            UploadError::Media(media) => media.into(),
            UploadError::Storage(io) if crate::storage::is_storage_full(&io) => ApiError::InsufficientStorage,
            UploadError::Storage(_) | UploadError::Task(_) | UploadError::Db(_) => ApiError::internal(error),
        }
    }
}
