//! Bad input always gets the JSON envelope with a stable code and the right status — never a
//! 500, never HTML.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{TestApp, work_json};

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(
    name: &'static str,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        name,
        method: Method::POST,
        path: "/api/v1/works".into(),
        content_type: "application/json",
        body: body.into(),
        status,
        code,
        field,
    }
}

fn get(name: &'static str, path: &str, status: u16, code: &'static str, field: Option<&'static str>) -> Case {
    Case {
        name,
        method: Method::GET,
        path: path.into(),
        content_type: "application/json",
        body: vec![],
        status,
        code,
        field,
    }
}

fn bad_inputs(existing: &str) -> Vec<Case> {
    let huge_title =
        serde_json::to_vec(&json!({"kind": "weibo_post", "title": "标".repeat(10 * 1024 * 1024 / 3)})).unwrap();
    let long_title = serde_json::to_vec(&work_json("weibo_post", &"标".repeat(201))).unwrap();
    let big_body =
        serde_json::to_vec(&json!({"kind": "weibo_post", "title": "t", "body": "a".repeat(1024 * 1024 + 1)})).unwrap();
    let deep = format!(r#"{{"kind":"weibo_post","title":"t","tags":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    vec![
        case("malformed json", "{\"kind\": \"weibo_post\", \"title\": ", 400, "malformed-json", None),
        case("not json at all", "kind=weibo_post", 400, "malformed-json", None),
        case(
            "invalid utf-8",
            b"{\"kind\":\"weibo_post\",\"title\":\"\xff\xfe\"}".to_vec(),
            400,
            "malformed-json",
            None,
        ),
        case("deeply nested", deep, 422, "invalid-field", Some("tags[0]")),
        case("wrong type for title", r#"{"kind":"weibo_post","title":42}"#, 422, "invalid-field", Some("title")),
        case(
            "wrong type for tags",
            r#"{"kind":"weibo_post","title":"t","tags":"反诈"}"#,
            422,
            "invalid-field",
            Some("tags"),
        ),
        case(
            "wrong type in credits",
            r#"{"kind":"weibo_post","title":"t","credits":[{"name":1,"role":"导演"}]}"#,
            422,
            "invalid-field",
            Some("credits[0].name"),
        ),
        case("missing title", r#"{"kind":"weibo_post"}"#, 422, "field-required", Some("title")),
        case("blank title", r#"{"kind":"weibo_post","title":"   "}"#, 422, "field-required", Some("title")),
        case("title over 200 characters", long_title, 422, "field-too-long", Some("title")),
        case("10 MB title", huge_title, 413, "payload-too-large", None),
        case("body over 1 MiB", big_body, 422, "field-too-long", Some("body")),
        case("unknown kind", r#"{"kind":"podcast","title":"t"}"#, 422, "invalid-field", Some("kind")),
        case("unknown field", r#"{"kind":"weibo_post","title":"t","owner":"me"}"#, 422, "unknown-field", Some("owner")),
        case(
            "bad url",
            r#"{"kind":"weibo_post","title":"t","external_url":"javascript:alert(1)"}"#,
            422,
            "invalid-field",
            Some("external_url"),
        ),
        case(
            "bad date",
            r#"{"kind":"weibo_post","title":"t","published_at":"昨天"}"#,
            422,
            "invalid-field",
            Some("published_at"),
        ),
        case("json array instead of object", "[]", 422, "invalid-field", Some("body")),
        Case {
            content_type: "text/plain",
            ..case("wrong content type", r#"{"kind":"weibo_post","title":"t"}"#, 415, "unsupported-content-type", None)
        },
        get("negative page", "/api/v1/works?page=-1", 400, "invalid-query-parameter", Some("page")),
        get("huge page", "/api/v1/works?page=99999999999999999999", 400, "invalid-query-parameter", Some("page")),
        get("page zero", "/api/v1/works?page=0", 400, "invalid-query-parameter", Some("page")),
        get("per_page too large", "/api/v1/works?per_page=1000", 400, "invalid-query-parameter", Some("per_page")),
        get("non-numeric page", "/api/v1/works?page=abc", 400, "invalid-query-parameter", Some("page")),
        get("unknown kind filter", "/api/v1/works?kind=podcast", 400, "invalid-query-parameter", Some("kind")),
        get("unknown status filter", "/api/v1/works?status=flying", 400, "invalid-query-parameter", Some("status")),
        get("bad date filter", "/api/v1/works?from=last-week", 400, "invalid-query-parameter", Some("from")),
        get("bad sort", "/api/v1/works?sort=random", 400, "invalid-query-parameter", Some("sort")),
        get("non-uuid id", "/api/v1/works/..%2F..%2Fetc%2Fpasswd", 400, "invalid-path-parameter", None),
        get(
            "unknown work",
            &format!("/api/v1/works/{}", microcat::domain::ids::WorkId::generate()),
            404,
            "work-not-found",
            None,
        ),
        get("unknown api route", "/api/v1/nothing-here", 404, "route-not-found", None),
        Case {
            method: Method::PUT,
            ..get("wrong method", &format!("/api/v1/works/{existing}"), 405, "method-not-allowed", None)
        },
    ]
}

#[actix_web::test]
async fn every_kind_of_bad_input_gets_the_envelope_with_a_stable_code() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let existing = app.create_work(&author, work_json("weibo_post", "existing")).await;
    let cases = bad_inputs(existing["id"].as_str().unwrap());
    assert!(cases.len() >= 12);
    let bearer = format!("Bearer {}", author.token);
    for case in cases {
        let headers = [("authorization", bearer.as_str()), ("content-type", case.content_type)];
        let reply = app.raw(case.method.clone(), &case.path, &headers, case.body).await;
        assert_eq!(reply.status, case.status, "{}: {}", case.name, reply.text());
        assert!(reply.header("content-type").unwrap_or_default().starts_with("application/json"), "{}", case.name);
        let envelope = reply.json();
        assert_eq!(envelope["error"]["code"], case.code, "{}: {}", case.name, reply.text());
        let message = envelope["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.ends_with('.'), "{}: {message}", case.name);
        if let Some(field) = case.field {
            assert_eq!(envelope["error"]["field"], field, "{}: {}", case.name, reply.text());
        }
    }
    assert_eq!(app.get("/api/v1/works", &author).await.json()["total"], 1, "nothing was stored by bad input");
}

#[actix_web::test]
async fn limits_are_named_in_messages() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let long = app.post("/api/v1/works", &author, &work_json("weibo_post", &"长".repeat(201))).await;
    assert!(long.json()["error"]["message"].as_str().unwrap().contains("200 characters"));
    let page = app.get("/api/v1/works?per_page=500", &author).await;
    assert!(page.json()["error"]["message"].as_str().unwrap().contains("between 1 and 100"));
}

#[actix_web::test]
async fn unknown_pages_outside_the_api_are_an_html_404_naming_the_code() {
    let app = TestApp::spawn().await;
    let reply = app.request(Method::GET, "/definitely/not/here", None, None).await;
    assert_eq!(reply.status, 404);
    assert!(reply.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(reply.header("content-security-policy").unwrap_or_default().contains("script-src 'self'"));
    assert!(reply.text().contains("route-not-found"));
}
