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
    /// The deciding reviewer has read the open `review` compliance findings.
    pub acknowledge_findings: bool,
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
    /// The deciding reviewer has read the open `review` compliance findings.
    pub acknowledge_findings: bool,
}

/// Publication details exactly as sent. They are checked only when the step is allowed
/// ([`Publication::resolve`]), so a caller learns nothing about a work's state from them, and
/// what is absent comes from the work itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publication {
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<String>,
}

/// Where and when a work went out, complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub channel: String,
    pub external_url: String,
    pub published_at: DateTime<Utc>,
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
            Action::Publish => Publication {
                channel: input.channel,
                external_url: input.external_url,
                published_at: input.published_at,
            },
            _ => Publication::default(),
        };
        Ok(Self { action, version, comment, publication, acknowledge_findings: input.acknowledge_findings })
    }
}

impl Publication {
    /// The details sent, else the work's own (`stored`): channel, then URL, then time, each
    /// required. A value sent blank counts as missing, even where the work has one.
    /// The time may not lie ahead of `now` (see [`past_publication`]).
    pub fn resolve(&self, stored: &StoredPublication, now: DateTime<Utc>) -> Result<Published, FieldError> {
        let channel = self.channel.clone().or_else(|| stored.channel.clone()).filter(|value| !value.trim().is_empty());
        let channel = channel.ok_or_else(|| FieldError::required("channel"))?;
        let external_url = match self.external_url.as_deref() {
            Some(raw) => parse_external_url(Some(raw))?,
            None => stored.external_url.clone(),
        };
        let external_url = external_url.ok_or_else(|| FieldError::required("external_url"))?;
        let published_at = match self.published_at.as_deref().filter(|raw| !raw.trim().is_empty()) {
            Some(raw) => Some(parse_timestamp("published_at", raw)?),
            None => stored.published_at,
        };
        let published_at =
            past_publication("published_at", published_at.ok_or_else(|| FieldError::required("published_at"))?, now)?;
        Ok(Published { channel: channel.trim().to_owned(), external_url, published_at })
    }
}

/// How far ahead of the server's clock a publication time may lie (clocks drift).
pub const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A publication time, refused when it lies ahead: a work counts as 已发布 from that moment on,
/// so a later time would show it published and yet count it nowhere.
pub fn past_publication(field: &str, time: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    if time > now + CLOCK_SKEW {
        return Err(FieldError::invalid(field, "must not lie in the future: record a publication once it is out"));
    }
    Ok(time)
}

/// What a work already records about its publication.
#[derive(Debug, Clone, Default)]
pub struct StoredPublication {
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
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
    fn publication_details_are_kept_for_publishing_only_and_checked_when_resolved() {
        let bad_url = TransitionInput { external_url: Some("not a url".into()), ..input("approve") };
        assert_eq!(Transition::parse(bad_url.clone()).unwrap().publication, Publication::default());
        let publishing = Transition::parse(TransitionInput { action: "publish".into(), ..bad_url }).unwrap();
        let stored = StoredPublication { channel: Some("微博".into()), ..StoredPublication::default() };
        let now = Utc::now();
        assert_eq!(publishing.publication.resolve(&stored, now).unwrap_err().field, "external_url");
        let missing_channel = Publication { channel: Some(" ".into()), ..publishing.publication };
        assert_eq!(missing_channel.resolve(&stored, now).unwrap_err().field, "channel", "sent blank is missing");
        let later_today = Publication {
            channel: Some("微博".into()),
            external_url: Some("https://weibo.com/1".into()),
            published_at: Some((now + chrono::TimeDelta::hours(3)).to_rfc3339()),
        };
        let refused = later_today.resolve(&stored, now).unwrap_err();
        assert_eq!((refused.field.as_str(), refused.code), ("published_at", crate::error::codes::INVALID_FIELD));
        let skewed =
            Publication { published_at: Some((now + chrono::TimeDelta::minutes(2)).to_rfc3339()), ..later_today };
        assert!(skewed.resolve(&stored, now).is_ok(), "a clock a little ahead is not a future time");
    }
}
