//! The compliance check (#18): personal data and listed words found on every save with a
//! masked excerpt; approval refused with `compliance-blocked` until each block finding is
//! fixed (an edit, or "mask it") or overridden with a reason; review findings acknowledged by
//! the deciding reviewer; the matched values never in the audit trail, notices or chat
//! messages; word lists managed by admins. Runs on both databases.

use diesel::RunQueryDsl;
use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_error, assert_error_field, step, work_json};

const ID_NUMBER: &str = "320102199003071239";
const MOBILE: &str = "13812345678";

fn id_of(work: &Value) -> String {
    work["id"].as_str().unwrap().to_owned()
}

async fn findings(app: &TestApp, session: &Session, work: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/works/{work}/findings"), session).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["items"].as_array().unwrap().clone()
}

fn find<'a>(items: &'a [Value], category: &str) -> &'a Value {
    items.iter().find(|item| item["category"] == category).unwrap_or_else(|| panic!("no {category} in {items:?}"))
}

/// Every stored text of the tables a value could travel to, one line per row.
fn stored_texts(app: &TestApp) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let tables = [
        ("works", "COALESCE(title, '') || '|' || COALESCE(body, '') || '|' || COALESCE(summary, '')"),
        ("findings", "field || '|' || excerpt || '|' || COALESCE(override_reason, '')"),
        ("audit_log", "details"),
        ("notifications", "text"),
        ("webhook_deliveries", "title || '|' || text"),
        ("comments", "body"),
    ];
    let mut conn = app.db.connection().unwrap();
    let mut lines = Vec::new();
    for (table, columns) in tables {
        let query = format!("SELECT CAST({columns} AS TEXT) AS line FROM {table}");
        let rows = diesel::sql_query(query).load::<Line>(&mut *conn).unwrap();
        lines.extend(rows.into_iter().map(|row| (table.to_owned(), row.line)));
    }
    lines
}

#[actix_web::test]
async fn blocked_until_fixed_masked_or_overridden_then_published() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let first = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let second = app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    // A robot that is never reached: its queued messages are what we look at.
    let hook =
        json!({"kind": "wecom", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=x", "events": ["review_waiting"]});
    assert_eq!(app.post("/api/v1/webhooks", &app.admin, &hook).await.status, 201);

    let body = format!("老人身份证号{ID_NUMBER}，家属电话138-1234-5678，驾驶苏A12345。本文系内部资料。");
    let mut fields = work_json("wechat_article", &format!("走失老人已找到（家属{MOBILE}）"));
    fields["body"] = json!(body);
    let work = app.create_work(&author, fields).await;
    let id = id_of(&work);
    // ID, two mobiles (title and body) and the listed word block; the plate asks for review.
    assert_eq!(work["findings"], json!({"block": 4, "review": 1}));

    let items = findings(&app, &author, &id).await;
    let card = find(&items, "id_card");
    assert_eq!(card["excerpt"], "3201**********1239");
    assert_eq!(
        (card["field"].as_str(), card["level"].as_str(), card["status"].as_str()),
        (Some("body"), Some("block"), Some("open"))
    );
    let chars: Vec<char> = body.chars().collect();
    let (start, end) = (card["start"].as_u64().unwrap() as usize, card["end"].as_u64().unwrap() as usize);
    assert_eq!(chars[start..end].iter().collect::<String>(), ID_NUMBER);
    assert_eq!(find(&items, "plate")["excerpt"], "苏A***45");
    assert_eq!(find(&items, "涉密标识")["excerpt"], "内部资料");
    assert!(items.iter().all(|item| !item["excerpt"].as_str().unwrap().contains(MOBILE)));

    // "Mask it" on the ID: an audited edit that fixes the finding.
    let mask = app
        .post(&format!("/api/v1/works/{id}/findings/{}/mask", card["id"].as_str().unwrap()), &author, &json!({}))
        .await;
    assert_eq!(mask.status, 200, "{}", mask.text());
    assert!(mask.json()["body"].as_str().unwrap().contains("老人身份证号3201**********1239，"));
    assert_eq!(mask.json()["findings"], json!({"block": 3, "review": 1}));
    let masked_again = app
        .post(&format!("/api/v1/works/{id}/findings/{}/mask", card["id"].as_str().unwrap()), &author, &json!({}))
        .await;
    assert_error(&masked_again, 409, "finding-not-open");

    // A listed word is not personal data: it is edited, not masked; a stale page masks nothing.
    let word = find(&findings(&app, &author, &id).await, "涉密标识")["id"].as_str().unwrap().to_owned();
    let mask_word = format!("/api/v1/works/{id}/findings/{word}/mask");
    assert_error(&app.post(&mask_word, &author, &json!({})).await, 409, "finding-not-maskable");
    assert_error(&app.post(&mask_word, &author, &json!({"version": 1})).await, 409, "version-conflict");
    let unknown =
        app.post(&format!("/api/v1/works/{id}/findings/nonesuch/override"), &first, &json!({"reason": "x"})).await;
    assert_error(&unknown, 404, "finding-not-found");

    // An edit that removes the listed word and the title's number fixes those.
    let current = app.get(&format!("/api/v1/works/{id}"), &author).await.json();
    let edited_body = current["body"].as_str().unwrap().replace("本文系内部资料。", "");
    let edit = json!({"version": current["version"], "body": edited_body, "title": "走失老人已找到"});
    let edited = app.patch(&format!("/api/v1/works/{id}"), &author, &edit).await;
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json()["findings"], json!({"block": 1, "review": 1}));
    let items = findings(&app, &author, &id).await;
    assert_eq!(find(&items, "id_card")["status"], "fixed");
    assert_eq!(find(&items, "涉密标识")["status"], "fixed");
    let mobile = items.iter().find(|item| item["category"] == "mobile" && item["status"] == "open").unwrap().clone();

    assert_eq!(step(&app, &author, &id, "submit", json!({})).await.status, 200);
    let refused = step(&app, &first, &id, "approve", json!({})).await;
    assert_error(&refused, 409, "compliance-blocked");
    let listed = refused.json()["error"]["findings"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["excerpt"], "138-****-5678");

    // A reviewer credited on the work may not override its findings.
    let credited = app.user_with_roles("credited", &[Role::Reviewer]).await;
    app.execute_sql(&format!(
        "UPDATE works SET credits = '[{{\"name\":\"credited\",\"role\":\"摄影\"}}]' WHERE id = '{id}'"
    ));
    let by_credited = app
        .post(
            &format!("/api/v1/works/{id}/findings/{}/override", mobile["id"].as_str().unwrap()),
            &credited,
            &json!({"reason": "x"}),
        )
        .await;
    assert_error(&by_credited, 403, "self-review");
    app.execute_sql(&format!("UPDATE works SET credits = '[]' WHERE id = '{id}'"));
    // Only a reviewer overrides, and only with a reason.
    let override_path = format!("/api/v1/works/{id}/findings/{}/override", mobile["id"].as_str().unwrap());
    assert_error(&app.post(&override_path, &author, &json!({"reason": "家属同意"})).await, 403, "forbidden");
    assert_error_field(
        &app.post(&override_path, &first, &json!({"reason": "  "})).await,
        422,
        "field-required",
        "reason",
    );
    let overridden = app.post(&override_path, &first, &json!({"reason": "家属要求公开联系方式以便寻人"})).await;
    assert_eq!(overridden.status, 200, "{}", overridden.text());
    let overridden = overridden.json();
    assert_eq!(overridden["status"], "overridden");
    assert_eq!(overridden["override"]["reason"], "家属要求公开联系方式以便寻人");
    assert_eq!(overridden["override"]["by_name"], "chushen");

    // The plate needs the deciding reviewer's acknowledgement.
    assert_error(&step(&app, &first, &id, "approve", json!({})).await, 409, "compliance-unacknowledged");
    let approved = step(&app, &first, &id, "approve", json!({"acknowledge_findings": true})).await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let publish = json!({"channel": "公众号", "external_url": "https://mp.weixin.qq.com/s/x", "published_at": "2026-05-01T08:00:00+08:00", "acknowledge_findings": true});
    let published = step(&app, &second, &id, "publish", publish).await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["findings"], json!({"block": 0, "review": 1}));
    let plate = find(&findings(&app, &first, &id).await, "plate").clone();
    assert_eq!(plate["acknowledged"]["by_name"], "zhongshen");
    // Staff read the published work, not its production notes.
    let staff = app.user_with_roles("staff", &[Role::Staff]).await;
    assert_eq!(app.get(&format!("/api/v1/works/{id}"), &staff).await.status, 200);
    assert_error(&app.get(&format!("/api/v1/works/{id}/findings"), &staff).await, 403, "forbidden");

    // The trail says who, when, why and which; the values themselves are nowhere but the text.
    let history = app.get(&format!("/api/v1/works/{id}/history"), &app.admin).await.json();
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().filter_map(|entry| entry["action"].as_str()).collect();
    for expected in ["work.masked", "finding.overridden", "finding.acknowledged"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let lines = stored_texts(&app);
    for (table, line) in &lines {
        assert!(!line.contains(ID_NUMBER), "the ID number is stored in {table}: {line}");
        if table != "works" {
            assert!(
                !line.contains(MOBILE) && !line.contains("138-1234-5678"),
                "the mobile is stored in {table}: {line}"
            );
        }
    }
    assert!(lines.iter().any(|(table, line)| table == "webhook_deliveries" && line.contains("走失老人")));
    assert!(lines.iter().any(|(table, line)| table == "audit_log" && line.contains("家属要求公开联系方式以便寻人")));
}

#[actix_web::test]
async fn word_lists_are_admins_and_a_change_rechecks_works() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("reviewer", &[Role::Reviewer]).await;
    let mut fields = work_json("weibo_post", "提醒");
    fields["body"] = json!("谨防詐*騙电话，不信陌生来电。");
    let work = app.create_work(&author, fields).await;
    assert_eq!(work["findings"], json!({"block": 0, "review": 0}));

    let list =
        json!({"name": "涉诈词表", "category": "涉诈", "level": "review", "terms": "诈骗\n刷单返利\t涉诈\tblock\n"});
    assert_error(&app.post("/api/v1/wordlists", &reviewer, &list).await, 403, "forbidden");
    let created = app.post("/api/v1/wordlists", &app.admin, &list).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let list_id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json()["term_count"], 2);

    // The sweep checks the work again with the new list: traditional script and noise folded.
    let path = format!("/api/v1/works/{}", id_of(&work));
    let mut counts = Value::Null;
    for _ in 0..100 {
        counts = app.get(&path, &author).await.json()["findings"].clone();
        if counts["review"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counts, json!({"block": 0, "review": 1}));
    let items = findings(&app, &author, &id_of(&work)).await;
    assert_eq!((items[0]["category"].as_str(), items[0]["excerpt"].as_str()), (Some("涉诈"), Some("詐*騙")));

    // Plain-text upload replaces the terms; a bad line is named.
    let terms_path = format!("/api/v1/wordlists/{list_id}/terms");
    let bad = app
        .raw(
            actix_web::http::Method::PUT,
            &terms_path,
            &[("authorization", &format!("Bearer {}", app.admin.token)), ("content-type", "text/plain; charset=utf-8")],
            "诈骗\t涉诈\tsometimes\n".as_bytes().to_vec(),
        )
        .await;
    assert_error_field(&bad, 422, "invalid-field", "terms");
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("line 1"));
    let good = app
        .raw(
            actix_web::http::Method::PUT,
            &terms_path,
            &[("authorization", &format!("Bearer {}", app.admin.token)), ("content-type", "text/plain")],
            "\u{FEFF}刷单\n返利\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.text());
    assert_eq!(good.json()["term_count"], 2);

    // The try box: reviewers and admins.
    let tried = app.post("/api/v1/compliance/check", &reviewer, &json!({"text": "刷 单有风险，电话13912345678"})).await;
    assert_eq!(tried.status, 200, "{}", tried.text());
    let categories: Vec<String> = tried.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["category"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(categories, ["涉诈", "mobile"]);
    assert_error(&app.post("/api/v1/compliance/check", &author, &json!({"text": "x"})).await, 403, "forbidden");
    assert_error_field(
        &app.post("/api/v1/wordlists", &app.admin, &json!({"name": "x", "category": "mobile", "level": "block"})).await,
        422,
        "invalid-field",
        "category",
    );
    assert_eq!(app.delete(&format!("/api/v1/wordlists/{list_id}"), &app.admin).await.status, 204);
    assert_error(&app.get(&format!("/api/v1/wordlists/{list_id}"), &app.admin).await, 404, "wordlist-not-found");
    let lists = app.get("/api/v1/wordlists", &app.admin).await.json();
    assert_eq!(lists["items"][0]["name"], "默认词表");
}
