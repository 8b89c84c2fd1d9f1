//! Every page, as an admin would see it with real data, at desktop and phone size: a
//! screenshot of each, and no page may scroll sideways on a 390 px phone.

use microcat::domain::user::Role;
use serde_json::json;

use crate::api;
use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp};

/// Whether the page is wider than the window (it would scroll sideways).
const OVERFLOW: &str = "return document.documentElement.scrollWidth - window.innerWidth;";

#[actix_rt::test]
async fn every_page_fits_a_phone_and_is_photographed_at_both_sizes() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let long_title = "反诈宣传进社区".repeat(28);
    let long = app.create_work(&author, json!({"kind": "wechat_article", "title": long_title, "body": "正文"})).await;
    let film = api::submitted_film(&app, &author, "《守护》微电影").await;
    let long_id = long["id"].as_str().unwrap().to_owned();
    let pages = [
        ("dashboard", "/".to_owned()),
        ("works", "/works".to_owned()),
        ("new-work", "/works/new".to_owned()),
        ("work", format!("/works/{film}")),
        ("long-title", format!("/works/{long_id}")),
        ("edit", format!("/works/{long_id}/edit")),
        ("board", "/board".to_owned()),
        ("review", "/review".to_owned()),
        ("search", "/search?q=%E5%8F%8D%E8%AF%88".to_owned()),
        ("notifications", "/notifications".to_owned()),
        ("users", "/admin/users".to_owned()),
        ("import", "/admin/import".to_owned()),
        ("webhooks", "/admin/webhooks".to_owned()),
        ("nodes", "/admin/nodes".to_owned()),
        ("not-found", "/works/01900000-0000-7000-8000-000000000000".to_owned()),
    ];
    let browser = Browser::start(&app, "pages").await;
    browser.set_window(390, 844).await;
    browser.goto("/login").await;
    browser.screenshot("login-phone").await;
    browser.login("admin", ADMIN_PASSWORD).await;
    let mut too_wide = Vec::new();
    for (name, path) in &pages {
        browser.set_window(1366, 900).await;
        browser.goto(path).await;
        browser.wait_for("main#content").await;
        browser.screenshot(name).await;
        browser.set_window(390, 844).await;
        browser.goto(path).await;
        browser.wait_for("main#content").await;
        let overflow = browser.eval(OVERFLOW).await.as_i64().unwrap_or_default();
        if overflow > 0 {
            too_wide.push(format!("{path} by {overflow} px"));
        }
        browser.screenshot(&format!("{name}-phone")).await;
    }
    assert!(too_wide.is_empty(), "pages scroll sideways on a phone: {too_wide:?}");
    browser.finish().await;
}
