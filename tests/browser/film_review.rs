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

/// Red pixels of the drawing layer around picture point (`x`, `y`) (0–1), wherever the player
/// has put the picture at its current size.
const RED_AT: &str = "const [px, py, done] = arguments; setTimeout(() => { \
    const v = document.querySelector('#player'), c = document.querySelector('#drawing-layer'); \
    const w = v.clientWidth, h = v.clientHeight, s = Math.min(w / v.videoWidth, h / v.videoHeight); \
    const dw = v.videoWidth * s, dh = v.videoHeight * s, ratio = c.width / w; \
    const x = Math.round(((w - dw) / 2 + px * dw) * ratio), y = Math.round(((h - dh) / 2 + py * dh) * ratio); \
    const data = c.getContext('2d').getImageData(x - 3, y - 3, 7, 7).data; let red = 0; \
    for (let i = 0; i < data.length; i += 4) if (data[i] > 180 && data[i + 1] < 120 && data[i + 3] > 0) red++; \
    done(red); }, 600);";

async fn red_at(browser: &Browser, x: f64, y: f64) -> i64 {
    let answer =
        browser.ok(browser.client().execute_async(RED_AT, vec![json!(x), json!(y)]).await, "reading the drawing").await;
    answer.as_i64().unwrap_or(-1)
}

#[actix_rt::test]
async fn reviewers_compare_cuts_on_one_clock_see_drawings_at_any_size_and_find_dialogue() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("bianju", &[Role::Contributor]).await;
    app.user_with_roles("shenhe", &[Role::Reviewer]).await;
    let work = app.create_work(&author, work_json("micro_film", "《转账之前》")).await;
    let work = work["id"].as_str().unwrap().to_owned();
    uploaded(&app, &author, &work, &preview_clips().rates[0].1).await;
    let cut2 = uploaded(&app, &author, &work, &preview_clips().h264_aac_mp4).await;
    let srt = "1\n00:00:02,000 --> 00:00:02,900\n转账之前先打110核实\n";
    let reply = app.upload(&author, &work, "台词.srt", srt.as_bytes(), Some("subtitle")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    app.processed(&author, reply.json()["id"].as_str().unwrap()).await;
    let drawing = json!({"shapes": [{"type": "rect", "x": 0.1, "y": 0.1, "w": 0.3, "h": 0.2}]});
    let note = json!({"body": "框里的车牌要打码", "media_id": cut2["id"], "frame": 12, "drawing": drawing});
    assert_eq!(app.post(&format!("/api/v1/works/{work}/comments"), &author, &note).await.status, 201);
    app.force_status(&work, "submitted");

    let browser = Browser::start(&app, "film-compare").await;
    browser.login("shenhe", PASSWORD).await;
    browser.goto(&format!("/works/{work}/compare")).await;
    browser.wait_for("#side-a video").await;
    let ready = "const done = arguments[0]; const vs = [...document.querySelectorAll('.compare-side video')]; \
        const check = () => vs.every((v) => v.readyState >= 2) ? done(true) : setTimeout(check, 50); check();";
    browser.ok(browser.client().execute_async(ready, vec![]).await, "loading both cuts").await;
    browser.click("#compare-play").await;
    // Each video's currentTime moves in steps of a frame of its own, so one reading may be a
    // frame apart by itself: nine readings over half a second, their median.
    let drift = "const done = arguments[0]; const [a, b] = [...document.querySelectorAll('.compare-side video')]; \
        const seen = []; const read = () => { seen.push(Math.abs(a.currentTime - b.currentTime)); \
        if (seen.length < 9) return setTimeout(read, 60); seen.sort((x, y) => x - y); \
        done([seen[4], a.paused, b.paused, a.currentTime, seen]); }; setTimeout(read, 1000);";
    let playing = browser.ok(browser.client().execute_async(drift, vec![]).await, "playing both").await;
    assert!(playing[3].as_f64().unwrap_or(0.0) > 0.5, "both play: {playing}");
    assert!(playing[0].as_f64().unwrap() <= 0.041, "within one frame while playing: {playing}");
    browser.screenshot("compare-playing").await;
    browser.click("#compare-play").await;
    let seek = "const done = arguments[0]; const s = document.querySelector('#compare-seek'); s.value = '1.3'; \
        s.dispatchEvent(new Event('input')); setTimeout(() => { const [a, b] = [...document.querySelectorAll('.compare-side video')]; \
        done([Math.abs(a.currentTime - b.currentTime), a.currentTime]); }, 700);";
    let sought = browser.ok(browser.client().execute_async(seek, vec![]).await, "seeking both").await;
    assert!(
        sought[0].as_f64().unwrap() <= 0.041 && (sought[1].as_f64().unwrap() - 1.3).abs() < 0.05,
        "after a seek: {sought}"
    );

    browser.goto(&format!("/works/{work}")).await;
    browser.wait_for("a.timecode[data-frame='12']").await;
    browser.click("a.timecode[data-frame='12']").await;
    assert!(red_at(&browser, 0.1, 0.2).await > 0, "the box's left edge is drawn");
    assert_eq!(red_at(&browser, 0.25, 0.2).await, 0, "inside the box is the picture");
    browser.screenshot("drawing-desktop").await;
    browser.set_window(390, 844).await;
    browser.click("a.timecode[data-frame='12']").await;
    assert!(red_at(&browser, 0.1, 0.2).await > 0, "the same spot at phone size");
    assert_eq!(red_at(&browser, 0.25, 0.2).await, 0);
    browser.screenshot("drawing-phone").await;
    browser.set_window(1366, 768).await;

    browser.goto(&format!("/search?q={}", crate::api::encode("转账之前先打110核实"))).await;
    browser.wait_for("a.dialogue-link").await;
    browser.screenshot("dialogue-hit").await;
    browser.click_and_load("a.dialogue-link").await;
    let at = "const done = arguments[0]; const v = document.querySelector('#player'); \
        const check = () => (v.readyState >= 1 && !v.seeking && v.currentTime > 0) ? done(v.currentTime) : setTimeout(check, 50); check();";
    let seconds = browser.ok(browser.client().execute_async(at, vec![]).await, "opening at the line").await;
    assert!((seconds.as_f64().unwrap() - 2.0).abs() < 0.05, "the player opens at the line: {seconds}");
    browser.finish().await;
}
