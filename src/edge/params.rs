//! Query strings and path ids, read the same way by the API and the pages: errors name the
//! parameter.

use serde::de::DeserializeOwned;

use crate::domain::ids::{UserId, WorkId};
use crate::error::ApiError;

/// Parses a query string with the same error shape as bodies.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // No stored text holds NUL, and PostgreSQL refuses it in comparisons: say so up front.
    if let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0')) {
        let message = format!("query parameter {name} must not contain NUL characters");
        return Err(ApiError::InvalidQuery { field: Some(name.into_owned()), message });
    }
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let message = format!("query parameter {field} is not acceptable: {}", error.inner());
        ApiError::InvalidQuery { field: Some(field), message }
    })
}

/// Parses a work id from the path.
pub fn work_id(raw: &str) -> Result<WorkId, ApiError> {
    WorkId::parse(raw).ok_or_else(|| ApiError::InvalidPath(format!("work id {raw:?} is not a uuid")))
}

/// Parses a user id from the path.
pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).ok_or_else(|| ApiError::InvalidPath(format!("user id {raw:?} is not a uuid")))
}
