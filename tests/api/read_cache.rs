//! The read cache in front of one work, list pages and search pages: a write in this process
//! shows on the very next read, a cached page is never shown to a caller who may not see it,
//! and a write by another process shows within twice `read_cache_ms` (at once when audited).

use std::time::Duration;

use microcat::db::{DatabaseUrl, Db};
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{TestApp, work_json};

fn titles(listed: &serde_json::Value) -> Vec<String> {
    listed["items"].as_array().unwrap().iter().map(|item| item["title"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn cached_reads_follow_every_write_and_stay_per_caller() {
    let app = TestApp::spawn().await;
    let alice = app.user_with_roles("alice", &[Role::Contributor]).await;
    let bob = app.user_with_roles("bob", &[Role::Contributor]).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
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

    // Searches too: what the admin's search cached never reaches a caller who may not see it.
    crate::search::wait_indexed(&app).await;
    let search = "/api/v1/search?q=%E5%88%9D%E7%A8%BF";
    assert_eq!(app.get(search, &app.admin).await.json()["total"], 1);
    assert_eq!(app.get(search, &staff).await.json()["total"], 0);
    assert_eq!(app.get(search, &bob).await.json()["total"], 0);

    // An edit shows on the next read of the work and of every list, with the new version.
    let edited = app.patch(&path, &alice, &json!({"version": 1, "title": "改后标题"})).await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    let read = app.get(&path, &alice).await;
    assert_eq!(read.json()["title"], "改后标题");
    assert_eq!(read.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["改后标题"]);
    crate::search::wait_indexed(&app).await;
    assert_eq!(app.get(search, &alice).await.json()["total"], 0, "the old title's cached search is gone");
    let renamed = app.get("/api/v1/search?q=%E6%94%B9%E5%90%8E", &alice).await.json();
    assert_eq!(renamed["hits"][0]["title"], "改后标题");

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
/// would: the server's own cache is not told. `audited` also records it in the audit chain,
/// as every change made through the services is.
fn retitle_from_elsewhere(app: &TestApp, id: &str, title: &str, audited: bool) {
    use diesel::RunQueryDsl;
    let url = DatabaseUrl::parse(&app.settings.database_url).unwrap();
    let elsewhere = Db::connect(&url, 1).expect("a second handle");
    let outcome = elsewhere.write_blocking(|conn| -> diesel::QueryResult<()> {
        diesel::sql_query(format!("UPDATE works SET title = '{title}' WHERE id = '{id}'")).execute(conn)?;
        if audited {
            let entry = microcat::db::audit::NewEntry {
                actor_id: None,
                client_addr: None,
                action: "work.update".into(),
                target_type: "work".into(),
                target_id: Some(id.to_owned()),
                details: json!({"title": title}),
            };
            microcat::db::audit::append(conn, entry, chrono::Utc::now().naive_utc())?;
        }
        Ok(())
    });
    outcome.expect("the write commits");
}

/// A work titled 甲 that the admin has just read (so it is cached); its id and path.
async fn cached_work(app: &TestApp) -> (String, String) {
    let id = app.create_work(&app.admin, work_json("weibo_post", "甲")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/works/{id}");
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "甲");
    (id, path)
}

#[actix_web::test]
async fn another_processs_recorded_change_is_noticed_long_before_the_time_to_live() {
    let app = TestApp::spawn_with(|settings| settings.read_cache_ms = 60_000).await;
    let (id, path) = cached_work(&app).await;
    retitle_from_elsewhere(&app, &id, "乙", true);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.get(&path, &app.admin).await.json()["title"] != "乙" {
        assert!(std::time::Instant::now() < deadline, "the change was not noticed within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["乙"]);
    let mut conn = app.db.connection().unwrap();
    assert!(
        matches!(microcat::db::audit::verify(&mut conn).unwrap(), microcat::db::audit::ChainCheck::Intact { .. }),
        "the other process kept the chain whole"
    );
}

#[actix_web::test]
async fn another_processs_write_shows_within_the_time_to_live() {
    let app = TestApp::spawn_with(|settings| settings.read_cache_ms = 300).await;
    let (id, path) = cached_work(&app).await;
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["甲"]);
    retitle_from_elsewhere(&app, &id, "乙", false);
    // Past its time an entry is served once more while it is refreshed; past twice it, never.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "乙");
    assert_eq!(titles(&app.get("/api/v1/works", &app.admin).await.json()), vec!["乙"]);
}

#[actix_web::test]
async fn with_the_cache_off_every_read_goes_to_the_database() {
    let app = TestApp::spawn_with(|settings| settings.read_cache_ms = 0).await;
    let (id, path) = cached_work(&app).await;
    retitle_from_elsewhere(&app, &id, "乙", false);
    assert_eq!(app.get(&path, &app.admin).await.json()["title"], "乙");
}
