//! Sessions: login, cookies, logout, expiry, throttling, disabled accounts and CSRF.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_error, work_json};

#[actix_web::test]
async fn login_returns_a_token_and_secure_cookies() {
    let app = TestApp::spawn().await;
    app.user_with_roles("author", &[Role::Contributor, Role::Staff]).await;
    let reply = app.try_login("Author", PASSWORD).await;
    assert_eq!(reply.status, 200, "usernames are case-insensitive: {}", reply.text());
    let body = reply.json();
    assert_eq!(body["user"]["username"], "author");
    assert_eq!(body["user"]["roles"], json!(["contributor", "staff"]));
    assert!(body["token"].as_str().unwrap().len() > 40);
    assert!(body["user"].get("password_hash").is_none());
    let cookies = reply.set_cookies();
    let session = cookies.iter().find(|cookie| cookie.starts_with("microcat_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    let csrf = cookies.iter().find(|cookie| cookie.starts_with("microcat_csrf=")).expect("csrf cookie");
    assert!(!csrf.contains("HttpOnly"), "scripts read the csrf cookie: {csrf}");
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::spawn().await;
    app.user_with_roles("author", &[Role::Contributor]).await;
    let wrong = app.try_login("author", "not-the-password").await;
    let unknown = app.try_login("ghost", "not-the-password").await;
    assert_error(&wrong, 401, "invalid-credentials");
    assert_error(&unknown, 401, "invalid-credentials");
    assert_eq!(wrong.json()["error"]["message"], unknown.json()["error"]["message"]);
}

#[actix_web::test]
async fn me_describes_the_caller() {
    let app = TestApp::spawn().await;
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let me = app.get("/api/v1/me", &reviewer).await.json();
    assert_eq!(me["user"]["username"], "judge");
    assert_eq!(me["user"]["roles"], json!(["reviewer"]));
    assert_eq!(me["csrf_token"], reviewer.csrf_token);
}

#[actix_web::test]
async fn logout_revokes_the_token() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let logout = app.delete("/api/v1/session", &author).await;
    assert_eq!(logout.status, 204);
    assert!(logout.set_cookies().iter().any(|cookie| cookie.starts_with("microcat_session=;")
        || cookie.starts_with("microcat_session=\"\"")
        || cookie.contains("Max-Age=0")));
    let after = app.get("/api/v1/me", &author).await;
    assert_error(&after, 401, "unauthenticated");
}

#[actix_web::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.execute_sql(&format!("UPDATE sessions SET expires_at = created_at WHERE user_id = '{}'", author.user_id));
    let reply = app.get("/api/v1/me", &author).await;
    assert_eq!(reply.status, 401);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("expired"));
}

#[actix_web::test]
async fn session_lifetime_follows_the_setting() {
    let app = TestApp::spawn_with(|settings| settings.session_ttl_minutes = 30).await;
    let reply = app.try_login("admin", crate::helpers::ADMIN_PASSWORD).await;
    let expires = chrono::DateTime::parse_from_rfc3339(reply.json()["expires_at"].as_str().unwrap()).unwrap();
    let minutes = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "{minutes}");
}

#[actix_web::test]
async fn repeated_failed_logins_are_throttled() {
    let app = TestApp::spawn().await;
    app.user_with_roles("author", &[Role::Contributor]).await;
    for attempt in 0..5 {
        assert_eq!(app.try_login("author", "wrong-password").await.status, 401, "attempt {attempt}");
    }
    let throttled = app.try_login("author", PASSWORD).await;
    assert_error(&throttled, 429, "too-many-attempts");
    let retry_after: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry_after));
    app.execute_sql("UPDATE users SET last_failed_login_at = '2000-01-01 00:00:00' WHERE username = 'author'");
    assert_eq!(app.try_login("author", PASSWORD).await.status, 200, "the lockout ends");
    assert_eq!(app.try_login("author", "wrong-password").await.status, 401, "and the count starts over");
    assert_eq!(app.try_login("author", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn disabled_accounts_cannot_log_in_and_lose_their_sessions() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reply = app.patch(&format!("/api/v1/users/{}", author.user_id), &app.admin, &json!({"disabled": true})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(app.get("/api/v1/me", &author).await.status, 401);
    let login = app.try_login("author", PASSWORD).await;
    assert_error(&login, 403, "account-disabled");
}

#[actix_web::test]
async fn a_recently_seen_session_loses_a_role_or_its_account_at_once() {
    let app = TestApp::spawn().await;
    let judge = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let gone = app.user_with_roles("gone", &[Role::Contributor]).await;
    // Both sessions are now in the server's short-lived session cache.
    assert_eq!(app.get("/api/v1/review-queue", &judge).await.status, 200);
    assert_eq!(app.get("/api/v1/me", &gone).await.status, 200);
    let demoted =
        app.patch(&format!("/api/v1/users/{}", judge.user_id), &app.admin, &json!({"roles": ["staff"]})).await;
    assert_eq!(demoted.status, 200, "{}", demoted.text());
    let disabled = app.patch(&format!("/api/v1/users/{}", gone.user_id), &app.admin, &json!({"disabled": true})).await;
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    assert_eq!(app.get("/api/v1/review-queue", &judge).await.status, 403, "the reviewer role is gone now");
    assert_eq!(app.get("/api/v1/me", &gone).await.status, 401, "the disabled account is out now");
}

#[actix_web::test]
async fn cookie_sessions_need_csrf_proof_for_unsafe_requests() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let cookie = format!("microcat_session={}", author.token);
    let body = serde_json::to_vec(&work_json("weibo_post", "跨站请求")).unwrap();
    let json_type = ("content-type", "application/json");
    let read = app.raw(Method::GET, "/api/v1/works", &[("cookie", &cookie)], vec![]).await;
    assert_eq!(read.status, 200, "safe requests need no proof");
    let bare = app.raw(Method::POST, "/api/v1/works", &[("cookie", &cookie), json_type], body.clone()).await;
    assert_error(&bare, 403, "csrf-rejected");
    let foreign = [("cookie", cookie.as_str()), json_type, ("origin", "http://evil.example")];
    assert_eq!(app.raw(Method::POST, "/api/v1/works", &foreign, body.clone()).await.error_code(), "csrf-rejected");
    let wrong_token = [("cookie", cookie.as_str()), json_type, ("x-csrf-token", "guess")];
    assert_eq!(app.raw(Method::POST, "/api/v1/works", &wrong_token, body.clone()).await.error_code(), "csrf-rejected");
    let with_token = [("cookie", cookie.as_str()), json_type, ("x-csrf-token", author.csrf_token.as_str())];
    assert_eq!(app.raw(Method::POST, "/api/v1/works", &with_token, body.clone()).await.status, 201);
    let origin = app.address.clone();
    let same_origin = [("cookie", cookie.as_str()), json_type, ("origin", origin.as_str())];
    assert_eq!(app.raw(Method::POST, "/api/v1/works", &same_origin, body.clone()).await.status, 201);
    let bearer = app.post("/api/v1/works", &author, &work_json("weibo_post", "令牌请求")).await;
    assert_eq!(bearer.status, 201, "bearer tokens are not sent by browsers on their own");
}
