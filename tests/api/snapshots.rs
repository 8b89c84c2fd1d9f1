//! Snapshots of the main JSON responses (insta), with ids and times redacted: a change to a
//! response's shape — a field renamed, dropped or added — shows up as a reviewable diff in
//! `tests/api/snapshots/`. Run with `INSTA_UPDATE=always` to accept an intended change.

use insta::assert_json_snapshot;
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{TestApp, work_json};

#[actix_web::test]
async fn a_created_work_answers_in_its_documented_shape() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let body = json!({
        "kind": "micro_film",
        "title": "《守护》微电影",
        "summary": "社区民警的一天",
        "tags": ["平安乡村", "反诈"],
        "unit": "城关派出所",
        "credits": [{"name": "张三", "role": "导演"}],
        "due_date": "2026-12-31"
    });
    let work = app.create_work(&author, body).await;
    assert_json_snapshot!("created_work", work, {
        ".id" => "[id]",
        ".created_by" => "[user id]",
        ".created_at" => "[time]",
        ".updated_at" => "[time]",
    });
}

#[actix_web::test]
async fn a_list_page_answers_in_its_documented_shape() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.create_work(&author, work_json("weibo_post", "微博一则")).await;
    let page = app.get("/api/v1/works?per_page=5", &author).await.json();
    assert_json_snapshot!("work_list", page, {
        ".items[].id" => "[id]",
        ".items[].created_by" => "[user id]",
        ".items[].created_at" => "[time]",
        ".items[].updated_at" => "[time]",
    });
}

#[actix_web::test]
async fn refusals_answer_in_the_one_error_envelope() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let too_long = app.post("/api/v1/works", &author, &json!({"kind": "weibo_post", "title": "长".repeat(201)})).await;
    let work = app.create_work(&author, work_json("weibo_post", "微博")).await;
    let path = format!("/api/v1/works/{}", work["id"].as_str().unwrap());
    let stale = app.patch(&path, &author, &json!({"version": 7, "title": "新"})).await;
    let missing = app.get("/api/v1/works/01900000-0000-7000-8000-000000000000", &author).await;
    let refusals = json!({
        "field_too_long": [too_long.status, too_long.json()],
        "version_conflict": [stale.status, stale.json()],
        "work_not_found": [missing.status, missing.json()],
    });
    assert_json_snapshot!("refusals", refusals);
}

#[actix_web::test]
async fn the_signed_in_user_answers_in_its_documented_shape() {
    let app = TestApp::spawn().await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer, Role::Staff]).await;
    let me = app.get("/api/v1/me", &reviewer).await.json();
    assert_json_snapshot!("me", me, {
        ".user.id" => "[user id]",
        ".user.created_at" => "[time]",
        ".csrf_token" => "[token]",
    });
}
