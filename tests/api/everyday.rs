//! Everyday use (#17): withdrawing a submission, correcting a work that went out, naming every
//! sign-off, refusing publication times ahead and timecodes outside the film, adopted
//! proposals in the public archive, and staff kept out of the production notes.

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_error, assert_error_field, ok_step, step, work_json};

fn id_of(work: &Value) -> String {
    work["id"].as_str().unwrap().to_owned()
}

const PUBLISH: &str = "https://mp.weixin.qq.com/s/x";

/// A WeChat article approved by one reviewer and published by another.
async fn published_article(app: &TestApp, author: &Session, first: &Session, second: &Session) -> String {
    let work = id_of(&app.create_work(author, work_json("wechat_article", "社区安全提示")).await);
    ok_step(app, author, &work, "submit", json!({})).await;
    ok_step(app, first, &work, "approve", json!({})).await;
    let publish = json!({"channel": "公众号", "external_url": PUBLISH, "published_at": "2026-05-01T08:00:00+08:00"});
    ok_step(app, second, &work, "publish", publish).await;
    work
}

#[actix_web::test]
async fn an_author_withdraws_a_submission_before_the_first_decision() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let post = id_of(&app.create_work(&author, work_json("weibo_post", "撤回测试")).await);
    ok_step(&app, &author, &post, "submit", json!({})).await;
    assert_error(&step(&app, &reviewer, &post, "withdraw", json!({})).await, 403, "forbidden");
    let back = ok_step(&app, &author, &post, "withdraw", json!({})).await;
    assert_eq!(back["status"], "draft", "back to the state it was submitted from");
    assert_eq!(app.get("/api/v1/review-queue", &reviewer).await.json()["items"], json!([]), "no longer waiting");

    let film = id_of(&app.create_work(&author, work_json("micro_film", "撤回的片子")).await);
    for action in ["start_shooting", "start_editing", "submit"] {
        ok_step(&app, &author, &film, action, json!({})).await;
    }
    assert_eq!(ok_step(&app, &author, &film, "withdraw", json!({})).await["status"], "editing");
    ok_step(&app, &author, &film, "submit", json!({})).await;
    ok_step(&app, &reviewer, &film, "approve", json!({"comment": "初审通过"})).await;
    let late = step(&app, &author, &film, "withdraw", json!({})).await;
    assert_error(&late, 409, "illegal-transition");
    assert!(late.text().contains("signed"), "{}", late.text());
}

#[actix_web::test]
async fn reviewers_correct_a_published_work_with_a_reason_audited_with_the_old_value() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let first = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let second = app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    let work = published_article(&app, &author, &first, &second).await;
    let current = app.get(&format!("/api/v1/works/{work}"), &app.admin).await.json();
    let path = format!("/api/v1/works/{work}");
    let fix = json!({"version": current["version"], "title": "社区安全提示（更正）"});
    assert_error(&app.patch(&path, &author, &fix).await, 409, "work-not-editable");
    assert_error_field(&app.patch(&path, &first, &fix).await, 422, "field-required", "correction_reason");
    let with_reason =
        json!({"version": current["version"], "title": "社区安全提示（更正）", "correction_reason": "标题错字"});
    let corrected = app.patch(&path, &first, &with_reason).await;
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    assert_eq!(corrected.json()["status"], "published", "still out");
    let history = app.get(&format!("{path}/history"), &app.admin).await.json();
    let entry = history["items"].as_array().unwrap().iter().find(|entry| entry["action"] == "work.corrected").cloned();
    let entry = entry.unwrap_or_else(|| panic!("{history}"));
    assert_eq!(entry["details"]["reason"], "标题错字");
    assert_eq!(entry["details"]["title"]["before"], "社区安全提示", "the old value kept: {entry}");
    let page = crate::pages::page(&app, &format!("/works/{work}"), &first).await.text();
    assert!(page.contains("id=\"correct-work\"") && page.contains("更正已发布的作品：标题错字"), "{page}");
}

#[actix_web::test]
async fn every_sign_off_is_named_with_its_time() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let first = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let second = app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    let work = id_of(&app.create_work(&author, work_json("micro_film", "两级审核")).await);
    for action in ["start_shooting", "start_editing", "submit"] {
        ok_step(&app, &author, &work, action, json!({})).await;
    }
    ok_step(&app, &first, &work, "approve", json!({})).await;
    ok_step(&app, &second, &work, "approve", json!({})).await;
    let page = crate::pages::page(&app, &format!("/works/{work}"), &app.admin).await.text();
    let hint = page.split("审核签字").nth(1).and_then(|rest| rest.split("</p>").next()).unwrap_or_default().to_owned();
    assert!(hint.contains("chushen") && hint.contains("zhongshen"), "both approvers, each with a time: {hint}");
    assert_eq!(hint.matches('（').count(), 2, "{hint}");
}

#[actix_web::test]
async fn publication_times_ahead_and_timecodes_outside_the_film_are_refused() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let first = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let second = app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    let work = id_of(&app.create_work(&author, work_json("wechat_article", "稍后发布")).await);
    ok_step(&app, &author, &work, "submit", json!({})).await;
    ok_step(&app, &first, &work, "approve", json!({})).await;
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(3)).to_rfc3339();
    let ahead = step(
        &app,
        &second,
        &work,
        "publish",
        json!({"channel": "公众号", "external_url": PUBLISH, "published_at": later}),
    )
    .await;
    assert_error_field(&ahead, 422, "invalid-field", "published_at");
    assert_eq!(
        app.get(&format!("/api/v1/works/{work}"), &app.admin).await.json()["status"],
        "approved",
        "not 已发布 and uncounted"
    );

    let film = id_of(&app.create_work(&author, work_json("micro_film", "二十秒")).await);
    let cut = app
        .upload(&author, &film, "cut.mp4", &crate::fixtures::read(&crate::fixtures::films().silent), None)
        .await
        .json();
    let cut = app.processed(&author, cut["id"].as_str().unwrap()).await;
    let duration = cut["duration_ms"].as_i64().unwrap();
    let comments = format!("/api/v1/works/{film}/comments");
    let outside = app.post(&comments, &first, &json!({"body": "这里", "timecode_ms": 6_039_000})).await;
    assert_error_field(&outside, 422, "timecode-out-of-range", "timecode_ms");
    let inside = app.post(&comments, &first, &json!({"body": "这里", "timecode_ms": duration / 2})).await;
    assert_eq!(inside.status, 201, "{}", inside.text());
    assert_eq!(inside.json()["media_id"], cut["id"], "pinned to the latest cut");
    let article = id_of(&app.create_work(&author, work_json("weibo_post", "没有片子")).await);
    let no_film = app
        .post(&format!("/api/v1/works/{article}/comments"), &author, &json!({"body": "x", "timecode_ms": 1000}))
        .await;
    assert_error_field(&no_film, 422, "invalid-field", "timecode_ms");
}

#[actix_web::test]
async fn staff_read_adopted_proposals_but_not_the_notes_behind_published_works() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let first = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let second = app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    let staff = app.user_with_roles("staff", &[Role::Staff]).await;
    let proposal = id_of(&app.create_work(&author, work_json("reform_proposal", "户籍窗口一次办好")).await);
    ok_step(&app, &author, &proposal, "submit", json!({})).await;
    for (who, action) in [(&first, "shortlist"), (&second, "recommend"), (&second, "report"), (&first, "adopt")] {
        ok_step(&app, who, &proposal, action, json!({})).await;
    }
    crate::search::wait_indexed(&app).await;
    let found = app.get("/api/v1/search?q=%E6%88%B7%E7%B1%8D", &staff).await.json();
    assert_eq!(found["total"], 1, "adopted proposals are in the public archive: {found}");
    assert_eq!(app.get(&format!("/api/v1/works/{proposal}"), &staff).await.status, 200);

    let work = published_article(&app, &author, &first, &second).await;
    app.post(&format!("/api/v1/works/{work}/comments"), &first, &json!({"body": "内部审核意见"})).await;
    assert_eq!(app.get(&format!("/api/v1/works/{work}"), &staff).await.status, 200, "the published work itself");
    assert_eq!(app.get(&format!("/api/v1/works/{work}/publications"), &staff).await.status, 200);
    assert_error(&app.get(&format!("/api/v1/works/{work}/comments"), &staff).await, 403, "forbidden");
    assert_error(&app.get(&format!("/api/v1/works/{work}/history"), &staff).await, 403, "forbidden");
    let comment = app.post(&format!("/api/v1/works/{work}/comments"), &staff, &json!({"body": "路过"})).await;
    assert_error(&comment, 403, "forbidden");
    let page = crate::pages::page(&app, &format!("/works/{work}"), &staff).await.text();
    assert!(!page.contains("内部审核意见") && !page.contains("id=\"history\""), "no notes, no history: {page}");
    assert!(page.contains("id=\"publications\""), "the publication records are public");
    let team_page = crate::pages::page(&app, &format!("/works/{work}"), &author).await.text();
    assert!(team_page.contains("内部审核意见"), "the team still sees them");
}

#[actix_web::test]
async fn a_locked_out_user_is_told_until_when_and_an_admin_unlocks_them() {
    let app = TestApp::spawn().await;
    app.user_with_roles("zhangsan", &[Role::Contributor]).await;
    for _ in 0..5 {
        assert_eq!(app.try_login("zhangsan", "wrong-password-1").await.status, 401);
    }
    assert_eq!(app.try_login("zhangsan", crate::helpers::PASSWORD).await.status, 429, "locked out");
    let users = crate::pages::page(&app, "/admin/users", &app.admin).await.text();
    assert!(users.contains("登录已锁定至"), "the admin sees the lockout: {users}");
    let listed = app.get("/api/v1/users", &app.admin).await.json();
    let row = listed["items"].as_array().unwrap().iter().find(|user| user["username"] == "zhangsan").unwrap().clone();
    assert_eq!(row["failed_logins"], 5);
    let id = row["id"].as_str().unwrap();
    let unlocked = app.patch(&format!("/api/v1/users/{id}"), &app.admin, &json!({"unlock": true})).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.text());
    assert_eq!(unlocked.json()["failed_logins"], 0);
    assert_eq!(app.try_login("zhangsan", crate::helpers::PASSWORD).await.status, 200, "unlocked at once");
}
