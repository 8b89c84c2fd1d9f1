//! One table: every route × {anonymous, another contributor, reviewer, staff, admin, disabled
//! user, expired token} with the expected answer — including a draft's media URLs, search
//! counts, history and exports.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

const WHO: [&str; 7] = ["anonymous", "contributor", "reviewer", "staff", "admin", "disabled", "expired"];

struct Principals {
    tokens: Vec<Option<String>>,
}

async fn principals(app: &TestApp) -> Principals {
    let contributor = app.user_with_roles("other", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let disabled = app.user_with_roles("gone", &[Role::Contributor, Role::Reviewer]).await;
    app.patch(&format!("/api/v1/users/{}", disabled.user_id), &app.admin, &json!({"disabled": true})).await;
    let expired = app.user_with_roles("late", &[Role::Reviewer]).await;
    app.execute_sql(&format!("UPDATE sessions SET expires_at = created_at WHERE user_id = '{}'", expired.user_id));
    let token = |session: &Session| Some(session.token.clone());
    Principals {
        tokens: vec![
            None,
            token(&contributor),
            token(&reviewer),
            token(&staff),
            token(&app.admin),
            token(&disabled),
            token(&expired),
        ],
    }
}

/// A contributor's micro-film draft with a processed cover, indexed: (work id, media id).
async fn draft_with_cover(app: &TestApp) -> (String, String) {
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, json!({"kind": "micro_film", "title": "内部草稿标题"})).await;
    let w = work["id"].as_str().unwrap().to_owned();
    let upload = app.upload(&author, &w, "cover.png", &crate::fixtures::png(20, 20), Some("cover")).await.json();
    let m = upload["id"].as_str().unwrap().to_owned();
    app.processed(&author, &m).await;
    crate::search::wait_indexed(app).await;
    (w, m)
}

#[actix_web::test]
async fn every_route_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn().await;
    let (w, m) = draft_with_cover(&app).await;
    let who = principals(&app).await;
    let q = url::form_urlencoded::byte_serialize("内部草稿".as_bytes()).collect::<String>();
    // (method, path, body, expected status per WHO column)
    let table: Vec<(Method, String, Option<Value>, [u16; 7])> = vec![
        (Method::GET, "/healthz".into(), None, [200, 200, 200, 200, 200, 200, 200]),
        (Method::GET, "/api/v1/me".into(), None, [401, 200, 200, 200, 200, 401, 401]),
        (Method::GET, "/api/v1/works".into(), None, [401, 200, 200, 200, 200, 401, 401]),
        (Method::GET, format!("/api/v1/works/{w}"), None, [401, 404, 200, 404, 200, 401, 401]),
        (
            Method::PATCH,
            format!("/api/v1/works/{w}"),
            Some(json!({"version": 999})),
            [401, 404, 403, 404, 409, 401, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/works/{w}/transitions"),
            Some(json!({"action": "approve", "version": 999})),
            [401, 404, 409, 404, 409, 401, 401],
        ),
        (Method::GET, format!("/api/v1/works/{w}/media"), None, [401, 404, 200, 404, 200, 401, 401]),
        (Method::GET, format!("/api/v1/media/{m}"), None, [401, 404, 200, 404, 200, 401, 401]),
        (Method::GET, format!("/api/v1/media/{m}/original"), None, [401, 404, 200, 404, 200, 401, 401]),
        (Method::GET, format!("/api/v1/media/{m}/derivatives/small.jpg"), None, [401, 404, 200, 404, 200, 401, 401]),
        (Method::GET, format!("/api/v1/works/{w}/history"), None, [401, 404, 200, 404, 200, 401, 401]),
        (Method::GET, format!("/api/v1/works/{w}/comments"), None, [401, 404, 200, 404, 200, 401, 401]),
        (
            Method::POST,
            format!("/api/v1/works/{w}/comments"),
            Some(json!({"body": ""})),
            [401, 404, 422, 404, 422, 401, 401],
        ),
        (Method::GET, format!("/api/v1/search?q={q}"), None, [401, 200, 200, 200, 200, 401, 401]),
        (Method::GET, "/api/v1/users".into(), None, [401, 403, 403, 403, 200, 401, 401]),
        (Method::GET, "/api/v1/audit".into(), None, [401, 403, 403, 403, 200, 401, 401]),
        (Method::GET, "/api/v1/review-queue".into(), None, [401, 403, 200, 403, 200, 401, 401]),
        (Method::GET, "/api/v1/board".into(), None, [401, 200, 200, 200, 200, 401, 401]),
        (Method::GET, "/api/v1/stats".into(), None, [401, 200, 200, 200, 200, 401, 401]),
        (Method::GET, "/api/v1/stats/export?format=csv".into(), None, [401, 200, 200, 200, 200, 401, 401]),
        (
            Method::POST,
            "/api/v1/works".into(),
            Some(json!({"kind": "weibo_post", "title": ""})),
            [401, 422, 403, 403, 422, 401, 401],
        ),
        (Method::POST, "/api/v1/users".into(), Some(json!({})), [401, 403, 403, 403, 422, 401, 401]),
        (Method::POST, format!("/api/v1/works/{w}/restore"), Some(json!({})), [401, 403, 403, 403, 409, 401, 401]),
        (Method::POST, format!("/api/v1/media/{m}/reprocess"), Some(json!({})), [401, 403, 202, 403, 202, 401, 401]),
    ];
    let mut mismatches = Vec::new();
    for (method, path, body, expected) in &table {
        for (column, token) in who.tokens.iter().enumerate() {
            let reply = app.request(method.clone(), path, token.as_deref(), body.as_ref()).await;
            if reply.status != expected[column] {
                mismatches.push(format!(
                    "{method} {path} as {}: expected {}, got {} {}",
                    WHO[column],
                    expected[column],
                    reply.status,
                    reply.text()
                ));
            }
            if reply.status >= 400 {
                assert!(reply.json()["error"]["code"].is_string(), "{method} {path}: error without the envelope");
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // What the 200s contain obeys visibility too.
    let count = |token: &Option<String>| {
        let app = &app;
        let (path, token) = (format!("/api/v1/search?q={q}"), token.clone());
        async move { app.request(Method::GET, &path, token.as_deref(), None).await.json()["total"].as_u64() }
    };
    assert_eq!(count(&who.tokens[1]).await, Some(0), "another contributor cannot count the draft");
    assert_eq!(count(&who.tokens[3]).await, Some(0), "staff cannot count the draft");
    assert_eq!(count(&who.tokens[2]).await, Some(1));
    let staff_export =
        app.request(Method::GET, "/api/v1/stats/export?format=csv", who.tokens[3].as_deref(), None).await.text();
    assert!(!staff_export.contains("内部草稿标题"), "exports leave out what the caller may not see");
    let admin_export =
        app.request(Method::GET, "/api/v1/stats/export?format=csv", who.tokens[4].as_deref(), None).await.text();
    assert!(admin_export.contains("内部草稿标题"));
}

#[actix_web::test]
async fn every_page_answers_every_kind_of_caller_as_the_table_says() {
    let app = TestApp::spawn().await;
    let (w, m) = draft_with_cover(&app).await;
    let who = principals(&app).await;
    let q = url::form_urlencoded::byte_serialize("内部草稿".as_bytes()).collect::<String>();
    // Pages answer a missing or dead session with a trip to /login (303) and show refusals as
    // HTML error pages with the API's status; media URLs answer browsers by the cookie too.
    let table: Vec<(String, [u16; 7])> = vec![
        ("/".into(), [303, 200, 200, 200, 200, 303, 303]),
        ("/works".into(), [303, 200, 200, 200, 200, 303, 303]),
        ("/works/new".into(), [303, 200, 403, 403, 200, 303, 303]),
        (format!("/works/{w}"), [303, 404, 200, 404, 200, 303, 303]),
        (format!("/works/{w}/edit"), [303, 404, 403, 404, 200, 303, 303]),
        ("/review".into(), [303, 403, 200, 403, 200, 303, 303]),
        ("/board".into(), [303, 200, 200, 200, 200, 303, 303]),
        (format!("/search?q={q}"), [303, 200, 200, 200, 200, 303, 303]),
        ("/admin/users".into(), [303, 403, 403, 403, 200, 303, 303]),
        ("/admin/nodes".into(), [303, 403, 403, 403, 200, 303, 303]),
        (format!("/api/v1/media/{m}/original"), [401, 404, 200, 404, 200, 401, 401]),
        (format!("/api/v1/media/{m}/derivatives/small.jpg"), [401, 404, 200, 404, 200, 401, 401]),
    ];
    let mut mismatches = Vec::new();
    for (path, expected) in &table {
        for (column, token) in who.tokens.iter().enumerate() {
            let cookie = token.as_ref().map(|token| format!("microcat_session={token}")).unwrap_or_default();
            let reply = app.raw(Method::GET, path, &[("cookie", cookie.as_str())], Vec::new()).await;
            if reply.status != expected[column] {
                mismatches.push(format!(
                    "GET {path} as {}: expected {}, got {}",
                    WHO[column], expected[column], reply.status
                ));
            }
            let leaks = reply.text().contains("内部草稿标题");
            if leaks && !matches!(WHO[column], "reviewer" | "admin") {
                mismatches.push(format!("GET {path} as {} shows the draft's title", WHO[column]));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
