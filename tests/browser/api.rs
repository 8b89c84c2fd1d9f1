//! Setting the scene through the JSON API, which is faster than clicking through it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

/// The phrase the search journey looks for (反诈: fighting telecom fraud).
pub const PHRASE: &str = "反诈宣传进万家";

/// A work's id.
pub fn id_of(work: &Value) -> String {
    work["id"].as_str().unwrap_or_else(|| panic!("no id in {work}")).to_owned()
}

/// Percent-encodes a query parameter.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A work as the admin sees it.
pub async fn work(app: &TestApp, id: &str) -> Value {
    let reply = app.get(&format!("/api/v1/works/{id}"), &app.admin).await;
    assert_eq!(reply.status, 200, "reading {id}: {}", reply.text());
    reply.json()
}

/// A work's status.
pub async fn status_of(app: &TestApp, id: &str) -> String {
    work(app, id).await["status"].as_str().unwrap_or_default().to_owned()
}

/// Moves a work one step as `session` (panics unless 200).
pub async fn transition(app: &TestApp, session: &Session, id: &str, action: &str) -> Value {
    let version = work(app, id).await["version"].clone();
    let body = json!({ "action": action, "version": version });
    let reply = app.post(&format!("/api/v1/works/{id}/transitions"), session, &body).await;
    assert_eq!(reply.status, 200, "{action} on {id}: {}", reply.text());
    reply.json()
}

/// A micro-film by `author`, taken through shooting and editing and submitted for review.
pub async fn submitted_film(app: &TestApp, author: &Session, title: &str) -> String {
    let body = json!({
        "kind": "micro_film",
        "title": title,
        "summary": "社区民警与村民一起守护平安乡村的故事。",
        "body": "清晨，社区民警走村入户……",
        "unit": "宣传科",
        "tags": ["平安乡村"],
    });
    let id = id_of(&app.create_work(author, body).await);
    for action in ["start_shooting", "start_editing", "submit"] {
        transition(app, author, &id, action).await;
    }
    assert_eq!(status_of(app, &id).await, "submitted");
    id
}

/// Waits until a search for `phrase` as `session` finds at least one work.
pub async fn wait_searchable(app: &TestApp, session: &Session, phrase: &str) {
    let path = format!("/api/v1/search?q={}", encode(phrase));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = app.get(&path, session).await;
        if reply.status == 200 && reply.json()["total"].as_u64().unwrap_or(0) >= 1 {
            return;
        }
        assert!(Instant::now() < deadline, "the index never found {phrase:?}: {} {}", reply.status, reply.text());
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}
