//! Film review in Chromium: an HEVC phone clip plays through its preview, the page plays the
//! latest cut and comments land on it, and a comment's frame reopens exactly.

use std::time::{Duration, Instant};

use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::fixtures::{self, preview_clips};
use crate::helpers::{PASSWORD, Session, TestApp, work_json};

async fn uploaded(app: &TestApp, author: &Session, work: &str, path: &std::path::Path) -> Value {
    let reply = app.upload(author, work, "cut.mp4", &fixtures::read(path), Some("main")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let media = app.get(&format!("/api/v1/media/{id}"), author).await.json();
        let preview = media["preview"]["status"].as_str().unwrap_or_default().to_owned();
        if media["status"] == "ready" && matches!(preview.as_str(), "ready" | "not_needed") {
            return media;
        }
        assert!(Instant::now() < deadline && media["status"] != "failed", "{media}");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Plays the page's player muted for a moment: its picture size and how far it got.
async fn play_briefly(browser: &Browser) -> (f64, f64) {
    let script = "const v = document.querySelector('#player'); const done = arguments[0]; v.muted = true; \
        const start = v.currentTime; v.play().then(() => setTimeout(() => { v.pause(); done([v.videoWidth, v.currentTime - start]); }, 1200), \
        (e) => done([0, -1, String(e)]));";
    let answer = browser.ok(browser.client().execute_async(script, vec![]).await, "playing the film").await;
    (answer[0].as_f64().unwrap_or(0.0), answer[1].as_f64().unwrap_or(-1.0))
}

#[actix_rt::test]
async fn a_phone_clip_plays_through_its_preview_and_the_latest_cut_takes_the_comments() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("daoyan", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "《守护》微电影")).await;
    let work = work["id"].as_str().unwrap().to_owned();
    let hevc = uploaded(&app, &author, &work, &preview_clips().hevc_mp4).await;
    assert_eq!(hevc["preview"]["status"], "ready");
    let browser = Browser::start(&app, "film-review").await;
    browser.login("daoyan", PASSWORD).await;
    browser.goto(&format!("/works/{work}")).await;
    browser.wait_for("video#player").await;
    let src = browser.attr_now("video#player", "src").await.unwrap_or_default();
    assert!(src.ends_with("/derivatives/preview.mp4"), "the page plays the preview: {src}");
    let (width, advanced) = play_briefly(&browser).await;
    assert!(width > 0.0 && advanced > 0.2, "the HEVC clip shows pictures through its preview: {width} {advanced}");
    browser.screenshot("hevc-preview").await;

    let cut2 = uploaded(&app, &author, &work, &preview_clips().rates[0].1).await;
    browser.reload().await;
    browser.wait_attr("video#player", "data-cut", "2").await;
    assert_eq!(browser.count("#cuts li.cut").await, 2);
    assert_eq!(browser.attr_now("#comment-form input[name=media_id]", "value").await.as_deref(), cut2["id"].as_str());
    browser.screenshot("cut-2").await;
    browser.fill("#comment-body", "第二版片头再短一点").await;
    browser.fill("#comment-timecode", "00:01").await;
    browser.click_and_load("#comment-submit").await;
    let comments = app.get(&format!("/api/v1/works/{work}/comments"), &author).await.json();
    assert_eq!(comments["items"][0]["media_id"], cut2["id"], "the comment lands on cut 2: {comments}");

    let at_frame = json!({"body": "这一帧的字幕", "media_id": cut2["id"], "frame": 37});
    assert_eq!(app.post(&format!("/api/v1/works/{work}/comments"), &author, &at_frame).await.status, 201);
    browser.reload().await;
    browser.wait_for("a.timecode[data-frame='37']").await;
    browser.click("a.timecode[data-frame='37']").await;
    let frame_script = "const v = document.querySelector('#player'); const done = arguments[0]; \
        const report = () => done([Math.floor(v.currentTime * 25 + 1e-6), v.paused]); \
        if (v.seeking || v.readyState < 2) v.addEventListener('seeked', report, { once: true }); else report();";
    let answer = browser.ok(browser.client().execute_async(frame_script, vec![]).await, "reading the frame").await;
    assert_eq!(answer[0].as_i64(), Some(37), "the comment's frame reopens exactly: {answer}");
    assert_eq!(answer[1], Value::Bool(true), "paused on it");
    browser.screenshot("frame-37").await;
    browser.set_window(390, 844).await;
    browser.screenshot("phone-film-review").await;
    browser.finish().await;
}
