//! Weibo posts: weibo-crawler's CSV and JSON, weiboSpider's CSV.

use serde_json::Value;

use super::table::Row;
use super::{ImportRecord, Metrics, ParsedRow, Platform, RowProblem, beijing_time, json_count, title_of, web_link};
use crate::domain::work::Kind;

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
        local_media: Vec::new(),
        bundle: None,
    })
}

pub fn crawler_row(row: &Row<'_>) -> Result<ImportRecord, String> {
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

pub fn spider_row(row: &Row<'_>) -> Result<ImportRecord, String> {
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

pub fn crawler_json(text: &str) -> Result<Vec<ParsedRow>, String> {
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

/// The post a file of weibo-crawler's media folders (`img/`, `video/`, `live_photo/`) belongs
/// to: `YYYYMMDD_<id>[_n].ext` → `weibo:<id>`.
pub fn media_owner(file_name: &str) -> Option<String> {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem);
    let mut parts = stem.split('_');
    let date = parts.next()?;
    let id = parts.next()?;
    let index_ok = parts.next().is_none_or(|index| index.chars().all(|c| c.is_ascii_digit()));
    let date_ok = date.len() == 8 && date.chars().all(|c| c.is_ascii_digit());
    let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
    (date_ok && id_ok && index_ok && parts.next().is_none()).then(|| format!("weibo:{id}"))
}
