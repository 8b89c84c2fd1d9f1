//! The team's published archive as the export tools write it (WeChat via
//! wechat-article-exporter and wechatDownload, Weibo via weibo-crawler and weiboSpider), read
//! into [`ImportRecord`]s: one per published piece, with its source key, original
//! publication time, where it was published and its metrics. Pure: bytes in, records and
//! per-row problems out; the import service stores them.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::media::MediaRole;
use super::work::{Kind, Status};

pub mod bundle;
mod html;
mod table;
mod wechat;
mod weibo;

pub use weibo::media_owner as weibo_media_owner;

/// The source key prefix of a saved WeChat page (keyed by title and time: it has no link).
pub const PAGE_KEY_PREFIX: &str = "wechat-page:";

/// Where a work was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// 微信公众号
    Wechat,
    /// 微博
    Weibo,
    /// 抖音
    Douyin,
    /// 快手
    Kuaishou,
    /// 视频号
    Channels,
    /// 公安信息网
    PoliceNet,
    Other,
}

impl Platform {
    pub const ALL: [Platform; 7] = [
        Platform::Wechat,
        Platform::Weibo,
        Platform::Douyin,
        Platform::Kuaishou,
        Platform::Channels,
        Platform::PoliceNet,
        Platform::Other,
    ];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Wechat => "wechat",
            Platform::Weibo => "weibo",
            Platform::Douyin => "douyin",
            Platform::Kuaishou => "kuaishou",
            Platform::Channels => "channels",
            Platform::PoliceNet => "police_net",
            Platform::Other => "other",
        }
    }

    /// The name the team uses.
    pub fn label_zh(self) -> &'static str {
        match self {
            Platform::Wechat => "微信公众号",
            Platform::Weibo => "微博",
            Platform::Douyin => "抖音",
            Platform::Kuaishou => "快手",
            Platform::Channels => "视频号",
            Platform::PoliceNet => "公安信息网",
            Platform::Other => "其他",
        }
    }

    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|platform| platform.as_str() == raw.trim())
    }

    /// The platform a free-text channel names (`平安某县公众号` → WeChat), else `Other`.
    pub fn from_channel(channel: &str) -> Self {
        let named = |words: &[&str]| words.iter().any(|word| channel.to_lowercase().contains(word));
        if named(&["视频号"]) {
            Platform::Channels
        } else if named(&["公众号", "微信", "wechat"]) {
            Platform::Wechat
        } else if named(&["微博", "weibo"]) {
            Platform::Weibo
        } else if named(&["抖音", "douyin"]) {
            Platform::Douyin
        } else if named(&["快手", "kuaishou"]) {
            Platform::Kuaishou
        } else if named(&["公安信息网", "公安网"]) {
            Platform::PoliceNet
        } else {
            Platform::Other
        }
    }
}

/// Counts as a platform showed them at one time; `None` where the export has no figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub reads: Option<i64>,
    pub likes: Option<i64>,
    pub shares: Option<i64>,
    pub comments: Option<i64>,
    pub reposts: Option<i64>,
}

impl Metrics {
    /// Whether any figure is known.
    pub fn is_empty(&self) -> bool {
        *self == Metrics::default()
    }

    /// The known figures as the team reads them: `阅读 1520 · 点赞 33`.
    pub fn label_zh(&self) -> String {
        let named = [
            ("阅读", self.reads),
            ("点赞", self.likes),
            ("分享", self.shares),
            ("评论", self.comments),
            ("转发", self.reposts),
        ];
        let known: Vec<String> =
            named.iter().filter_map(|(label, value)| value.map(|value| format!("{label} {value}"))).collect();
        known.join(" · ")
    }
}

/// One published piece from an export.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    /// Stable across exports of the same piece: `wechat:{mid}_{idx}`, `weibo:{id}`.
    pub source_key: String,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub summary: Option<String>,
    pub author: Option<String>,
    pub published_at: DateTime<Utc>,
    /// The export marks it deleted: it arrives archived.
    pub deleted: bool,
    pub platform: Platform,
    pub account: Option<String>,
    /// Only `http`/`https` links are kept.
    pub url: Option<String>,
    pub metrics: Metrics,
    pub tags: Vec<String>,
    /// Remote pictures and videos, kept as links (nothing is fetched).
    pub remote_media: Vec<String>,
    /// Files of the export that belong to this piece (HTML `assets/` and the page itself,
    /// microcat's originals), by path relative to the file the record was read from; the
    /// import ingests them as any upload.
    pub local_media: Vec<LocalMedia>,
    /// The whole work, when the record comes from microcat's own export.
    pub bundle: Option<Box<bundle::ExportedWork>>,
}

impl ImportRecord {
    /// The status the work arrives in: as exported by microcat, else published (archived
    /// when the export marks it deleted).
    pub fn status(&self) -> Status {
        match &self.bundle {
            Some(work) => work.status,
            None if self.deleted => Status::Archived,
            None => Status::Published,
        }
    }
}

/// One file of an export that becomes media of the imported work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Relative to the file the record was read from; `..` and absolute paths never appear.
    pub path: String,
    pub role: MediaRole,
    /// The name the download carries.
    pub filename: Option<String>,
}

impl LocalMedia {
    /// A relative path inside the export, or `None` for links, absolute paths and `..`.
    pub fn inside(raw: &str, role: MediaRole, filename: Option<String>) -> Option<Self> {
        let path = raw.trim().trim_start_matches("./");
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = percent_decoded(path);
        let safe = !path.is_empty()
            && !path.starts_with('/')
            && !path.contains('\\')
            && !path.contains(':')
            && path.split('/').all(|part| !part.is_empty() && part != "..");
        safe.then_some(LocalMedia { path, role, filename })
    }
}

fn percent_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| raw.to_owned())
}

/// Why one row could not be read; the rest still import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based row (CSV, after the header) or array index + 1 (JSON).
    pub row: usize,
    pub reason: String,
}

/// A record read from one row, or why that row could not be read.
pub type ParsedRow = Result<ImportRecord, RowProblem>;

/// The export formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// wechat-article-exporter's JSON array of articles.
    WechatExporterJson,
    /// wechatDownload's CSV.
    WechatDownloadCsv,
    /// weibo-crawler's CSV.
    WeiboCrawlerCsv,
    /// weibo-crawler's JSON (`{"user", "weibo": […]}`).
    WeiboCrawlerJson,
    /// weiboSpider's CSV.
    WeiboSpiderCsv,
    /// wechat-article-exporter's Excel workbook.
    WechatExporterXlsx,
    /// wechat-article-exporter's HTML folder (`<title>/index.html` + `assets/`).
    WechatExporterHtml,
    /// microcat's own export (`microcat export`): one JSON per work plus its originals.
    MicrocatExport,
}

impl ArchiveFormat {
    pub const ALL: [ArchiveFormat; 8] = [
        ArchiveFormat::WechatExporterJson,
        ArchiveFormat::WechatExporterXlsx,
        ArchiveFormat::WechatExporterHtml,
        ArchiveFormat::WechatDownloadCsv,
        ArchiveFormat::WeiboCrawlerCsv,
        ArchiveFormat::WeiboCrawlerJson,
        ArchiveFormat::WeiboSpiderCsv,
        ArchiveFormat::MicrocatExport,
    ];

    /// The `--format` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveFormat::WechatExporterJson => "wechat-article-exporter",
            ArchiveFormat::WechatDownloadCsv => "wechatdownload",
            ArchiveFormat::WeiboCrawlerCsv => "weibo-crawler-csv",
            ArchiveFormat::WeiboCrawlerJson => "weibo-crawler-json",
            ArchiveFormat::WeiboSpiderCsv => "weibospider",
            ArchiveFormat::WechatExporterXlsx => "wechat-article-exporter-xlsx",
            ArchiveFormat::WechatExporterHtml => "wechat-article-exporter-html",
            ArchiveFormat::MicrocatExport => "microcat-export",
        }
    }

    /// Parses the `--format` spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == raw.trim())
    }

    /// Every spelling, for the refusal of an unknown file.
    pub fn names() -> String {
        Self::ALL.map(ArchiveFormat::as_str).join(", ")
    }
}

/// A file's text: UTF-8 (BOM dropped) or GB18030.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    super::subtitles::decode(bytes)
}

/// Whether the bytes are a zip archive (an `.xlsx` is one too: see [`detect`]).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Whether the text is an HTML page.
pub fn is_html(text: &str) -> bool {
    let head: String = text.trim_start().chars().take(64).collect::<String>().to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Which format a file is, from its content: an Excel workbook's parts, an HTML page, the
/// JSON shape, or the CSV header names.
pub fn detect(bytes: &[u8]) -> Option<ArchiveFormat> {
    if is_zip(bytes) {
        return memchr::memmem::find(bytes, b"xl/workbook.xml").map(|_| ArchiveFormat::WechatExporterXlsx);
    }
    let text = decode_text(bytes)?;
    if is_html(&text) {
        return Some(ArchiveFormat::WechatExporterHtml);
    }
    detect_text(&text)
}

fn detect_text(text: &str) -> Option<ArchiveFormat> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let value: Value = serde_json::from_str(trimmed).ok()?;
        return match &value {
            Value::Array(items)
                if items.iter().any(|item| item.get("aid").is_some() || item.get("appmsgid").is_some()) =>
            {
                Some(ArchiveFormat::WechatExporterJson)
            }
            Value::Object(object) if object.get("weibo").is_some_and(Value::is_array) => {
                Some(ArchiveFormat::WeiboCrawlerJson)
            }
            Value::Object(object) if object.contains_key(bundle::WORK_MARKER) => Some(ArchiveFormat::MicrocatExport),
            _ => None,
        };
    }
    let header = table::csv_headers(text)?;
    let has = |name: &str| header.iter().any(|column| column == name);
    if has("bid") && has("正文") {
        Some(ArchiveFormat::WeiboCrawlerCsv)
    } else if has("微博id") && has("微博正文") {
        Some(ArchiveFormat::WeiboSpiderCsv)
    } else if has("title") && has("url") && has("time") {
        Some(ArchiveFormat::WechatDownloadCsv)
    } else {
        None
    }
}

/// Reads a file of a known format; `name` is the file's folder name, which an HTML page's
/// title falls back to.
pub fn parse(format: ArchiveFormat, bytes: &[u8], name: &str) -> Result<Vec<ParsedRow>, String> {
    if format == ArchiveFormat::WechatExporterXlsx {
        return table::xlsx_rows(bytes, wechat::exporter_xlsx_row);
    }
    let text = decode_text(bytes).ok_or("the file is neither UTF-8 nor GB18030 text")?;
    match format {
        ArchiveFormat::WechatExporterJson => wechat::exporter_json(&text),
        ArchiveFormat::WechatExporterHtml => {
            Ok(vec![html::article(&text, name).map_err(|reason| RowProblem { row: 1, reason })])
        }
        ArchiveFormat::WeiboCrawlerJson => weibo::crawler_json(&text),
        ArchiveFormat::WechatDownloadCsv => table::csv_rows(&text, wechat::download_row),
        ArchiveFormat::WeiboCrawlerCsv => table::csv_rows(&text, weibo::crawler_row),
        ArchiveFormat::WeiboSpiderCsv => table::csv_rows(&text, weibo::spider_row),
        ArchiveFormat::MicrocatExport => {
            Ok(vec![bundle::record(&text).map_err(|reason| RowProblem { row: 1, reason })])
        }
        ArchiveFormat::WechatExporterXlsx => unreachable!("read above"),
    }
}

/// A count as exports write them: `123`, `1.2万`, `10万+`, `{}` or blank (unknown).
fn count(raw: &str) -> Option<i64> {
    let raw = raw.trim().trim_end_matches('+');
    if let Some(tens_of_thousands) = raw.strip_suffix('万') {
        return tens_of_thousands.trim().parse::<f64>().ok().map(|value| (value * 10_000.0).round() as i64);
    }
    raw.parse::<i64>().ok().filter(|value| *value >= 0)
}

fn json_count(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number.as_i64().filter(|value| *value >= 0),
        Value::String(text) => count(text),
        _ => None,
    }
}

/// A time written in Beijing local time (`2024-05-01 08:30:00`, `2024-05-01 08:30`, `2024-05-01`).
fn beijing_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|date| date.and_hms_opt(0, 0, 0))
        })?;
    crate::clock::beijing().from_local_datetime(&naive).single().map(|time| time.with_timezone(&Utc))
}

fn unix_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let seconds = match value? {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    DateTime::from_timestamp(seconds, 0)
}

fn title_of(text: &str) -> String {
    let first_line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    first_line.chars().take(60).collect()
}

/// Only `http(s)` links survive, with `&amp;` (HTML exports) decoded.
pub fn web_link(raw: &str) -> Option<String> {
    let link = raw.trim().replace("&amp;", "&");
    let parsed = url::Url::parse(&link).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_name_their_platform() {
        assert_eq!(Platform::from_channel("平安某县公众号"), Platform::Wechat);
        assert_eq!(Platform::from_channel("微信视频号"), Platform::Channels);
        assert_eq!(Platform::from_channel("官方微博"), Platform::Weibo);
        assert_eq!(Platform::from_channel("Douyin"), Platform::Douyin);
        assert_eq!(Platform::from_channel("县电视台"), Platform::Other);
    }

    #[test]
    fn counts_read_as_the_tools_write_them() {
        assert_eq!(count("123"), Some(123));
        assert_eq!(count("1.2万"), Some(12_000));
        assert_eq!(count("10万+"), Some(100_000));
        assert_eq!(count("{}"), None);
        assert_eq!(count("-3"), None);
    }

    #[test]
    fn beijing_times_become_utc() {
        let time = beijing_time("2024-05-01 08:30:00").unwrap();
        assert_eq!(time.to_rfc3339(), "2024-05-01T00:30:00+00:00");
        assert_eq!(beijing_time("2024-05-01").unwrap().to_rfc3339(), "2024-04-30T16:00:00+00:00");
        assert!(beijing_time("yesterday").is_none());
    }

    #[test]
    fn wechat_json_and_csv_name_one_article_alike() {
        let json = r#"[{"aid":"2247483650_1","appmsgid":2247483650,"itemidx":1,"title":"反诈宣传进社区","digest":"民警讲解","link":"https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483650&idx=1&sn=abc","create_time":1714523400,"content":"正文","readNum":1520,"oldLikeNum":33,"shareNum":12,"commentNum":"{}","is_deleted":false,"appmsg_album_infos":[{"title":"平安乡村"}]}]"#;
        assert_eq!(detect(json.as_bytes()), Some(ArchiveFormat::WechatExporterJson));
        let records = parse(ArchiveFormat::WechatExporterJson, json.as_bytes(), "x").unwrap();
        let article = records[0].as_ref().unwrap();
        assert_eq!(article.source_key, "wechat:2247483650_1");
        assert_eq!(article.published_at.timestamp(), 1714523400);
        assert_eq!(
            article.metrics,
            Metrics { reads: Some(1520), likes: Some(33), shares: Some(12), comments: None, reposts: None }
        );
        assert_eq!(article.tags, vec!["平安乡村"]);
        let csv = "title,url,time,like_num,read_num,share_num,comment_count\n反诈宣传进社区,https://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=2247483650&amp;idx=1&amp;sn=abc,2024-05-01 08:30:00,33,1520,12,{}\n";
        assert_eq!(detect(csv.as_bytes()), Some(ArchiveFormat::WechatDownloadCsv));
        let rows = parse(ArchiveFormat::WechatDownloadCsv, csv.as_bytes(), "x").unwrap();
        let same = rows[0].as_ref().unwrap();
        assert_eq!(same.source_key, article.source_key, "one article, one key");
        assert_eq!(same.url.as_deref(), Some("https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483650&idx=1&sn=abc"));
        assert_eq!(same.published_at.to_rfc3339(), "2024-05-01T00:30:00+00:00");
    }

    #[test]
    fn weibo_csvs_map_columns_by_name_and_bad_rows_fail_alone() {
        let crawler = "\u{feff}id,bid,正文,头条文章url,原始图片url,视频url,Live Photo视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户,完整日期,是否编辑过,编辑次数\n\
            4987654321\t,Nabc123,今天我们走进校园宣传防溺水知识,,https://wx1.sinaimg.cn/a.jpg,https://video.example/v.mp4,,,2024-06-01,iPhone,1.2万,30,5,防溺水,,2024-06-01 09:00:00,否,0\n\
            ,Nxyz,,,,,,,,,,,,,,,,\n";
        assert_eq!(detect(crawler.as_bytes()), Some(ArchiveFormat::WeiboCrawlerCsv));
        let rows = parse(ArchiveFormat::WeiboCrawlerCsv, crawler.as_bytes(), "x").unwrap();
        let post = rows[0].as_ref().unwrap();
        assert_eq!(post.source_key, "weibo:4987654321", "the tab after the id is dropped");
        assert_eq!(post.metrics.likes, Some(12_000));
        assert_eq!(post.remote_media.len(), 2);
        assert_eq!(post.tags, vec!["防溺水"]);
        assert_eq!(post.url.as_deref(), Some("https://weibo.com/detail/Nabc123"));
        assert_eq!(rows[1].as_ref().unwrap_err().row, 2);
        let spider = "微博id,微博正文,头条文章url,原始图片url,微博视频url,发布位置,发布时间,发布工具,点赞数,转发数,评论数\nLq1,夜巡守护平安,,无,无,,2024-06-02 21:00,微博 weibo.com,10,7,3\n";
        assert_eq!(detect(spider.as_bytes()), Some(ArchiveFormat::WeiboSpiderCsv));
        let post = parse(ArchiveFormat::WeiboSpiderCsv, spider.as_bytes(), "x").unwrap().remove(0).unwrap();
        assert_eq!(post.metrics.reposts, Some(7), "转发数 comes before 评论数 in this tool");
        assert_eq!(post.metrics.comments, Some(3));
        assert!(post.remote_media.is_empty(), "无 is not a link");
        assert_eq!(detect(b"a,b,c\n1,2,3\n"), None);
    }

    #[test]
    fn weibo_crawler_json_reads_posts_and_the_account() {
        let json = r#"{"user":{"screen_name":"平安某县"},"weibo":[{"id":4987654321,"bid":"Nabc","text":"防诈骗提醒","pics":"","created_at":"2024-06-01","full_created_at":"2024-06-01 09:00:00","attitudes_count":5,"comments_count":1,"reposts_count":2,"topics":""}]}"#;
        assert_eq!(detect(json.as_bytes()), Some(ArchiveFormat::WeiboCrawlerJson));
        let post = parse(ArchiveFormat::WeiboCrawlerJson, json.as_bytes(), "x").unwrap().remove(0).unwrap();
        assert_eq!(post.account.as_deref(), Some("平安某县"));
        assert_eq!(post.metrics.reposts, Some(2));
        assert_eq!(post.source_key, "weibo:4987654321");
    }

    #[test]
    fn wechat_exporter_workbooks_read_strings_and_excel_dates() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let headers = [
            "公众号",
            "ID",
            "链接",
            "标题",
            "封面",
            "摘要",
            "创建时间",
            "发布时间",
            "阅读",
            "点赞",
            "分享",
            "喜欢",
            "留言",
            "作者",
            "是否原创",
            "文章类型",
            "所属合集",
            "文章内容",
        ];
        for (column, header) in headers.iter().enumerate() {
            sheet.write_string(0, column as u16, *header).unwrap();
        }
        let first = [
            "平安某县",
            "2247483650_1",
            "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483650&idx=1",
            "反诈宣传进社区",
            "https://mmbiz.qpic.cn/c.jpg",
            "民警讲解",
            "2024-05-01 08:30:00",
            "2024-05-02 09:00:00",
        ];
        for (column, value) in first.iter().enumerate() {
            sheet.write_string(1, column as u16, *value).unwrap();
        }
        sheet.write_number(1, 8, 1520).unwrap();
        sheet.write_number(1, 9, 33).unwrap();
        sheet.write_string(1, 16, "#平安乡村 #反诈").unwrap();
        sheet.write_string(1, 17, "正文内容").unwrap();
        sheet.write_string(2, 1, "2247483651_1").unwrap();
        sheet.write_string(2, 3, "夜巡守护平安").unwrap();
        let date = ExcelDateTime::parse_from_str("2024-06-01 09:00:00").unwrap();
        sheet.write_datetime_with_format(2, 6, &date, &Format::new().set_num_format("yyyy-mm-dd hh:mm:ss")).unwrap();
        sheet.write_string(3, 1, "2247483652_1").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert_eq!(detect(&bytes), Some(ArchiveFormat::WechatExporterXlsx));
        let rows = parse(ArchiveFormat::WechatExporterXlsx, &bytes, "x").unwrap();
        let article = rows[0].as_ref().unwrap();
        assert_eq!(article.source_key, "wechat:2247483650_1", "keyed like the JSON export");
        assert_eq!(article.account.as_deref(), Some("平安某县"));
        assert_eq!(article.published_at.to_rfc3339(), "2024-05-01T00:30:00+00:00");
        assert_eq!((article.metrics.reads, article.metrics.likes), (Some(1520), Some(33)));
        assert_eq!(article.tags, vec!["平安乡村", "反诈"]);
        let dated = rows[1].as_ref().unwrap();
        assert_eq!(dated.published_at.to_rfc3339(), "2024-06-01T01:00:00+00:00", "an Excel date, Beijing time");
        assert_eq!(rows[2].as_ref().unwrap_err().row, 3, "no 标题: that row alone fails");
    }

    #[test]
    fn weibo_media_files_name_their_post() {
        assert_eq!(weibo_media_owner("20240601_4987654321.jpg").as_deref(), Some("weibo:4987654321"));
        assert_eq!(weibo_media_owner("20240601_4987654321_2.jpg").as_deref(), Some("weibo:4987654321"));
        assert_eq!(weibo_media_owner("20240601_Nabc123.mp4").as_deref(), Some("weibo:Nabc123"));
        assert_eq!(weibo_media_owner("cover.jpg"), None);
        assert_eq!(weibo_media_owner("2024_1.jpg"), None);
    }

    #[test]
    fn local_media_stays_inside_the_export() {
        let inside = LocalMedia::inside("././assets/%E5%9B%BE.jpeg?x=1", MediaRole::Still, None).unwrap();
        assert_eq!(inside.path, "assets/图.jpeg");
        for outside in ["/etc/passwd", "../x.jpg", "assets/../../x", "C:/x.jpg", "", "a//b"] {
            assert!(LocalMedia::inside(outside, MediaRole::Still, None).is_none(), "{outside:?}");
        }
    }
}
