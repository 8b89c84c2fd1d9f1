//! The team's published archive as the export tools write it (WeChat via
//! wechat-article-exporter and wechatDownload, Weibo via weibo-crawler and weiboSpider), read
//! into [`ImportRecord`]s: one per published piece, with its source key, original
//! publication time, where it was published and its metrics. Pure: bytes in, records and
//! per-row problems out; the import service stores them.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::work::Kind;

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
}

impl ArchiveFormat {
    pub const ALL: [ArchiveFormat; 5] = [
        ArchiveFormat::WechatExporterJson,
        ArchiveFormat::WechatDownloadCsv,
        ArchiveFormat::WeiboCrawlerCsv,
        ArchiveFormat::WeiboCrawlerJson,
        ArchiveFormat::WeiboSpiderCsv,
    ];

    /// The `--format` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveFormat::WechatExporterJson => "wechat-article-exporter",
            ArchiveFormat::WechatDownloadCsv => "wechatdownload",
            ArchiveFormat::WeiboCrawlerCsv => "weibo-crawler-csv",
            ArchiveFormat::WeiboCrawlerJson => "weibo-crawler-json",
            ArchiveFormat::WeiboSpiderCsv => "weibospider",
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

/// Which format a file is, from its content (JSON shape or CSV header names).
pub fn detect(text: &str) -> Option<ArchiveFormat> {
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
            _ => None,
        };
    }
    let header = csv_headers(text)?;
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

/// Reads a file of a known format.
pub fn parse(format: ArchiveFormat, text: &str) -> Result<Vec<ParsedRow>, String> {
    match format {
        ArchiveFormat::WechatExporterJson => wechat_exporter_json(text),
        ArchiveFormat::WeiboCrawlerJson => weibo_crawler_json(text),
        ArchiveFormat::WechatDownloadCsv => csv_rows(text, wechat_download_row),
        ArchiveFormat::WeiboCrawlerCsv => csv_rows(text, weibo_crawler_row),
        ArchiveFormat::WeiboSpiderCsv => csv_rows(text, weibo_spider_row),
    }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes())
}

fn csv_headers(text: &str) -> Option<Vec<String>> {
    let mut reader = csv_reader(text);
    let headers = reader.headers().ok()?;
    Some(headers.iter().map(|name| name.trim().trim_start_matches('\u{feff}').to_owned()).collect())
}

/// A CSV row by header name (columns may come in any order).
struct Row<'a> {
    headers: &'a [String],
    record: csv::StringRecord,
}

impl Row<'_> {
    /// The trimmed cell (tab-suffixed ids lose their tab); `None` when absent or blank.
    fn get(&self, name: &str) -> Option<String> {
        let index = self.headers.iter().position(|header| header == name)?;
        let value = self.record.get(index)?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn count(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|raw| count(&raw))
    }
}

fn csv_rows(text: &str, read: fn(&Row<'_>) -> Result<ImportRecord, String>) -> Result<Vec<ParsedRow>, String> {
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

/// Only `http(s)` links survive, with `&amp;` (HTML exports) decoded.
pub fn web_link(raw: &str) -> Option<String> {
    let link = raw.trim().replace("&amp;", "&");
    let parsed = url::Url::parse(&link).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(link)
}

/// `wechat:{mid}_{idx}` from an article link's `mid` and `idx` (the exporter's `aid` is the
/// same `appmsgid_itemidx`, so both formats name one article alike).
fn wechat_key_of_link(link: &str) -> Option<String> {
    let parsed = url::Url::parse(link).ok()?;
    let query = |name: &str| parsed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    Some(format!("wechat:{}_{}", query("mid")?, query("idx").unwrap_or_else(|| "1".to_owned())))
}

fn title_of(text: &str) -> String {
    let first_line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    first_line.chars().take(60).collect()
}

fn wechat_exporter_json(text: &str) -> Result<Vec<ParsedRow>, String> {
    let items: Vec<Value> =
        serde_json::from_str(text).map_err(|error| format!("not a JSON array of articles: {error}"))?;
    Ok(items
        .iter()
        .enumerate()
        .map(|(index, item)| wechat_article(item).map_err(|reason| RowProblem { row: index + 1, reason }))
        .collect())
}

fn wechat_article(item: &Value) -> Result<ImportRecord, String> {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::trim).filter(|value| !value.is_empty());
    let title = text("title").ok_or("no title")?.to_owned();
    let url = text("link").and_then(web_link);
    let key = text("aid")
        .map(|aid| format!("wechat:{aid}"))
        .or_else(|| url.as_deref().and_then(wechat_key_of_link))
        .ok_or("neither an aid nor a link with mid and idx")?;
    let published_at =
        unix_time(item.get("create_time")).or_else(|| unix_time(item.get("update_time"))).ok_or("no create_time")?;
    let deleted = matches!(item.get("is_deleted"), Some(Value::Bool(true)))
        || item.get("is_deleted").and_then(Value::as_i64) == Some(1);
    let albums = item.get("appmsg_album_infos").and_then(Value::as_array).into_iter().flatten();
    let tags = albums.filter_map(|album| album.get("title").and_then(Value::as_str)).map(str::to_owned).collect();
    let metrics = Metrics {
        reads: json_count(item.get("readNum")),
        likes: json_count(item.get("oldLikeNum")).or_else(|| json_count(item.get("likeNum"))),
        shares: json_count(item.get("shareNum")),
        comments: json_count(item.get("commentNum")),
        reposts: None,
    };
    Ok(ImportRecord {
        source_key: key,
        kind: Kind::WechatArticle,
        body: text("content").unwrap_or_default().to_owned(),
        summary: text("digest").map(str::to_owned),
        author: text("author_name").map(str::to_owned),
        published_at,
        deleted,
        platform: Platform::Wechat,
        account: None,
        url,
        metrics,
        tags,
        remote_media: text("cover").and_then(web_link).into_iter().collect(),
        title,
    })
}

fn wechat_download_row(row: &Row<'_>) -> Result<ImportRecord, String> {
    let title = row.get("title").ok_or("no title")?;
    let url = row.get("url").and_then(|raw| web_link(&raw)).ok_or("no http(s) url")?;
    let key = wechat_key_of_link(&url).ok_or("the url has no mid")?;
    let published_at = row.get("time").and_then(|raw| beijing_time(&raw)).ok_or("no time (YYYY-MM-DD HH:MM:SS)")?;
    let metrics = Metrics {
        reads: row.count("read_num"),
        likes: row.count("like_num"),
        shares: row.count("share_num"),
        comments: row.count("comment_count"),
        reposts: None,
    };
    Ok(ImportRecord {
        source_key: key,
        kind: Kind::WechatArticle,
        title,
        body: String::new(),
        summary: None,
        author: None,
        published_at,
        deleted: false,
        platform: Platform::Wechat,
        account: None,
        url: Some(url),
        metrics,
        tags: Vec::new(),
        remote_media: Vec::new(),
    })
}

/// A Weibo post's pieces common to both tools' CSVs.
struct WeiboFields {
    id: Option<String>,
    text: String,
    time: Option<String>,
    pictures: Option<String>,
    videos: Option<String>,
    metrics: Metrics,
    topics: Option<String>,
}

fn weibo_record(fields: WeiboFields) -> Result<ImportRecord, String> {
    let id = fields.id.ok_or("no weibo id")?;
    let published_at = fields.time.as_deref().and_then(beijing_time).ok_or("no date")?;
    if fields.text.trim().is_empty() {
        return Err("no text".into());
    }
    let split = |raw: Option<String>, separator: char| -> Vec<String> {
        raw.unwrap_or_default().split(separator).filter_map(web_link).collect()
    };
    let mut remote_media = split(fields.pictures, ',');
    remote_media.extend(split(fields.videos, ';'));
    let tags = fields
        .topics
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(ImportRecord {
        source_key: format!("weibo:{id}"),
        kind: Kind::WeiboPost,
        title: title_of(&fields.text),
        body: fields.text,
        summary: None,
        author: None,
        published_at,
        deleted: false,
        platform: Platform::Weibo,
        account: None,
        url: None,
        metrics: fields.metrics,
        tags,
        remote_media,
    })
}

fn weibo_crawler_row(row: &Row<'_>) -> Result<ImportRecord, String> {
    let mut record = weibo_record(WeiboFields {
        id: row.get("id").or_else(|| row.get("bid")),
        text: row.get("正文").unwrap_or_default(),
        time: row.get("完整日期").or_else(|| row.get("日期")),
        pictures: row.get("原始图片url"),
        videos: row.get("视频url"),
        metrics: Metrics {
            likes: row.count("点赞数"),
            comments: row.count("评论数"),
            reposts: row.count("转发数"),
            ..Metrics::default()
        },
        topics: row.get("话题"),
    })?;
    record.url = row.get("bid").map(|bid| format!("https://weibo.com/detail/{bid}")).or(record.url);
    Ok(record)
}

fn weibo_spider_row(row: &Row<'_>) -> Result<ImportRecord, String> {
    weibo_record(WeiboFields {
        id: row.get("微博id"),
        text: row.get("微博正文").unwrap_or_default(),
        time: row.get("发布时间"),
        pictures: row.get("原始图片url"),
        videos: row.get("微博视频url"),
        metrics: Metrics {
            likes: row.count("点赞数"),
            reposts: row.count("转发数"),
            comments: row.count("评论数"),
            ..Metrics::default()
        },
        topics: None,
    })
}

fn weibo_crawler_json(text: &str) -> Result<Vec<ParsedRow>, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| format!("not weibo-crawler JSON: {error}"))?;
    let account = value.pointer("/user/screen_name").and_then(Value::as_str).map(str::to_owned);
    let posts = value.get("weibo").and_then(Value::as_array).ok_or("no \"weibo\" array")?;
    Ok(posts
        .iter()
        .enumerate()
        .map(|(index, post)| {
            let text = |name: &str| {
                post.get(name)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
            };
            let id = post.get("id").and_then(|id| {
                id.as_i64().map(|id| id.to_string()).or_else(|| id.as_str().map(|id| id.trim().to_owned()))
            });
            let record = weibo_record(WeiboFields {
                id: id.or_else(|| text("bid")),
                text: text("text").unwrap_or_default(),
                time: text("full_created_at").or_else(|| text("created_at")),
                pictures: text("pics"),
                videos: text("video_url"),
                metrics: Metrics {
                    likes: json_count(post.get("attitudes_count")),
                    comments: json_count(post.get("comments_count")),
                    reposts: json_count(post.get("reposts_count")),
                    ..Metrics::default()
                },
                topics: text("topics"),
            })
            .map(|mut record| {
                record.account.clone_from(&account);
                record.url = text("bid").map(|bid| format!("https://weibo.com/detail/{bid}"));
                record
            });
            record.map_err(|reason| RowProblem { row: index + 1, reason })
        })
        .collect())
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
        assert_eq!(detect(json), Some(ArchiveFormat::WechatExporterJson));
        let records = parse(ArchiveFormat::WechatExporterJson, json).unwrap();
        let article = records[0].as_ref().unwrap();
        assert_eq!(article.source_key, "wechat:2247483650_1");
        assert_eq!(article.published_at.timestamp(), 1714523400);
        assert_eq!(
            article.metrics,
            Metrics { reads: Some(1520), likes: Some(33), shares: Some(12), comments: None, reposts: None }
        );
        assert_eq!(article.tags, vec!["平安乡村"]);
        let csv = "title,url,time,like_num,read_num,share_num,comment_count\n反诈宣传进社区,https://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=2247483650&amp;idx=1&amp;sn=abc,2024-05-01 08:30:00,33,1520,12,{}\n";
        assert_eq!(detect(csv), Some(ArchiveFormat::WechatDownloadCsv));
        let rows = parse(ArchiveFormat::WechatDownloadCsv, csv).unwrap();
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
        assert_eq!(detect(crawler), Some(ArchiveFormat::WeiboCrawlerCsv));
        let rows = parse(ArchiveFormat::WeiboCrawlerCsv, crawler).unwrap();
        let post = rows[0].as_ref().unwrap();
        assert_eq!(post.source_key, "weibo:4987654321", "the tab after the id is dropped");
        assert_eq!(post.metrics.likes, Some(12_000));
        assert_eq!(post.remote_media.len(), 2);
        assert_eq!(post.tags, vec!["防溺水"]);
        assert_eq!(post.url.as_deref(), Some("https://weibo.com/detail/Nabc123"));
        assert_eq!(rows[1].as_ref().unwrap_err().row, 2);
        let spider = "微博id,微博正文,头条文章url,原始图片url,微博视频url,发布位置,发布时间,发布工具,点赞数,转发数,评论数\nLq1,夜巡守护平安,,无,无,,2024-06-02 21:00,微博 weibo.com,10,7,3\n";
        assert_eq!(detect(spider), Some(ArchiveFormat::WeiboSpiderCsv));
        let post = parse(ArchiveFormat::WeiboSpiderCsv, spider).unwrap().remove(0).unwrap();
        assert_eq!(post.metrics.reposts, Some(7), "转发数 comes before 评论数 in this tool");
        assert_eq!(post.metrics.comments, Some(3));
        assert!(post.remote_media.is_empty(), "无 is not a link");
        assert_eq!(detect("a,b,c\n1,2,3\n"), None);
    }

    #[test]
    fn weibo_crawler_json_reads_posts_and_the_account() {
        let json = r#"{"user":{"screen_name":"平安某县"},"weibo":[{"id":4987654321,"bid":"Nabc","text":"防诈骗提醒","pics":"","created_at":"2024-06-01","full_created_at":"2024-06-01 09:00:00","attitudes_count":5,"comments_count":1,"reposts_count":2,"topics":""}]}"#;
        assert_eq!(detect(json), Some(ArchiveFormat::WeiboCrawlerJson));
        let post = parse(ArchiveFormat::WeiboCrawlerJson, json).unwrap().remove(0).unwrap();
        assert_eq!(post.account.as_deref(), Some("平安某县"));
        assert_eq!(post.metrics.reposts, Some(2));
        assert_eq!(post.source_key, "weibo:4987654321");
    }
}
