//! Production statistics for the leadership: how much was made and published, what stands
//! where, and how fast submissions were decided — plus CSV and Excel exports with Chinese
//! headers for reporting upward. Counts cover only works the caller may see.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};

use super::auth::AuthUser;
use crate::clock::{beijing, now};
use crate::db::DbError;
use crate::db::works::WorkFacts;
use crate::db::{Db, publications, review, works};
use crate::domain::archive::Platform;
use crate::domain::filter::Period;
use crate::domain::ids::WorkId;
use crate::domain::lifecycle::Duty;
use crate::domain::work::{Kind, Status};

/// Why statistics or an export failed.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// Building the workbook failed.
    #[error("xlsx export")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The export's blocking task failed.
    #[error("export task")]
    Task(#[from] tokio::task::JoinError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(StatsError);

/// How created works are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Kind,
    Status,
    Unit,
    Month,
    /// `YYYY-MM/kind`: the dashboard's stacked monthly chart.
    MonthAndKind,
}

impl GroupBy {
    /// Parses `kind|status|unit|month`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "kind" => Some(GroupBy::Kind),
            "status" => Some(GroupBy::Status),
            "unit" => Some(GroupBy::Unit),
            "month" => Some(GroupBy::Month),
            "month_kind" => Some(GroupBy::MonthAndKind),
            _ => None,
        }
    }
}

/// Median and 90th percentile of review turnaround, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turnaround {
    pub count: usize,
    pub median_ms: i64,
    pub p90_ms: i64,
}

/// The statistics of a period.
#[derive(Debug, Clone)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Works created in the period, grouped.
    pub created: BTreeMap<String, u64>,
    /// Works published in the period, by kind.
    pub published: BTreeMap<String, u64>,
    /// Publications in the period (a work published in two places counts in both), by platform.
    pub published_by_platform: BTreeMap<String, u64>,
    /// Every visible work by its state now.
    pub by_status: BTreeMap<String, u64>,
    /// Time from submission to decision, by kind, for decisions in the period.
    pub review_turnaround: BTreeMap<String, Turnaround>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], percent: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// The default period: this calendar year so far.
pub fn period((from, to): Period) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or_else(|| Utc.with_ymd_and_hms(to.year(), 1, 1, 0, 0, 0).single().unwrap_or(to));
    (from, to)
}

fn within(time: NaiveDateTime, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let time = time.and_utc();
    time >= from && time <= to
}

fn group_key(row: &WorkFacts, group_by: GroupBy) -> String {
    match group_by {
        GroupBy::Kind => row.kind.as_str().to_owned(),
        GroupBy::Status => row.status.as_str().to_owned(),
        GroupBy::Unit => row.unit.clone().unwrap_or_else(|| "(none)".into()),
        GroupBy::Month => row.created_at.format("%Y-%m").to_string(),
        GroupBy::MonthAndKind => format!("{}/{}", row.created_at.format("%Y-%m"), row.kind.as_str()),
    }
}

/// Every live work the caller may see, without bodies: visibility is part of the query.
async fn visible_rows(db: &Db, user: &AuthUser) -> Result<Vec<WorkFacts>, StatsError> {
    let visibility = user.visibility();
    Ok(db.read(move |conn| works::visible_facts(conn, &visibility)).await?)
}

/// Computes the statistics of a period.
pub async fn stats(db: &Db, user: &AuthUser, asked: Period, group_by: GroupBy) -> Result<Stats, StatsError> {
    let (from, to) = period(asked);
    let rows = visible_rows(db, user).await?;
    stats_of(db, &rows, from, to, group_by).await
}

/// The statistics of already loaded rows.
async fn stats_of(
    db: &Db,
    rows: &[WorkFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group_by: GroupBy,
) -> Result<Stats, StatsError> {
    let mut stats = Stats {
        from,
        to,
        created: BTreeMap::new(),
        published: BTreeMap::new(),
        published_by_platform: BTreeMap::new(),
        by_status: BTreeMap::new(),
        review_turnaround: BTreeMap::new(),
    };
    for row in rows {
        *stats.by_status.entry(row.status.as_str().to_owned()).or_default() += 1;
        if within(row.created_at, from, to) {
            *stats.created.entry(group_key(row, group_by)).or_default() += 1;
        }
        let released = matches!(row.status, Status::Published | Status::Archived);
        if released && row.published_at.is_some_and(|time| within(time, from, to)) {
            *stats.published.entry(row.kind.as_str().to_owned()).or_default() += 1;
        }
    }
    stats.published_by_platform = by_platform(db, rows, from, to).await?;
    stats.review_turnaround = turnaround(db, rows, from, to).await?;
    Ok(stats)
}

/// Publications of visible works in the period, by platform.
async fn by_platform(
    db: &Db,
    rows: &[WorkFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<String, u64>, StatsError> {
    let visible: std::collections::HashSet<&WorkId> = rows.iter().map(|row| &row.id).collect();
    let (from_naive, to_naive) = (from.naive_utc(), to.naive_utc());
    let found = db.read(move |conn| publications::in_period(conn, from_naive, to_naive)).await?;
    let mut counts = BTreeMap::new();
    for (_, platform) in found.into_iter().filter(|(work, _)| visible.contains(work)) {
        *counts.entry(platform).or_default() += 1;
    }
    Ok(counts)
}

/// For each decision in the period, the time since the work's latest submission before it.
async fn turnaround(
    db: &Db,
    rows: &[WorkFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<String, Turnaround>, StatsError> {
    let kinds: HashMap<WorkId, Kind> = rows.iter().map(|row| (row.id.clone(), row.kind)).collect();
    let (from_naive, to_naive) = (from.naive_utc(), to.naive_utc());
    let (decisions, submissions) = db
        .read(move |conn| -> diesel::QueryResult<_> {
            let steps = review::transitions_between(conn, from_naive, to_naive)?;
            let decided: Vec<_> = steps.into_iter().filter(|step| step.action.duty() == Duty::Decision).collect();
            let ids: Vec<String> = decided.iter().map(|step| step.work_id.to_string()).collect();
            Ok((decided, review::submissions_of(conn, &ids)?))
        })
        .await?;
    let mut durations: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for decision in decisions {
        let Some(kind) = kinds.get(&decision.work_id) else { continue };
        let submitted = submissions
            .iter()
            .filter(|submit| submit.work_id == decision.work_id && submit.created_at <= decision.created_at)
            .map(|submit| submit.created_at)
            .max();
        if let Some(submitted) = submitted {
            durations
                .entry(kind.as_str().to_owned())
                .or_default()
                .push((decision.created_at - submitted).num_milliseconds());
        }
    }
    Ok(durations
        .into_iter()
        .map(|(kind, mut values)| {
            values.sort_unstable();
            (
                kind,
                Turnaround { count: values.len(), median_ms: percentile(&values, 50), p90_ms: percentile(&values, 90) },
            )
        })
        .collect())
}

/// The export table's Chinese headers.
pub const EXPORT_HEADERS: [&str; 10] =
    ["标题", "类型", "状态", "单位", "发布渠道", "链接", "发布时间", "创建时间", "发布平台", "最新数据"];

/// A work's platforms (`微信公众号、微博`) and its publications' newest metrics, as the export shows them.
#[derive(Debug, Clone, Default)]
struct PublishedWhere {
    platforms: String,
    metrics: String,
}

/// The publications of the exported works.
async fn published_where(db: &Db, rows: &[WorkFacts]) -> Result<HashMap<WorkId, PublishedWhere>, StatsError> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.to_string()).collect();
    let found = db.read(move |conn| publications::with_latest_metrics(conn, &ids)).await?;
    let mut places: HashMap<WorkId, (Vec<&'static str>, Vec<String>)> = HashMap::new();
    for (publication, latest) in &found {
        let entry = places.entry(publication.work_id.clone()).or_default();
        let platform = Platform::parse(&publication.platform).unwrap_or(Platform::Other).label_zh();
        if !entry.0.contains(&platform) {
            entry.0.push(platform);
        }
        if let Some(snapshot) =
            latest.as_ref().map(|snapshot| snapshot.metrics().label_zh()).filter(|text| !text.is_empty())
        {
            entry.1.push(format!("{platform}：{snapshot}"));
        }
    }
    Ok(places
        .into_iter()
        .map(|(work, (platforms, metrics))| {
            (work, PublishedWhere { platforms: platforms.join("、"), metrics: metrics.join("；") })
        })
        .collect())
}

fn export_rows(rows: &[WorkFacts], places: &HashMap<WorkId, PublishedWhere>) -> Vec<[String; 10]> {
    // Beijing time, as the pages show it, with the offset stated so no reader takes it for UTC.
    let time = |value: Option<NaiveDateTime>| {
        let local = value.map(|stored| stored.and_utc().with_timezone(&beijing()));
        local.map(|time| time.format("%Y-%m-%d %H:%M %:z").to_string()).unwrap_or_default()
    };
    rows.iter()
        .map(|row| {
            [
                row.title.clone(),
                row.kind.label_zh().to_owned(),
                row.status.label_zh().to_owned(),
                row.unit.clone().unwrap_or_default(),
                row.channel.clone().unwrap_or_default(),
                row.external_url.clone().unwrap_or_default(),
                time(row.published_at),
                time(Some(row.created_at)),
                places.get(&row.id).map(|place| place.platforms.clone()).unwrap_or_default(),
                places.get(&row.id).map(|place| place.metrics.clone()).unwrap_or_default(),
            ]
        })
        .collect()
}

/// The rows created in the period (they come oldest first).
fn created_within(rows: &[WorkFacts], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<WorkFacts> {
    rows.iter().filter(|row| within(row.created_at, from, to)).cloned().collect()
}

fn csv_field(value: &str) -> String {
    let risky = value.starts_with(['=', '+', '-', '@']);
    let value = if risky { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// CSV (UTF-8 with a byte-order mark, so Excel and WPS read the Chinese right).
pub async fn export_csv(db: &Db, user: &AuthUser, asked: Period) -> Result<Vec<u8>, StatsError> {
    let (from, to) = period(asked);
    let rows = created_within(&visible_rows(db, user).await?, from, to);
    let places = published_where(db, &rows).await?;
    let mut text = String::from("\u{FEFF}");
    text.push_str(&EXPORT_HEADERS.join(","));
    text.push_str("\r\n");
    for row in export_rows(&rows, &places) {
        let fields: Vec<String> = row.iter().map(|field| csv_field(field)).collect();
        text.push_str(&fields.join(","));
        text.push_str("\r\n");
    }
    Ok(text.into_bytes())
}

/// An .xlsx workbook: a summary sheet (统计) and the works (作品明细).
pub async fn export_xlsx(db: &Db, user: &AuthUser, asked: Period) -> Result<Vec<u8>, StatsError> {
    let (from, to) = period(asked);
    let visible = visible_rows(db, user).await?;
    let summary = stats_of(db, &visible, from, to, GroupBy::Kind).await?;
    let created = created_within(&visible, from, to);
    let places = published_where(db, &created).await?;
    let table = export_rows(&created, &places);
    super::off_executor(move || Ok(build_workbook(&summary, &table)?)).await
}

fn build_workbook(summary: &Stats, table: &[[String; 10]]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("统计")?;
    sheet.write_string_with_format(0, 0, "统计期间", &bold)?;
    sheet.write_string(0, 1, format!("{} 至 {}", summary.from.format("%Y-%m-%d"), summary.to.format("%Y-%m-%d")))?;
    for (column, header) in ["类型", "本期新建", "本期发布"].iter().enumerate() {
        sheet.write_string_with_format(2, column as u16, *header, &bold)?;
    }
    for (index, kind) in Kind::ALL.iter().enumerate() {
        let row = 3 + index as u32;
        sheet.write_string(row, 0, kind.label_zh())?;
        sheet.write_number(row, 1, *summary.created.get(kind.as_str()).unwrap_or(&0) as f64)?;
        sheet.write_number(row, 2, *summary.published.get(kind.as_str()).unwrap_or(&0) as f64)?;
    }
    sheet.set_column_width(0, 16)?;
    let details = workbook.add_worksheet();
    details.set_name("作品明细")?;
    for (column, header) in EXPORT_HEADERS.iter().enumerate() {
        details.write_string_with_format(0, column as u16, *header, &bold)?;
    }
    for (index, row) in table.iter().enumerate() {
        for (column, value) in row.iter().enumerate() {
            details.write_string(1 + index as u32, column as u16, value)?;
        }
    }
    details.set_column_width(0, 40)?;
    workbook.save_to_buffer()
}

/// The time the export was made, for its file name.
pub fn export_stamp() -> String {
    now().format("%Y%m%d-%H%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&values, 50), 5);
        assert_eq!(percentile(&values, 90), 9);
        assert_eq!(percentile(&[42], 90), 42);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("普通"), "普通");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn the_default_period_is_this_year() {
        let to = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let (from, end) = period((None, Some(to)));
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(end, to);
    }
}
