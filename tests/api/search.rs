//! Chinese search: segmentation plus bigrams, relevance on a bureau-style set, the query
//! language, highlighting that never trusts the document, visibility in hits, totals and
//! facets, and an index that follows the database through edits, deletes, rebuilds and crashes.

use std::time::{Duration, Instant};

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{ServerProcess, Session, TestApp, assert_error_field, work_json};
use crate::search_corpus::{DOCUMENTS, QUERIES};

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn search(app: &TestApp, session: &Session, query: &str) -> Value {
    let reply = app.get(&format!("/api/v1/search?q={}&per_page=10", encode(query)), session).await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    reply.json()
}

fn hit_ids(results: &Value) -> Vec<String> {
    results["hits"].as_array().unwrap().iter().map(|hit| hit["id"].as_str().unwrap().to_owned()).collect()
}

/// Waits until the index holds exactly the live works and nothing is pending.
pub async fn wait_indexed(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = app.request(awc::http::Method::GET, "/healthz", None, None).await.json();
        if health["index"]["status"] == "ok" && health["index"]["pending_tasks"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "index never caught up: {health}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn load_corpus(app: &TestApp) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for (key, kind, title, summary, body, tags, unit, credits) in DOCUMENTS {
        let credits: Vec<Value> = credits.iter().map(|name| json!({"name": name, "role": "导演"})).collect();
        let work = app
            .create_work(&app.admin, json!({"kind": kind, "title": title, "summary": summary, "body": body, "tags": tags, "unit": unit, "credits": credits}))
            .await;
        ids.push((key.to_string(), work["id"].as_str().unwrap().to_owned()));
    }
    wait_indexed(app).await;
    ids
}

#[actix_web::test]
async fn the_relevance_set_puts_every_expected_document_in_the_top_three() {
    let app = TestApp::spawn().await;
    let ids = load_corpus(&app).await;
    assert!(DOCUMENTS.len() >= 40 && QUERIES.len() >= 30);
    let key_of = |id: &str| ids.iter().find(|(_, work)| work == id).map(|(key, _)| key.clone()).unwrap_or_default();
    let (mut relevant_in_top3, mut found_in_top10, mut expected_total, mut failures) = (0, 0, 0, Vec::new());
    for (query, expected) in QUERIES {
        let results = search(&app, &app.admin, query).await;
        let keys: Vec<String> = hit_ids(&results).iter().map(|id| key_of(id)).collect();
        expected_total += expected.len();
        relevant_in_top3 += keys.iter().take(3).filter(|key| expected.contains(&key.as_str())).count();
        found_in_top10 += expected.iter().filter(|key| keys.iter().take(10).any(|found| found == *key)).count();
        for key in *expected {
            if !keys.iter().take(3).any(|found| found == key) {
                failures.push(format!("{query}: expected {key} in top 3, got {keys:?}"));
            }
        }
    }
    let precision = relevant_in_top3 as f64 / (QUERIES.len() * 3) as f64;
    let recall = found_in_top10 as f64 / expected_total as f64;
    println!(
        "relevance set: {} documents, {} queries, precision@3 {precision:.3}, recall@10 {recall:.3}",
        DOCUMENTS.len(),
        QUERIES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[actix_web::test]
async fn hits_carry_escaped_highlights_and_facets() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app
        .create_work(&author, json!({"kind": "micro_film", "title": "<script>alert(1)</script> 守护平安", "summary": "讲述特警大队的故事", "body": "片中民警深入开展两学一做学习教育。", "unit": "特警大队"}))
        .await;
    wait_indexed(&app).await;
    let results = search(&app, &author, "两学一做").await;
    assert_eq!(results["total"], 1);
    assert_eq!(results["total_is_estimate"], false, "small counts are exact");
    let hit = &results["hits"][0];
    assert_eq!(hit["id"], work["id"]);
    assert_eq!(hit["title_html"], "&lt;script&gt;alert(1)&lt;/script&gt; 守护平安");
    assert!(hit["snippet_html"].as_str().unwrap().contains("<mark>两学一做</mark>"), "{hit}");
    assert_eq!(hit["kind"], "micro_film");
    assert_eq!(hit["status"], "planning");
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    assert!(results["took_ms"].is_u64());
    assert_eq!(results["facets"]["kind"]["micro_film"], 1);
    assert_eq!(results["facets"]["unit"]["特警大队"], 1);
    assert!(results["facets"]["year"].as_object().unwrap().contains_key(&chrono::Utc::now().format("%Y").to_string()));
    let title_hit = search(&app, &author, "守护").await;
    assert_eq!(title_hit["hits"][0]["title_html"], "&lt;script&gt;alert(1)&lt;/script&gt; <mark>守护</mark>平安");
}

#[actix_web::test]
async fn the_query_language_supports_phrases_exclusion_and_or() {
    let app = TestApp::spawn().await;
    let ids = load_corpus(&app).await;
    let id = |key: &str| ids.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let with_exclusion = hit_ids(&search(&app, &app.admin, "反诈 -老年人").await);
    assert!(with_exclusion.contains(&id("d05")));
    assert!(!with_exclusion.contains(&id("d21")), "excluded words remove documents");
    let either = hit_ids(&search(&app, &app.admin, "铁骑 OR 溺水").await);
    assert!(either.contains(&id("d34")) && either.contains(&id("d32")));
    let both = search(&app, &app.admin, "铁骑 溺水").await;
    assert_eq!(both["total"], 0, "words are ANDed");
    let phrase = hit_ids(&search(&app, &app.admin, "\"刷单返利\"").await);
    assert_eq!(phrase, vec![id("d05")]);
    let broken_phrase = search(&app, &app.admin, "\"返利刷单\"").await;
    assert_eq!(broken_phrase["total"], 0, "a phrase needs its characters in order");
}

#[actix_web::test]
async fn hostile_queries_are_cleaned_or_refused_with_a_stable_code() {
    let app = TestApp::spawn().await;
    load_corpus(&app).await;
    for query in ["\"unbalanced 刷单", "刷单 OR", "-", "((((", "刷单 \u{0} 返利", "' OR 1=1 --"] {
        let reply = app.get(&format!("/api/v1/search?q={}", encode(query)), &app.admin).await;
        assert!(
            reply.status == 200
                || (reply.status == 400
                    && ["invalid-query", "invalid-query-parameter"].contains(&reply.error_code().as_str())),
            "{query:?}: {}",
            reply.text()
        );
    }
    // Ten thousand characters (Latin: the URL of 10 000 CJK characters exceeds what HTTP
    // clients send).
    for query in ["w".repeat(10_000), "\"\" OR - ！！ ？".to_owned()] {
        let reply = app.get(&format!("/api/v1/search?q={}", encode(&query)), &app.admin).await;
        assert_error_field(&reply, 400, "invalid-query", "q");
    }
    let reply = app.get("/api/v1/search?q=x&per_page=500", &app.admin).await;
    assert_eq!(reply.error_code(), "invalid-query-parameter");
    let reply = app.get("/api/v1/search?q=x&sort=random", &app.admin).await;
    assert_eq!(reply.error_code(), "invalid-query-parameter");
    app.assert_healthy().await;
}

#[actix_web::test]
async fn staff_never_see_drafts_in_hits_totals_or_facets() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let draft = app.create_work(&author, json!({"kind": "weibo_post", "title": "反诈草稿", "unit": "刑侦大队"})).await;
    let published =
        app.create_work(&author, json!({"kind": "wechat_article", "title": "反诈文章", "unit": "网安大队"})).await;
    app.force_status(published["id"].as_str().unwrap(), "published");
    app.execute_sql(&format!(
        "INSERT INTO search_outbox (work_id, created_at) VALUES ('{}', '2026-01-01 00:00:00')",
        published["id"].as_str().unwrap()
    ));
    wait_indexed(&app).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let results = search(&app, &staff, "反诈").await;
    assert_eq!(results["total"], 1);
    assert_eq!(hit_ids(&results), vec![published["id"].as_str().unwrap().to_owned()]);
    assert!(results["facets"]["unit"].get("刑侦大队").is_none(), "{}", results["facets"]);
    assert!(results["facets"]["status"].get("draft").is_none());
    let mine = search(&app, &author, "反诈").await;
    assert_eq!(mine["total"], 2, "contributors find their own drafts");
    let other = app.user_with_roles("other", &[Role::Contributor]).await;
    assert_eq!(search(&app, &other, "反诈").await["total"], 1);
    let listed = app.get("/api/v1/search?q=&status=draft", &staff).await.json();
    assert_eq!(listed["total"], 0);
    let _ = draft;
}

#[actix_web::test]
async fn an_empty_query_lists_by_filters_newest_first() {
    let app = TestApp::spawn().await;
    load_corpus(&app).await;
    let all = app.get("/api/v1/search?q=&per_page=100", &app.admin).await.json();
    assert_eq!(all["total"], DOCUMENTS.len());
    let films = app.get("/api/v1/search?kind=micro_film", &app.admin).await.json();
    assert_eq!(films["total"], 3);
    assert_eq!(films["facets"]["kind"]["micro_film"], 3);
    let unit = app.get(&format!("/api/v1/search?unit={}", encode("交警大队")), &app.admin).await.json();
    assert_eq!(unit["total"], 6);
    let tag = app.get(&format!("/api/v1/search?tag={}&q={}", encode("微改"), encode("项目")), &app.admin).await.json();
    assert_eq!(tag["total"], 4);
    assert_eq!(app.get("/api/v1/search?to=2000-01-01", &app.admin).await.json()["total"], 0);
    let newest = app.get("/api/v1/search?q=&per_page=1", &app.admin).await.json();
    assert_eq!(newest["hits"][0]["title"], DOCUMENTS.last().unwrap().2);
}

#[actix_web::test]
async fn edits_deletes_and_restores_are_searchable_within_two_seconds() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let started = Instant::now();
    let work = app.create_work(&author, work_json("weibo_post", "铁路护路联防")).await;
    let id = work["id"].as_str().unwrap().to_owned();
    let until_found = |query: &'static str, present: bool| {
        let (app, author, id) = (&app, &author, id.clone());
        async move {
            let start = Instant::now();
            loop {
                let found = hit_ids(&search(app, author, query).await).contains(&id);
                if found == present {
                    return start.elapsed();
                }
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "{query}: not {} within 2 s",
                    if present { "found" } else { "gone" }
                );
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    until_found("护路", true).await;
    println!("create → searchable in {:?}", started.elapsed());
    app.patch(&format!("/api/v1/works/{id}"), &author, &json!({"version": 1, "title": "防溺水宣传"})).await;
    until_found("溺水", true).await;
    until_found("护路", false).await;
    app.delete(&format!("/api/v1/works/{id}"), &author).await;
    until_found("溺水", false).await;
    app.post(&format!("/api/v1/works/{id}/restore"), &app.admin, &json!({})).await;
    until_found("溺水", true).await;
}

#[actix_web::test]
async fn original_filenames_of_media_are_searchable() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "无关标题")).await;
    let id = work["id"].as_str().unwrap();
    let reply = app.upload(&author, id, "春运宣传海报.png", &crate::fixtures::png(10, 10), Some("cover")).await;
    assert_eq!(reply.status, 201);
    wait_indexed(&app).await;
    assert_eq!(hit_ids(&search(&app, &author, "宣传海报").await), vec![id.to_owned()]);
}

#[actix_web::test]
async fn health_reports_the_index_behind_until_it_catches_up() {
    let app = TestApp::spawn_with(|settings| settings.search_commit_interval_ms = 1_500).await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.create_work(&author, work_json("weibo_post", "新微博")).await;
    let health = app.request(awc::http::Method::GET, "/healthz", None, None).await.json();
    assert_eq!(health["index"]["status"], "behind", "{health}");
    assert_eq!(health["index"]["works"], 1);
    wait_indexed(&app).await;
}

#[actix_web::test]
async fn reindex_rebuilds_into_a_new_folder_and_the_server_switches_while_serving() {
    let app = TestApp::spawn().await;
    load_corpus(&app).await;
    let before = search(&app, &app.admin, "两学一做").await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"))
        .args(["reindex", "--database-url", &app.settings.database_url, "--index-dir"])
        .arg(&app.settings.index_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("indexed {} works", DOCUMENTS.len())));
    let current = std::fs::read_to_string(app.settings.index_dir.join("CURRENT")).unwrap();
    for _ in 0..40 {
        let after = search(&app, &app.admin, "两学一做").await;
        assert_eq!(hit_ids(&after), hit_ids(&before), "results stay the same across the switch");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let generations: Vec<String> = std::fs::read_dir(&app.settings.index_dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("gen-"))
        .collect();
    assert_eq!(generations, vec![current.trim().to_owned()], "the old generation is removed after the switch");
    wait_indexed(&app).await;
}

#[actix_web::test]
async fn a_crash_between_the_database_commit_and_the_index_commit_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(dir.path());
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let mut server =
        ServerProcess::start(dir.path(), &database_url, &[("MICROCAT_SEARCH_COMMIT_INTERVAL_MS", "600000")]);
    server.wait_ready(&client).await;
    let token = server.admin_token(&client).await;
    for title in ["崩溃前的微博一", "崩溃前的微博二", "崩溃前的微博三"] {
        let reply = client
            .post(format!("{}/api/v1/works", server.address))
            .bearer_auth(&token)
            .send_json(&json!({"kind": "weibo_post", "title": title}))
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 201);
    }
    let mut health = client.get(format!("{}/healthz", server.address)).send().await.unwrap();
    let health: Value = health.json().await.unwrap();
    assert_eq!(
        (health["index"]["documents"].as_u64(), health["index"]["pending_tasks"].as_u64()),
        (Some(0), Some(3)),
        "committed to the database, not yet to the index"
    );
    server.kill();
    let server = ServerProcess::start(dir.path(), &database_url, &[]);
    server.wait_ready(&client).await;
    let token = server.admin_token(&client).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut reply = client
            .get(format!("{}/api/v1/search?q={}", server.address, encode("崩溃前")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let results: Value = reply.json().await.unwrap();
        if results["total"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "replayed tasks never reached the index: {results}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
