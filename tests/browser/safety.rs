//! What a hostile title or an oversized file does to the pages: nothing but text and a message.

use microcat::domain::user::Role;

use crate::api;
use crate::browser::Browser;
use crate::files::Files;
use crate::helpers::{PASSWORD, TestApp, work_json};

const SCRIPT_TITLE: &str = "<script>alert(1)</script>";

#[actix_rt::test]
async fn a_script_title_renders_as_text() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let id = api::id_of(&app.create_work(&author, work_json("weibo_post", SCRIPT_TITLE)).await);
    let browser = Browser::start(&app, "script-title").await;

    browser.login("author", PASSWORD).await;
    browser.goto(&format!("/works/{id}")).await;
    assert_eq!(browser.text("#work-title").await, SCRIPT_TITLE);
    no_alert_and_no_inline_script(&browser).await;
    browser.screenshot("work-page").await;

    browser.goto("/works").await;
    let card = format!("ul.work-grid li.work-card:has(a.work-link[href$=\"/works/{id}\"]) h3.title");
    assert_eq!(browser.text(&card).await, SCRIPT_TITLE);
    no_alert_and_no_inline_script(&browser).await;
    browser.screenshot("works-grid").await;
    browser.finish().await;
}

/// Any `<script>` without `src` in the document (the pages have none of their own).
const INLINE_SCRIPTS: &str = "return Array.from(document.scripts).filter((s) => !s.src).map((s) => s.outerHTML);";

/// No alert opened, and the title never became a script element.
async fn no_alert_and_no_inline_script(browser: &Browser) {
    if let Ok(text) = browser.client().get_alert_text().await {
        panic!("an alert opened ({text:?}): the title ran as a script");
    }
    let inline = browser.ok(browser.client().execute(INLINE_SCRIPTS, vec![]).await, "listing scripts").await;
    let none = inline.as_array().is_some_and(Vec::is_empty);
    assert!(none, "{}", browser.report(&format!("the title became markup: inline scripts {inline}")).await);
}

#[actix_rt::test]
async fn a_too_large_upload_shows_the_limit() {
    let app = TestApp::spawn_with(|settings| settings.max_image_bytes = 1024 * 1024).await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let id = api::id_of(&app.create_work(&author, work_json("micro_film", "超大剧照")).await);
    let files = Files::create();
    // Just over the limit, so that the server has read (nearly) all of it when it refuses.
    let big = files.photo_of_size("big.jpg", 1024 * 1024 + 64 * 1024);
    let browser = Browser::start(&app, "upload-limit").await;

    browser.login("author", PASSWORD).await;
    browser.goto(&format!("/works/{id}")).await;
    browser.choose_file("#file-input", &big).await;
    let message = browser.text("#upload-list li.upload-item.failed span.upload-error").await;
    // The server words the limit as "image uploads are limited to 1 MiB (1048576 bytes)".
    assert!(message.contains("1 MiB") || message.contains("1048576"), "the message names the limit: {message:?}");
    assert_eq!(browser.count("#gallery li.media-item").await, 0, "nothing was stored");
    assert_eq!(browser.count("#upload-list li.upload-item.done").await, 0);
    browser.screenshot("too-large").await;
    let media = app.get(&format!("/api/v1/works/{id}/media"), &author).await;
    assert_eq!(media.status, 200, "{}", media.text());
    assert!(!media.text().contains("big.jpg"), "nothing was stored: {}", media.text());
    browser.finish().await;
}
