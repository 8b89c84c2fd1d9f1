//! A contributor makes a micro-film from the form to the review queue: create, upload a still
//! and a cut, watch both get processed without reloading, and move it through production.

use std::path::Path;
use std::time::Duration;

use microcat::domain::user::Role;

use crate::api;
use crate::browser::{Browser, WAIT};
use crate::files::Files;
use crate::helpers::{PASSWORD, TestApp};

const TITLE: &str = "《平安乡村》微电影";
/// How long processing of both uploads may take.
const PROCESSING: Duration = Duration::from_secs(60);

#[actix_rt::test]
async fn contributor_creates_a_film_uploads_media_and_submits_it() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("zhangsan", &[Role::Contributor]).await;
    let files = Files::create();
    let (still, cut) = (files.photo("still.jpg"), files.film("cut.mp4"));
    let browser = Browser::start(&app, "film").await;

    browser.login("zhangsan", PASSWORD).await;
    see_dashboard(&browser).await;
    let id = create_film(&browser).await;
    assert_eq!(api::status_of(&app, &id).await, "planning");

    upload_and_process(&browser, &still, &cut).await;
    see_player_after_reload(&browser).await;
    see_on_a_phone(&browser).await;

    for (action, status) in [("start_shooting", "shooting"), ("start_editing", "editing"), ("submit", "submitted")] {
        take_step(&browser, action, status).await;
    }
    assert_eq!(browser.count("#edit-work").await, 0, "a submitted film is no longer editable");
    let work = app.get(&format!("/api/v1/works/{id}"), &author).await.json();
    assert_eq!(work["status"], "submitted", "{work}");
    browser.finish().await;
}

async fn see_dashboard(browser: &Browser) {
    browser.wait_path("/").await;
    browser.wait_for("section#my-works").await;
    browser.wait_for("svg#chart-monthly").await;
    browser.screenshot("dashboard").await;
}

/// Fills `/works/new` and saves; returns the new work's id.
async fn create_film(browser: &Browser) -> String {
    browser.goto("/works/new").await;
    browser.wait_for("form#work-form").await;
    browser.select("select#kind", "micro_film").await;
    browser.fill("#title", TITLE).await;
    browser.fill("#body", &format!("民警走进田间地头，{}，守护乡亲们的钱袋子。", api::PHRASE)).await;
    browser.fill("#summary", "一部关于平安乡村建设的微电影。").await;
    browser.fill("#tags", "平安乡村，反诈").await;
    browser.fill("#unit", "宣传科").await;
    browser.fill("#credits", "导演: 张三\n摄像: 李四").await;
    browser.screenshot("new-work-filled").await;
    browser.click_and_load("#save").await;

    let path = browser.path().await;
    let saved = |id: &&str| !id.is_empty() && *id != "new" && !id.contains('/');
    let id = path.strip_prefix("/works/").filter(saved).map(str::to_owned);
    let Some(id) = id else { panic!("{}", browser.report("saving did not lead to /works/<id>").await) };
    assert_eq!(browser.text("#work-title").await, TITLE);
    browser.wait_class("#work-status", "status-planning").await;
    browser.wait_text_contains("ul#credits", "张三").await;
    browser.screenshot("work-created").await;
    id
}

/// Uploads a still, then a cut, through `#file-input`, and waits (without reloading) until
/// both are processed and the player appears.
async fn upload_and_process(browser: &Browser, still: &Path, cut: &Path) {
    browser.wait_for("form#upload-form").await;
    browser.mark_page().await;
    upload(browser, still, "still", 1).await;
    upload(browser, cut, "main", 2).await;
    browser.screenshot("uploaded").await;

    let failed = Some("#gallery li.media-item[data-status=failed] span.media-error");
    browser.wait_count("#gallery li.media-item[data-status=ready]", 2, PROCESSING, failed).await;
    browser.wait_count("#gallery li.media-item img.thumb", 2, WAIT, None).await;
    assert_eq!(browser.count("#gallery li.media-item[data-kind=image]").await, 1);
    assert_eq!(browser.count("#gallery li.media-item[data-kind=video]").await, 1);
    browser.wait_for("video#player").await;
    assert_eq!(browser.count("#gallery li.media-item span.media-name").await, 2, "each new upload is named at once");
    browser.wait_for("#timecode-field:not([hidden])").await;
    let cut = browser.attr_now("#comment-media", "value").await.unwrap_or_default();
    assert!(!cut.is_empty(), "comments now point at the new cut, without a reload");
    assert!(browser.same_page().await, "{}", browser.report("the page reloaded during upload or processing").await);
    browser.screenshot("processed").await;
}

/// Chooses one file with its role and waits until its upload has finished (`done` uploads so far).
async fn upload(browser: &Browser, file: &Path, role: &str, done: usize) {
    browser.select("select#upload-role", role).await;
    browser.choose_file("#file-input", file).await;
    let failed = Some("#upload-list li.upload-item.failed span.upload-error");
    browser.wait_count("#upload-list li.upload-item.done", done, WAIT, failed).await;
    browser.wait_count("#gallery li.media-item", done, WAIT, None).await;
}

/// The server renders the player, its storyboard scrubber and the gallery on a fresh load.
async fn see_player_after_reload(browser: &Browser) {
    browser.reload().await;
    browser.wait_count("#gallery li.media-item[data-status=ready]", 2, WAIT, None).await;
    browser.wait_for("div#player-box video#player").await;
    browser.wait_for("div#scrubber[data-vtt]").await;
    let src = browser.attr_now("video#player", "src").await.unwrap_or_default();
    assert!(src.contains("/api/v1/media/") && src.ends_with("/original"), "player src {src:?}");
    let vtt = browser.attr_now("div#scrubber", "data-vtt").await.unwrap_or_default();
    assert!(vtt.ends_with("/derivatives/storyboard.vtt"), "scrubber data-vtt {vtt:?}");
    browser.screenshot("work-with-player").await;
}

/// The work page on a 390×844 phone: the menu opens with the toggle.
async fn see_on_a_phone(browser: &Browser) {
    browser.set_window(390, 844).await;
    browser.wait_for("#work-title").await;
    browser.screenshot("phone-work").await;
    browser.click("button#nav-toggle").await;
    browser.wait_class("nav#mainnav", "open").await;
    browser.wait_attr("button#nav-toggle", "aria-expanded", "true").await;
    browser.screenshot("phone-menu").await;
    browser.click("button#nav-toggle").await;
    browser.set_window(1366, 768).await;
}

/// Clicks the action button and checks the status badge afterwards.
async fn take_step(browser: &Browser, action: &str, status: &str) {
    browser.click_and_load(&format!("#transition-form button.action[value=\"{action}\"]")).await;
    browser.wait_class("#work-status", &format!("status-{status}")).await;
    browser.screenshot(&format!("after-{action}")).await;
}
