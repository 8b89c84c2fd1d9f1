//! Services: one function per use case, combining domain rules with the database. Handlers
//! call exactly one of these; nothing here knows about HTTP requests or responses.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod comments;
pub mod compliance;
pub mod export;
pub mod film_facts;
pub mod findings;
pub mod health;
pub mod import;
mod import_extras;
pub mod import_jobs;
pub mod import_sources;
pub mod media;
pub mod notify;
pub mod publications;
pub mod review;
pub mod search;
pub mod session_cache;
pub mod sessions;
pub mod stats;
pub mod uploads;
pub mod webhooks;
pub mod wordlists;
pub mod work_detail;
pub mod works;

/// Runs CPU- or disk-heavy `work` (password hashing, storing files, building an export) on
/// tokio's blocking pool with the caller's tracing span; a task that panicked or was
/// cancelled comes back as the caller's error.
pub(crate) async fn off_executor<T, E, F>(work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work)).await?
}
