//! WeChat (公众号) articles: wechat-article-exporter's JSON, Excel and HTML folders, and
//! wechatDownload's CSV.

use serde_json::Value;

use super::table::Row;
use super::{ImportRecord, Metrics, ParsedRow, Platform, RowProblem, beijing_time, json_count, unix_time, web_link};
use super::{LocalMedia, title_of};
use crate::domain::media::MediaRole;
use crate::domain::work::Kind;

/// `wechat:{mid}_{idx}` from an article link's `mid` and `idx` (the exporter's `aid` is the
/// same `appmsgid_itemidx`, so both formats name one article alike).
pub fn key_of_link(link: &str) -> Option<String> {
    let parsed = url::Url::parse(link).ok()?;
    let query = |name: &str| parsed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    Some(format!("wechat:{}_{}", query("mid")?, query("idx").unwrap_or_else(|| "1".to_owned())))
}

pub fn exporter_json(text: &str) -> Result<Vec<ParsedRow>, String> {
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
        .or_else(|| url.as_deref().and_then(key_of_link))
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
        local_media: Vec::new(),
        bundle: None,
        title,
    })
}

pub fn download_row(row: &Row<'_>) -> Result<ImportRecord, String> {
    let title = row.get("title").ok_or("no title")?;
    let url = row.get("url").and_then(|raw| web_link(&raw)).ok_or("no http(s) url")?;
    let key = key_of_link(&url).ok_or("the url has no mid")?;
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
        local_media: Vec::new(),
        bundle: None,
    })
}

/// A row of wechat-article-exporter's workbook (`微信公众号文章.xlsx`): times as the
/// exporting browser wrote them (Beijing time), or Excel dates; 所属合集 as `#合集A #合集B`.
pub fn exporter_xlsx_row(row: &Row<'_>) -> Result<ImportRecord, String> {
    let title = row.get("标题").ok_or("no 标题")?;
    let url = row.get("链接").and_then(|raw| web_link(&raw));
    let key = row
        .get("ID")
        .map(|aid| format!("wechat:{aid}"))
        .or_else(|| url.as_deref().and_then(key_of_link))
        .ok_or("neither an ID nor a 链接 with mid and idx")?;
    let published_at = row
        .get("创建时间")
        .or_else(|| row.get("发布时间"))
        .and_then(|raw| beijing_time(&raw))
        .ok_or("no 创建时间 or 发布时间 (YYYY-MM-DD HH:MM:SS)")?;
    let tags = row
        .get("所属合集")
        .unwrap_or_default()
        .split(|c: char| c == '#' || c.is_whitespace() || c == ',' || c == '、')
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(ImportRecord {
        source_key: key,
        kind: Kind::WechatArticle,
        body: row.get("文章内容").unwrap_or_default(),
        summary: row.get("摘要"),
        author: row.get("作者"),
        published_at,
        deleted: false,
        platform: Platform::Wechat,
        account: row.get("公众号"),
        url,
        metrics: Metrics {
            reads: row.count("阅读"),
            likes: row.count("点赞"),
            shares: row.count("分享"),
            comments: row.count("留言"),
            reposts: None,
        },
        tags,
        remote_media: row.get("封面").and_then(|raw| web_link(&raw)).into_iter().collect(),
        local_media: Vec::new(),
        bundle: None,
        title,
    })
}

/// An HTML page's pieces, as [`super::html`] finds them.
pub struct PageFields {
    pub title: Option<String>,
    pub account: Option<String>,
    pub author: Option<String>,
    pub publish_time: Option<String>,
    pub text: String,
    pub pictures: Vec<String>,
    pub links: Vec<String>,
}

/// An article saved by wechat-article-exporter as `<title>/index.html` + `assets/`. The saved
/// page has no link to itself, so the key is the title and publication time's digest.
pub fn exporter_page(page: PageFields, folder: &str) -> Result<ImportRecord, String> {
    use sha2::Digest;
    let title = page.title.filter(|title| !title.is_empty()).unwrap_or_else(|| folder.to_owned());
    let time = page.publish_time.as_deref().ok_or("the page has no #publish_time")?;
    let published_at =
        chinese_time(time).or_else(|| beijing_time(time)).ok_or_else(|| format!("unreadable publish time {time:?}"))?;
    let digest = sha2::Sha256::digest(format!("{title}\n{}", published_at.timestamp()).as_bytes());
    let (local_media, remote_media): (Vec<String>, Vec<String>) =
        page.pictures.into_iter().partition(|src| web_link(src).is_none());
    let mut local_media: Vec<LocalMedia> =
        local_media.iter().filter_map(|src| LocalMedia::inside(src, MediaRole::Still, None)).collect();
    local_media.dedup_by(|a, b| a.path == b.path);
    local_media.push(LocalMedia {
        path: "index.html".into(),
        role: MediaRole::Attachment,
        filename: Some(format!("{}.html", title_of(&title))),
    });
    Ok(ImportRecord {
        source_key: format!("{}{}", super::PAGE_KEY_PREFIX, &hex::encode(digest)[..20]),
        kind: Kind::WechatArticle,
        body: page.text,
        summary: None,
        author: page.author,
        published_at,
        deleted: false,
        platform: Platform::Wechat,
        account: page.account,
        url: None,
        metrics: Metrics::default(),
        tags: Vec::new(),
        remote_media: remote_media.into_iter().filter_map(|src| web_link(&src)).chain(page.links).collect(),
        local_media,
        bundle: None,
        title,
    })
}

/// `2024年05月01日 08:30` (WeChat's page), Beijing time.
fn chinese_time(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let normal: String = raw.trim().replace(['年', '月'], "-").replace('日', "");
    beijing_time(&normal)
}
