//! Validated field values of a work, parsed once at the edge. Each parser names the field and
//! the limit it enforces, so an API error can say exactly what was wrong.

use crate::domain::ids::UserId;
use crate::error::codes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest title, in characters after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// Largest body (post text, synopsis, script or proposal), in bytes.
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
/// Longest summary, in characters.
pub const SUMMARY_MAX_CHARS: usize = 2_000;
/// Longest unit or channel name, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Most tags on one work.
pub const TAGS_MAX: usize = 50;
/// Longest tag, in characters.
pub const TAG_MAX_CHARS: usize = 50;
/// Most credits on one work.
pub const CREDITS_MAX: usize = 100;
/// Longest credit role (导演, 编剧 …), in characters.
pub const CREDIT_ROLE_MAX_CHARS: usize = 50;
/// Longest external URL, in bytes.
pub const URL_MAX_BYTES: usize = 2_048;

/// Why one input field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field's name in the API (`title`, `credits[2].name` …).
    pub field: String,
    /// Stable machine-readable reason: `field-required`, `field-too-long`, `invalid-field`.
    pub code: &'static str,
    /// Lowercase sentence naming the field and the limit.
    pub message: String,
    /// The limit a too-long field passed, for pages to say in the reader's language.
    pub limit: Option<Limit>,
}

/// A size limit: how many of what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u64,
    pub unit: LimitUnit,
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitUnit {
    Chars,
    Bytes,
    /// Entries of a list, with their English name (`tags`, `users`).
    Items(&'static str),
}

impl std::fmt::Display for Limit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MIB: u64 = 1024 * 1024;
        match self.unit {
            LimitUnit::Chars => write!(formatter, "{} characters", self.max),
            LimitUnit::Bytes if self.max >= MIB && self.max.is_multiple_of(MIB) => {
                write!(formatter, "{} bytes ({} MiB)", self.max, self.max / MIB)
            }
            LimitUnit::Bytes => write!(formatter, "{} bytes", self.max),
            LimitUnit::Items(noun) => write!(formatter, "{} {noun}", self.max),
        }
    }
}

impl FieldError {
    /// The field was empty or missing.
    pub fn required(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} is required and must not be blank");
        Self { field, code: codes::FIELD_REQUIRED, message, limit: None }
    }

    /// The field exceeded a limit of `max` of `unit`.
    pub fn too_long(field: impl Into<String>, max: usize, unit: LimitUnit) -> Self {
        let field = field.into();
        let limit = Limit { max: max as u64, unit };
        let message = format!("{field} must be at most {limit}");
        Self { field, code: codes::FIELD_TOO_LONG, message, limit: Some(limit) }
    }

    /// The field's value lies outside the range its subject allows, with that range's own
    /// stable `code` (e.g. a timecode outside its cut).
    pub fn out_of_range(field: impl Into<String>, code: &'static str, why: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} {}", why.into());
        Self { field, code, message, limit: None }
    }

    /// A field the endpoint does not take.
    pub fn unknown(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} is not a known field");
        Self { field, code: codes::UNKNOWN_FIELD, message, limit: None }
    }

    /// The field had the right type but an unacceptable value.
    pub fn invalid(field: impl Into<String>, why: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} {}", why.into());
        Self { field, code: codes::INVALID_FIELD, message, limit: None }
    }
}

/// Trims `raw` and checks it is non-empty and at most `max_chars` characters.
pub fn bounded_text(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::required(field));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::too_long(field, max_chars, LimitUnit::Chars));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(FieldError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Like [`bounded_text`], but blank input means "no value".
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded_text(field, text, max).map(Some),
    }
}

/// A work's title: 1–200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Parses a title from user input.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        bounded_text("title", raw, TITLE_MAX_CHARS).map(Self)
    }

    /// The trimmed title.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text may hold any character a person can type, but not NUL: it is never meant, and
/// PostgreSQL cannot store it.
pub fn reject_nul(field: &str, text: &str) -> Result<(), FieldError> {
    if text.contains('\0') { Err(FieldError::invalid(field, "must not contain NUL characters")) } else { Ok(()) }
}

/// Checks the body size; the body keeps its whitespace (scripts are formatted text).
pub fn parse_body(raw: Option<String>) -> Result<String, FieldError> {
    let body = raw.unwrap_or_default();
    if body.len() > BODY_MAX_BYTES {
        return Err(FieldError::too_long("body", BODY_MAX_BYTES, LimitUnit::Bytes));
    }
    reject_nul("body", &body)?;
    Ok(body)
}

/// Trims, de-duplicates (keeping first occurrence order) and bounds the tag list.
pub fn parse_tags(raw: Vec<String>) -> Result<Vec<String>, FieldError> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for (index, tag) in raw.iter().enumerate() {
        let tag = bounded_text(&format!("tags[{index}]"), tag, TAG_MAX_CHARS)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(FieldError::too_long("tags", TAGS_MAX, LimitUnit::Items("tags")));
    }
    Ok(tags)
}

/// One person's contribution to a work: 导演, 编剧, 摄像, 作者 …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// The person's name.
    pub name: String,
    /// What they did.
    pub role: String,
    /// Their account, when they have one: the self-review rule and who may take production
    /// steps go by it (by the name only where there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
}

impl Credit {
    /// A credit by name only.
    pub fn named(role: impl Into<String>, name: impl Into<String>) -> Self {
        Self { name: name.into(), role: role.into(), user_id: None }
    }

    /// Whether this credit is the account `user`, known by `names` (display name, username)
    /// where the credit has no account.
    pub fn is(&self, user: &UserId, names: &[&str]) -> bool {
        match &self.user_id {
            Some(account) => account == user,
            None => names.contains(&self.name.as_str()),
        }
    }
}

/// Keeps the account links of an edit's credits: a credit sent without one (a page's form
/// has no field for it) keeps the link the stored credit of the same name had.
pub fn keep_account_links(edited: &mut [Credit], stored: &[Credit]) {
    for credit in edited.iter_mut().filter(|credit| credit.user_id.is_none()) {
        credit.user_id = stored.iter().find(|old| old.name == credit.name).and_then(|old| old.user_id.clone());
    }
}

/// Trims and bounds every credit.
pub fn parse_credits(raw: Vec<Credit>) -> Result<Vec<Credit>, FieldError> {
    if raw.len() > CREDITS_MAX {
        return Err(FieldError::too_long("credits", CREDITS_MAX, LimitUnit::Items("entries")));
    }
    raw.iter()
        .enumerate()
        .map(|(index, credit)| {
            let name = bounded_text(&format!("credits[{index}].name"), &credit.name, NAME_MAX_CHARS)?;
            let field = format!("credits[{index}].role");
            let role = bounded_text(&field, &credit.role, CREDIT_ROLE_MAX_CHARS)?;
            let user_id = match &credit.user_id {
                Some(raw) => Some(UserId::parse(raw).ok_or_else(|| {
                    FieldError::invalid(format!("credits[{index}].user_id"), "must be an account id (a uuid)")
                })?),
                None => None,
            };
            Ok(Credit { name, role, user_id })
        })
        .collect()
}

/// An absolute http(s) URL where the work was published.
pub fn parse_external_url(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = raw.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.len() > URL_MAX_BYTES {
        return Err(FieldError::too_long("external_url", URL_MAX_BYTES, LimitUnit::Bytes));
    }
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(Some(url.into())),
        _ => Err(FieldError::invalid("external_url", "must be an absolute http or https url")),
    }
}

/// Parses an RFC 3339 timestamp (`2024-05-01T08:00:00+08:00`) into UTC.
pub fn parse_timestamp(field: &str, raw: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| FieldError::invalid(field, "must be an rfc 3339 timestamp such as 2024-05-01T08:00:00+08:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_counted_in_characters_not_bytes() {
        let chinese = "网".repeat(TITLE_MAX_CHARS);
        assert_eq!(Title::parse(&format!("  {chinese} ")).unwrap().into_string(), chinese);
        let error = Title::parse(&"网".repeat(TITLE_MAX_CHARS + 1)).unwrap_err();
        assert_eq!(error.code, "field-too-long");
        assert!(error.message.contains("200 characters"));
    }

    #[test]
    fn blank_title_is_required() {
        assert_eq!(Title::parse(" \n ").unwrap_err().code, "field-required");
    }

    #[test]
    fn control_characters_are_refused_in_short_text() {
        assert_eq!(Title::parse("a\u{0}b").unwrap_err().code, "invalid-field");
    }

    #[test]
    fn body_over_one_mebibyte_is_refused() {
        assert!(parse_body(Some("a".repeat(BODY_MAX_BYTES))).is_ok());
        let error = parse_body(Some("a".repeat(BODY_MAX_BYTES + 1))).unwrap_err();
        assert_eq!(error.field, "body");
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated_in_order() {
        let tags = parse_tags(vec![" 反诈 ".into(), "两学一做".into(), "反诈".into()]).unwrap();
        assert_eq!(tags, vec!["反诈", "两学一做"]);
        assert_eq!(parse_tags(vec!["".into()]).unwrap_err().field, "tags[0]");
    }

    #[test]
    fn credit_errors_name_the_entry() {
        let credits = vec![Credit::named("导演", "张三"), Credit::named("编剧", " ")];
        assert_eq!(parse_credits(credits).unwrap_err().field, "credits[1].name");
        let unlinked =
            Credit { user_id: Some(UserId::from_db("not-an-id".into())), ..Credit::named("导演", "张三") };
        assert_eq!(parse_credits(vec![unlinked]).unwrap_err().field, "credits[0].user_id");
    }

    #[test]
    fn credits_go_by_account_where_they_have_one_and_keep_it_through_edits() {
        let (zhang, li) = (UserId::generate(), UserId::generate());
        let linked = Credit { user_id: Some(zhang.clone()), ..Credit::named("导演", "张三") };
        assert!(linked.is(&zhang, &["someone"]), "the account decides");
        assert!(!linked.is(&li, &["张三"]), "a namesake is not the credited person");
        assert!(Credit::named("摄像", "李四").is(&li, &["李四"]), "without an account the name decides");
        let mut edited = vec![Credit::named("总导演", "张三"), Credit::named("摄像", "李四")];
        keep_account_links(&mut edited, std::slice::from_ref(&linked));
        assert_eq!(edited[0].user_id, Some(zhang));
        assert_eq!(edited[1].user_id, None);
    }

    #[test]
    fn only_http_urls_are_external_urls() {
        assert!(parse_external_url(Some("https://mp.weixin.qq.com/s/abc")).unwrap().is_some());
        assert!(parse_external_url(Some("javascript:alert(1)")).is_err());
        assert!(parse_external_url(Some("file:///etc/passwd")).is_err());
        assert_eq!(parse_external_url(Some("  ")).unwrap(), None);
    }

    #[test]
    fn timestamps_are_converted_to_utc() {
        let time = parse_timestamp("published_at", "2024-05-01T08:00:00+08:00").unwrap();
        assert_eq!(time.to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert!(parse_timestamp("published_at", "yesterday").is_err());
    }
}
