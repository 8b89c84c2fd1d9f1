//! The in-app inbox (#17): who is told what when a work moves, is commented on, mentions
//! someone or is assigned; overdue reminders once a day; marking read; choosing the kinds.

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_error_field, ok_step, work_json};

async fn inbox(app: &TestApp, session: &Session) -> Value {
    let reply = app.get("/api/v1/notifications", session).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn events(inbox: &Value) -> Vec<String> {
    inbox["items"].as_array().unwrap().iter().map(|item| item["event"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn steps_comments_mentions_and_assignments_reach_the_right_people() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let helper = app.user_with_roles("helper", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let staff = app.user_with_roles("staff", &[Role::Staff]).await;
    let mut draft = work_json("weibo_post", "防溺水提醒");
    draft["assignees"] = json!([helper.user_id]);
    let work = app.create_work(&author, draft).await["id"].as_str().unwrap().to_owned();
    assert_eq!(events(&inbox(&app, &helper).await), vec!["assigned"], "assigned on creation");

    ok_step(&app, &author, &work, "submit", json!({})).await;
    let waiting = inbox(&app, &reviewer).await;
    assert_eq!(events(&waiting), vec!["review_waiting"]);
    assert_eq!(waiting["unread"], 1);
    assert_eq!(waiting["items"][0]["work_id"], work.as_str());
    assert!(waiting["items"][0]["text"].as_str().unwrap().contains("《防溺水提醒》"), "{waiting}");
    assert!(events(&inbox(&app, &author).await).is_empty(), "nobody is told of their own step");
    assert!(events(&inbox(&app, &staff).await).is_empty());

    ok_step(&app, &reviewer, &work, "request_changes", json!({"comment": "配图太小"})).await;
    let sent_back = inbox(&app, &author).await;
    assert_eq!(events(&sent_back), vec!["sent_back"]);
    assert!(sent_back["items"][0]["text"].as_str().unwrap().ends_with("被退回修改：配图太小"), "{sent_back}");
    assert_eq!(events(&inbox(&app, &helper).await)[0], "sent_back", "assignees hear of it too");

    let comments = format!("/api/v1/works/{work}/comments");
    let note = app.post(&comments, &reviewer, &json!({"body": "@helper 请换一张图"})).await.json();
    assert_eq!(events(&inbox(&app, &helper).await)[0], "mention", "the mention, not also a plain comment");
    assert_eq!(events(&inbox(&app, &author).await)[0], "comment");
    app.post(&comments, &author, &json!({"body": "好的，已换", "reply_to": note["id"]})).await;
    let replied = inbox(&app, &reviewer).await;
    assert_eq!(events(&replied)[0], "reply");
    assert!(replied["items"][0]["text"].as_str().unwrap().contains("回复了你"), "{replied}");

    ok_step(&app, &author, &work, "submit", json!({})).await;
    ok_step(&app, &reviewer, &work, "approve", json!({})).await;
    assert_eq!(events(&inbox(&app, &author).await)[0], "approved");
    let publish = json!({"channel": "官方微博", "external_url": "https://weibo.com/1", "published_at": "2026-05-01T08:00:00+08:00"});
    ok_step(&app, &reviewer, &work, "publish", publish).await;
    assert_eq!(events(&inbox(&app, &author).await)[0], "published");
}

#[actix_web::test]
async fn notices_are_marked_read_and_each_person_chooses_the_kinds() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let work =
        app.create_work(&author, work_json("wechat_article", "通知测试")).await["id"].as_str().unwrap().to_owned();
    let comments = format!("/api/v1/works/{work}/comments");
    for body in ["第一条", "第二条", "第三条"] {
        app.post(&comments, &reviewer, &json!({"body": body})).await;
    }
    let before = inbox(&app, &author).await;
    assert_eq!(before["unread"], 3);
    let first = before["items"][0]["id"].as_str().unwrap();
    let left = app.post("/api/v1/notifications/read", &author, &json!({"ids": [first]})).await.json();
    assert_eq!(left["unread"], 2);
    let only_unread = app.get("/api/v1/notifications?unread=true", &author).await.json();
    assert_eq!(only_unread["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.post("/api/v1/notifications/read", &author, &json!({"all": true})).await.json()["unread"], 0);
    let neither = app.post("/api/v1/notifications/read", &author, &json!({})).await;
    assert_error_field(&neither, 422, "invalid-field", "ids");
    let others = app.post("/api/v1/notifications/read", &reviewer, &json!({"ids": [first]})).await.json();
    assert_eq!(others["unread"], 0, "nobody marks another person's notices");

    let settings = app.get("/api/v1/notifications/settings", &author).await.json();
    assert_eq!(settings["events"]["comment"], true, "everything on by default: {settings}");
    let changed = app.put_json("/api/v1/notifications/settings", &author, &json!({"events": {"comment": false}})).await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["events"]["comment"], false);
    assert_eq!(changed.json()["events"]["sent_back"], true, "the others keep their setting");
    app.post(&comments, &reviewer, &json!({"body": "第四条"})).await;
    assert_eq!(inbox(&app, &author).await["unread"], 0, "comments turned off");
    let unknown = app.put_json("/api/v1/notifications/settings", &author, &json!({"events": {"spam": true}})).await;
    assert_error_field(&unknown, 422, "invalid-field", "events.spam");
}

#[actix_web::test]
async fn overdue_works_are_reminded_once_a_day() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let mut late = work_json("micro_film", "逾期的片子");
    late["due_date"] = json!("2026-01-05");
    app.create_work(&author, late).await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
    let db = app.db.clone();
    let reminded = actix_web::rt::task::spawn_blocking(move || {
        let first = microcat::service::notify::remind_overdue(&db, today).unwrap();
        microcat::service::notify::remind_overdue(&db, today).unwrap();
        first
    })
    .await
    .unwrap();
    assert!(reminded >= 1);
    let overdue = inbox(&app, &author).await;
    assert_eq!(events(&overdue), vec!["overdue"], "twice the same day, one notice: {overdue}");
    assert!(overdue["items"][0]["text"].as_str().unwrap().contains("截止 2026-01-05"), "{overdue}");
}
