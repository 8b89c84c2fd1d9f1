//! Bringing the published archive in: `microcat import` on exports in each tool's exact shape
//! (BOM, tab-suffixed ids, `&amp;`, `{}`, unix seconds, GB18030), twice (the second run creates
//! nothing), a dry run that writes nothing, bad rows failing alone.

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_field, work_json};

/// Runs `microcat import` on the app's database; waits until the server has seen the
/// changes another process made (its read cache notices them within a quarter second).
async fn import(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut full = vec!["import"];
    full.extend_from_slice(args);
    let media = app.settings.media_dir.to_string_lossy().into_owned();
    full.extend(["--database-url", &app.settings.database_url, "--media-dir", &media]);
    let outcome = microcat(&full);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(600)).await;
    outcome
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

fn microcat(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcat")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Every row of a table of a SQLite file, as text, ordered by its first column.
fn table_rows(database: &std::path::Path, table: &str, columns: &str) -> Vec<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    let query = format!("SELECT {columns} AS line FROM {table} ORDER BY 1");
    diesel::sql_query(query).load::<Line>(&mut conn).unwrap().into_iter().map(|row| row.line).collect()
}

/// What a restore must bring back exactly: each table with the columns compared.
const COMPARED_TABLES: [(&str, &str); 5] = [
    ("works", "id || '|' || title || '|' || body || '|' || status || '|' || version"),
    ("media", "id || '|' || sha256 || '|' || size || '|' || role || '|' || version"),
    ("comments", "id || '|' || body || '|' || author_id"),
    ("audit_log", "seq || '|' || action || '|' || hash || '|' || prev_hash"),
    ("users", "id || '|' || username || '|' || password_hash"),
];

/// Every row of a table of a PostgreSQL database, as text, ordered by its first column.
fn pg_table_rows(url: &str, table: &str, columns: &str) -> Vec<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    let query = format!("SELECT ({columns})::text AS line FROM {table} ORDER BY 1");
    diesel::sql_query(query).load::<Line>(&mut conn).unwrap().into_iter().map(|row| row.line).collect()
}

fn run_tool(program: &str, args: &[&str]) {
    let output = std::process::Command::new(program).args(args).output().unwrap();
    assert!(output.status.success(), "{program}: {}", String::from_utf8_lossy(&output.stderr));
}

/// On PostgreSQL the database part of a backup is `pg_dump`'s: back up the media while
/// serving, dump, restore both into a new database and media folder, compare.
async fn postgres_backup_round_trip() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let film = app.create_work(&author, work_json("micro_film", "备份测试")).await;
    let film = film["id"].as_str().unwrap().to_owned();
    let photo = app.upload(&author, &film, "still.jpg", &crate::fixtures::jpeg(640, 480), Some("still")).await.json();
    app.processed(&author, photo["id"].as_str().unwrap()).await;
    app.post(&format!("/api/v1/works/{film}/comments"), &author, &json!({"body": "片头再剪短"})).await;
    let dest = tempfile::tempdir().unwrap();
    let dest_path = dest.path().to_str().unwrap();
    let url = app.settings.database_url.clone();
    let media = app.settings.media_dir.to_str().unwrap().to_owned();
    let (ok, text) = microcat(&["backup", dest_path, "--database-url", &url, "--media-dir", &media]);
    assert!(ok && text.contains("pg_dump"), "{text}");
    assert!(microcat(&["backup", "verify", dest_path]).0);
    let dump = dest.path().join("database.pgdump");
    run_tool("pg_dump", &["--format=custom", "--no-owner", "--file", dump.to_str().unwrap(), &url]);

    let target = tempfile::tempdir().unwrap();
    let restored_url = crate::helpers::fresh_database_url(target.path());
    run_tool("pg_restore", &["--no-owner", "--dbname", &restored_url, dump.to_str().unwrap()]);
    let restored_media = target.path().join("media");
    let restored_index = target.path().join("index");
    let (ok, text) = microcat(&[
        "restore",
        dest_path,
        "--database-url",
        &restored_url,
        "--media-dir",
        restored_media.to_str().unwrap(),
        "--index-dir",
        restored_index.to_str().unwrap(),
    ]);
    assert!(ok && text.contains("1 media queued"), "{text}");
    for (table, columns) in COMPARED_TABLES {
        assert_eq!(pg_table_rows(&url, table, columns), pg_table_rows(&restored_url, table, columns), "{table}");
    }
    let digest = photo["sha256"].as_str().unwrap();
    let fan_out = format!("originals/{}/{}/{digest}", &digest[..2], &digest[2..4]);
    let original = std::fs::read(app.settings.media_dir.join(&fan_out)).unwrap();
    assert_eq!(std::fs::read(restored_media.join(&fan_out)).unwrap(), original, "byte for byte");
    let (ok, text) = microcat(&["audit", "verify", "--database-url", &restored_url]);
    assert!(ok, "the audit chain verifies after a restore: {text}");
}

#[actix_web::test]
async fn a_backup_taken_under_load_restores_every_record_and_byte() {
    if crate::helpers::backend() != "sqlite" {
        return postgres_backup_round_trip().await;
    }
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let film = app.create_work(&author, work_json("micro_film", "备份测试")).await;
    let film = film["id"].as_str().unwrap().to_owned();
    let photo = app.upload(&author, &film, "still.jpg", &crate::fixtures::jpeg(640, 480), Some("still")).await.json();
    app.processed(&author, photo["id"].as_str().unwrap()).await;
    let cut = app
        .upload(&author, &film, "cut.mp4", &crate::fixtures::read(&crate::fixtures::films().silent), None)
        .await
        .json();
    app.processed(&author, cut["id"].as_str().unwrap()).await;
    app.post(&format!("/api/v1/works/{film}/comments"), &author, &json!({"body": "片头再剪短"})).await;

    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("b1");
    let (url, media) = (app.settings.database_url.clone(), app.settings.media_dir.to_str().unwrap().to_owned());
    let dest_arg = dest.to_str().unwrap().to_owned();
    let backup =
        std::thread::spawn(move || microcat(&["backup", &dest_arg, "--database-url", &url, "--media-dir", &media]));
    for index in 0..20 {
        app.create_work(&author, work_json("weibo_post", &format!("备份进行中 {index}"))).await;
    }
    let (ok, text) = backup.join().unwrap();
    assert!(ok && text.contains("backed up 2 originals"), "{text}");
    let (ok, text) = microcat(&["backup", "verify", dest.to_str().unwrap()]);
    assert!(ok && text.contains("match the manifest"), "{text}");
    let again = microcat(&[
        "backup",
        dest.to_str().unwrap(),
        "--database-url",
        &app.settings.database_url,
        "--media-dir",
        app.settings.media_dir.to_str().unwrap(),
    ]);
    assert!(again.0 && again.1.contains("0 copied now"), "incremental: {}", again.1);

    let damaged = backups.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::process::Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
    };
    copy(&dest, &damaged);
    let broken = damaged.join("b1").join("database.sqlite");
    let mut bytes = std::fs::read(&broken).unwrap();
    bytes[200] ^= 0xFF;
    std::fs::write(&broken, bytes).unwrap();
    let (ok, text) = microcat(&["backup", "verify", damaged.join("b1").to_str().unwrap()]);
    assert!(!ok && text.contains("damaged: database.sqlite"), "{text}");

    let target = tempfile::tempdir().unwrap();
    let restored_db = target.path().join("data").join("microcat.db");
    let restored_url = format!("sqlite://{}", restored_db.display());
    let restored_media = target.path().join("media");
    let restored_index = target.path().join("index");
    let (ok, text) = microcat(&[
        "restore",
        dest.to_str().unwrap(),
        "--database-url",
        &restored_url,
        "--media-dir",
        restored_media.to_str().unwrap(),
        "--index-dir",
        restored_index.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("2 media queued"), "{text}");
    let (ok, twice) = microcat(&[
        "restore",
        dest.to_str().unwrap(),
        "--database-url",
        &restored_url,
        "--media-dir",
        restored_media.to_str().unwrap(),
    ]);
    assert!(!ok && twice.contains("already holds works or media"), "{twice}");

    let snapshot = dest.join("database.sqlite");
    for (table, columns) in COMPARED_TABLES {
        assert_eq!(table_rows(&snapshot, table, columns), table_rows(&restored_db, table, columns), "{table}");
    }
    let works = table_rows(&restored_db, "works", "title");
    assert!(works.len() >= 3 && works.contains(&"备份测试".to_owned()), "{works:?}");
    for digest in [photo["sha256"].as_str().unwrap(), cut["sha256"].as_str().unwrap()] {
        let fan_out = format!("originals/{}/{}/{digest}", &digest[..2], &digest[2..4]);
        let original = std::fs::read(app.settings.media_dir.join(&fan_out)).unwrap();
        assert_eq!(std::fs::read(restored_media.join(&fan_out)).unwrap(), original, "{digest} byte for byte");
    }
    let (ok, text) = microcat(&["audit", "verify", "--database-url", &restored_url]);
    assert!(ok, "the audit chain verifies after a restore: {text}");

    let restored = TestApp::spawn_with(move |settings| {
        settings.database_url = restored_url;
        settings.media_dir = restored_media;
        settings.index_dir = restored_index;
    })
    .await;
    let media = restored.processed(&restored.admin, photo["id"].as_str().unwrap()).await;
    assert_eq!(media["status"], "ready", "derivatives are made again: {media}");
    assert!(media["thumbnails"]["small"].is_string());
    crate::search::wait_indexed(&restored).await;
    let found = restored.get("/api/v1/search?q=%E5%A4%87%E4%BB%BD%E6%B5%8B%E8%AF%95", &restored.admin).await.json();
    assert_eq!(found["hits"][0]["id"], film.as_str(), "the restored index finds the film: {found}");
}

#[actix_web::test]
async fn imports_from_the_page_preview_then_run_with_progress_and_a_report() {
    let app = TestApp::spawn().await;
    let form = |files: &[(&str, &[u8])]| {
        let boundary = "----microcatimport";
        let mut body = Vec::new();
        for (name, bytes) in files {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"unit\"\r\n\r\n宣传科\r\n--{boundary}--\r\n"
            )
            .as_bytes(),
        );
        (format!("multipart/form-data; boundary={boundary}"), body)
    };
    let send = |content_type: String, body: Vec<u8>, token: String| {
        let app = &app;
        async move { post_import(app, &token, &content_type, body).await }
    };
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let (content_type, body) = form(&[("articles.json", WECHAT_JSON.as_bytes())]);
    assert_error(&send(content_type.clone(), body.clone(), author.token.clone()).await, 403, "forbidden");
    let staged = send(content_type, body, app.admin.token.clone()).await;
    assert_eq!(staged.status, 201, "{}", staged.text());
    let staged = staged.json();
    assert_eq!(staged["phase"], "previewed");
    assert_eq!(staged["preview"]["created"], 2, "{staged}");
    assert_eq!(staged["preview"]["problems"][0]["row"], 3);
    assert_eq!(staged["sample"][0]["title"], "反诈宣传进社区");
    assert_eq!(staged["files"][0]["format"], "wechat-article-exporter");
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 0, "the preview writes nothing");
    let id = staged["id"].as_str().unwrap();
    let report = format!("/api/v1/imports/{id}/report");
    assert_error(&app.get(&report, &app.admin).await, 409, "import-state");
    let started = app.post(&format!("/api/v1/imports/{id}/run"), &app.admin, &json!({})).await;
    assert_eq!(started.status, 202, "{}", started.text());
    assert_error(&app.post(&format!("/api/v1/imports/{id}/run"), &app.admin, &json!({})).await, 409, "import-state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let finished = loop {
        let job = app.get(&format!("/api/v1/imports/{id}"), &app.admin).await.json();
        if job["phase"] == "done" {
            break job;
        }
        assert!(std::time::Instant::now() < deadline && job["phase"] == "running", "{job}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(finished["result"]["created"], 2, "{finished}");
    assert_eq!(finished["done"], finished["total"]);
    let text = app.get(&report, &app.admin).await;
    assert_eq!(text.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
    assert!(
        text.text().contains("created\t2") && text.text().contains("articles.json row 3: no title"),
        "{}",
        text.text()
    );
    let works = app.get("/api/v1/works?per_page=10", &app.admin).await.json();
    assert_eq!(works["total"], 2, "{works}");
    assert_eq!(works["items"][0]["unit"], "宣传科");
    let (content_type, body) = form(&[("notes.csv", b"a,b\n1,2\n")]);
    let unknown = send(content_type, body, app.admin.token.clone()).await.json();
    assert!(
        unknown["preview"]["problems"][0]["reason"].as_str().unwrap().contains("accepted: wechat-article-exporter"),
        "{unknown}"
    );
    assert_error(&app.get("/api/v1/imports/nope", &app.admin).await, 404, "import-not-found");
}

/// A saved WeChat page as wechat-article-exporter writes it: a rebuilt `<head>`, the
/// article's markup with scripts gone but inline styles and hidden blocks kept, pictures
/// pointing at `./assets/`, the original link still in `data-src`.
const SAVED_PAGE: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>夜巡守护平安</title><style>.x{}</style></head>
<body><div id="js_article"><h1 id="activity-name">夜巡守护平安</h1><div id="meta_content"><span id="js_author_name">宣传科</span><a id="js_name">平安某县</a><em id="publish_time">2024年06月02日 21:00</em></div>
<div id="js_content"><p>深夜的街头，民警仍在巡逻。</p><p style="display:none">tracking</p><script>alert(1)</script>
<p><img src="./assets/1717.123.jpeg" data-src="https://mmbiz.qpic.cn/x.jpg"></p><p>守护万家灯火。</p></div></div></body></html>"#;

/// An export folder as the team has them: the exporter's workbook and an HTML folder, and a
/// weibo-crawler folder with its `img/`.
fn export_folder(root: &std::path::Path) {
    use rust_xlsxwriter::Workbook;
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
    let row = [
        "平安某县",
        "2247483660_1",
        "https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483660&idx=1",
        "禁毒宣传周",
        "",
        "禁毒知识",
        "2024-06-26 10:00:00",
        "2024-06-26 10:05:00",
        "860",
        "21",
        "9",
        "3",
        "2",
        "宣传科",
        "原创",
        "普通图文",
        "#禁毒",
        "国际禁毒日，民警在广场开展禁毒宣传。",
    ];
    for (column, (header, value)) in headers.iter().zip(row).enumerate() {
        sheet.write_string(0, column as u16, *header).unwrap();
        sheet.write_string(1, column as u16, value).unwrap();
    }
    std::fs::create_dir_all(root.join("wechat/夜巡守护平安/assets")).unwrap();
    book.save(root.join("wechat/微信公众号文章.xlsx")).unwrap();
    std::fs::write(root.join("wechat/夜巡守护平安/index.html"), SAVED_PAGE).unwrap();
    std::fs::write(root.join("wechat/夜巡守护平安/assets/1717.123.jpeg"), crate::fixtures::jpeg(320, 240)).unwrap();
    std::fs::create_dir_all(root.join("weibo/img")).unwrap();
    std::fs::write(root.join("weibo/平安某县.csv"), WEIBO_CSV).unwrap();
    std::fs::write(root.join("weibo/img/20240701_4987654321_1.jpg"), crate::fixtures::jpeg(400, 300)).unwrap();
}

/// Zips a folder as a person would (entries relative to it).
fn zip_folder(root: &std::path::Path) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                writer.start_file(name, options).unwrap();
                writer.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    writer.finish().unwrap().into_inner()
}

async fn media_of(app: &TestApp, work: &Value) -> Vec<Value> {
    let id = work["id"].as_str().unwrap();
    let listed = app.get(&format!("/api/v1/works/{id}/media"), &app.admin).await.json();
    let mut items = Vec::new();
    for item in listed["items"].as_array().unwrap() {
        items.push(app.processed(&app.admin, item["id"].as_str().unwrap()).await);
    }
    items
}

#[actix_web::test]
async fn workbooks_html_folders_and_weibo_media_import_with_their_files() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    export_folder(dir.path());
    let (ok, dry) = import(&app, &[dir.path().to_str().unwrap(), "--dry-run"]).await;
    assert!(ok && dry.contains("would create 3, updated 0, skipped as unchanged 0, failed 0"), "{dry}");
    let (ok, first) = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(ok && first.contains("created 3, updated 0, skipped as unchanged 0, failed 0"), "{first}");
    assert!(!first.contains("files not attached"), "{first}");

    let works = app.get("/api/v1/works?per_page=10", &app.admin).await.json();
    let by_title = |title: &str| {
        works["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|work| work["title"] == title)
            .cloned()
            .unwrap_or_else(|| panic!("{title}: {works}"))
    };
    let workbook = by_title("禁毒宣传周");
    assert_eq!(workbook["published_at"], "2024-06-26T02:00:00Z", "创建时间, Beijing time");
    let page = by_title("夜巡守护平安");
    assert_eq!(page["published_at"], "2024-06-02T13:00:00Z");
    let detail = app.get(&format!("/api/v1/works/{}", page["id"].as_str().unwrap()), &app.admin).await.json();
    assert_eq!(detail["body"], "深夜的街头，民警仍在巡逻。\n守护万家灯火。", "safe text only: {detail}");
    let media = media_of(&app, &page).await;
    assert_eq!(media.len(), 2, "the picture and the page: {media:?}");
    let picture = media.iter().find(|item| item["role"] == "still").unwrap();
    assert_eq!(picture["status"], "ready", "ingested like an upload: {picture}");
    let original = media.iter().find(|item| item["role"] == "attachment").unwrap();
    let served = app.get(original["original_url"].as_str().unwrap(), &app.admin).await;
    assert_eq!(served.status, 200);
    assert!(
        served.header("content-disposition").unwrap().starts_with("attachment"),
        "a download, never a page of ours"
    );
    assert_eq!(served.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(served.text().contains("<script>alert(1)</script>"), "the original page, as it was");
    let post = works["items"].as_array().unwrap().iter().find(|work| work["kind"] == "weibo_post").unwrap().clone();
    let post_media = media_of(&app, &post).await;
    assert_eq!(post_media.len(), 1, "img/20240701_<id>_1.jpg belongs to the post: {post_media:?}");
    crate::search::wait_indexed(&app).await;
    let found = app.get("/api/v1/search?q=%E5%B7%A1%E9%80%BB", &app.admin).await.json();
    assert_eq!(found["total"], 1, "the page's text is searchable: {found}");
    let tracking = app.get("/api/v1/search?q=tracking", &app.admin).await.json();
    assert_eq!(tracking["total"], 0, "hidden markup is not: {tracking}");

    // The same export as one zip through the page: nothing new, no file twice.
    let zipped = zip_folder(dir.path());
    let staged = stage(&app, "export.zip", &zipped).await;
    assert_eq!(staged.status, 201, "{}", staged.text());
    let staged = staged.json();
    assert_eq!(staged["preview"]["unchanged"], 3, "{staged}");
    assert_eq!(staged["preview"]["created"], 0, "{staged}");
    let id = staged["id"].as_str().unwrap();
    app.post(&format!("/api/v1/imports/{id}/run"), &app.admin, &json!({})).await;
    wait_done(&app, id).await;
    assert_eq!(media_of(&app, &page).await.len(), 2, "deduplicated by SHA-256");
}

async fn stage(app: &TestApp, name: &str, bytes: &[u8]) -> crate::helpers::Reply {
    let boundary = "----microcatzip";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/zip\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    post_import(app, &app.admin.token, &format!("multipart/form-data; boundary={boundary}"), body).await
}

/// `POST /api/v1/imports` with a multipart body, as the holder of `token`.
async fn post_import(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> crate::helpers::Reply {
    let bearer = format!("Bearer {token}");
    app.raw(
        awc::http::Method::POST,
        "/api/v1/imports",
        &[("authorization", &bearer), ("content-type", content_type)],
        body,
    )
    .await
}

async fn wait_done(app: &TestApp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let job = app.get(&format!("/api/v1/imports/{id}"), &app.admin).await.json();
        if job["phase"] == "done" {
            return job;
        }
        assert!(std::time::Instant::now() < deadline && job["phase"] == "running", "{job}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn hostile_zips_are_refused_and_write_nothing_outside() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let archive = |entries: &[(&str, &[u8])], method: zip::CompressionMethod| {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    let marker = format!("microcat-escape-{}", std::process::id());
    let slip = archive(
        &[("articles.json", WECHAT_JSON.as_bytes()), (&format!("../../../../../../tmp/{marker}"), b"x")],
        zip::CompressionMethod::Stored,
    );
    let refused = stage(&app, "slip.zip", &slip).await;
    assert_error(&refused, 422, "unsafe-archive");
    assert!(refused.text().contains("outside the archive"), "{}", refused.text());
    assert!(!std::path::Path::new("/tmp").join(&marker).exists());
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let bomb = archive(&[("articles.json", &zeros)], zip::CompressionMethod::Deflated);
    assert!(bomb.len() < 1024 * 1024, "a real bomb: {} bytes", bomb.len());
    let refused = stage(&app, "bomb.zip", &bomb).await;
    assert_error(&refused, 422, "unsafe-archive");
    assert!(refused.text().contains("archive bomb"), "{}", refused.text());
    let gbk_name = archive(&[("文章.json", WECHAT_JSON.as_bytes())], zip::CompressionMethod::Deflated);
    let accepted = stage(&app, "ok.zip", &gbk_name).await;
    assert_eq!(accepted.status, 201, "{}", accepted.text());
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 0, "refusals and previews write nothing");
    let temp = app.settings.media_dir.join("tmp");
    let left: Vec<_> = std::fs::read_dir(&temp)
        .map(|entries| entries.flatten().map(|entry| entry.file_name()).collect())
        .unwrap_or_default();
    assert!(left.iter().all(|name| !name.to_string_lossy().contains("unpacked")), "{left:?}");
}

#[actix_web::test]
async fn an_export_recreates_its_works_on_another_installation() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    export_folder(dir.path());
    let (ok, text) = import(&app, &[dir.path().to_str().unwrap()]).await;
    assert!(ok, "{text}");
    let works = app.get("/api/v1/works?per_page=10", &app.admin).await.json();
    let page = works["items"].as_array().unwrap().iter().find(|work| work["title"] == "夜巡守护平安").unwrap().clone();
    let page_id = page["id"].as_str().unwrap().to_owned();
    media_of(&app, &page).await;
    let reviewer = app.user_with_roles("reviewer1", &[Role::Reviewer]).await;
    let noted = app.post(&format!("/api/v1/works/{page_id}/comments"), &reviewer, &json!({"body": "配图清晰"})).await;
    assert_eq!(noted.status, 201, "{}", noted.text());
    let publications = format!("/api/v1/works/{page_id}/publications");
    let added = app
        .post(&publications, &app.admin, &json!({"platform": "weibo", "account": "平安某县", "url": "https://weibo.com/1", "published_at": "2024-06-03T02:00:00Z"}))
        .await;
    assert_eq!(added.status, 201, "{}", added.text());

    let out = dir.path().join("上报.zip");
    let url = app.settings.database_url.clone();
    let media = app.settings.media_dir.to_str().unwrap().to_owned();
    let (ok, text) = microcat(&["export", out.to_str().unwrap(), "--database-url", &url, "--media-dir", &media]);
    assert!(ok && text.contains("exported 3 works and 3 originals"), "{text}");
    let only_posts = dir.path().join("posts.zip");
    let (ok, text) = microcat(&[
        "export",
        only_posts.to_str().unwrap(),
        "--kind",
        "weibo_post",
        "--database-url",
        &url,
        "--media-dir",
        &media,
    ]);
    assert!(ok && text.contains("exported 1 works"), "{text}");
    let (ok, again) = microcat(&["export", out.to_str().unwrap(), "--database-url", &url, "--media-dir", &media]);
    assert!(!ok && again.contains("exists already"), "{again}");

    let mut archive = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let readme = std::io::read_to_string(archive.by_name("README.txt").unwrap()).unwrap();
    assert!(readme.contains("北京时间") && readme.contains("夜巡守护平安"), "{readme}");
    let work_file = format!("works/{page_id}.json");
    let exported: Value = serde_json::from_reader(archive.by_name(&work_file).unwrap()).unwrap();
    assert_eq!(exported["published_at"], "2024-06-02T21:00:00+08:00", "Beijing time, offset written");
    assert_eq!(exported["comments"][0]["author"], "reviewer1");
    assert!(
        exported["history"].as_array().unwrap().iter().any(|event| event["action"] == "work.imported"),
        "{exported}"
    );
    let manifest: Value = serde_json::from_reader(archive.by_name("manifest.json").unwrap()).unwrap();
    assert_eq!(manifest["works"], 3);

    let elsewhere = TestApp::spawn().await;
    elsewhere.user_with_roles("reviewer1", &[Role::Reviewer]).await;
    let (ok, text) = import(&elsewhere, &[out.to_str().unwrap()]).await;
    assert!(ok && text.contains("created 3, updated 0, skipped as unchanged 0, failed 0"), "{text}");
    let (ok, text) = import(&elsewhere, &[out.to_str().unwrap()]).await;
    assert!(ok && text.contains("created 0"), "a second import adds nothing: {text}");
    let moved = elsewhere.get("/api/v1/works?per_page=10", &elsewhere.admin).await.json();
    assert_eq!(moved["total"], 3);
    let copy = moved["items"].as_array().unwrap().iter().find(|work| work["title"] == "夜巡守护平安").unwrap().clone();
    for field in ["kind", "status", "published_at", "created_at", "summary", "tags"] {
        assert_eq!(copy[field], page[field], "{field}");
    }
    let copy_id = copy["id"].as_str().unwrap();
    let copy_detail = elsewhere.get(&format!("/api/v1/works/{copy_id}"), &elsewhere.admin).await.json();
    assert_eq!(copy_detail["body"], "深夜的街头，民警仍在巡逻。\n守护万家灯火。");
    let copied_publications =
        elsewhere.get(&format!("/api/v1/works/{copy_id}/publications"), &elsewhere.admin).await.json();
    assert_eq!(copied_publications["items"].as_array().unwrap().len(), 2, "{copied_publications}");
    let copied_media = media_of(&elsewhere, &copy).await;
    let mut digests: Vec<&str> = copied_media.iter().map(|item| item["sha256"].as_str().unwrap_or_default()).collect();
    let original_media = media_of(&app, &page).await;
    let mut expected: Vec<&str> =
        original_media.iter().map(|item| item["sha256"].as_str().unwrap_or_default()).collect();
    digests.sort_unstable();
    expected.sort_unstable();
    assert_eq!(digests, expected, "every original byte for byte");
    let comments = elsewhere.get(&format!("/api/v1/works/{copy_id}/comments"), &elsewhere.admin).await.json();
    assert_eq!(comments["items"][0]["body"], "配图清晰", "{comments}");
}

#[actix_web::test]
async fn a_saved_page_meets_the_article_another_export_brought_in() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("articles.json");
    // 2024-06-02 21:00:37 Beijing: the page shows only the minute.
    std::fs::write(&json, r#"[{"aid":"2247483670_1","title":"夜巡守护平安","link":"https://mp.weixin.qq.com/s?__biz=MzA5&mid=2247483670&idx=1","create_time":1717333237,"content":"深夜的街头","readNum":300}]"#).unwrap();
    let (ok, text) = import(&app, &[json.to_str().unwrap()]).await;
    assert!(ok && text.contains("created 1"), "{text}");
    let page_dir = dir.path().join("html/夜巡守护平安");
    std::fs::create_dir_all(page_dir.join("assets")).unwrap();
    std::fs::write(page_dir.join("index.html"), SAVED_PAGE).unwrap();
    std::fs::write(page_dir.join("assets/1717.123.jpeg"), crate::fixtures::jpeg(320, 240)).unwrap();
    let (ok, text) = import(&app, &[dir.path().join("html").to_str().unwrap()]).await;
    assert!(ok && text.contains("created 0, updated 0, skipped as unchanged 1"), "{text}");
    let works = app.get("/api/v1/works", &app.admin).await.json();
    assert_eq!(works["total"], 1, "one article, not two: {works}");
    let media = media_of(&app, &works["items"][0]).await;
    assert_eq!(media.len(), 2, "the page and its picture join the article: {media:?}");
}
