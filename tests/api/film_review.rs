//! Film review on real footage: playable previews of what browsers cannot play (checked with
//! the FFmpeg libraries), comments tied to a cut and a frame, resolved and reopened, with
//! drawings; a worker killed mid-transcode never leaves half a preview served.

use std::path::Path;
use std::time::{Duration, Instant};

use ffmpeg_next as ffmpeg;
use microcat::domain::frames::start_of_frame;
use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::fixtures::{self, films, preview_clips};
use crate::helpers::{Session, TestApp, assert_error, assert_error_field, work_json};

async fn film_work(app: &TestApp) -> (Session, String) {
    let author = app.user_with_roles("director", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "反诈微电影")).await;
    (author, work["id"].as_str().unwrap().to_owned())
}

async fn upload(app: &TestApp, author: &Session, work: &str, path: &Path) -> Value {
    let name = path.file_name().unwrap().to_str().unwrap();
    let reply = app.upload(author, work, name, &fixtures::read(path), None).await;
    assert_eq!(reply.status, 201, "{name}: {}", reply.text());
    let media = app.processed(author, reply.json()["id"].as_str().unwrap()).await;
    assert_eq!(media["status"], "ready", "{name}: {media}");
    media
}

/// Waits until a medium's preview is made (or failed), and returns the medium.
async fn preview_done(app: &TestApp, session: &Session, media_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let media = app.get(&format!("/api/v1/media/{media_id}"), session).await.json();
        if matches!(media["preview"]["status"].as_str(), Some("ready" | "failed" | "not_needed")) {
            return media;
        }
        assert!(Instant::now() < deadline, "preview of {media_id} still not made: {media}");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The top-level boxes of an MP4, in order.
fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        let size =
            if size == 1 { u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize } else { size };
        if size < 8 {
            break;
        }
        at += size;
    }
    boxes
}

/// What the FFmpeg libraries find in a preview.
#[derive(Debug)]
struct Probed {
    video_codec: String,
    pixel_format: String,
    profile: i32,
    width: u32,
    height: u32,
    audio_codec: Option<String>,
    format_tags: Vec<String>,
    stream_tags: Vec<String>,
    side_data: usize,
}

fn probe(path: &Path) -> Probed {
    ffmpeg::init().unwrap();
    let input = ffmpeg::format::input(path).expect("the preview opens");
    let video = input.streams().best(ffmpeg::media::Type::Video).expect("a video stream");
    let parameters = video.parameters();
    let decoder =
        ffmpeg::codec::context::Context::from_parameters(parameters.clone()).unwrap().decoder().video().unwrap();
    // SAFETY: reading a plain field of the stream's codec parameters, alive with `input`.
    let profile = unsafe { (*parameters.as_ptr()).profile };
    let audio =
        input.streams().best(ffmpeg::media::Type::Audio).map(|stream| stream.parameters().id().name().to_owned());
    let format_tags = input.metadata().iter().map(|(key, _)| key.to_owned()).collect();
    let stream_tags = input
        .streams()
        .flat_map(|stream| stream.metadata().iter().map(|(key, _)| key.to_owned()).collect::<Vec<_>>())
        .collect();
    Probed {
        video_codec: parameters.id().name().to_owned(),
        pixel_format: decoder.format().descriptor().map(|descriptor| descriptor.name().to_owned()).unwrap_or_default(),
        profile,
        width: decoder.width(),
        height: decoder.height(),
        audio_codec: audio,
        format_tags,
        stream_tags,
        side_data: video.side_data().count(),
    }
}

/// Checks one preview as the issue names it: H.264 High, yuv420p, the size, AAC, moov before
/// mdat, and nothing of the original's metadata.
async fn check_preview(app: &TestApp, session: &Session, media: &Value, size: (u32, u32), audio: bool) {
    let name = media["original_filename"].as_str().unwrap().to_owned();
    assert_eq!(media["preview"]["status"], "ready", "{name}: {media}");
    assert_eq!(media["preview"]["progress"], 100, "{name}");
    let url = media["preview"]["url"].as_str().expect("a preview url");
    assert_eq!(media["playback_url"], url, "{name}: players get the preview");
    assert!(url.ends_with("/derivatives/preview.mp4"));
    let head = app.fetch(url, session, &[("range", "bytes=0-99")]).await;
    assert_eq!(head.status, 206, "{name}: previews are served with Range");
    assert_eq!(head.header("content-type").as_deref(), Some("video/mp4"));
    let whole = app.fetch(url, session, &[]).await;
    assert_eq!(whole.status, 200);
    let boxes = top_level_boxes(&whole.body);
    let moov = boxes.iter().position(|name| name == "moov").expect("a moov box");
    let mdat = boxes.iter().position(|name| name == "mdat").expect("an mdat box");
    assert!(moov < mdat, "{name}: +faststart puts moov before mdat: {boxes:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("preview.mp4");
    std::fs::write(&file, &whole.body).unwrap();
    let probed = probe(&file);
    assert_eq!(probed.video_codec, "h264", "{name}: {probed:?}");
    assert_eq!(probed.pixel_format, "yuv420p", "{name}: 8-bit 4:2:0: {probed:?}");
    assert_eq!(probed.profile, 100, "{name}: H.264 High: {probed:?}");
    assert_eq!((probed.width, probed.height), size, "{name}: {probed:?}");
    assert_eq!(probed.audio_codec.as_deref(), audio.then_some("aac"), "{name}: {probed:?}");
    let allowed_format = ["major_brand", "minor_version", "compatible_brands"];
    assert!(probed.format_tags.iter().all(|key| allowed_format.contains(&key.as_str())), "{name}: {probed:?}");
    let allowed_stream = ["language", "handler_name", "vendor_id"];
    assert!(probed.stream_tags.iter().all(|key| allowed_stream.contains(&key.as_str())), "{name}: {probed:?}");
    assert_eq!(probed.side_data, 0, "{name}: the rotation is baked in, no display matrix: {probed:?}");
}

#[actix_web::test]
async fn films_browsers_cannot_play_get_an_h264_preview_without_their_metadata() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let clips = preview_clips();
    let cases = [
        (&clips.hevc10_rotated_mov, (720, 960)),
        (&clips.hevc_mp4, (320, 240)),
        (&clips.prores_mov, (320, 240)),
        (&clips.mpeg4_avi, (320, 240)),
        (&clips.vp9_webm, (320, 240)),
    ];
    let mut uploaded = Vec::new();
    for (clip, size) in cases {
        let media = upload(&app, &author, &work, clip).await;
        assert!(
            matches!(media["preview"]["status"].as_str(), Some("pending" | "processing" | "ready")),
            "the card is ready before the preview: {media}"
        );
        uploaded.push((media["id"].as_str().unwrap().to_owned(), size));
    }
    for (id, size) in uploaded {
        let media = preview_done(&app, &author, &id).await;
        check_preview(&app, &author, &media, size, true).await;
    }
    let hevc = upload(&app, &author, &work, &clips.hevc10_rotated_mov).await;
    assert_eq!(hevc["pixel_format"], "yuv420p10le");
    assert_eq!((hevc["width"].as_i64(), hevc["height"].as_i64()), (Some(960), Some(1280)));
}

#[actix_web::test]
async fn a_film_every_browser_plays_is_played_from_its_original() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload(&app, &author, &work, &preview_clips().h264_aac_mp4).await;
    assert_eq!(media["preview"]["status"], "not_needed", "{media}");
    assert_eq!(media["preview"]["url"], Value::Null);
    assert_eq!(media["playback_url"], media["original_url"]);
    let id = media["id"].as_str().unwrap();
    let missing = app.fetch(&format!("/api/v1/media/{id}/derivatives/preview.mp4"), &author, &[]).await;
    assert_error(&missing, 404, "derivative-not-found");
    let jobs = microcat::db::jobs::for_media(&mut app.db.connection().unwrap(), id).unwrap();
    assert_eq!(jobs.len(), 1, "no preview job was queued");
    let photo = app.upload(&author, &work, "a.jpg", &fixtures::jpeg(64, 48), Some("still")).await.json();
    let photo = app.processed(&author, photo["id"].as_str().unwrap()).await;
    assert_eq!(photo["playback_url"], Value::Null, "photos are not played");
}

#[actix_web::test]
async fn the_preview_policy_setting_decides() {
    let app = TestApp::spawn_with(|settings| settings.preview_policy = "never".into()).await;
    let (author, work) = film_work(&app).await;
    let media = upload(&app, &author, &work, &preview_clips().hevc_mp4).await;
    assert_eq!(media["preview"]["status"], "not_needed");
    assert_eq!(media["playback_url"], media["original_url"]);
    drop(app);
    let app = TestApp::spawn_with(|settings| {
        settings.preview_policy = "always".into();
        settings.preview_size = 480;
    })
    .await;
    let (author, work) = film_work(&app).await;
    let media = upload(&app, &author, &work, &preview_clips().h264_aac_mp4).await;
    let media = preview_done(&app, &author, media["id"].as_str().unwrap()).await;
    check_preview(&app, &author, &media, (320, 240), true).await;
}

#[actix_web::test]
async fn a_worker_killed_mid_transcode_is_retried_and_half_a_preview_is_never_served() {
    let links = tempfile::tempdir().unwrap();
    let worker = links.path().join("microcat");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_microcat"), &worker).unwrap();
    let program = microcat::media::worker::film_program(&worker);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_microcat-video"), &program).unwrap();
    let app = TestApp::spawn_with(move |settings| {
        settings.media_worker_program = Some(worker);
        settings.preview_policy = "always".into();
        settings.preview_preset = "medium".into();
        settings.job_retry_base_secs = 0;
    })
    .await;
    let (author, work) = film_work(&app).await;
    let media = upload(&app, &author, &work, &films().long_for_kill).await;
    let id = media["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = app.get(&format!("/api/v1/media/{id}"), &author).await.json();
        if now["preview"]["status"] == "processing" && now["preview"]["progress"].as_i64() > Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "the transcode never reported progress: {now}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let half = app.fetch(&format!("/api/v1/media/{id}/derivatives/preview.mp4"), &author, &[]).await;
    assert_error(&half, 404, "derivative-not-found");
    let victims = crate::media::processes_running(&program);
    assert_eq!(victims.len(), 1, "one transcode child");
    // SAFETY: plain kill(2) of a child process this test's server started.
    unsafe { libc::kill(victims[0], libc::SIGKILL) };
    let media = preview_done(&app, &author, &id).await;
    assert_eq!(media["status"], "ready", "the film itself stays ready: {media}");
    check_preview(&app, &author, &media, (1280, 720), false).await;
    let jobs = microcat::db::jobs::for_media(&mut app.db.connection().unwrap(), &id).unwrap();
    let preview = jobs.iter().find(|job| job.kind == "make_preview").expect("a preview job");
    assert_eq!(preview.attempts, 2, "one killed attempt, one good one");
    assert!(preview.last_error.as_deref().unwrap_or_default().contains("killed"), "{:?}", preview.last_error);
}

#[actix_web::test]
async fn comments_are_tied_to_their_cut_and_frame_at_any_rate() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let comments = format!("/api/v1/works/{work}/comments");
    for (fps, clip) in &preview_clips().rates {
        let media = upload(&app, &author, &work, clip).await;
        let media_id = media["id"].as_str().unwrap();
        let at_frame =
            app.post(&comments, &author, &json!({"body": "这一帧穿帮", "media_id": media_id, "frame": 37})).await;
        assert_eq!(at_frame.status, 201, "{}", at_frame.text());
        let at_frame = at_frame.json();
        assert_eq!(at_frame["frame"], 37, "{fps}");
        assert_eq!(at_frame["timecode_ms"], start_of_frame(37, *fps), "{fps}");
        assert_eq!(at_frame["media_id"], media_id);
        assert_eq!(at_frame["resolved"], false);
        let at_ms =
            app.post(&comments, &author, &json!({"body": "一秒处", "media_id": media_id, "timecode_ms": 1000})).await;
        assert_eq!(at_ms.json()["frame"], (*fps as i64), "{fps}: the frame shown at 1 s");
        let beyond =
            app.post(&comments, &author, &json!({"body": "太远", "media_id": media_id, "frame": 100_000})).await;
        assert_error_field(&beyond, 422, "timecode-out-of-range", "frame");
    }
    let orphan = app.post(&comments, &author, &json!({"body": "哪一版？", "frame": 3})).await;
    assert_error_field(&orphan, 422, "invalid-field", "frame");
}

#[actix_web::test]
async fn comments_are_resolved_and_reopened_by_the_author_or_a_reviewer_and_filtered() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let cut = upload(&app, &author, &work, &films().h264_with_audio).await;
    let cut_id = cut["id"].as_str().unwrap();
    let comments = format!("/api/v1/works/{work}/comments");
    let drawing = json!({"shapes": [
        {"type": "rect", "x": 0.1, "y": 0.1, "w": 0.3, "h": 0.2},
        {"type": "arrow", "x1": 0.9, "y1": 0.9, "x2": 0.6, "y2": 0.5},
        {"type": "path", "points": [[0.2, 0.8], [0.25, 0.82], [0.3, 0.79]]}
    ]});
    let note = app
        .post(&comments, &author, &json!({"body": "字幕压到人脸", "media_id": cut_id, "frame": 10, "drawing": drawing}))
        .await;
    assert_eq!(note.status, 201, "{}", note.text());
    let note = note.json();
    assert_eq!(note["drawing"], drawing);
    let plain = app.post(&comments, &author, &json!({"body": "整体节奏可以"})).await.json();
    let bad_drawing = json!({"body": "x", "media_id": cut_id, "frame": 1, "drawing": {"shapes": [{"type": "rect", "x": 2, "y": 0, "w": 1, "h": 1}]}});
    assert_error_field(&app.post(&comments, &author, &bad_drawing).await, 422, "invalid-field", "drawing");
    let undrawn = json!({"body": "x", "drawing": drawing});
    assert_error_field(&app.post(&comments, &author, &undrawn).await, 422, "invalid-field", "drawing");

    let note_url = format!("/api/v1/comments/{}", note["id"].as_str().unwrap());
    let stranger = app.user_with_roles("stranger", &[Role::Contributor]).await;
    app.execute_sql(&format!("UPDATE works SET assignees = '[\"{}\"]' WHERE id = '{work}'", stranger.user_id));
    let refused = app.patch(&note_url, &stranger, &json!({"resolved": true})).await;
    assert_error(&refused, 403, "forbidden");
    let resolved = app.patch(&note_url, &author, &json!({"resolved": true})).await;
    assert_eq!(resolved.status, 200, "{}", resolved.text());
    let resolved = resolved.json();
    assert_eq!(resolved["resolved"], true);
    assert_eq!(resolved["resolved_by"], author.user_id.as_str());
    assert!(resolved["resolved_at"].is_string());
    let open: Value = app.get(&format!("{comments}?resolved=false"), &author).await.json();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    assert_eq!(open["items"][0]["id"], plain["id"]);
    let on_cut: Value = app.get(&format!("{comments}?media_id={cut_id}"), &author).await.json();
    assert_eq!(on_cut["items"].as_array().unwrap().len(), 1);

    let reviewer = app.user_with_roles("reviewer", &[Role::Reviewer]).await;
    app.force_status(&work, "submitted");
    let reopened = app.patch(&note_url, &reviewer, &json!({"resolved": false})).await.json();
    assert_eq!(reopened["resolved"], false);
    assert_eq!(reopened["resolved_by"], Value::Null);
    assert_error(
        &app.patch("/api/v1/comments/nope", &author, &json!({"resolved": true})).await,
        404,
        "comment-not-found",
    );
    let typo = app.patch(&note_url, &author, &json!({"resolve": true})).await;
    assert_error_field(&typo, 422, "unknown-field", "resolve");
}

#[actix_web::test]
async fn subtitles_play_as_a_track_and_a_line_of_dialogue_finds_the_film() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    upload(&app, &author, &work, &films().h264_with_audio).await;
    let srt = "1\r\n00:00:00,500 --> 00:00:01,800\r\n<i>请不要相信</i>陌生来电\r\n\r\n2\r\n00:00:02,000 --> 00:00:02,900\r\n转账之前先打110核实\r\n";
    let (gb18030, _, _) = encoding_rs::GB18030.encode(srt);
    let refused = app.upload(&author, &work, "字幕.srt", &gb18030, None).await;
    assert_error_field(&refused, 422, "invalid-field", "role");
    let reply = app.upload(&author, &work, "字幕.srt", &gb18030, Some("subtitle")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let subtitles = app.processed(&author, reply.json()["id"].as_str().unwrap()).await;
    assert_eq!(subtitles["status"], "ready", "{subtitles}");
    assert_eq!(subtitles["role"], "subtitle");
    assert_eq!(subtitles["duration_ms"], 2900);
    let id = subtitles["id"].as_str().unwrap();
    let vtt = app.fetch(&format!("/api/v1/media/{id}/derivatives/subtitles.vtt"), &author, &[]).await;
    assert_eq!(vtt.header("content-type").as_deref(), Some("text/vtt; charset=utf-8"));
    assert!(vtt.text().starts_with("WEBVTT\n\n00:00:00.500 --> 00:00:01.800\n请不要相信陌生来电\n"), "{}", vtt.text());
    let page = crate::pages::page(&app, &format!("/works/{work}"), &author).await.text();
    assert!(page.contains("derivatives/subtitles.vtt"), "the player carries the track");
    crate::search::wait_indexed(&app).await;
    let found =
        app.get(&format!("/api/v1/search?q={}", "%E5%85%88%E6%89%93110%E6%A0%B8%E5%AE%9E"), &author).await.json();
    let hit = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| hit["id"] == work.as_str())
        .unwrap_or_else(|| panic!("{found}"));
    assert_eq!(hit["dialogue"]["timecode_ms"], 2000, "{hit}");
    assert_eq!(hit["dialogue"]["text"], "转账之前先打110核实");
    assert_eq!(hit["dialogue"]["url"], format!("/works/{work}#t=2.000"));
}

#[actix_web::test]
async fn the_queue_and_the_board_show_the_current_cut_its_creator_and_the_notes() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    upload(&app, &author, &work, &films().silent).await;
    let cut2 = upload(&app, &author, &work, &films().h264_with_audio).await;
    let comments = format!("/api/v1/works/{work}/comments");
    let note =
        app.post(&comments, &author, &json!({"body": "片尾字幕错字", "media_id": cut2["id"], "frame": 5})).await.json();
    app.post(&comments, &author, &json!({"body": "第二条", "media_id": cut2["id"], "frame": 9})).await;
    app.post(&comments, &author, &json!({"body": "不算：没有钉在某一版上"})).await;
    app.patch(&format!("/api/v1/comments/{}", note["id"].as_str().unwrap()), &author, &json!({"resolved": true})).await;
    app.force_status(&work, "submitted");
    let reviewer = app.user_with_roles("reviewer", &[Role::Reviewer]).await;
    let queue = app.get("/api/v1/review-queue", &reviewer).await.json();
    let item = &queue["items"][0];
    assert_eq!(item["id"], work.as_str(), "{queue}");
    assert_eq!(item["created_by_name"], "director");
    assert_eq!(item["current_cut"]["number"], 2);
    assert_eq!(item["current_cut"]["media_id"], cut2["id"]);
    assert_eq!(item["current_cut"]["duration_ms"], cut2["duration_ms"]);
    assert!(item["current_cut"]["poster_url"].as_str().unwrap().ends_with("/derivatives/poster.jpg"));
    assert_eq!(item["notes"], json!({"open": 1, "resolved": 1}));
    let board = app.get("/api/v1/board?kind=micro_film", &reviewer).await.json();
    let card = board["columns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|column| column["works"].as_array().unwrap())
        .find(|card| card["id"] == work.as_str())
        .unwrap_or_else(|| panic!("{board}"));
    assert_eq!(card["current_cut"]["number"], 2);
    assert_eq!(card["created_by_name"], "director");
    let queue_page = crate::pages::page(&app, "/review", &reviewer).await.text();
    assert!(queue_page.contains("第2版 · 00:03") && queue_page.contains("derivatives/poster.jpg"), "{queue_page}");
    let compare = crate::pages::page(&app, &format!("/works/{work}/compare"), &reviewer).await;
    assert_eq!(compare.status, 200);
    let compare = compare.text();
    assert!(
        compare.contains("id=\"side-a\"") && compare.contains("id=\"side-b\"") && compare.contains("片尾字幕错字"),
        "{compare}"
    );
}
