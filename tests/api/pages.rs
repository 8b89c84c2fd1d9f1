//! The web pages at the HTTP level: login redirects, CSRF on every form, the
//! Content-Security-Policy, escaping, and form errors that keep what was typed. The browser
//! suite (`tests/browser`) drives the same pages through Chromium.

use awc::http::Method;
use microcat::domain::user::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, Reply, Session, TestApp, work_json};

pub(crate) fn cookie(session: &Session) -> String {
    format!("microcat_session={}", session.token)
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(pairs);
    body.finish().into_bytes()
}

pub(crate) async fn page(app: &TestApp, path: &str, session: &Session) -> Reply {
    app.raw(Method::GET, path, &[("cookie", &cookie(session))], Vec::new()).await
}

async fn post_form(app: &TestApp, path: &str, session: &Session, pairs: &[(&str, &str)]) -> Reply {
    let headers = [("cookie", cookie(session)), ("content-type", "application/x-www-form-urlencoded".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
    app.raw(Method::POST, path, &headers, form(pairs)).await
}

#[actix_web::test]
async fn pages_send_strangers_to_the_login_and_back() {
    let app = TestApp::spawn().await;
    for path in ["/", "/works", "/works/new", "/review", "/board", "/search?q=%E5%8F%8D%E8%AF%88", "/admin/users"] {
        let reply = app.request(Method::GET, path, None, None).await;
        assert_eq!(reply.status, 303, "{path}");
        let location = reply.header("location").unwrap();
        assert!(location.starts_with("/login?next="), "{path} → {location}");
    }
    let login = app.request(Method::GET, "/login", None, None).await;
    assert_eq!(login.status, 200);
    assert!(login.text().contains("name=\"username\"") && login.text().contains("name=\"password\""));
    let flags = login.set_cookies().join("\n");
    assert!(flags.contains("microcat_login_csrf=") && flags.contains("HttpOnly") && flags.contains("SameSite=Strict"));
}

#[actix_web::test]
async fn the_login_form_needs_its_own_token_and_then_sets_safe_cookies() {
    let app = TestApp::spawn().await;
    app.user_with_roles("zhang", &[Role::Contributor]).await;
    let no_token = form(&[("username", "zhang"), ("password", PASSWORD)]);
    let refused =
        app.raw(Method::POST, "/login", &[("content-type", "application/x-www-form-urlencoded")], no_token).await;
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("csrf-rejected"));

    let body = form(&[("username", "zhang"), ("password", PASSWORD), ("csrf", "t0ken"), ("next", "/works")]);
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", "microcat_login_csrf=t0ken")];
    let granted = app.raw(Method::POST, "/login", &headers, body).await;
    assert_eq!((granted.status, granted.header("location").as_deref()), (303, Some("/works")));
    let cookies = granted.set_cookies().join("\n");
    assert!(cookies.contains("microcat_session=") && cookies.contains("HttpOnly") && cookies.contains("SameSite=Lax"));

    let foreign =
        form(&[("username", "zhang"), ("password", PASSWORD), ("csrf", "t0ken"), ("next", "/\t/evil.example")]);
    let kept_home = app.raw(Method::POST, "/login", &headers, foreign).await;
    assert_eq!(kept_home.header("location").as_deref(), Some("/"), "a foreign next goes home");

    let wrong = form(&[("username", "zhang"), ("password", "wrong-password"), ("csrf", "t0ken")]);
    let failed = app.raw(Method::POST, "/login", &headers, wrong).await;
    assert_eq!(failed.status, 401);
    assert!(failed.text().contains("id=\"error\""));
}

#[actix_web::test]
async fn every_form_post_needs_the_session_csrf_token() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("weibo_post", "原稿")).await;
    let id = work["id"].as_str().unwrap();
    let posts = [
        ("/works/new".to_owned(), vec![("kind", "weibo_post"), ("title", "伪造")]),
        (format!("/works/{id}/edit"), vec![("title", "伪造"), ("version", "1")]),
        (format!("/works/{id}/transition"), vec![("action", "submit"), ("version", "1")]),
        (format!("/works/{id}/comments"), vec![("body", "伪造")]),
        ("/logout".to_owned(), vec![]),
        ("/admin/users".to_owned(), vec![("username", "intruder"), ("password", "intruder-password-1")]),
        (format!("/admin/users/{}", author.user_id), vec![("roles", "admin")]),
    ];
    for (path, mut pairs) in posts {
        for token in [None, Some("not-the-token")] {
            let mut sent = pairs.clone();
            if let Some(token) = token {
                sent.push(("csrf", token));
            }
            let reply = post_form(&app, &path, &author, &sent).await;
            assert_eq!(reply.status, 403, "{path} with {token:?}: {}", reply.text());
        }
        pairs.push(("csrf", ""));
    }
    let after = app.get(&format!("/api/v1/works/{id}"), &author).await.json();
    assert_eq!((after["title"].as_str(), after["status"].as_str()), (Some("原稿"), Some("draft")));
    assert_eq!(app.get("/api/v1/works", &author).await.json()["total"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/works/{id}/comments"), &author).await.json()["items"].as_array().map(Vec::len),
        Some(0)
    );
}

#[actix_web::test]
async fn pages_escape_stored_text_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let mut body = work_json("weibo_post", "<script>alert(1)</script>");
    body["body"] = json!("<img src=x onerror=alert(2)>");
    let work = app.create_work(&author, body).await;
    let id = work["id"].as_str().unwrap();
    for path in [format!("/works/{id}"), "/works".to_owned(), "/".to_owned(), "/board".to_owned()] {
        let reply = page(&app, &path, &author).await;
        assert_eq!(reply.status, 200, "{path}");
        let html = reply.text();
        assert!(!html.contains("<script>alert(1)") && !html.contains("<img src=x"), "{path} leaks markup");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || html.contains("&lt;script&gt;alert(1)"),
            "{path}"
        );
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    }
}

#[actix_web::test]
async fn a_refused_form_keeps_what_was_typed_and_names_the_field() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let long_title = "长".repeat(201);
    let pairs = [
        ("csrf", author.csrf_token.as_str()),
        ("kind", "micro_film"),
        ("title", &long_title),
        ("body", "剧情梗概：反诈宣传进万家"),
    ];
    let reply = post_form(&app, "/works/new", &author, &pairs).await;
    assert_eq!(reply.status, 422);
    let html = reply.text();
    assert!(html.contains("id=\"error-title\""), "{html}");
    assert!(html.contains("标题最多 200 个字"), "the limit, in Chinese: {html}");
    assert!(!html.contains("must be at most"), "never the API's English");
    assert!(html.contains("剧情梗概：反诈宣传进万家"), "the typed text comes back");
    assert_eq!(app.get("/api/v1/works", &author).await.json()["total"], 0);

    let good = [
        ("csrf", author.csrf_token.as_str()),
        ("kind", "micro_film"),
        ("title", "平安乡村"),
        ("tags", "反诈，宣传"),
        ("credits", "导演：张三"),
    ];
    let created = post_form(&app, "/works/new", &author, &good).await;
    assert_eq!(created.status, 303, "{}", created.text());
    let listed = app.get("/api/v1/works", &author).await.json();
    assert_eq!(listed["items"][0]["tags"], json!(["反诈", "宣传"]));
    assert_eq!(listed["items"][0]["credits"], json!([{"name": "张三", "role": "导演"}]));
}

#[actix_web::test]
async fn the_language_switch_returns_only_to_this_site() {
    let app = TestApp::spawn().await;
    for (back, expected) in [
        ("/works?kind=micro_film", "/works?kind=micro_film"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
    ] {
        let path =
            format!("/lang?to=en&back={}", url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>());
        let reply = app.request(Method::GET, &path, None, None).await;
        assert_eq!((reply.status, reply.header("location").as_deref()), (303, Some(expected)), "{back}");
        assert!(reply.set_cookies().join("").contains("microcat_lang=en"));
    }
    let admin = app.admin.clone();
    let english =
        app.raw(Method::GET, "/", &[("cookie", &format!("{}; microcat_lang=en", cookie(&admin)))], Vec::new()).await;
    assert!(english.text().contains("<html lang=\"en\">") && english.text().contains("Dashboard"));
    let chinese = page(&app, "/", &admin).await;
    assert!(chinese.text().contains("<html lang=\"zh-CN\">") && chinese.text().contains("工作台"));
}

#[actix_web::test]
async fn search_page_shows_a_bad_query_instead_of_failing() {
    let app = TestApp::spawn().await;
    let staff = app.user_with_roles("staff", &[Role::Staff]).await;
    let reply = page(&app, "/search?q=%22%22+OR+-", &staff).await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("检索词无法识别") && reply.text().contains("id=\"q\""), "{}", reply.text());
    let missing = page(&app, "/works/01900000-0000-7000-8000-000000000000", &staff).await;
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("找不到该作品") && missing.text().contains("id=\"mainnav\""), "{}", missing.text());
    let english_cookie = format!("{}; microcat_lang=en", cookie(&staff));
    let english = app
        .raw(Method::GET, "/works/01900000-0000-7000-8000-000000000000", &[("cookie", &english_cookie)], Vec::new())
        .await;
    assert_eq!(english.status, 404);
    assert!(english.text().contains("No such work") && english.text().contains("lang=\"en\""), "{}", english.text());
    assert!(!english.text().contains("找不到"), "one language at a time");
    let fine = page(&app, "/search?q=%E5%8F%8D%E8%AF%88&kind=micro_film&year=2026", &staff).await;
    assert_eq!(fine.status, 200, "{}", fine.text());
}

/// Who posts, where, which fields, and the status expected.
type RefusedPost<'a> = (&'a Session, String, Vec<(&'a str, String)>, u16);

#[actix_web::test]
async fn form_posts_with_a_valid_token_are_still_refused_to_the_wrong_role() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let draft = app.create_work(&author, work_json("weibo_post", "草稿")).await;
    let id = draft["id"].as_str().unwrap();
    let csrf = |session: &Session| session.csrf_token.clone();
    let cases: Vec<RefusedPost> = vec![
        (&staff, "/works/new".into(), vec![("kind", "weibo_post".into()), ("title", "越权".into())], 403),
        (
            &author,
            "/admin/users".into(),
            vec![("username", "intruder".into()), ("password", "intruder-password-1".into())],
            403,
        ),
        (&reviewer, format!("/admin/users/{}", author.user_id), vec![("roles", "admin".into())], 403),
        (&staff, format!("/works/{id}/transition"), vec![("action", "submit".into()), ("version", "1".into())], 404),
        (&reviewer, format!("/works/{id}/edit"), vec![("title", "改标题".into()), ("version", "1".into())], 403),
    ];
    for (session, path, mut pairs, status) in cases {
        let token = csrf(session);
        pairs.push(("csrf", token));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let reply = post_form(&app, &path, session, &pairs).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
    }
    assert_eq!(app.try_login("intruder", "intruder-password-1").await.status, 401);
    let after = app.get(&format!("/api/v1/works/{id}"), &author).await.json();
    assert_eq!((after["title"].as_str(), after["status"].as_str()), (Some("草稿"), Some("draft")));
    let me = app.get("/api/v1/me", &author).await.json();
    assert_eq!(me["user"]["roles"], json!(["contributor"]));
}

#[actix_web::test]
async fn the_work_page_plays_the_latest_cut_and_its_comments_land_on_that_cut() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let film = app.create_work(&author, work_json("micro_film", "两版的片子")).await;
    let id = film["id"].as_str().unwrap().to_owned();
    let bytes = std::fs::read(&crate::fixtures::films().h264_with_audio).unwrap();
    let mut cuts = Vec::new();
    for name in ["cut1.mp4", "cut2.mp4"] {
        let uploaded = app.upload(&author, &id, name, &bytes, None).await.json();
        let processed = app.processed(&author, uploaded["id"].as_str().unwrap()).await;
        assert_eq!(processed["status"], "ready", "{processed}");
        cuts.push(processed);
    }
    assert_eq!((cuts[0]["version"].as_i64(), cuts[1]["version"].as_i64()), (Some(1), Some(2)));
    let html = page(&app, &format!("/works/{id}"), &author).await.text();
    let second = cuts[1]["id"].as_str().unwrap();
    assert!(html.contains(&format!("data-media-id=\"{second}\"")), "the player shows cut 2");
    assert!(html.contains(&format!("name=\"media_id\" value=\"{second}\"")), "comments are written on cut 2");
    // The 3 s film has no 01:40; a moment inside it is taken.
    let path = format!("/api/v1/works/{id}/comments");
    let beyond = app.post(&path, &author, &json!({"body": "结尾", "media_id": second, "timecode_ms": 100_000})).await;
    crate::helpers::assert_error_field(&beyond, 422, "timecode-out-of-range", "timecode_ms");
    let within = app.post(&path, &author, &json!({"body": "这里", "media_id": second, "timecode_ms": 2_000})).await;
    assert_eq!(within.status, 201, "{}", within.text());
    assert_eq!(within.json()["media_id"], second);
}

#[actix_web::test]
async fn the_dashboard_reminds_creators_and_assignees_of_their_overdue_works_only() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let camera = app.user_with_roles("camera", &[Role::Contributor]).await;
    let bystander = app.user_with_roles("bystander", &[Role::Contributor, Role::Reviewer]).await;
    let late =
        json!({"kind": "micro_film", "title": "逾期片", "assignees": [camera.user_id], "due_date": "2020-01-01"});
    app.create_work(&author, late).await;
    app.create_work(&author, json!({"kind": "micro_film", "title": "未到期", "due_date": "2999-01-01"})).await;
    app.create_work(&bystander, json!({"kind": "weibo_post", "title": "别人的逾期", "due_date": "2020-01-01"})).await;
    let overdue_list = |html: &str| {
        let after = html.split("id=\"overdue-list\"").nth(1).unwrap_or_default();
        after.split("</ul>").next().unwrap_or_default().to_owned()
    };
    for (who, session) in [("creator", &author), ("assignee", &camera)] {
        let list = overdue_list(&page(&app, "/", session).await.text());
        assert!(list.contains("逾期片"), "the {who} is reminded: {list}");
        assert!(!list.contains("未到期") && !list.contains("别人的逾期"), "the {who} sees only their own late works");
    }
    let list = overdue_list(&page(&app, "/", &bystander).await.text());
    assert!(
        list.contains("别人的逾期") && !list.contains("逾期片"),
        "a reviewer who sees every work is reminded of their own only"
    );
}

#[actix_web::test]
async fn authors_delete_unsubmitted_works_and_wrong_uploads_from_the_page() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let other = app.user_with_roles("other", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("weibo_post", "误建的作品")).await;
    let id = work["id"].as_str().unwrap();
    let photo = app.upload(&author, id, "wrong.jpg", &crate::fixtures::jpeg(64, 48), Some("still")).await.json();
    let page_html = page(&app, &format!("/works/{id}"), &author).await.text();
    assert!(page_html.contains("id=\"delete-work\"") && page_html.contains("确认删除"), "asks before deleting");
    let media_path = format!("/works/{id}/media/{}/delete", photo["id"].as_str().unwrap());
    let removed = post_form(&app, &media_path, &author, &[("csrf", author.csrf_token.as_str())]).await;
    assert_eq!(removed.status, 303, "{}", removed.text());
    assert_eq!(app.get(&format!("/api/v1/works/{id}/media"), &author).await.json()["items"], json!([]));
    let not_theirs =
        post_form(&app, &format!("/works/{id}/delete"), &other, &[("csrf", other.csrf_token.as_str())]).await;
    assert_ne!(not_theirs.status, 303, "only its author (or an admin)");
    let deleted =
        post_form(&app, &format!("/works/{id}/delete"), &author, &[("csrf", author.csrf_token.as_str())]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(deleted.header("location").as_deref(), Some("/works?done=deleted"));
    assert_eq!(app.get(&format!("/api/v1/works/{id}"), &author).await.status, 404);
    let restored = app.post(&format!("/api/v1/works/{id}/restore"), &app.admin, &json!({})).await;
    assert_eq!(restored.status, 200, "an admin brings it back: {}", restored.text());
}

#[actix_web::test]
async fn the_dashboard_lists_sent_back_works_and_the_queue_oldest_first() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let mut ids = Vec::new();
    for title in ["最早送审", "后来送审"] {
        let work = app.create_work(&author, work_json("weibo_post", title)).await;
        let id = work["id"].as_str().unwrap().to_owned();
        let step = json!({"action": "submit", "version": work["version"]});
        app.post(&format!("/api/v1/works/{id}/transitions"), &author, &step).await;
        ids.push(id);
    }
    let waiting = page(&app, "/", &reviewer).await.text();
    let queue = waiting.split("id=\"queue-list\"").nth(1).unwrap_or_default();
    let (first, second) = (queue.find("最早送审"), queue.find("后来送审"));
    assert!(first.is_some() && first < second, "oldest first: {queue}");
    let current = app.get(&format!("/api/v1/works/{}", ids[0]), &app.admin).await.json();
    let back = json!({"action": "request_changes", "version": current["version"], "comment": "配图太小"});
    app.post(&format!("/api/v1/works/{}/transitions", ids[0]), &reviewer, &back).await;
    let mine = page(&app, "/", &author).await.text();
    let returned = mine.split("id=\"returned-list\"").nth(1).unwrap_or_default();
    assert!(returned.contains("最早送审") && !returned.contains("后来送审"), "{returned}");
}

#[actix_web::test]
async fn robots_and_other_peoples_notices_stay_out_of_reach() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("chushen", &[Role::Reviewer]).await;
    assert_eq!(page(&app, "/admin/webhooks", &author).await.status, 403, "robots are for admins");
    let robot = [
        ("csrf", author.csrf_token.as_str()),
        ("kind", "wecom"),
        ("url", "https://qyapi.weixin.qq.com/x"),
        ("events", "comment"),
    ];
    assert_eq!(post_form(&app, "/admin/webhooks", &author, &robot).await.status, 403);
    let work = app.create_work(&author, work_json("weibo_post", "通知归属")).await;
    let id = work["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/works/{id}/transitions"),
        &author,
        &json!({"action": "submit", "version": work["version"]}),
    )
    .await;
    let notice =
        app.get("/api/v1/notifications", &reviewer).await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/notifications/{notice}/open");
    let stranger = post_form(&app, &path, &author, &[("csrf", author.csrf_token.as_str())]).await;
    assert_eq!(stranger.header("location").as_deref(), Some("/notifications"), "not theirs: nowhere");
    assert_eq!(app.get("/api/v1/notifications", &reviewer).await.json()["unread"], 1, "and still unread");
    let own = post_form(&app, &path, &reviewer, &[("csrf", reviewer.csrf_token.as_str())]).await;
    assert_eq!(own.header("location").as_deref(), Some(format!("/works/{id}").as_str()));
    assert_eq!(app.get("/api/v1/notifications", &reviewer).await.json()["unread"], 0);
}

#[actix_web::test]
async fn admins_see_the_nodes_with_their_heartbeat_jobs_and_index_lag() {
    let app = TestApp::spawn().await;
    let admin = app.admin.clone();
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    assert_eq!(page(&app, "/admin/nodes", &author).await.status, 403, "nodes are for admins");
    // The node registers at start and beats every 3 s.
    let health = app.get("/healthz", &admin).await.json();
    let node = health["nodes"][0]["id"].as_str().expect("this node is registered").to_owned();
    let shown = page(&app, "/admin/nodes", &admin).await;
    assert_eq!(shown.status, 200);
    let html = shown.text();
    assert!(html.contains(&format!("data-id=\"{node}\"")), "{html}");
    let backend = if crate::helpers::backend() == "postgres" { "PostgreSQL" } else { "SQLite" };
    assert!(html.contains("在线") && html.contains("索引延迟") && html.contains(backend), "{html}");
}
