//! Turning what people type into form fields into the API's shapes, and times and durations
//! into what people read. Pages show and take local time in China (UTC+8): the bureau's
//! offices and phones all run on it, while the database keeps UTC.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use crate::domain::fields::Credit;

use super::i18n::Lang;

/// Beijing time, the offset every page shows and every `datetime-local` field means.
fn local_offset() -> FixedOffset {
    crate::clock::beijing()
}

/// Tags typed as one line: commas (half- or full-width), 、, semicolons or new lines separate them.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Tags shown back in the field.
pub fn join_tags(tags: &[String]) -> String {
    tags.join("，")
}

/// Credits typed one per line as `role: name` (either colon); a line without a colon is a
/// name with no role given, which the domain then refuses with a clear message.
pub fn parse_credits(raw: &str) -> Vec<Credit> {
    raw.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once([':', '：']) {
            Some((role, name)) => Credit::named(role.trim(), name.trim()),
            None => Credit::named("", line),
        })
        .collect()
}

/// Credits shown back in the field.
pub fn join_credits(credits: &[Credit]) -> String {
    credits.iter().map(|credit| format!("{}：{}", credit.role, credit.name)).collect::<Vec<_>>().join("\n")
}

/// A `datetime-local` value (`2026-11-28T10:30`) in Beijing time, as RFC 3339; other text is
/// passed on unchanged so the domain's parser names the problem.
pub fn local_input_to_rfc3339(raw: &str) -> String {
    let trimmed = raw.trim();
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(trimmed, format)
            && let Some(local) = naive.and_local_timezone(local_offset()).single()
        {
            return local.to_rfc3339();
        }
    }
    trimmed.to_owned()
}

/// A time as a `datetime-local` value in Beijing time.
pub fn to_local_input(time: DateTime<Utc>) -> String {
    time.with_timezone(&local_offset()).format("%Y-%m-%dT%H:%M").to_string()
}

/// A time as people read it, in Beijing time.
pub fn show_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&local_offset()).format("%Y-%m-%d %H:%M").to_string()
}

/// A timecode typed as `ss`, `mm:ss` or `h:mm:ss` (fractions allowed), in milliseconds.
pub fn parse_timecode(raw: &str) -> Option<i64> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    let mut seconds = 0.0_f64;
    for part in trimmed.split([':', '：']) {
        let value: f64 = part.trim().parse().ok()?;
        if !(0.0..1e7).contains(&value) {
            return None;
        }
        seconds = seconds * 60.0 + value;
    }
    Some((seconds * 1000.0).round() as i64)
}

/// Milliseconds as `mm:ss`, or `h:mm:ss` from an hour on.
pub fn show_timecode(ms: i64) -> String {
    let total = ms.max(0) / 1000;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes:02}:{seconds:02}") }
}

/// A waiting time in the largest two units.
pub fn show_waiting(lang: Lang, ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match lang {
        Lang::Zh if days > 0 => format!("{days} 天 {hours} 小时"),
        Lang::Zh if hours > 0 => format!("{hours} 小时 {mins} 分钟"),
        Lang::Zh => format!("{mins} 分钟"),
        Lang::En if days > 0 => format!("{days} d {hours} h"),
        Lang::En if hours > 0 => format!("{hours} h {mins} min"),
        Lang::En => format!("{mins} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_on_chinese_and_latin_separators() {
        assert_eq!(split_tags("反诈， 宣传、平安乡村,  ;校园"), vec!["反诈", "宣传", "平安乡村", "校园"]);
        assert!(split_tags(" ，、 ").is_empty());
    }

    #[test]
    fn credits_take_either_colon_and_keep_roleless_lines() {
        let credits = parse_credits("导演：张三\n编剧: 李四\n\n王五");
        assert_eq!(credits.len(), 3);
        assert_eq!((credits[0].role.as_str(), credits[0].name.as_str()), ("导演", "张三"));
        assert_eq!((credits[1].role.as_str(), credits[1].name.as_str()), ("编剧", "李四"));
        assert_eq!((credits[2].role.as_str(), credits[2].name.as_str()), ("", "王五"));
        assert_eq!(parse_credits(&join_credits(&credits[..2])), credits[..2].to_vec());
    }

    #[test]
    fn local_times_are_beijing_time() {
        assert_eq!(local_input_to_rfc3339("2026-11-28T10:30"), "2026-11-28T10:30:00+08:00");
        assert_eq!(local_input_to_rfc3339("yesterday"), "yesterday");
        let utc = DateTime::parse_from_rfc3339("2026-11-28T02:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(to_local_input(utc), "2026-11-28T10:30");
        assert_eq!(show_time(utc), "2026-11-28 10:30");
    }

    #[test]
    fn timecodes_round_trip() {
        assert_eq!(parse_timecode("01:23"), Some(83_000));
        assert_eq!(parse_timecode("1:02:03.5"), Some(3_723_500));
        assert_eq!(parse_timecode("45"), Some(45_000));
        assert_eq!(parse_timecode(""), None);
        assert_eq!(parse_timecode("1:xx"), None);
        assert_eq!(parse_timecode("-3"), None);
        assert_eq!(show_timecode(83_000), "01:23");
        assert_eq!(show_timecode(3_723_500), "1:02:03");
    }

    #[test]
    fn waiting_times_use_two_units() {
        assert_eq!(show_waiting(Lang::Zh, 90 * 60_000), "1 小时 30 分钟");
        assert_eq!(show_waiting(Lang::En, 26 * 3_600_000), "1 d 2 h");
        assert_eq!(show_waiting(Lang::Zh, 5_000), "0 分钟");
    }
}
