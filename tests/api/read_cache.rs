//! The read cache in front of one work, list pages and search pages: a write in this process
//! shows on the very next read, a cached page is never shown to a caller who may not see it,
//! and a write by another process shows within `read_cache_ms`.

use std::time::Duration;

use microcat::db::{DatabaseUrl, Db};
use serde_json::json;

use crate::helpers::{TestApp, work_json};

fn titles(listed: &serde_json::Value) -> Vec<String> {
    listed["items"].as_array().unwrap().iter().map(|item| item["title"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn cached_reads_follow_every_write_and_stay_per_caller() {
    let app = TestApp::spawn().await;
    let alice = app.user_with_roles("alice", &["contributor"]).await;
    let bob = app.user_with_roles("bob", &["contributor"]).await;
    let staff = app.user_with_roles("reader", &["staff"]).await;
    let created = app.create_work(&alice, work_json("weibo_post", "初稿标题")).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/works/{id}");

    // Warm the cache from the most privileged side first.
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["初稿标题"]);
    assert_eq!(app.get(&path, &app.admin).await.status, 200);
    assert_eq!(app.get(&path, &alice).await.json()["title"], "初稿标题");
    // Other callers never get what the cache holds for someone else.
    assert_eq!(app.get("/api/v1/works", &bob).await.json()["total"], 0);
    assert_eq!(app.get(&path, &bob).await.error_code(), "work-not-found");
    assert_eq!(app.get(&path, &staff).await.error_code(), "work-not-found");
    assert_eq!(app.get("/api/v1/works", &staff).await.json()["total"], 0);

    // An edit shows on the next read of the work and of every list, with the new version.
    let edited = app.patch(&path, &alice, &json!({"version": 1, "title": "改后标题"})).await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    let read = app.get(&path, &alice).await;
    assert_eq!(read.json()["title"], "改后标题");
    assert_eq!(read.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["改后标题"]);

    // A change of state changes who may see it, at once.
    app.force_status(id, "published");
    assert_eq!(app.get(&path, &staff).await.json()["title"], "改后标题");
    assert_eq!(titles(&app.get("/api/v1/works", &bob).await.json()), vec!["改后标题"]);

    // Deleting hides it from everyone but admins straight away.
    app.force_status(id, "draft");
    assert_eq!(app.delete(&path, &alice).await.status, 204);
    assert_eq!(app.get(&path, &alice).await.error_code(), "work-not-found");
    assert_eq!(app.get("/api/v1/works", &alice).await.json()["total"], 0);
}

/// Writes a work's title through a second handle on the same database, as another process
/// (a CLI command, a second server) would: the server's own cache is not told.
fn retitle_from_elsewhere(app: &TestApp, id: &str, title: &str) {
    let url = DatabaseUrl::parse(&app.settings.database_url).unwrap();
    let elsewhere = Db::connect(&url, 1).expect("a second handle");
    let mut conn = elsewhere.connection().unwrap();
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("UPDATE works SET title = '{title}' WHERE id = '{id}'")).execute(&mut *conn).unwrap();
}

#[actix_web::test]
async fn another_processs_write_shows_within_the_time_to_live() {
    let app = TestApp::spawn_with(|settings| settings.read_cache_ms = 300).await;
    let id = app.create_work(&app.admin, work_json("weibo_post", "甲")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/works/{id}");
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "甲");
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["甲"]);
    retitle_from_elsewhere(&app, &id, "乙");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "乙");
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["乙"]);
}

#[actix_web::test]
async fn with_the_cache_off_every_read_goes_to_the_database() {
    let app = TestApp::spawn_with(|settings| settings.read_cache_ms = 0).await;
    let id = app.create_work(&app.admin, work_json("weibo_post", "甲")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/works/{id}");
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "甲");
    retitle_from_elsewhere(&app, &id, "乙");
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "乙");
}
