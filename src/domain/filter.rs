//! The work filter shared by the API's list and search and the pages' grid and search:
//! parsed once, here, from what a client typed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::fields::{FieldError, parse_timestamp};
use super::work::{Kind, Status};

/// The filter as a client sends it (query parameters); blank values mean "any".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkFilterInput {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
    pub tag: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339; bounds `created_at` (search: the publication date).
    pub from: Option<String>,
    /// `YYYY-MM-DD` (that whole day included) or RFC 3339.
    pub to: Option<String>,
}

/// Which works a list or a search is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WorkFilter {
    pub kind: Option<Kind>,
    pub status: Option<Status>,
    pub unit: Option<String>,
    pub tag: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Bounds the publication time (lists).
    pub published_from: Option<DateTime<Utc>>,
    pub published_to: Option<DateTime<Utc>>,
}

impl WorkFilter {
    /// Parses every criterion — kind, state, then the period — naming the parameter at fault.
    pub fn parse(input: WorkFilterInput) -> Result<Self, FieldError> {
        let (from, to) = (input.from.clone(), input.to.clone());
        let mut filter = Self::parse_criteria(input)?;
        (filter.from, filter.to) = parse_period(from, to)?;
        Ok(filter)
    }

    /// Kind, state, unit and tag, without the period (for callers that check other
    /// parameters between the two, in the order they always have).
    pub fn parse_criteria(input: WorkFilterInput) -> Result<Self, FieldError> {
        let kind = non_blank(input.kind).map(|raw| Kind::parse_field("kind", &raw)).transpose()?;
        let status = non_blank(input.status)
            .map(|raw| {
                Status::parse(&raw)
                    .ok_or_else(|| FieldError::invalid("status", format!("{raw:?} is not a known state")))
            })
            .transpose()?;
        Ok(Self {
            kind,
            status,
            unit: non_blank(input.unit),
            tag: non_blank(input.tag),
            from: None,
            to: None,
            ..Self::default()
        })
    }
}

/// A period's optional `from` and `to` bounds (see [`parse_date_bound`]).
pub type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Parses the `from` and `to` parameters of a period.
pub fn parse_period(from: Option<String>, to: Option<String>) -> Result<Period, FieldError> {
    let from = non_blank(from).map(|raw| parse_date_bound("from", &raw, false)).transpose()?;
    let to = non_blank(to).map(|raw| parse_date_bound("to", &raw, true)).transpose()?;
    Ok((from, to))
}

/// A date bound: `YYYY-MM-DD` is the start of that day (or its end, for `end_of_day`),
/// anything else must be RFC 3339.
pub fn parse_date_bound(field: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(date) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        let time = if end_of_day { date.and_hms_micro_opt(23, 59, 59, 999_999) } else { date.and_hms_opt(0, 0, 0) };
        return Ok(time.expect("valid wall-clock time").and_utc());
    }
    parse_timestamp(field, raw)
}

/// The trimmed value, or `None` when absent or blank.
pub fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_criteria_mean_any() {
        let input = WorkFilterInput { kind: Some(" ".into()), status: Some(String::new()), ..Default::default() };
        assert_eq!(WorkFilter::parse(input).unwrap(), WorkFilter::default());
    }

    #[test]
    fn dates_bound_whole_days_and_bad_values_name_their_parameter() {
        let input =
            WorkFilterInput { from: Some("2026-03-01".into()), to: Some("2026-03-01".into()), ..Default::default() };
        let filter = WorkFilter::parse(input).unwrap();
        assert_eq!(filter.from.unwrap().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(filter.to.unwrap().to_rfc3339(), "2026-03-01T23:59:59.999999+00:00");
        let bad = WorkFilterInput { status: Some("flying".into()), ..Default::default() };
        assert_eq!(WorkFilter::parse(bad).unwrap_err().field, "status");
        let bad = WorkFilterInput { to: Some("soon".into()), ..Default::default() };
        assert_eq!(WorkFilter::parse(bad).unwrap_err().field, "to");
    }
}
