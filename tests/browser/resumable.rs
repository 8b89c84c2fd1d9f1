//! A large file goes up resumably from the work page (tus-js-client): the upload shows a pause
//! button, pausing stops it where it is (the server keeps what arrived), resuming finishes it,
//! and the medium appears in the gallery and is processed, all in Chinese.

use std::time::Duration;

use microcat::domain::user::Role;

use crate::browser::{Browser, WAIT};
use crate::files::Files;
use crate::helpers::{PASSWORD, TestApp, work_json};

#[actix_rt::test]
async fn a_large_upload_pauses_and_resumes() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("zhangsan", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "《平安乡村》母版")).await;
    let work = work["id"].as_str().unwrap().to_owned();
    let files = Files::create();
    // Over the page's 32 MiB threshold: four 16 MiB PATCHes, under the 64 MiB image limit.
    let master = files.photo_of_size("母版.jpg", 60 * 1024 * 1024);
    let browser = Browser::start(&app, "resumable").await;
    browser.login("zhangsan", PASSWORD).await;
    browser.goto(&format!("/works/{work}")).await;
    browser.wait_for("form#upload-form").await;
    browser.mark_page().await;
    browser.choose_file("#file-input", &master).await;

    browser.wait_for("#upload-list li.upload-item button.upload-pause").await;
    browser.click("#upload-list li.upload-item button.upload-pause").await;
    let paused = browser.wait_text_contains("#upload-list li.upload-item .upload-status", "已暂停").await;
    assert!(paused.contains("继续"), "{paused}");
    assert_eq!(browser.text("#upload-list li.upload-item button.upload-pause").await, "继续上传");
    let at_pause = browser.attr_now("#upload-list li.upload-item progress", "value").await;
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    let later = browser.attr_now("#upload-list li.upload-item progress", "value").await;
    assert_eq!(at_pause, later, "a paused upload sends nothing");
    browser.screenshot("paused").await;
    browser.set_window(390, 844).await;
    browser.screenshot("paused-phone").await;
    browser.set_window(1366, 900).await;

    browser.click("#upload-list li.upload-item button.upload-pause").await;
    let failed = Some("#upload-list li.upload-item.failed span.upload-error");
    browser.wait_count("#upload-list li.upload-item.done", 1, WAIT * 4, failed).await;
    assert_eq!(browser.count("#upload-list li.upload-item button.upload-pause").await, 0);
    browser.wait_count("#gallery li.media-item", 1, WAIT, None).await;
    let gallery_failed = Some("#gallery li.media-item[data-status=failed] span.media-error");
    browser.wait_count("#gallery li.media-item[data-status=ready]", 1, WAIT * 4, gallery_failed).await;
    assert!(browser.same_page().await, "{}", browser.report("the page reloaded during the upload").await);
    browser.screenshot("done").await;
    let media = app.get(&format!("/api/v1/works/{work}/media"), &author).await.json();
    assert_eq!(media["items"][0]["size"], 60 * 1024 * 1024, "{media}");
    assert_eq!(media["items"][0]["original_filename"], "母版.jpg");
    browser.finish().await;
}
