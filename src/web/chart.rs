//! The dashboard's bar chart, laid out in Rust and drawn as SVG by the template: works created
//! per month over the last twelve months, stacked by kind. Geometry only — no markup here, so
//! every label goes through the template's escaping.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};

use super::i18n::Lang;
use crate::domain::work::Kind;

/// Drawing size in SVG units (the page scales it with `viewBox`).
pub const WIDTH: u32 = 720;
/// Drawing height, including labels and legend.
pub const HEIGHT: u32 = 280;
const PLOT_LEFT: u32 = 40;
const PLOT_TOP: u32 = 16;
const PLOT_HEIGHT: u32 = 190;
const MONTHS: usize = 12;
/// Widest slot one month takes: a single month's bar stays a bar, not a wall across the card.
const MAX_SLOT: u32 = 64;
/// Most month labels under the axis (36 months are labelled every third).
const MAX_LABELS: usize = 12;

/// One stacked segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub kind: &'static str,
    pub tooltip: String,
}

/// A text placed at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub x: u32,
    pub y: u32,
    pub text: String,
}

/// A legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendItem {
    pub x: u32,
    pub kind: &'static str,
    pub label: &'static str,
}

/// The laid-out chart.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyChart {
    pub bars: Vec<Bar>,
    pub months: Vec<Label>,
    pub gridlines: Vec<Label>,
    pub legend: Vec<LegendItem>,
    pub plot_bottom: u32,
    pub plot_right: u32,
    pub legend_y: u32,
}

/// The last twelve months up to `to`, oldest first, as `YYYY-MM`.
pub fn last_months(to: DateTime<Utc>) -> Vec<String> {
    let (mut year, mut month) = (to.year(), to.month());
    let mut months = Vec::with_capacity(MONTHS);
    for _ in 0..MONTHS {
        months.push(format!("{year:04}-{month:02}"));
        (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    }
    months.reverse();
    months
}

/// A round axis maximum at or above `largest` (1, 2, 5 × 10ⁿ).
fn axis_max(largest: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if factor * step >= largest.max(1) {
                return factor * step;
            }
        }
        step *= 10;
    }
}

/// Whole-number gridlines from 0 to `max` (a 1, 2, 5 × 10ⁿ value): five steps when they divide it.
fn gridline_values(max: u64) -> Vec<u64> {
    let steps = if max.is_multiple_of(5) { 5 } else { max.min(5) };
    (0..=steps).map(|step| max * step / steps).collect()
}

/// Lays out the counts keyed `YYYY-MM/kind` (see `GroupBy::MonthAndKind`).
pub fn monthly_by_kind(counts: &BTreeMap<String, u64>, months: &[String], lang: Lang) -> MonthlyChart {
    let count = |month: &str, kind: Kind| counts.get(&format!("{month}/{}", kind.as_str())).copied().unwrap_or(0);
    let totals: Vec<u64> = months.iter().map(|month| Kind::ALL.iter().map(|kind| count(month, *kind)).sum()).collect();
    let max = axis_max(totals.iter().copied().max().unwrap_or(0));
    let slot = ((WIDTH - PLOT_LEFT - 10) / months.len().max(1) as u32).min(MAX_SLOT);
    let label_every = months.len().div_ceil(MAX_LABELS).max(1);
    let plot_bottom = PLOT_TOP + PLOT_HEIGHT;
    let scale = |value: u64| (value * u64::from(PLOT_HEIGHT) / max) as u32;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (index, month) in months.iter().enumerate() {
        let x = PLOT_LEFT + index as u32 * slot + slot / 5;
        let mut stacked = 0;
        for kind in Kind::ALL {
            let value = count(month, kind);
            if value == 0 {
                continue;
            }
            let (bottom, top) = (scale(stacked), scale(stacked + value));
            stacked += value;
            let tooltip = format!("{month} {}: {value}", lang.kind(kind));
            let height = (top - bottom).max(1);
            bars.push(Bar { x, y: plot_bottom - top, width: slot * 3 / 5, height, kind: kind.as_str(), tooltip });
        }
        if index % label_every == 0 || index + 1 == months.len() {
            labels.push(Label { x: x + slot * 3 / 10, y: plot_bottom + 16, text: month[2..].replace('-', "/") });
        }
    }
    let gridlines = gridline_values(max)
        .into_iter()
        .map(|value| Label { x: PLOT_LEFT - 6, y: plot_bottom - scale(value), text: value.to_string() })
        .collect();
    let legend = Kind::ALL
        .iter()
        .enumerate()
        .map(|(index, kind)| LegendItem {
            x: PLOT_LEFT + index as u32 * 150,
            kind: kind.as_str(),
            label: lang.kind(*kind),
        })
        .collect();
    MonthlyChart { bars, months: labels, gridlines, legend, plot_bottom, plot_right: WIDTH - 10, legend_y: HEIGHT - 24 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn twelve_months_end_with_the_current_one_across_a_year_boundary() {
        let months = last_months(at("2026-02-10T00:00:00Z"));
        assert_eq!(months.len(), 12);
        assert_eq!(months.first().map(String::as_str), Some("2025-03"));
        assert_eq!(months.last().map(String::as_str), Some("2026-02"));
    }

    #[test]
    fn axis_rounds_up_to_one_two_five() {
        assert_eq!(axis_max(0), 1);
        assert_eq!(axis_max(3), 5);
        assert_eq!(axis_max(7), 10);
        assert_eq!(axis_max(11), 20);
        assert_eq!(axis_max(501), 1000);
    }

    #[test]
    fn gridlines_are_whole_numbers() {
        assert_eq!(gridline_values(1), vec![0, 1]);
        assert_eq!(gridline_values(2), vec![0, 1, 2]);
        assert_eq!(gridline_values(5), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(gridline_values(20), vec![0, 4, 8, 12, 16, 20]);
    }

    #[test]
    fn bars_stack_by_kind_and_the_tallest_month_fills_the_plot() {
        let months = last_months(at("2026-11-28T00:00:00Z"));
        let mut counts = BTreeMap::new();
        counts.insert("2026-11/micro_film".to_owned(), 2);
        counts.insert("2026-11/wechat_article".to_owned(), 3);
        counts.insert("2026-10/weibo_post".to_owned(), 1);
        let chart = monthly_by_kind(&counts, &months, Lang::Zh);
        assert_eq!(chart.bars.len(), 3);
        let november: Vec<&Bar> = chart.bars.iter().filter(|bar| bar.tooltip.starts_with("2026-11")).collect();
        assert_eq!(november.len(), 2);
        assert_eq!(november[0].kind, "micro_film");
        assert_eq!(november[0].y + november[0].height, chart.plot_bottom);
        assert_eq!(november[1].y, PLOT_TOP, "5 of an axis of 5 reaches the top");
        assert_eq!(november[1].y + november[1].height, november[0].y, "segments touch");
        assert!(november[1].tooltip.contains("微信文章: 3"));
        assert_eq!(chart.months.last().map(|label| label.text.as_str()), Some("26/11"));
        assert_eq!(chart.gridlines.last().map(|label| label.text.as_str()), Some("5"));
    }

    #[test]
    fn an_empty_period_draws_no_bars() {
        let chart = monthly_by_kind(&BTreeMap::new(), &last_months(Utc::now()), Lang::En);
        assert!(chart.bars.is_empty());
        assert_eq!(chart.legend.len(), 4);
    }

    #[test]
    fn the_chart_stays_readable_from_one_month_to_thirty_six() {
        let mut counts = BTreeMap::new();
        counts.insert("2026-11/micro_film".to_owned(), 2);
        let one = monthly_by_kind(&counts, &["2026-11".to_owned()], Lang::Zh);
        assert!(one.bars[0].width <= MAX_SLOT, "one month is a bar, not the whole card: {}", one.bars[0].width);
        let months: Vec<String> = (0..36).map(|index| format!("{}-{:02}", 2024 + index / 12, index % 12 + 1)).collect();
        let long = monthly_by_kind(&counts, &months, Lang::Zh);
        assert!(long.months.len() <= MAX_LABELS + 1, "labels never overlap: {}", long.months.len());
        assert_eq!(long.months.last().map(|label| label.text.as_str()), Some("26/12"), "the last month is named");
    }
}
