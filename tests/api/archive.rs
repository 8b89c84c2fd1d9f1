//! Bringing the published archive in: `microcat import` on exports in each tool's exact shape
//! (BOM, tab-suffixed ids, `&amp;`, `{}`, unix seconds, GB18030), twice (the second run creates
//! nothing), a dry run that writes nothing, bad rows failing alone.

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_field, work_json};

/// Runs `microcat import` on the app's database; waits until the server has seen the
/// changes another process made (its read cache notices them within a quarter second).
async fn import(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"))
        .arg("import")
        .args(args)
        .args(["--database-url", &app.settings.database_url])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    actix_web::rt::time::sleep(std::time::Duration::from_millis(600)).await;
    (output.status.success(), text)
}

const WECHAT_JSON: &str = r#"[
  {"aid":"2247483650_1","appmsgid":2247483650,"itemidx":1,"title":"反诈宣传进社区","digest":"民警上门讲解防骗知识","link":"https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483650&idx=1&sn=abc","cover":"https://mmbiz.qpic.cn/a.jpg","create_time":1714523400,"update_time":1714523400,"author_name":"宣传科","is_deleted":false,"appmsg_album_infos":[{"title":"平安乡村"}],"content":"四月三十日，民警走进社区，讲解电信网络诈骗的常见手法。","readNum":1520,"oldLikeNum":33,"shareNum":12,"likeNum":5,"commentNum":"{}"},
  {"aid":"2247483651_1","title":"已删除的旧文","link":"https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483651&idx=1","create_time":1609459200,"is_deleted":true,"content":"旧文内容","readNum":10},
  {"aid":"2247483652_1","title":"","create_time":1609459200}
]"#;

const WEIBO_CSV: &str = "\u{feff}id,bid,正文,头条文章url,原始图片url,视频url,Live Photo视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户,完整日期,是否编辑过,编辑次数\n\
4987654321\t,Nabc123,暑假将至，防溺水安全提醒请转发,,https://wx1.sinaimg.cn/large/a.jpg,,,,2024-07-01,iPhone客户端,1.2万,30,5,防溺水,,2024-07-01 09:00:00,否,0\n";

#[actix_web::test]
async fn wechat_and_weibo_exports_become_published_works_once() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let wechat = dir.path().join("articles.json");
    std::fs::write(&wechat, WECHAT_JSON).unwrap();
    let weibo = dir.path().join("weibo.csv");
    let (gb18030, _, _) = encoding_rs::GB18030.encode(WEIBO_CSV);
    std::fs::write(&weibo, &gb18030).unwrap();
    let wechat_csv = dir.path().join("wechatdownload.csv");
    std::fs::write(&wechat_csv, "title,url,time,like_num,read_num,share_num,comment_count\n反诈宣传进社区,https://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=2247483650&amp;idx=1&amp;sn=abc,2024-05-01 08:30:00,40,1800,12,{}\n").unwrap();
    let files = [wechat.to_str().unwrap(), weibo.to_str().unwrap()];

    let (ok, dry) = import(&app, &[files[0], files[1], "--dry-run", "--unit", "宣传科"]).await;
    assert!(ok, "{dry}");
    assert!(dry.contains("would create 3, updated 0, skipped as unchanged 0, failed 1"), "{dry}");
    assert_eq!(app.get("/api/v1/works?per_page=50", &app.admin).await.json()["total"], 0, "a dry run writes nothing");

    let report = dir.path().join("report.txt");
    let (ok, first) =
        import(&app, &[files[0], files[1], "--unit", "宣传科", "--report", report.to_str().unwrap()]).await;
    assert!(ok, "{first}");
    assert!(first.contains("created 3, updated 0, skipped as unchanged 0, failed 1"), "{first}");
    let report = std::fs::read_to_string(report).unwrap();
    assert!(report.contains("articles.json row 3: no title"), "{report}");

    let works = app.get("/api/v1/works?per_page=50", &app.admin).await.json();
    let items = works["items"].as_array().unwrap();
    let article = items.iter().find(|work| work["title"] == "反诈宣传进社区").unwrap_or_else(|| panic!("{works}"));
    assert_eq!(article["status"], "published");
    assert_eq!(article["kind"], "wechat_article");
    assert_eq!(article["published_at"], "2024-05-01T00:30:00Z", "the original publication time");
    assert_eq!(article["created_at"], "2024-05-01T00:30:00Z", "made then, not today");
    assert_eq!(article["unit"], "宣传科");
    let deleted = items.iter().find(|work| work["title"] == "已删除的旧文").unwrap();
    assert_eq!(deleted["status"], "archived", "deleted in the export, archived here");
    let post = items.iter().find(|work| work["kind"] == "weibo_post").unwrap();
    assert!(post["title"].as_str().unwrap().starts_with("暑假将至"), "{post}");
    assert_eq!(post["published_at"], "2024-07-01T01:00:00Z");

    let id = article["id"].as_str().unwrap();
    let history = app.get(&format!("/api/v1/works/{id}/history"), &app.admin).await.json();
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["work.imported"], "imported, never approved by anyone: {history}");
    assert_eq!(history["items"][0]["details"]["format"], "wechat-article-exporter");

    let (ok, second) = import(&app, &[files[0], files[1]]).await;
    assert!(ok, "{second}");
    assert!(second.contains("created 0, updated 0, skipped as unchanged 3, failed 1"), "{second}");
    let (ok, refreshed) = import(&app, &[wechat_csv.to_str().unwrap()]).await;
    assert!(ok, "{refreshed}");
    assert!(
        refreshed.contains("created 0, updated 1, skipped as unchanged 0"),
        "the same article from another tool: {refreshed}"
    );
    assert_eq!(app.get("/api/v1/works?per_page=50", &app.admin).await.json()["total"], 3);

    let unknown = dir.path().join("notes.csv");
    std::fs::write(&unknown, "a,b\n1,2\n").unwrap();
    let (ok, refused) = import(&app, &[unknown.to_str().unwrap()]).await;
    assert!(ok, "{refused}");
    assert!(refused.contains("not an export microcat reads; accepted: wechat-article-exporter"), "{refused}");
    let (ok, not_admin) = import(&app, &[files[0], "--as", "nobody"]).await;
    assert!(!ok && not_admin.contains("no such user"), "{not_admin}");
    let page = crate::pages::page(&app, &format!("/works/{id}"), &app.admin).await.text();
    assert!(page.contains("id=\"publications\"") && page.contains("阅读 1800 · 点赞 40 · 分享 12"), "{page}");
    let link = page
        .split("class=\"publication-link\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    assert!(link.starts_with("https:") && link.contains("mid=2247483650"), "a clickable link: {link}");
    let in_may = app.get("/api/v1/works?published_from=2024-05-01&published_to=2024-05-31", &app.admin).await.json();
    assert_eq!(in_may["total"], 1, "listed by publication time: {in_may}");
    let stats = app.get("/api/v1/stats?from=2024-01-01&to=2024-12-31", &app.admin).await.json();
    assert_eq!(stats["published_by_platform"], json!({"wechat": 1, "weibo": 1}), "{stats}");
    assert_eq!(stats["published"]["wechat_article"], 1, "counted in the year it was published: {stats}");
    let csv = app.get("/api/v1/stats/export?format=csv&from=2024-01-01&to=2024-12-31", &app.admin).await.text();
    assert!(csv.contains("发布平台,最新数据"), "{csv}");
    assert!(csv.contains("微信公众号,微信公众号：阅读 1800 · 点赞 40 · 分享 12"), "the newest metrics: {csv}");
    crate::search::wait_indexed(&app).await;
    let found: Value = app.get("/api/v1/search?q=%E9%98%B2%E6%BA%BA%E6%B0%B4", &app.admin).await.json();
    assert_eq!(found["total"], 1, "imported posts are searchable: {found}");
}

#[actix_web::test]
async fn publication_records_are_kept_corrected_with_the_old_value_and_carry_metrics() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("reviewer", &[Role::Reviewer]).await;
    let work = app.create_work(&author, work_json("wechat_article", "夏季防溺水")).await;
    let id = work["id"].as_str().unwrap().to_owned();
    app.force_status(&id, "approved");
    let version = app.get(&format!("/api/v1/works/{id}"), &reviewer).await.json()["version"].clone();
    let publish = json!({"action": "publish", "version": version, "channel": "平安某县公众号", "external_url": "https://mp.weixin.qq.com/s/x", "published_at": "2026-05-01T08:00:00+08:00"});
    let reply = app.post(&format!("/api/v1/works/{id}/transitions"), &reviewer, &publish).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let url = format!("/api/v1/works/{id}/publications");
    let listed = app.get(&url, &author).await.json();
    let first = &listed["items"][0];
    assert_eq!(first["platform"], "wechat", "the publish step left a record: {listed}");
    assert_eq!(first["platform_label"], "微信公众号");
    assert_eq!(first["account"], "平安某县公众号");
    assert_eq!(first["published_at"], "2026-05-01T00:00:00Z");

    let weibo = json!({"platform": "weibo", "account": "平安某县", "url": "https://weibo.com/123/abc", "published_at": "2026-05-02T09:00:00+08:00", "metrics": {"likes": 40, "reposts": 8}});
    assert_error(&app.post(&url, &author, &weibo).await, 403, "forbidden");
    let added = app.post(&url, &reviewer, &weibo).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let added = added.json();
    assert_eq!(added["metrics"]["likes"], 40);
    assert_eq!(added["metrics"]["source"], "manual");
    let script =
        json!({"platform": "weibo", "url": "javascript:alert(1)", "published_at": "2026-05-02T09:00:00+08:00"});
    assert_error_field(&app.post(&url, &reviewer, &script).await, 422, "invalid-field", "url");
    let unknown = json!({"platform": "myspace", "published_at": "2026-05-02T09:00:00+08:00"});
    assert_error_field(&app.post(&url, &reviewer, &unknown).await, 422, "invalid-field", "platform");

    let record = format!("/api/v1/publications/{}", added["id"].as_str().unwrap());
    let corrected = app.patch(&record, &reviewer, &json!({"url": "https://weibo.com/123/def"})).await;
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    assert_eq!(corrected.json()["url"], "https://weibo.com/123/def");
    let history = app.get(&format!("/api/v1/works/{id}/history"), &reviewer).await.json();
    let correction = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "publication.corrected")
        .unwrap_or_else(|| panic!("{history}"));
    assert_eq!(correction["details"]["before"]["url"], "https://weibo.com/123/abc", "the old value is kept");
    let metrics = app.post(&format!("{record}/metrics"), &reviewer, &json!({"likes": 55, "comments": 9})).await;
    assert_eq!(metrics.status, 201, "{}", metrics.text());
    assert_eq!(metrics.json()["metrics"]["likes"], 55);
    let older = json!({"likes": 1, "as_of": "2026-05-03T12:00:00+08:00"});
    let still = app.post(&format!("{record}/metrics"), &reviewer, &older).await.json();
    assert_eq!(still["metrics"]["likes"], 55, "an older figure entered late does not replace the newest");
    assert_error_field(
        &app.post(&format!("{record}/metrics"), &reviewer, &json!({"likes": -1})).await,
        422,
        "invalid-field",
        "metrics",
    );
    assert_error(
        &app.patch("/api/v1/publications/nope", &reviewer, &json!({"url": null})).await,
        404,
        "publication-not-found",
    );
}
