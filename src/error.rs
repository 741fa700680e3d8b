//! The one error type of warroom: every failure a client can see, with its stable SPEC code.
//!
//! It turns into an HTTP response in `http` (`IntoResponse`) and into a socket acknowledgement
//! in `realtime` (`Realtime::dispatch`), each in exactly one place.

use std::fmt;

use serde::Serialize;

/// A failure, as the client sees it. `Internal` keeps its cause chain for the log only.
#[derive(Debug)]
pub enum AppError {
    Unauthorized,
    Forbidden(String),
    Validation(String),
    NotFound(String),
    TaskNotFound(i64),
    AgentNotFound(String),
    BoardNotFound(String),
    TaskLocked { task_id: i64, holder: String },
    Conflict(String),
    RateLimited,
    PayloadTooLarge,
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// The wire form of an error: `{ code, message }`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// One of the SPEC error codes, e.g. `TASK_NOT_FOUND`.
    pub code: &'static str,
    /// A sentence for people, e.g. `Task 42 not found`.
    pub message: String,
}

impl AppError {
    pub fn validation(message: impl Into<String>) -> Self {
        AppError::Validation(message.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "UNAUTHORIZED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Validation(_) => "VALIDATION_ERROR",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::TaskNotFound(_) => "TASK_NOT_FOUND",
            AppError::AgentNotFound(_) => "AGENT_NOT_FOUND",
            AppError::BoardNotFound(_) => "BOARD_NOT_FOUND",
            AppError::TaskLocked { .. } => "TASK_LOCKED",
            AppError::Conflict(_) => "CONFLICT",
            AppError::RateLimited => "RATE_LIMITED",
            AppError::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status the REST adapter answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Validation(_) => 400,
            AppError::NotFound(_)
            | AppError::TaskNotFound(_)
            | AppError::AgentNotFound(_)
            | AppError::BoardNotFound(_) => 404,
            AppError::TaskLocked { .. } | AppError::Conflict(_) => 409,
            AppError::RateLimited => 429,
            AppError::PayloadTooLarge => 413,
            AppError::Internal(_) => 500,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code(), message: self.to_string() }
    }

    /// Logs an internal failure once, with its cause chain; client errors are not logged.
    pub fn log(&self, context: &str) {
        if let AppError::Internal(err) = self {
            tracing::error!(error = format!("{err:#}"), "{context} failed");
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unauthorized => f.write_str("Unauthorized"),
            AppError::Forbidden(m)
            | AppError::Validation(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m) => f.write_str(m),
            AppError::TaskNotFound(id) => write!(f, "Task {id} not found"),
            AppError::AgentNotFound(id) => write!(f, "Agent {id} not found"),
            AppError::BoardNotFound(id) => write!(f, "Board {id} not found"),
            AppError::TaskLocked { task_id, holder } => {
                write!(f, "Task {task_id} is being moved by {holder}")
            }
            AppError::RateLimited => f.write_str("Too many commands; slow down and retry shortly"),
            AppError::PayloadTooLarge => {
                f.write_str("Payload too large (the limit is 1 MiB; 50 MiB for an import)")
            }
            // Details stay in the log: clients only learn that it was our fault.
            AppError::Internal(_) => f.write_str("Internal server error"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        AppError::Internal(err)
    }
}
