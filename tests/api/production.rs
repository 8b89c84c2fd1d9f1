//! Production and review: lifecycles driven through the API, the role and self-review rules,
//! two-level sign-off, concurrent decisions, comments, queue, board, statistics, exports
//! and the tamper-evident audit trail.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_error, assert_error_field, ok_step, step, work_json};

struct Team {
    author: Session,
    first: Session,
    second: Session,
}

async fn team(app: &TestApp) -> Team {
    Team {
        author: app.user_with_roles("author", &[Role::Contributor]).await,
        first: app.user_with_roles("chushen", &[Role::Reviewer]).await,
        second: app.user_with_roles("zhongshen", &[Role::Reviewer]).await,
    }
}

fn id_of(work: &Value) -> String {
    work["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_film_is_produced_reviewed_by_two_reviewers_published_and_archived() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let film = id_of(&app.create_work(&team.author, work_json("micro_film", "守护")).await);
    for action in ["start_shooting", "start_editing", "submit"] {
        ok_step(&app, &team.author, &film, action, json!({})).await;
    }
    let first = ok_step(&app, &team.first, &film, "approve", json!({"comment": "初审通过"})).await;
    assert_eq!(first["status"], "submitted", "初审 alone does not approve a film");
    assert_eq!(first["signoffs"], json!([team.first.user_id]));
    let again = step(&app, &team.first, &film, "approve", json!({})).await;
    assert_error(&again, 409, "already-signed-off");
    let approved = ok_step(&app, &team.second, &film, "approve", json!({})).await;
    assert_eq!(approved["status"], "approved");
    let no_url = step(&app, &team.second, &film, "publish", json!({"channel": "公众号"})).await;
    assert_error_field(&no_url, 422, "field-required", "external_url");
    let published = ok_step(&app, &team.second, &film, "publish", json!({"channel": "公众号", "external_url": "https://mp.weixin.qq.com/s/x", "published_at": "2026-05-01T08:00:00+08:00"})).await;
    assert_eq!((published["status"].as_str(), published["channel"].as_str()), (Some("published"), Some("公众号")));
    assert_eq!(published["published_at"], "2026-05-01T00:00:00Z");
    assert_eq!(ok_step(&app, &app.admin, &film, "archive", json!({})).await["status"], "archived");
    let history = app.get(&format!("/api/v1/works/{film}/history"), &team.author).await.json();
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|action| **action == "work.transition").count(), 6);
    assert!(actions.contains(&"work.created") && actions.contains(&"work.signed_off"));
}

#[actix_web::test]
async fn posts_can_be_sent_back_with_a_comment_and_resubmitted() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let post = id_of(&app.create_work(&team.author, work_json("weibo_post", "交通安全提示")).await);
    ok_step(&app, &team.author, &post, "submit", json!({})).await;
    let silent = step(&app, &team.first, &post, "request_changes", json!({})).await;
    assert_error(&silent, 422, "comment-required");
    let returned = ok_step(&app, &team.first, &post, "request_changes", json!({"comment": "请补充时间地点"})).await;
    assert_eq!(returned["status"], "changes_requested");
    let edited = app
        .patch(
            &format!("/api/v1/works/{post}"),
            &team.author,
            &json!({"version": returned["version"], "body": "时间：明天 地点：客运站"}),
        )
        .await;
    assert_eq!(edited.status, 200, "changes_requested is editable");
    ok_step(&app, &team.author, &post, "submit", json!({})).await;
    assert_eq!(
        ok_step(&app, &team.second, &post, "approve", json!({})).await["status"],
        "approved",
        "one reviewer approves a post"
    );
    let comments = app.get(&format!("/api/v1/works/{post}/comments"), &team.author).await.json();
    assert!(
        comments["items"][0]["body"].as_str().unwrap().contains("请补充时间地点"),
        "the decision's comment reaches the team"
    );
}

#[actix_web::test]
async fn reviewers_never_decide_on_their_own_or_credited_works() {
    let app = TestApp::spawn().await;
    let both = app.user_with_roles("both", &[Role::Contributor, Role::Reviewer]).await;
    let own = id_of(&app.create_work(&both, work_json("wechat_article", "自己的文章")).await);
    ok_step(&app, &both, &own, "submit", json!({})).await;
    let refused = step(&app, &both, &own, "approve", json!({})).await;
    assert_error(&refused, 403, "self-review");
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let credited = id_of(
        &app.create_work(
            &author,
            json!({"kind": "wechat_article", "title": "合作文章", "credits": [{"name": "both", "role": "编辑"}]}),
        )
        .await,
    );
    ok_step(&app, &author, &credited, "submit", json!({})).await;
    let refused = step(&app, &both, &credited, "reject", json!({"comment": "不行"})).await;
    assert_eq!(refused.error_code(), "self-review");
}

#[actix_web::test]
async fn a_credit_linked_to_an_account_bars_that_reviewer_whatever_the_name_and_only_that_one() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    // Credited under a pen name, but linked to the first reviewer's account.
    let credits = json!([{"name": "笔名", "role": "编剧", "user_id": team.first.user_id}]);
    let body = json!({"kind": "wechat_article", "title": "署名文章", "credits": credits});
    let work = app.create_work(&team.author, body).await;
    assert_eq!(work["credits"][0]["user_id"], team.first.user_id.as_str());
    let id = id_of(&work);
    ok_step(&app, &team.author, &id, "submit", json!({})).await;
    assert_error(&step(&app, &team.first, &id, "approve", json!({})).await, 403, "self-review");
    // A credit by name only still goes by the name; one linked elsewhere does not bar a namesake.
    let linked_elsewhere = json!([{"name": "chushen", "role": "摄像", "user_id": team.second.user_id}]);
    let body = json!({"kind": "wechat_article", "title": "同名", "credits": linked_elsewhere});
    let other = id_of(&app.create_work(&team.author, body).await);
    ok_step(&app, &team.author, &other, "submit", json!({})).await;
    ok_step(&app, &team.first, &other, "approve", json!({})).await;
}

#[actix_web::test]
async fn credits_may_only_link_existing_accounts_and_edits_by_name_keep_the_links() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let unknown = json!([{"name": "某人", "role": "导演", "user_id": "01900000-0000-7000-8000-000000000000"}]);
    let refused =
        app.post("/api/v1/works", &author, &json!({"kind": "micro_film", "title": "片", "credits": unknown})).await;
    assert_error_field(&refused, 422, "invalid-field", "credits[0].user_id");
    let malformed = json!([{"name": "某人", "role": "导演", "user_id": "张三"}]);
    let refused =
        app.post("/api/v1/works", &author, &json!({"kind": "micro_film", "title": "片", "credits": malformed})).await;
    assert_error_field(&refused, 422, "invalid-field", "credits[0].user_id");
    let linked = json!([{"name": "作者", "role": "导演", "user_id": author.user_id}]);
    let work = app.create_work(&author, json!({"kind": "micro_film", "title": "片", "credits": linked})).await;
    let path = format!("/api/v1/works/{}", id_of(&work));
    let renamed_role = json!({"version": work["version"], "credits": [{"name": "作者", "role": "总导演"}]});
    let edited = app.patch(&path, &author, &renamed_role).await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json()["credits"][0]["user_id"], author.user_id.as_str(), "an edit by name keeps the link");
}

#[actix_web::test]
async fn publication_details_are_checked_only_once_the_step_is_allowed() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let stranger = app.user_with_roles("stranger", &[Role::Contributor]).await;
    let draft = id_of(&app.create_work(&team.author, work_json("weibo_post", "草稿")).await);
    let bad = json!({"channel": "微博", "external_url": "not a url"});
    assert_error(&step(&app, &stranger, &draft, "publish", bad.clone()).await, 404, "work-not-found");
    assert_error(&step(&app, &team.author, &draft, "publish", bad).await, 409, "illegal-transition");
}

#[actix_web::test]
async fn actions_belong_to_their_roles_and_states() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let stranger = app.user_with_roles("stranger", &[Role::Contributor]).await;
    let post = id_of(&app.create_work(&team.author, work_json("weibo_post", "微博")).await);
    let illegal = step(&app, &team.author, &post, "publish", json!({})).await;
    assert_error(&illegal, 409, "illegal-transition");
    assert!(illegal.json()["error"]["message"].as_str().unwrap().contains("allowed actions are submit"));
    assert_eq!(step(&app, &stranger, &post, "submit", json!({})).await.status, 404, "others' drafts are invisible");
    ok_step(&app, &team.author, &post, "submit", json!({})).await;
    assert_eq!(step(&app, &team.author, &post, "approve", json!({})).await.error_code(), "forbidden");
    assert_eq!(step(&app, &staff, &post, "approve", json!({})).await.status, 404);
    let unknown = step(&app, &team.first, &post, "teleport", json!({})).await;
    assert_error(&unknown, 422, "invalid-field");
    let stale = app
        .post(&format!("/api/v1/works/{post}/transitions"), &team.first, &json!({"action": "approve", "version": 1}))
        .await;
    assert_eq!(stale.error_code(), "version-conflict");
    let missing =
        app.post(&format!("/api/v1/works/{post}/transitions"), &team.first, &json!({"action": "approve"})).await;
    assert_eq!(missing.error_code(), "field-required");
}

#[actix_web::test]
async fn malformed_steps_are_refused_with_the_field_at_fault() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let work = id_of(&app.create_work(&team.author, work_json("weibo_post", "待审稿件")).await);
    ok_step(&app, &team.author, &work, "submit", json!({})).await;
    let path = format!("/api/v1/works/{work}/transitions");
    let version = app.get(&format!("/api/v1/works/{work}"), &app.admin).await.json()["version"].clone();
    let cases = [
        (json!({"action": "teleport", "version": version}), "action"),
        (json!({"action": "approve"}), "version"),
        (json!({"action": "reject", "version": version, "comment": "长".repeat(5_001)}), "comment"),
        (json!({"action": "reject", "version": version, "comment": "bell\u{7}"}), "comment"),
        (json!({"action": "reject", "version": version, "comment": "nul\u{0}"}), "comment"),
    ];
    for (body, field) in cases {
        let reply = app.post(&path, &team.first, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
    }
    let after = app.get(&format!("/api/v1/works/{work}"), &app.admin).await.json();
    assert_eq!((after["status"].as_str(), &after["version"]), (Some("submitted"), &version), "nothing changed");
}

#[actix_web::test]
async fn when_two_reviewers_decide_at_once_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let post = id_of(&app.create_work(&team.author, work_json("weibo_post", "并发")).await);
    let submitted = ok_step(&app, &team.author, &post, "submit", json!({})).await;
    let version = submitted["version"].clone();
    let path = format!("/api/v1/works/{post}/transitions");
    let approve = json!({"action": "approve", "version": version});
    let reject = json!({"action": "reject", "version": version, "comment": "不通过"});
    let (first, second) =
        futures_util::join!(app.post(&path, &team.first, &approve), app.post(&path, &team.second, &reject));
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", first.text(), second.text());
}

#[actix_web::test]
async fn proposals_are_selected_recommended_reported_and_decided() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let proposal = id_of(&app.create_work(&team.author, work_json("reform_proposal", "户籍窗口一次办好")).await);
    ok_step(&app, &team.author, &proposal, "submit", json!({})).await;
    ok_step(&app, &team.first, &proposal, "shortlist", json!({})).await;
    assert_eq!(step(&app, &team.first, &proposal, "return", json!({})).await.error_code(), "comment-required");
    assert_eq!(
        ok_step(&app, &team.first, &proposal, "return", json!({"comment": "材料不全"})).await["status"],
        "draft"
    );
    for (who, action) in
        [(&team.author, "submit"), (&team.first, "shortlist"), (&team.second, "recommend"), (&team.second, "report")]
    {
        ok_step(&app, who, &proposal, action, json!({})).await;
    }
    assert_eq!(ok_step(&app, &team.first, &proposal, "adopt", json!({})).await["status"], "adopted");
}

#[actix_web::test]
async fn comments_pin_to_moments_of_a_cut_and_reply() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let film = id_of(&app.create_work(&team.author, work_json("micro_film", "片子")).await);
    let media = app.upload(&team.author, &film, "cut.png", &crate::fixtures::png(8, 8), None).await.json();
    let path = format!("/api/v1/works/{film}/comments");
    let note = app
        .post(&path, &team.first, &json!({"body": "这里节奏太慢", "media_id": media["id"], "timecode_ms": 83_500}))
        .await;
    assert_eq!(note.status, 201, "{}", note.text());
    let note = note.json();
    assert_eq!((note["timecode_ms"].as_i64(), note["author_name"].as_str()), (Some(83_500), Some("chushen")));
    let reply = app.post(&path, &team.author, &json!({"body": "已剪短", "reply_to": note["id"]})).await;
    assert_eq!(reply.status, 201);
    let listed = app.get(&path, &team.author).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][1]["reply_to"], note["id"]);
    for (body, field) in [
        (json!({"body": ""}), "body"),
        (json!({"body": "x", "media_id": "nope"}), "media_id"),
        (json!({"body": "x", "timecode_ms": -5}), "timecode_ms"),
        (json!({"body": "x", "reply_to": "nope"}), "reply_to"),
    ] {
        let refused = app.post(&path, &team.first, &body).await;
        assert_eq!(refused.status, 422, "{body}");
        assert_eq!(refused.json()["error"]["field"], field);
    }
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    assert_eq!(app.post(&path, &staff, &json!({"body": "看不见"})).await.status, 404);
}

#[actix_web::test]
async fn the_queue_shows_what_each_reviewer_may_decide_oldest_first() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let mut ids = Vec::new();
    for (kind, title) in [("weibo_post", "第一条"), ("micro_film", "第二部"), ("reform_proposal", "第三项")] {
        let id = id_of(&app.create_work(&team.author, work_json(kind, title)).await);
        if kind == "micro_film" {
            ok_step(&app, &team.author, &id, "start_shooting", json!({})).await;
            ok_step(&app, &team.author, &id, "start_editing", json!({})).await;
        }
        ok_step(&app, &team.author, &id, "submit", json!({})).await;
        ids.push(id);
    }
    let queue = app.get("/api/v1/review-queue", &team.first).await.json();
    let listed: Vec<&str> =
        queue["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(queue["items"][0]["waiting_ms"].as_i64().unwrap() >= queue["items"][2]["waiting_ms"].as_i64().unwrap());
    assert_eq!(queue["items"][2]["allowed_actions"], json!(["shortlist", "return"]));
    ok_step(&app, &team.first, &ids[1], "approve", json!({})).await;
    let after = app.get("/api/v1/review-queue", &team.first).await.json();
    assert_eq!(after["total"], 2, "a film this reviewer signed off waits for someone else");
    assert_eq!(app.get("/api/v1/review-queue", &team.second).await.json()["total"], 3);
    assert_eq!(app.get("/api/v1/review-queue", &team.author).await.status, 403);
}

#[actix_web::test]
async fn the_board_groups_works_by_state_with_assignees_and_overdue_marks() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let camera = app.user_with_roles("camera", &[Role::Contributor]).await;
    let late = app
        .create_work(
            &team.author,
            json!({"kind": "micro_film", "title": "逾期片", "assignees": [camera.user_id], "due_date": "2020-01-01"}),
        )
        .await;
    app.create_work(&team.author, json!({"kind": "micro_film", "title": "未到期", "due_date": "2999-01-01"})).await;
    let board = app.get("/api/v1/board?kind=micro_film", &team.author).await.json();
    let columns = board["columns"].as_array().unwrap();
    assert_eq!(columns[0]["status"], "planning");
    assert_eq!(columns[0]["label"], "策划");
    assert_eq!(columns.len(), 9);
    let cards = columns[0]["works"].as_array().unwrap();
    let overdue = cards.iter().find(|card| card["id"] == late["id"]).unwrap();
    assert_eq!(overdue["overdue"], true);
    assert_eq!(overdue["assignees"][0]["display_name"], "camera");
    assert_eq!(cards.iter().filter(|card| card["overdue"] == true).count(), 1);
    let unknown =
        app.post("/api/v1/works", &team.author, &json!({"kind": "weibo_post", "title": "x", "due_date": "明天"})).await;
    assert_eq!(unknown.json()["error"]["field"], "due_date");
}

#[actix_web::test]
async fn statistics_and_exports_count_a_known_data_set() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let published_at = chrono::Utc::now().to_rfc3339();
    let mut made = 0;
    for (kind, count) in [("micro_film", 1), ("weibo_post", 2), ("wechat_article", 3)] {
        for number in 0..count {
            let id = id_of(
                &app.create_work(
                    &team.author,
                    json!({"kind": kind, "title": format!("{kind} {number}"), "unit": "政治处"}),
                )
                .await,
            );
            made += 1;
            if kind == "micro_film" {
                ok_step(&app, &team.author, &id, "start_shooting", json!({})).await;
                ok_step(&app, &team.author, &id, "start_editing", json!({})).await;
            }
            ok_step(&app, &team.author, &id, "submit", json!({})).await;
            if kind == "micro_film" {
                ok_step(&app, &team.first, &id, "approve", json!({})).await;
            }
            ok_step(&app, &team.second, &id, "approve", json!({})).await;
            if number == 0 || kind == "wechat_article" {
                let details =
                    json!({"channel": "公众号", "external_url": "https://example.org/a", "published_at": published_at});
                ok_step(&app, &team.second, &id, "publish", details).await;
            }
        }
    }
    app.create_work(&team.author, work_json("reform_proposal", "待申报")).await;
    let stats = app.get("/api/v1/stats", &team.first).await.json();
    assert_eq!(stats["created"], json!({"micro_film": 1, "weibo_post": 2, "wechat_article": 3, "reform_proposal": 1}));
    assert_eq!(stats["published"], json!({"micro_film": 1, "weibo_post": 1, "wechat_article": 3}));
    assert_eq!(stats["by_status"], json!({"published": 5, "approved": 1, "draft": 1}));
    assert_eq!(stats["review_turnaround"]["wechat_article"]["count"], 3);
    assert_eq!(stats["review_turnaround"]["micro_film"]["count"], 1, "a film is decided once, by the second sign-off");
    assert!(stats["review_turnaround"]["weibo_post"]["median_ms"].as_i64().unwrap() >= 0);
    let by_unit = app.get("/api/v1/stats?group_by=unit", &team.first).await.json();
    assert_eq!(by_unit["created"]["政治处"], made);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(app.get("/api/v1/stats?group_by=month", &team.first).await.json()["created"][&month], made + 1);
    assert_eq!(app.get("/api/v1/stats?group_by=color", &team.first).await.error_code(), "invalid-query-parameter");
    let csv = app.get("/api/v1/stats/export?format=csv", &team.first).await;
    assert_eq!(csv.header("content-type").unwrap(), "text/csv; charset=utf-8");
    let text = csv.text();
    assert!(
        text.starts_with("\u{FEFF}标题,类型,状态,单位,发布渠道,链接,发布时间,创建时间,发布平台,最新数据\r\n"),
        "{text}"
    );
    assert!(text.contains("微信文章,已发布,政治处,公众号"));
    assert!(text.contains(" +08:00"), "times are Beijing time with the offset stated: {text}");
    assert_eq!(text.lines().count(), 1 + made as usize + 1);
    let xlsx = app.get("/api/v1/stats/export?format=xlsx", &team.first).await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with(b"PK\x03\x04"), "an xlsx is a zip");
    assert!(xlsx.header("content-disposition").unwrap().ends_with(".xlsx\""));
}

fn verify_audit(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_microcat"))
        .args(["audit", "verify", "--database-url", &app.settings.database_url])
        .output()
        .unwrap()
}

#[actix_web::test]
async fn the_audit_trail_records_every_change_and_detects_tampering() {
    let app = TestApp::spawn().await;
    let team = team(&app).await;
    let post = id_of(&app.create_work(&team.author, work_json("weibo_post", "原标题")).await);
    let edit = json!({"version": 1, "title": "新标题", "tags": ["反诈"]});
    app.patch(&format!("/api/v1/works/{post}"), &team.author, &edit).await;
    ok_step(&app, &team.author, &post, "submit", json!({})).await;
    app.post(&format!("/api/v1/works/{post}/comments"), &team.first, &json!({"body": "收到"})).await;
    assert_eq!(app.try_login("author", "wrong-password").await.status, 401);
    app.patch(&format!("/api/v1/users/{}", team.second.user_id), &app.admin, &json!({"roles": ["reviewer", "staff"]}))
        .await;
    let history = app.get(&format!("/api/v1/works/{post}/history"), &team.author).await.json();
    let updated = history["items"].as_array().unwrap().iter().find(|entry| entry["action"] == "work.updated").unwrap();
    assert_eq!(updated["details"]["title"], json!({"before": "原标题", "after": "新标题"}));
    // Lists are recorded as their stored JSON text, as they always were.
    assert_eq!(updated["details"]["tags"]["after"], "[\"反诈\"]");
    assert_eq!(updated["actor_id"], team.author.user_id);
    assert_eq!(updated["client_addr"], "127.0.0.1");
    let failed = app.get("/api/v1/audit?action=login.failed", &app.admin).await.json();
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["details"]["username"], "author");
    let roles = app.get("/api/v1/audit?action=user.updated", &app.admin).await.json();
    assert_eq!(roles["items"][0]["details"]["roles"]["after"], json!(["reviewer", "staff"]));
    assert_eq!(app.get("/api/v1/audit", &team.first).await.status, 403);

    let intact = verify_audit(&app);
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("chain intact"));
    app.execute_sql("UPDATE audit_log SET details = '{\"title\":\"篡改\"}' WHERE seq = 3");
    let edited = verify_audit(&app);
    assert!(!edited.status.success());
    assert!(
        String::from_utf8_lossy(&edited.stderr).contains("broken at entry 3"),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
}

#[actix_web::test]
async fn removing_the_newest_audit_entry_is_detected_too() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.create_work(&author, work_json("weibo_post", "一")).await;
    app.create_work(&author, work_json("weibo_post", "二")).await;
    app.execute_sql("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)");
    let output = verify_audit(&app);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("were removed"));
    let health = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200);
}

#[actix_web::test]
async fn assigned_team_members_see_the_draft_and_take_production_steps() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let camera = app.user_with_roles("camera", &[Role::Contributor]).await;
    let outsider = app.user_with_roles("outsider", &[Role::Contributor]).await;
    let film = app
        .create_work(&author, json!({"kind": "micro_film", "title": "分工拍摄", "assignees": [camera.user_id]}))
        .await;
    let id = id_of(&film);
    assert_eq!(app.get(&format!("/api/v1/works/{id}"), &camera).await.status, 200);
    assert_eq!(app.get("/api/v1/works", &camera).await.json()["total"], 1);
    assert_eq!(app.get(&format!("/api/v1/works/{id}"), &outsider).await.status, 404);
    crate::search::wait_indexed(&app).await;
    let found = app
        .get(
            &format!(
                "/api/v1/search?q={}",
                url::form_urlencoded::byte_serialize("分工".as_bytes()).collect::<String>()
            ),
            &camera,
        )
        .await
        .json();
    assert_eq!(found["total"], 1, "assignees find the work in search too");
    assert_eq!(ok_step(&app, &camera, &id, "start_shooting", json!({})).await["status"], "shooting");
    let edit = app.patch(&format!("/api/v1/works/{id}"), &camera, &json!({"version": 2, "title": "改名"})).await;
    assert_eq!(edit.status, 403, "fields stay the creator's");
}
