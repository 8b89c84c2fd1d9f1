//! Who sees what: anonymous callers nothing, staff the public archive, contributors their own
//! works plus the archive, reviewers and admins everything — in pages and in totals.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{TestApp, work_json};

/// One work in each interesting state, by two authors; returns (alice's draft id, bob's published id).
async fn archive(app: &TestApp) -> (String, String) {
    let alice = app.user_with_roles("alice", &[Role::Contributor]).await;
    let bob = app.user_with_roles("bob", &[Role::Contributor]).await;
    let draft = app.create_work(&alice, work_json("weibo_post", "草稿")).await["id"].as_str().unwrap().to_owned();
    for (status, title) in [("submitted", "送审中"), ("approved", "已通过"), ("archived", "已归档")] {
        let id = app.create_work(&bob, work_json("wechat_article", title)).await["id"].as_str().unwrap().to_owned();
        app.force_status(&id, status);
    }
    let published = app.create_work(&bob, work_json("micro_film", "已发布")).await["id"].as_str().unwrap().to_owned();
    app.force_status(&published, "published");
    (draft, published)
}

#[actix_web::test]
async fn anonymous_callers_get_401_on_everything_but_health_and_login() {
    let app = TestApp::spawn().await;
    let (draft, _) = archive(&app).await;
    for (method, path) in [
        (Method::GET, "/api/v1/works".to_owned()),
        (Method::GET, format!("/api/v1/works/{draft}")),
        (Method::POST, "/api/v1/works".to_owned()),
        (Method::PATCH, format!("/api/v1/works/{draft}")),
        (Method::DELETE, format!("/api/v1/works/{draft}")),
        (Method::GET, "/api/v1/me".to_owned()),
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::DELETE, "/api/v1/session".to_owned()),
    ] {
        let body =
            (method != Method::GET && method != Method::DELETE).then(|| json!({"kind": "weibo_post", "title": "x"}));
        let reply = app.request(method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.text());
        assert_eq!(reply.error_code(), "unauthenticated");
    }
    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["database"], "ok");
    let bogus = app.request(Method::GET, "/api/v1/works", Some("mct_not-a-real-token"), None).await;
    assert_eq!(bogus.status, 401);
}

#[actix_web::test]
async fn staff_see_only_approved_published_and_archived_works() {
    let app = TestApp::spawn().await;
    let (draft, published) = archive(&app).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let listed = app.get("/api/v1/works", &staff).await.json();
    assert_eq!(listed["total"], 3, "totals count only what staff may see");
    let mut states: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|item| item["status"].as_str().unwrap()).collect();
    states.sort();
    assert_eq!(states, vec!["approved", "archived", "published"]);
    assert_eq!(app.get(&format!("/api/v1/works/{draft}"), &staff).await.error_code(), "work-not-found");
    assert_eq!(app.get(&format!("/api/v1/works/{published}"), &staff).await.status, 200);
    assert_eq!(app.get("/api/v1/works?status=draft", &staff).await.json()["total"], 0);
    assert_eq!(app.get("/api/v1/works?status=submitted", &staff).await.json()["total"], 0);
}

#[actix_web::test]
async fn contributors_see_their_own_works_plus_the_public_archive() {
    let app = TestApp::spawn().await;
    let (draft, _) = archive(&app).await;
    let alice = app.login("alice", crate::helpers::PASSWORD).await;
    let bob = app.login("bob", crate::helpers::PASSWORD).await;
    assert_eq!(app.get("/api/v1/works", &alice).await.json()["total"], 4, "own draft + 3 public");
    assert_eq!(app.get("/api/v1/works", &bob).await.json()["total"], 4, "own 4, alice's draft hidden");
    assert_eq!(app.get(&format!("/api/v1/works/{draft}"), &alice).await.status, 200);
    assert_eq!(app.get(&format!("/api/v1/works/{draft}"), &bob).await.error_code(), "work-not-found");
    let edit = app.patch(&format!("/api/v1/works/{draft}"), &bob, &json!({"version": 1, "title": "x"})).await;
    assert_eq!(edit.status, 404, "an invisible work cannot be edited either");
}

#[actix_web::test]
async fn reviewers_and_admins_see_every_work() {
    let app = TestApp::spawn().await;
    let (draft, _) = archive(&app).await;
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    assert_eq!(app.get("/api/v1/works", &reviewer).await.json()["total"], 5);
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 5);
    assert_eq!(app.get(&format!("/api/v1/works/{draft}"), &reviewer).await.status, 200);
}

#[actix_web::test]
async fn a_user_without_roles_sees_nothing() {
    let app = TestApp::spawn().await;
    archive(&app).await;
    let nobody = app.user_with_roles("nobody", &[Role::Staff]).await;
    app.execute_sql(&format!("DELETE FROM user_roles WHERE user_id = '{}'", nobody.user_id));
    let listed = app.get("/api/v1/works", &nobody).await.json();
    assert_eq!(listed["total"], 0);
}
