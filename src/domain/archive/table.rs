//! Tables as the export tools write them (CSV, and Excel for wechat-article-exporter), read
//! by header name: columns may come in any order.

use super::{ImportRecord, ParsedRow, RowProblem, count};

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes())
}

pub fn csv_headers(text: &str) -> Option<Vec<String>> {
    let mut reader = csv_reader(text);
    let headers = reader.headers().ok()?;
    Some(headers.iter().map(|name| name.trim().trim_start_matches('\u{feff}').to_owned()).collect())
}

/// A CSV row by header name (columns may come in any order).
pub struct Row<'a> {
    headers: &'a [String],
    record: csv::StringRecord,
}

impl Row<'_> {
    /// The trimmed cell (tab-suffixed ids lose their tab); `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        let index = self.headers.iter().position(|header| header == name)?;
        let value = self.record.get(index)?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    pub fn count(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|raw| count(&raw))
    }
}

pub fn csv_rows(text: &str, read: fn(&Row<'_>) -> Result<ImportRecord, String>) -> Result<Vec<ParsedRow>, String> {
    let headers = csv_headers(text).ok_or("the file has no CSV header row")?;
    let mut reader = csv_reader(text);
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let parsed = match record {
            Ok(record) => read(&Row { headers: &headers, record }),
            Err(error) => Err(format!("unreadable CSV: {error}")),
        };
        rows.push(parsed.map_err(|reason| RowProblem { row, reason }));
    }
    Ok(rows)
}

/// Most rows read from one workbook (the team has hundreds of articles, not millions).
const XLSX_MAX_ROWS: usize = 200_000;

/// The first sheet of an Excel workbook, its first row naming the columns. Dates stored as
/// Excel dates read as `YYYY-MM-DD HH:MM:SS`, whole numbers without a decimal point.
pub fn xlsx_rows(bytes: &[u8], read: fn(&Row<'_>) -> Result<ImportRecord, String>) -> Result<Vec<ParsedRow>, String> {
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|error| format!("not a readable Excel workbook: {error}"))?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|error| format!("the first sheet cannot be read: {error}"))?;
    let mut lines = sheet.rows();
    let headers: Vec<String> =
        lines.next().ok_or("the sheet is empty")?.iter().map(|cell| cell_text(cell).trim().to_owned()).collect();
    let mut rows = Vec::new();
    for (index, cells) in lines.enumerate() {
        if index >= XLSX_MAX_ROWS {
            return Err(format!("more than {XLSX_MAX_ROWS} rows"));
        }
        if cells.iter().all(|cell| matches!(cell, calamine::Data::Empty)) {
            continue;
        }
        let record: csv::StringRecord = cells.iter().map(cell_text).collect();
        rows.push(read(&Row { headers: &headers, record }).map_err(|reason| RowProblem { row: index + 1, reason }));
    }
    Ok(rows)
}

fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) if number.fract() == 0.0 && number.abs() < 1e15 => format!("{}", *number as i64),
        Data::Float(number) => number.to_string(),
        Data::Bool(true) => "是".to_owned(),
        Data::Bool(false) => "否".to_owned(),
        Data::DateTime(date) => {
            date.as_datetime().map(|time| time.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
        }
        Data::Error(_) | Data::Empty => String::new(),
    }
}
