//! The catalog of works: create, read, list with filters and pages, edit with optimistic
//! locking, soft delete and restore, and persistence across restarts.

use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, work_json};

fn film() -> serde_json::Value {
    json!({
        "kind": "micro_film",
        "title": "  守护平安的第一天  ",
        "body": "一名新入职的特警在城区巡逻中遇到的故事。",
        "summary": "新警入职微电影",
        "tags": ["特警", "两学一做", "特警"],
        "unit": "特警大队",
        "credits": [{"name": "李明", "role": "导演"}, {"name": "王芳", "role": "编剧"}],
        "channel": "公众号",
        "external_url": "https://mp.weixin.qq.com/s/example",
        "published_at": "2024-05-01T08:00:00+08:00"
    })
}

#[actix_web::test]
async fn contributor_creates_a_film_that_starts_in_planning() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reply = app.post("/api/v1/works", &author, &film()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let work = reply.json();
    let id = work["id"].as_str().unwrap();
    assert_eq!(reply.header("location").unwrap(), format!("/api/v1/works/{id}"));
    assert_eq!(uuid_version(id), '7');
    assert_eq!(work["title"], "守护平安的第一天");
    assert_eq!(work["status"], "planning");
    assert_eq!(work["version"], 1);
    assert_eq!(work["tags"], json!(["特警", "两学一做"]));
    assert_eq!(work["credits"][1], json!({"name": "王芳", "role": "编剧"}));
    assert_eq!(work["published_at"], "2024-05-01T00:00:00Z");
    assert_eq!(work["created_by"], author.user_id);

    let fetched = app.get(&format!("/api/v1/works/{id}"), &author).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json()["body"], work["body"]);
}

fn uuid_version(id: &str) -> char {
    id.chars().nth(14).unwrap()
}

#[actix_web::test]
async fn posts_articles_and_proposals_start_as_drafts() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    for kind in ["weibo_post", "wechat_article", "reform_proposal"] {
        let work = app.create_work(&author, work_json(kind, "标题")).await;
        assert_eq!(work["status"], "draft", "{kind}");
    }
}

#[actix_web::test]
async fn staff_cannot_create_works() {
    let app = TestApp::spawn().await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let reply = app.post("/api/v1/works", &staff, &work_json("weibo_post", "标题")).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.error_code(), "forbidden");
}

#[actix_web::test]
async fn list_filters_by_every_criterion() {
    let app = TestApp::spawn().await;
    let alice = app.user_with_roles("alice", &[Role::Contributor]).await;
    let bob = app.user_with_roles("bob", &[Role::Contributor]).await;
    let film = app.create_work(&alice, film()).await;
    app.create_work(
        &alice,
        json!({"kind": "weibo_post", "title": "交通安全提示", "unit": "交警大队", "tags": ["交通"]}),
    )
    .await;
    app.create_work(
        &bob,
        json!({"kind": "wechat_article", "title": "反诈骗指南", "unit": "刑侦大队", "tags": ["反诈", "两学一做"]}),
    )
    .await;
    let admin = &app.admin;
    let total = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app.get(&format!("/api/v1/works?{query}"), admin).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.text());
            reply.json()["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total("").await, 3);
    assert_eq!(total("kind=micro_film").await, 1);
    assert_eq!(total("status=draft").await, 2);
    assert_eq!(total("status=planning").await, 1);
    assert_eq!(total("unit=%E4%BA%A4%E8%AD%A6%E5%A4%A7%E9%98%9F").await, 1);
    assert_eq!(total("tag=%E4%B8%A4%E5%AD%A6%E4%B8%80%E5%81%9A").await, 2);
    assert_eq!(total("from=2000-01-01").await, 3);
    assert_eq!(total("to=2000-01-01").await, 0);
    assert_eq!(total("from=2999-01-01T00:00:00Z").await, 0);
    let by_bob = app.get(&format!("/api/v1/works?created_by={}", bob.user_id), admin).await.json();
    assert_eq!(by_bob["total"], 1);
    assert_eq!(by_bob["items"][0]["title"], "反诈骗指南");
    let combined = app.get(&format!("/api/v1/works?kind=micro_film&created_by={}", alice.user_id), admin).await.json();
    assert_eq!(combined["items"][0]["id"], film["id"]);
}

#[actix_web::test]
async fn list_is_newest_first_and_paginated() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let mut ids = Vec::new();
    for number in 0..7 {
        let work = app.create_work(&author, work_json("weibo_post", &format!("微博 {number}"))).await;
        ids.push(work["id"].as_str().unwrap().to_owned());
    }
    let first = app.get("/api/v1/works?per_page=3", &author).await.json();
    assert_eq!(
        (first["total"].as_i64(), first["page"].as_i64(), first["per_page"].as_i64()),
        (Some(7), Some(1), Some(3))
    );
    let first_ids: Vec<&str> =
        first["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(first_ids, vec![ids[6].as_str(), ids[5].as_str(), ids[4].as_str()]);
    assert!(first["items"][0].get("body").is_none(), "list items leave out the body");
    let last = app.get("/api/v1/works?per_page=3&page=3", &author).await.json();
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["items"][0]["id"], ids[0]);
    let beyond = app.get("/api/v1/works?per_page=3&page=9", &author).await.json();
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
    let oldest = app.get("/api/v1/works?per_page=1&sort=oldest", &author).await.json();
    assert_eq!(oldest["items"][0]["id"], ids[0]);
}

#[actix_web::test]
async fn edit_with_current_version_saves_and_bumps_the_version() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, film()).await;
    let path = format!("/api/v1/works/{}", work["id"].as_str().unwrap());
    let reply =
        app.patch(&path, &author, &json!({"version": 1, "title": "新标题", "tags": ["微警务"], "unit": null})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let edited = reply.json();
    assert_eq!(edited["title"], "新标题");
    assert_eq!(edited["tags"], json!(["微警务"]));
    assert_eq!(edited["unit"], serde_json::Value::Null);
    assert_eq!(edited["summary"], "新警入职微电影", "absent fields stay");
    assert_eq!(edited["version"], 2);
    assert_eq!(reply.header("etag").unwrap(), "\"2\"");
    let by_tag = app.get("/api/v1/works?tag=%E5%BE%AE%E8%AD%A6%E5%8A%A1", &author).await.json();
    assert_eq!(by_tag["total"], 1, "tag index follows the edit");
}

#[actix_web::test]
async fn stale_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, film()).await;
    let path = format!("/api/v1/works/{}", work["id"].as_str().unwrap());
    assert_eq!(app.patch(&path, &author, &json!({"version": 1, "title": "第一次"})).await.status, 200);
    let stale = app.patch(&path, &author, &json!({"version": 1, "title": "第二次"})).await;
    assert_eq!(stale.status, 409);
    assert_eq!(stale.error_code(), "version-conflict");
    assert!(stale.json()["error"]["message"].as_str().unwrap().contains("current version is 2"));
    let stored = app.get(&path, &author).await.json();
    assert_eq!((stored["title"].as_str(), stored["version"].as_i64()), (Some("第一次"), Some(2)));
}

#[actix_web::test]
async fn version_can_come_from_if_match() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, film()).await;
    let path = format!("/api/v1/works/{}", work["id"].as_str().unwrap());
    let headers = [("authorization", format!("Bearer {}", author.token)), ("content-type", "application/json".into())];
    let send = |if_match: &'static str| {
        let mut all: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
        all.push(("if-match", if_match));
        let app = &app;
        let path = path.clone();
        async move { app.raw(awc::http::Method::PATCH, &path, &all, r#"{"summary":"改"}"#.as_bytes().to_vec()).await }
    };
    assert_eq!(send("\"1\"").await.status, 200);
    assert_eq!(send("\"1\"").await.error_code(), "version-conflict");
    assert_eq!(send("W/\"2\"").await.status, 200);
    assert_eq!(send("soon").await.error_code(), "invalid-header");
    let missing = app.patch(&path, &author, &json!({"title": "无版本"})).await;
    assert_error(&missing, 422, "field-required");
}

#[actix_web::test]
async fn only_the_creator_or_an_admin_may_edit_and_only_while_editable() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let other = app.user_with_roles("other", &[Role::Contributor, Role::Reviewer]).await;
    let work = app.create_work(&author, work_json("weibo_post", "原稿")).await;
    let id = work["id"].as_str().unwrap();
    let path = format!("/api/v1/works/{id}");
    let refused = app.patch(&path, &other, &json!({"version": 1, "title": "篡改"})).await;
    assert_error(&refused, 403, "forbidden");
    assert_eq!(app.patch(&path, &app.admin, &json!({"version": 1, "title": "管理员修改"})).await.status, 200);
    app.force_status(id, "submitted");
    let locked = app.patch(&path, &author, &json!({"version": 2, "title": "送审后修改"})).await;
    assert_error(&locked, 409, "work-not-editable");
    app.force_status(id, "changes_requested");
    assert_eq!(app.patch(&path, &author, &json!({"version": 2, "title": "按意见修改"})).await.status, 200);
}

#[actix_web::test]
async fn deleted_works_are_hidden_and_an_admin_restores_them() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("wechat_article", "待删除")).await;
    let id = work["id"].as_str().unwrap();
    let path = format!("/api/v1/works/{id}");
    assert_eq!(app.delete(&path, &author).await.status, 204);
    assert_eq!(app.get(&path, &author).await.error_code(), "work-not-found");
    assert_eq!(app.get("/api/v1/works", &author).await.json()["total"], 0);
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 0);
    let deleted = app.get("/api/v1/works?deleted=true", &app.admin).await.json();
    assert_eq!(deleted["items"][0]["id"], id);
    assert!(deleted["items"][0]["deleted_at"].is_string());
    assert_eq!(app.get("/api/v1/works?deleted=true", &author).await.status, 403);
    let refused = app.post(&format!("{path}/restore"), &author, &json!({})).await;
    assert_eq!(refused.status, 403);
    let restored = app.post(&format!("{path}/restore"), &app.admin, &json!({})).await;
    assert_eq!(restored.status, 200, "{}", restored.text());
    assert!(restored.json().get("deleted_at").is_none());
    assert_eq!(app.get(&path, &author).await.status, 200);
    let again = app.post(&format!("{path}/restore"), &app.admin, &json!({})).await;
    assert_eq!(again.error_code(), "work-not-deleted");
}

#[actix_web::test]
async fn works_accounts_and_sessions_survive_a_restart() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, film()).await;
    let app = app.restart().await;
    let reply = app.get(&format!("/api/v1/works/{}", work["id"].as_str().unwrap()), &author).await;
    assert_eq!(reply.status, 200, "the old token still works: {}", reply.text());
    assert_eq!(reply.json()["title"], "守护平安的第一天");
    app.login("author", crate::helpers::PASSWORD).await;
}
