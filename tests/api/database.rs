//! The database layer itself: SQLite settings in effect on every pooled connection, the two
//! migration folders in step, and the OpenAPI document covering every route.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use microcat::db::{DatabaseUrl, Db, DbConnection};

use crate::helpers::TestApp;

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(QueryableByName)]
struct Word {
    #[diesel(sql_type = Text)]
    value: String,
}

#[test]
fn sqlite_pragmas_are_in_effect_on_every_pooled_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&DatabaseUrl::Sqlite(dir.path().join("pragmas.db")), 3).unwrap();
    let held: Vec<_> = (0..3).map(|_| db.connection().unwrap()).collect();
    for mut conn in held {
        let DbConnection::Sqlite(sqlite) = &mut *conn else { panic!("sqlite url gives a sqlite connection") };
        let number =
            |sql: &str, conn: &mut SqliteConnection| diesel::sql_query(sql).get_result::<Number>(conn).unwrap().value;
        assert_eq!(number("SELECT foreign_keys AS value FROM pragma_foreign_keys", sqlite), 1);
        assert_eq!(number("SELECT timeout AS value FROM pragma_busy_timeout", sqlite), 15_000);
        let mode = diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
            .get_result::<Word>(sqlite)
            .unwrap();
        assert_eq!(mode.value, "wal");
    }
}

#[test]
fn migration_folders_have_the_same_names() {
    let names = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert!(!names("sqlite").is_empty());
    assert_eq!(names("sqlite"), names("postgres"));
    for name in names("sqlite") {
        for file in ["up.sql", "down.sql"] {
            for backend in ["sqlite", "postgres"] {
                let path = format!("{}/migrations/{backend}/{name}/{file}", env!("CARGO_MANIFEST_DIR"));
                assert!(std::path::Path::new(&path).exists(), "{path}");
            }
        }
    }
}

#[actix_web::test]
async fn foreign_keys_are_enforced_by_the_running_backend() {
    let app = TestApp::spawn().await;
    let refused = app.try_sql("INSERT INTO user_roles (user_id, role) VALUES ('no-such-user', 'staff')");
    assert!(refused.is_err(), "a role for a missing user must be refused on {}", crate::helpers::backend());
}

#[actix_web::test]
async fn the_backend_under_test_is_the_one_requested() {
    let app = TestApp::spawn().await;
    let health = app.request(awc::http::Method::GET, "/healthz", None, None).await.json();
    assert_eq!(health["backend"], crate::helpers::backend());
}

#[actix_web::test]
async fn openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let reply = app.get("/api/v1/openapi.json", &app.admin).await;
    assert_eq!(reply.status, 200);
    let document = reply.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/works",
        "/api/v1/works/{id}",
        "/api/v1/works/{id}/restore",
    ] {
        assert!(paths.contains_key(path), "{path} missing from openapi.json");
    }
    assert!(paths["/api/v1/works/{id}"].get("patch").is_some());
}

#[actix_web::test]
async fn the_first_start_creates_exactly_one_admin() {
    let app = TestApp::spawn().await;
    let app = app.restart().await;
    let users = app.get("/api/v1/users", &app.admin).await.json();
    assert_eq!(users["total"], 1);
    assert_eq!(users["items"][0]["roles"], serde_json::json!(["admin"]));
}
