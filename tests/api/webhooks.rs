//! Outgoing webhooks (#17): an admin points a 企业微信 robot at events; a submission reaches a
//! local receiver in the robot's markdown format with a link back, after a retry; a robot that
//! never answers ends `failed` with its error, visible to admins. No external network.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_field, work_json};

/// What a robot received: whether it took each request, and the body.
type Received = Arc<Mutex<Vec<(bool, String)>>>;

/// A robot on loopback: `ok(n)` says whether to take its `n`-th request (1-based) with
/// `{"errcode":0}` or answer 500; it keeps (taken, body) of each.
fn robot(ok: impl Fn(usize) -> bool + Send + 'static) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cgi-bin/webhook/send?key=test", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let body = read_request(&mut reader);
            let taken = {
                let mut bodies = seen.lock().unwrap();
                let taken = ok(bodies.len() + 1);
                bodies.push((taken, body));
                taken
            };
            let (status, answer) = if taken {
                ("200 OK", r#"{"errcode":0,"errmsg":"ok"}"#)
            } else {
                ("500 Internal Server Error", "busy")
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            // Close our side and wait for the client's, so it never meets a reset while reading.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = reader.read_to_end(&mut Vec::new());
        }
    });
    (url, bodies)
}

/// An HTTP request's body (headers read up to the blank line, then `content-length` bytes).
fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> String {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

async fn deliveries_until(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let hooks = app.get("/api/v1/webhooks", &app.admin).await.json();
        if done(&hooks) {
            return hooks;
        }
        assert!(Instant::now() < deadline, "deliveries never settled: {hooks}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_submission_reaches_the_group_robot_after_a_retry_and_a_dead_robot_is_shown_failed() {
    let app = TestApp::spawn_with(|settings| {
        settings.webhook_retry_base_ms = 100;
        settings.webhook_max_attempts = 3;
    })
    .await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let (url, bodies) = robot(|request| request > 1);
    let hooks = "/api/v1/webhooks";
    let wecom = json!({"kind": "wecom", "url": url, "events": ["review_waiting", "published"]});
    assert_error(&app.post(hooks, &author, &wecom).await, 403, "forbidden");
    assert_error_field(
        &app.post(hooks, &app.admin, &json!({"kind": "slack", "url": url, "events": ["comment"]})).await,
        422,
        "invalid-field",
        "kind",
    );
    assert_error_field(
        &app.post(hooks, &app.admin, &json!({"kind": "wecom", "url": url, "events": []})).await,
        422,
        "field-required",
        "events",
    );
    assert_error_field(
        &app.post(hooks, &app.admin, &json!({"kind": "wecom", "url": "ftp://x", "events": ["comment"]})).await,
        422,
        "invalid-field",
        "url",
    );
    let created = app.post(hooks, &app.admin, &wecom).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dead = json!({"kind": "dingtalk", "url": format!("http://{closed}/robot/send?access_token=x"), "events": ["review_waiting"]});
    assert_eq!(app.post(hooks, &app.admin, &dead).await.status, 201);

    let work = app.create_work(&author, work_json("weibo_post", "防溺水提醒")).await;
    let id = work["id"].as_str().unwrap();
    let version = work["version"].clone();
    let submitted = app
        .post(&format!("/api/v1/works/{id}/transitions"), &author, &json!({"action": "submit", "version": version}))
        .await;
    assert_eq!(submitted.status, 200, "the request does not wait on the robots: {}", submitted.text());

    let settled = deliveries_until(&app, |hooks| {
        let states: Vec<&str> = hooks["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|hook| hook["deliveries"][0]["state"].as_str())
            .collect();
        states.len() == 2 && !states.contains(&"pending")
    })
    .await;
    let by_kind = |kind: &str| {
        settled["items"].as_array().unwrap().iter().find(|hook| hook["kind"] == kind).unwrap()["deliveries"][0].clone()
    };
    let delivered = by_kind("wecom");
    assert_eq!(
        (delivered["state"].as_str(), delivered["attempts"].as_i64()),
        (Some("delivered"), Some(2)),
        "{delivered}"
    );
    let failed = by_kind("dingtalk");
    assert_eq!((failed["state"].as_str(), failed["attempts"].as_i64()), (Some("failed"), Some(3)), "{failed}");
    assert!(failed["last_error"].as_str().is_some_and(|error| !error.is_empty()), "the admin sees why: {failed}");

    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "one failure, one success: {bodies:?}");
    let message: Value = serde_json::from_str(&bodies[1].1).unwrap();
    assert_eq!(message["msgtype"], "markdown");
    let content = message["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("《防溺水提醒》等待你审核"), "{content}");
    assert!(content.contains(&format!("/works/{id})")), "a link back to the work: {content}");

    let hook_id = settled["items"][0]["id"].as_str().unwrap();
    let patched = app.patch(&format!("{hooks}/{hook_id}"), &app.admin, &json!({"events": ["published"]})).await;
    assert_eq!(patched.json()["events"], json!(["published"]));
    assert_eq!(app.delete(&format!("{hooks}/{hook_id}"), &app.admin).await.status, 204);
    assert_error(&app.delete(&format!("{hooks}/{hook_id}"), &app.admin).await, 404, "webhook-not-found");
}

#[actix_web::test]
async fn a_queued_delivery_survives_a_restart() {
    let app = TestApp::spawn_with(|settings| {
        settings.webhook_retry_base_ms = 1_500;
        settings.webhook_max_attempts = 6;
    })
    .await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    // The robot refuses everything until the server has been restarted.
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let switch = up.clone();
    let (url, bodies) = robot(move |_| switch.load(std::sync::atomic::Ordering::SeqCst));
    let hook = json!({"kind": "wecom", "url": url, "events": ["review_waiting"]});
    assert_eq!(app.post("/api/v1/webhooks", &app.admin, &hook).await.status, 201);
    let work = app.create_work(&author, work_json("weibo_post", "重启前提交")).await;
    let step = json!({"action": "submit", "version": work["version"]});
    app.post(&format!("/api/v1/works/{}/transitions", work["id"].as_str().unwrap()), &author, &step).await;
    let failing =
        deliveries_until(&app, |hooks| hooks["items"][0]["deliveries"][0]["attempts"].as_i64() >= Some(1)).await;
    assert_eq!(failing["items"][0]["deliveries"][0]["state"], "pending", "{failing}");

    let app = app.restart().await;
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let settled = deliveries_until(&app, |hooks| hooks["items"][0]["deliveries"][0]["state"] == "delivered").await;
    assert!(settled["items"][0]["deliveries"][0]["attempts"].as_i64() >= Some(2), "{settled}");
    let answered: Vec<bool> = bodies.lock().unwrap().iter().map(|(ok, _)| *ok).collect();
    assert_eq!(answered.iter().filter(|ok| **ok).count(), 1, "taken once, never twice: {answered:?}");
}
