//! A requested lifecycle step, parsed from what a client sent: the action, the version it
//! was read at, the decision's comment and — for publishing — where and when it went out.

use chrono::{DateTime, Utc};

use super::fields::{FieldError, optional_text, parse_external_url, parse_timestamp};
use super::lifecycle::Action;

/// Longest comment (a decision's comment too), in characters.
pub const COMMENT_MAX_CHARS: usize = 5_000;

/// A step as a client sends it.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub action: String,
    pub comment: Option<String>,
    pub version: Option<i64>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<String>,
}

/// A step, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub action: Action,
    /// The version the client read; the step applies only if it is still current.
    pub version: i64,
    /// The decision's reasons (kept with the work's comments).
    pub comment: Option<String>,
    /// Where and when the work went out, for `publish` (empty otherwise).
    pub publication: Publication,
}

/// Publication details as sent; what is absent comes from the work itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publication {
    /// As sent (a blank one is refused as missing).
    pub channel: Option<String>,
    /// Sent (`Some(None)`: sent blank, refused as missing), or absent.
    pub external_url: Option<Option<String>>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Transition {
    /// Checks the action, the version and the comment; for `publish`, the URL and time.
    pub fn parse(input: TransitionInput) -> Result<Self, FieldError> {
        let action = Action::parse(&input.action).ok_or_else(|| {
            let names: Vec<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
            FieldError::invalid("action", format!("must be one of {}", names.join(", ")))
        })?;
        let version = input.version.ok_or_else(|| FieldError::required("version"))?;
        let comment = optional_text("comment", input.comment.as_deref(), COMMENT_MAX_CHARS)?;
        let publication = match action {
            Action::Publish => Publication::parse(input.channel, input.external_url, input.published_at)?,
            _ => Publication::default(),
        };
        Ok(Self { action, version, comment, publication })
    }
}

impl Publication {
    fn parse(
        channel: Option<String>,
        external_url: Option<String>,
        published_at: Option<String>,
    ) -> Result<Self, FieldError> {
        let external_url = external_url.map(|raw| parse_external_url(Some(&raw))).transpose()?;
        let published_at = published_at
            .filter(|raw| !raw.trim().is_empty())
            .map(|raw| parse_timestamp("published_at", &raw))
            .transpose()?;
        Ok(Self { channel, external_url, published_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str) -> TransitionInput {
        TransitionInput { action: action.into(), version: Some(3), ..TransitionInput::default() }
    }

    #[test]
    fn unknown_actions_and_missing_versions_are_refused() {
        assert_eq!(Transition::parse(input("fly")).unwrap_err().field, "action");
        let unversioned = TransitionInput { version: None, ..input("submit") };
        assert_eq!(Transition::parse(unversioned).unwrap_err().code, crate::error::codes::FIELD_REQUIRED);
    }

    #[test]
    fn publication_details_are_read_for_publishing_only() {
        let bad_url = TransitionInput { external_url: Some("not a url".into()), ..input("approve") };
        assert_eq!(Transition::parse(bad_url.clone()).unwrap().publication, Publication::default());
        let publishing = TransitionInput { action: "publish".into(), ..bad_url };
        assert_eq!(Transition::parse(publishing).unwrap_err().field, "external_url");
    }
}
