//! Works: their kinds, their production states, and the validated shapes of a new work and of
//! an edit. The full lifecycle (who may move a work where) builds on [`Status`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::fields::{self, Credit, FieldError, NAME_MAX_CHARS, SUMMARY_MAX_CHARS, Title};
use super::ids::UserId;

/// What sort of content a work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 微电影
    MicroFilm,
    /// 微博
    WeiboPost,
    /// 微信文章
    WechatArticle,
    /// 微改项目
    ReformProposal,
}

impl Kind {
    /// Every kind, in the order the team lists them.
    pub const ALL: [Kind; 4] = [Kind::MicroFilm, Kind::WeiboPost, Kind::WechatArticle, Kind::ReformProposal];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MicroFilm => "micro_film",
            Kind::WeiboPost => "weibo_post",
            Kind::WechatArticle => "wechat_article",
            Kind::ReformProposal => "reform_proposal",
        }
    }

    /// Parses the API spelling; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// Parses a `kind` field, naming the accepted values when it is wrong.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw.trim()).ok_or_else(|| {
            let accepted: Vec<&str> = Self::ALL.iter().map(|kind| kind.as_str()).collect();
            FieldError::invalid(field, format!("must be one of {}", accepted.join(", ")))
        })
    }

    /// The Chinese name the team uses.
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::MicroFilm => "微电影",
            Kind::WeiboPost => "微博",
            Kind::WechatArticle => "微信文章",
            Kind::ReformProposal => "微改项目",
        }
    }

    /// The state a new work of this kind starts in: films are planned, everything else drafted.
    pub fn initial_status(self) -> Status {
        match self {
            Kind::MicroFilm => Status::Planning,
            _ => Status::Draft,
        }
    }
}

/// Where a work stands in production and review, across all kinds' lifecycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 策划 (films)
    Planning,
    /// 拍摄 (films)
    Shooting,
    /// 剪辑 (films)
    Editing,
    /// 草稿
    Draft,
    /// 送审 / 申报
    Submitted,
    /// 退回修改
    ChangesRequested,
    /// 通过
    Approved,
    /// 不通过
    Rejected,
    /// 已发布
    Published,
    /// 归档
    Archived,
    /// 遴选 (proposals)
    Shortlisted,
    /// 审查推荐 (proposals)
    Recommended,
    /// 上报 (proposals)
    Reported,
    /// 采纳 (proposals)
    Adopted,
    /// 未采纳 (proposals)
    Declined,
}

impl Status {
    /// Every state.
    pub const ALL: [Status; 15] = [
        Status::Planning,
        Status::Shooting,
        Status::Editing,
        Status::Draft,
        Status::Submitted,
        Status::ChangesRequested,
        Status::Approved,
        Status::Rejected,
        Status::Published,
        Status::Archived,
        Status::Shortlisted,
        Status::Recommended,
        Status::Reported,
        Status::Adopted,
        Status::Declined,
    ];

    /// States whose works the whole archive (staff) may read: what went out, and the 微改
    /// proposals adopted upward (staff reuse them as much as published pieces).
    pub const PUBLIC: [Status; 4] = [Status::Approved, Status::Published, Status::Archived, Status::Adopted];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planning => "planning",
            Status::Shooting => "shooting",
            Status::Editing => "editing",
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::ChangesRequested => "changes_requested",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Published => "published",
            Status::Archived => "archived",
            Status::Shortlisted => "shortlisted",
            Status::Recommended => "recommended",
            Status::Reported => "reported",
            Status::Adopted => "adopted",
            Status::Declined => "declined",
        }
    }

    /// Parses the API spelling; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// The Chinese name the team uses.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Planning => "策划",
            Status::Shooting => "拍摄",
            Status::Editing => "剪辑",
            Status::Draft => "草稿",
            Status::Submitted => "送审",
            Status::ChangesRequested => "退回修改",
            Status::Approved => "通过",
            Status::Rejected => "不通过",
            Status::Published => "已发布",
            Status::Archived => "归档",
            Status::Shortlisted => "遴选",
            Status::Recommended => "审查推荐",
            Status::Reported => "上报",
            Status::Adopted => "采纳",
            Status::Declined => "未采纳",
        }
    }

    /// Whether the creator may still change the work's fields in this state.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Planning | Status::Shooting | Status::Editing | Status::Draft | Status::ChangesRequested)
    }

    /// Whether staff (the archive's readers) may see works in this state.
    pub fn is_public(self) -> bool {
        Self::PUBLIC.contains(&self)
    }
}

/// A new work, every field parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkFields {
    pub kind: Kind,
    pub title: Title,
    pub body: String,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub unit: Option<String>,
    pub credits: Vec<Credit>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub assignees: Vec<UserId>,
    pub due_date: Option<NaiveDate>,
}

/// The unparsed input of a new work, as it arrives from a client.
#[derive(Debug, Default, Clone)]
pub struct NewWorkInput {
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub unit: Option<String>,
    pub credits: Vec<Credit>,
    pub channel: Option<String>,
    pub external_url: Option<String>,
    pub published_at: Option<String>,
    pub assignees: Vec<String>,
    pub due_date: Option<String>,
}

impl NewWorkFields {
    /// Parses every field, reporting the first that is wrong.
    pub fn parse(input: NewWorkInput) -> Result<Self, FieldError> {
        Ok(Self {
            kind: Kind::parse_field("kind", &input.kind)?,
            title: Title::parse(&input.title)?,
            body: fields::parse_body(input.body)?,
            summary: fields::optional_text("summary", input.summary.as_deref(), SUMMARY_MAX_CHARS)?,
            tags: fields::parse_tags(input.tags)?,
            unit: fields::optional_text("unit", input.unit.as_deref(), NAME_MAX_CHARS)?,
            credits: fields::parse_credits(input.credits)?,
            channel: fields::optional_text("channel", input.channel.as_deref(), NAME_MAX_CHARS)?,
            external_url: fields::parse_external_url(input.external_url.as_deref())?,
            published_at: parse_optional_time(input.published_at.as_deref())?,
            assignees: parse_assignees(&input.assignees)?,
            due_date: parse_due_date(input.due_date.as_deref())?,
        })
    }
}

/// Most assignees on one work.
pub const ASSIGNEES_MAX: usize = 20;

/// Assignees are user ids; duplicates are dropped.
pub fn parse_assignees(raw: &[String]) -> Result<Vec<UserId>, FieldError> {
    if raw.len() > ASSIGNEES_MAX {
        return Err(FieldError::too_long("assignees", ASSIGNEES_MAX, crate::domain::fields::LimitUnit::Items("users")));
    }
    let mut ids: Vec<UserId> = Vec::with_capacity(raw.len());
    for (index, id) in raw.iter().enumerate() {
        let parsed =
            UserId::parse(id).ok_or_else(|| FieldError::invalid(format!("assignees[{index}]"), "must be a user id"))?;
        if !ids.contains(&parsed) {
            ids.push(parsed);
        }
    }
    Ok(ids)
}

/// A due date, `YYYY-MM-DD`.
pub fn parse_due_date(raw: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::invalid("due_date", "must be a date such as 2024-05-01")),
    }
}

fn parse_optional_time(raw: Option<&str>) -> Result<Option<DateTime<Utc>>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => fields::parse_timestamp("published_at", text).map(Some),
    }
}

/// An edit's unparsed input: absent fields stay as they are; `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone)]
pub struct WorkEditInput {
    pub title: Option<String>,
    pub body: Option<String>,
    pub summary: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub unit: Option<Option<String>>,
    pub credits: Option<Vec<Credit>>,
    pub channel: Option<Option<String>>,
    pub external_url: Option<Option<String>>,
    pub published_at: Option<Option<String>>,
    pub assignees: Option<Vec<String>>,
    pub due_date: Option<Option<String>>,
    /// Why a work that went out is corrected (reviewers and admins; required then).
    pub correction_reason: Option<String>,
}

/// A parsed edit. Outer `None`: leave the field alone; inner `None`: clear it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WorkEdit {
    pub title: Option<Title>,
    pub body: Option<String>,
    pub summary: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub unit: Option<Option<String>>,
    pub credits: Option<Vec<Credit>>,
    pub channel: Option<Option<String>>,
    pub external_url: Option<Option<String>>,
    pub published_at: Option<Option<DateTime<Utc>>>,
    pub assignees: Option<Vec<UserId>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub correction_reason: Option<String>,
}

/// Longest reason for correcting a work that went out.
pub const CORRECTION_REASON_MAX_CHARS: usize = 500;

impl WorkEdit {
    /// Parses the fields that are present.
    pub fn parse(input: WorkEditInput) -> Result<Self, FieldError> {
        let text = |field: &str, value: Option<Option<String>>, max| {
            value.map(|inner| fields::optional_text(field, inner.as_deref(), max)).transpose()
        };
        Ok(Self {
            title: input.title.as_deref().map(Title::parse).transpose()?,
            body: input.body.map(|body| fields::parse_body(Some(body))).transpose()?,
            summary: text("summary", input.summary, SUMMARY_MAX_CHARS)?,
            tags: input.tags.map(fields::parse_tags).transpose()?,
            unit: text("unit", input.unit, NAME_MAX_CHARS)?,
            credits: input.credits.map(fields::parse_credits).transpose()?,
            channel: text("channel", input.channel, NAME_MAX_CHARS)?,
            external_url: input.external_url.map(|url| fields::parse_external_url(url.as_deref())).transpose()?,
            published_at: input.published_at.map(|time| parse_optional_time(time.as_deref())).transpose()?,
            assignees: input.assignees.as_deref().map(parse_assignees).transpose()?,
            due_date: input.due_date.map(|date| parse_due_date(date.as_deref())).transpose()?,
            correction_reason: fields::optional_text(
                "correction_reason",
                input.correction_reason.as_deref(),
                CORRECTION_REASON_MAX_CHARS,
            )?,
        })
    }

    /// Whether the edit changes nothing (still bumps the version: the client asked for a save).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, title: &str) -> NewWorkInput {
        NewWorkInput { kind: kind.into(), title: title.into(), ..NewWorkInput::default() }
    }

    #[test]
    fn films_start_in_planning_and_everything_else_in_draft() {
        assert_eq!(Kind::MicroFilm.initial_status(), Status::Planning);
        for kind in [Kind::WeiboPost, Kind::WechatArticle, Kind::ReformProposal] {
            assert_eq!(kind.initial_status(), Status::Draft);
        }
    }

    #[test]
    fn kinds_and_states_round_trip_through_their_spelling() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn unknown_kind_names_the_accepted_kinds() {
        let error = NewWorkFields::parse(input("podcast", "标题")).unwrap_err();
        assert_eq!(error.field, "kind");
        assert!(error.message.contains("micro_film, weibo_post, wechat_article, reform_proposal"));
    }

    #[test]
    fn editable_states_are_the_production_and_draft_states() {
        let editable: Vec<Status> = Status::ALL.into_iter().filter(|status| status.is_editable()).collect();
        assert_eq!(
            editable,
            vec![Status::Planning, Status::Shooting, Status::Editing, Status::Draft, Status::ChangesRequested]
        );
    }

    #[test]
    fn only_decided_and_published_states_are_public() {
        assert!(Status::Published.is_public());
        assert!(!Status::Submitted.is_public());
        assert!(!Status::Draft.is_public());
    }

    #[test]
    fn new_work_blank_optionals_become_none() {
        let mut raw = input("weibo_post", " 反诈宣传 ");
        raw.summary = Some("  ".into());
        let work = NewWorkFields::parse(raw).unwrap();
        assert_eq!(work.title.into_string(), "反诈宣传");
        assert_eq!(work.summary, None);
    }

    #[test]
    fn edit_parses_only_present_fields_and_can_clear() {
        let edit = WorkEdit::parse(WorkEditInput { unit: Some(None), ..Default::default() }).unwrap();
        assert_eq!(edit.unit, Some(None));
        assert_eq!(edit.title, None);
        assert!(WorkEdit::parse(WorkEditInput::default()).unwrap().is_empty());
        let bad = WorkEdit::parse(WorkEditInput { title: Some("".into()), ..Default::default() });
        assert_eq!(bad.unwrap_err().field, "title");
    }
}
