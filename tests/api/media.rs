//! Media: uploads decided by their bytes, stored once per content, processed in a child
//! process into metadata, thumbnails, posters and storyboards; hostile files end with a
//! stable code; originals and derivatives served only to those who may see the work.

use image::GenericImageView;
use microcat::domain::user::Role;
use serde_json::{Value, json};

use crate::fixtures::{self, films};
use crate::helpers::{Session, TestApp, assert_case_error, assert_error, multipart, work_json};

async fn film_work(app: &TestApp) -> (Session, String) {
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "守护平安")).await;
    (author, work["id"].as_str().unwrap().to_owned())
}

async fn upload_ok(app: &TestApp, author: &Session, work: &str, name: &str, bytes: &[u8]) -> Value {
    let reply = app.upload(author, work, name, bytes, None).await;
    assert_eq!(reply.status, 201, "{name}: {}", reply.text());
    let created = reply.json();
    assert_eq!(created["status"], "processing");
    app.processed(author, created["id"].as_str().unwrap()).await
}

async fn image_at(app: &TestApp, session: &Session, url: &str) -> image::DynamicImage {
    let reply = app.fetch(url, session, &[]).await;
    assert_eq!(reply.status, 200, "{url}");
    image::load_from_memory(&reply.body).expect("derivative decodes")
}

#[actix_web::test]
async fn upload_answers_with_the_stored_record() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let bytes = fixtures::png(40, 30);
    let reply = app.upload(&author, &work, "海报 设计稿.png", &bytes, Some("cover")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let media = reply.json();
    let expected_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert_eq!(media["sha256"], expected_sha);
    assert_eq!(media["size"], bytes.len());
    assert_eq!(media["content_type"], "image/png");
    assert_eq!(media["original_filename"], "海报 设计稿.png");
    assert_eq!(media["role"], "cover");
    assert_eq!(media["version"], 1);
    assert_eq!(media["work_id"], work);
    let stored =
        app.media_dir().join("originals").join(&expected_sha[0..2]).join(&expected_sha[2..4]).join(&expected_sha);
    assert_eq!(std::fs::read(stored).unwrap(), bytes);
    let listed = app.get(&format!("/api/v1/works/{work}/media"), &author).await.json();
    assert_eq!(listed["items"][0]["id"], media["id"]);
}

#[actix_web::test]
async fn main_uploads_count_versions() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let first = app.upload(&author, &work, "cut1.png", &fixtures::png(20, 20), None).await.json();
    let second = app.upload(&author, &work, "cut2.png", &fixtures::png(21, 20), None).await.json();
    let still = app.upload(&author, &work, "still.png", &fixtures::png(22, 20), Some("still")).await.json();
    assert_eq!(
        (first["version"].as_i64(), second["version"].as_i64(), still["version"].as_i64()),
        (Some(1), Some(2), Some(1))
    );
}

#[actix_web::test]
async fn phone_photo_with_exif_orientation_six_gets_upright_thumbnails() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "IMG_0001.jpg", &fixtures::jpeg_with_orientation(64, 32, 6)).await;
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(32), Some(64)), "dimensions as displayed");
    assert_eq!(media["camera"], "Huawei Mate 60");
    assert!(media["taken_at"].as_str().unwrap().starts_with("2024"));
    let small_url = media["thumbnails"]["small"].as_str().unwrap();
    let thumbnail = image_at(&app, &author, small_url).await;
    assert_eq!(thumbnail.dimensions(), (32, 64), "upright: portrait");
    let top_right = thumbnail.get_pixel(28, 3).0;
    assert!(
        top_right[0] > 200 && top_right[1] > 200 && top_right[2] > 200,
        "the white corner turned to the top right: {top_right:?}"
    );
    let raw = app.fetch(small_url, &author, &[]).await.body;
    assert!(!raw.windows(4).any(|window| window == b"Exif"), "no exif copied into derivatives");
    assert!(media["thumbnails"]["large"].is_string());
}

#[actix_web::test]
async fn heic_photos_from_phones_get_thumbnails() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "IMG_4032.HEIC", &fixtures::heic(160, 90)).await;
    assert_eq!(
        (media["status"].as_str(), media["content_type"].as_str()),
        (Some("ready"), Some("image/heic")),
        "{media}"
    );
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(160), Some(90)));
    let thumbnail = image_at(&app, &author, media["thumbnails"]["small"].as_str().unwrap()).await;
    assert_eq!(thumbnail.dimensions(), (160, 90), "never enlarged");
    let (corner, elsewhere) = (thumbnail.get_pixel(10, 10).0, thumbnail.get_pixel(150, 80).0);
    assert!(corner.iter().all(|channel| *channel > 200), "white corner: {corner:?}");
    assert!(elsewhere[2] > elsewhere[0] + 40, "blue elsewhere: {elsewhere:?}");
}

#[actix_web::test]
async fn png_webp_and_animated_gif_get_thumbnails() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    for (name, bytes, size) in [
        ("a.png", fixtures::png(640, 480), (320, 240)),
        ("b.webp", fixtures::webp(100, 50), (100, 50)),
        ("c.gif", fixtures::animated_gif(), (48, 32)),
    ] {
        let media = upload_ok(&app, &author, &work, name, &bytes).await;
        assert_eq!(media["status"], "ready", "{name}: {media}");
        let small = image_at(&app, &author, media["thumbnails"]["small"].as_str().unwrap()).await;
        assert_eq!(small.dimensions(), size, "{name}");
    }
}

#[actix_web::test]
async fn h264_film_with_audio_is_probed_with_poster_and_storyboard() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "微电影.mp4", &fixtures::read(&films().h264_with_audio)).await;
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!(media["content_type"], "video/mp4");
    assert_eq!(media["video_codec"], "h264");
    assert_eq!(media["audio_codec"], "aac");
    assert_eq!(
        (media["width"].as_i64(), media["height"].as_i64(), media["rotation"].as_i64()),
        (Some(320), Some(240), Some(0))
    );
    let duration = media["duration_ms"].as_i64().unwrap();
    assert!((2900..=3200).contains(&duration), "{duration}");
    assert_eq!(media["frame_rate"].as_f64(), Some(25.0));
    let poster = image_at(&app, &author, media["poster"].as_str().unwrap()).await;
    assert_eq!(poster.dimensions(), (320, 240));
    let vtt = app.fetch(media["storyboard"]["vtt"].as_str().unwrap(), &author, &[]).await;
    assert_eq!(vtt.header("content-type").unwrap(), "text/vtt; charset=utf-8");
    let cues = vtt.text();
    assert!(cues.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nstoryboard.jpg#xywh=0,0,160,120"), "{cues}");
    assert_eq!(cues.matches("storyboard.jpg#xywh=").count(), 2);
    let sprite = image_at(&app, &author, media["storyboard"]["image"].as_str().unwrap()).await;
    assert_eq!(sprite.dimensions(), (320, 120));
}

#[actix_web::test]
async fn portrait_clip_with_rotation_tag_is_shown_upright() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "竖屏.mp4", &fixtures::read(&films().portrait_rotated)).await;
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!(media["rotation"], 90);
    assert_eq!((media["width"].as_i64(), media["height"].as_i64()), (Some(240), Some(320)));
    let poster = image_at(&app, &author, media["poster"].as_str().unwrap()).await;
    assert_eq!(poster.dimensions(), (240, 320));
    assert_eq!(image_at(&app, &author, media["thumbnails"]["small"].as_str().unwrap()).await.dimensions(), (240, 320));
}

#[actix_web::test]
async fn silent_film_and_audio_only_files_are_ready() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let silent = upload_ok(&app, &author, &work, "silent.mp4", &fixtures::read(&films().silent)).await;
    assert_eq!(silent["status"], "ready", "{silent}");
    assert_eq!(silent["audio_codec"], Value::Null);
    assert!(silent["poster"].is_string());
    let audio = upload_ok(&app, &author, &work, "配乐.m4a", &fixtures::read(&films().audio_only)).await;
    assert_eq!(audio["status"], "ready", "{audio}");
    assert_eq!(audio["content_type"], "audio/mp4");
    assert_eq!(audio["audio_codec"], "aac");
    assert_eq!(audio["video_codec"], Value::Null);
    assert!(audio.get("poster").is_none() && audio["thumbnails"]["small"].is_null());
    assert!((1900..=2200).contains(&audio["duration_ms"].as_i64().unwrap()));
}

#[actix_web::test]
async fn poster_of_a_film_that_starts_black_is_not_black() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "fade.mp4", &fixtures::read(&films().black_start)).await;
    let poster = image_at(&app, &author, media["poster"].as_str().unwrap()).await.to_luma8();
    let mean =
        poster.pixels().map(|pixel| f64::from(pixel.0[0])).sum::<f64>() / f64::from(poster.width() * poster.height());
    assert!(mean > 40.0, "poster mean luma {mean}");
}

#[actix_web::test]
async fn files_that_are_not_accepted_media_are_refused_by_their_bytes() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let random: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty.jpg", vec![], 422, "empty-file"),
        ("random.mp4", random, 415, "unsupported-media-type"),
        ("page.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(), 415, "unsupported-media-type"),
        (
            "playlist.mp4",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n".to_vec(),
            415,
            "unsupported-media-type",
        ),
        ("list.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n".to_vec(), 415, "unsupported-media-type"),
        ("program.mp4", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(), 415, "unsupported-media-type"),
        (
            "drawing.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            415,
            "unsupported-media-type",
        ),
    ];
    for (name, bytes, status, code) in cases {
        let reply = app.upload(&author, &work, name, &bytes, None).await;
        assert_case_error(name, &reply, status, code, None);
        app.assert_healthy().await;
    }
    let refused = app.upload(&author, &work, "x.jpg", &[0xFF], None).await;
    assert!(
        refused.json()["error"]["message"].as_str().unwrap().contains("JPEG, PNG, WebP"),
        "names the accepted kinds"
    );
    assert_eq!(app.get(&format!("/api/v1/works/{work}/media"), &author).await.json()["items"], json!([]));
    assert_eq!(app.temp_entries(), 0, "no temp leftovers");
}

#[actix_web::test]
async fn damaged_and_oversized_media_fail_their_job_with_a_named_reason() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let film = fixtures::read(&films().h264_with_audio);
    let cases = [
        ("bomb.png", fixtures::png_claiming(100_000, 100_000), "image-too-large"),
        ("truncated.mp4", film[..film.len() * 2 / 5].to_vec(), "decode-failed"),
        ("broken.jpg", [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x41; 2000][..]].concat(), "decode-failed"),
        ("header-only.heic", fixtures::heic_header(), "decode-failed"),
    ];
    for (name, bytes, code) in cases {
        let media = upload_ok(&app, &author, &work, name, &bytes).await;
        assert_eq!(media["status"], "failed", "{name}: {media}");
        assert_eq!(media["error"]["code"], code, "{name}: {media}");
        assert!(!media["error"]["message"].as_str().unwrap().is_empty());
        app.assert_healthy().await;
    }
}

#[actix_web::test]
async fn uploads_over_the_class_limit_are_refused_while_streaming() {
    let app = TestApp::spawn_with(|settings| settings.max_image_bytes = 100 * 1024).await;
    let (author, work) = film_work(&app).await;
    let mut big = fixtures::png(20, 20);
    big.resize(300 * 1024, 0);
    let reply = app.upload(&author, &work, "big.png", &big, None).await;
    assert_error(&reply, 413, "upload-too-large");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("102400 bytes"));
    assert_eq!(app.temp_entries(), 0);
    let film = fixtures::read(&films().silent);
    assert_eq!(app.upload(&author, &work, "film.mp4", &film, None).await.status, 201, "videos have their own limit");
}

#[actix_web::test]
async fn the_same_bytes_are_stored_once_and_removed_with_the_last_record() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let bytes = fixtures::png(30, 30);
    let first = app.upload(&author, &work, "one.png", &bytes, Some("attachment")).await.json();
    let second = app.upload(&author, &work, "two.png", &bytes, Some("attachment")).await.json();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    let sha = first["sha256"].as_str().unwrap();
    let stored = app.media_dir().join("originals").join(&sha[0..2]).join(&sha[2..4]).join(sha);
    let originals = walk(&app.media_dir().join("originals"));
    assert_eq!(originals, 1);
    app.processed(&author, first["id"].as_str().unwrap()).await;
    app.processed(&author, second["id"].as_str().unwrap()).await;
    assert_eq!(app.delete(&format!("/api/v1/media/{}", first["id"].as_str().unwrap()), &author).await.status, 204);
    assert!(stored.exists(), "still referenced by the second record");
    assert_eq!(app.delete(&format!("/api/v1/media/{}", second["id"].as_str().unwrap()), &author).await.status, 204);
    assert!(!stored.exists(), "removed with the last record");
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|entry| if entry.path().is_dir() { walk(&entry.path()) } else { 1 }).sum()
    })
}

#[actix_web::test]
async fn originals_stream_with_range_and_derivatives_revalidate() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let film = fixtures::read(&films().h264_with_audio);
    let media = upload_ok(&app, &author, &work, "剧情片.mp4", &film).await;
    let original = media["original_url"].as_str().unwrap();
    let whole = app.fetch(original, &author, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, film);
    assert_eq!(whole.header("content-type").unwrap(), "video/mp4");
    assert_eq!(whole.header("accept-ranges").unwrap(), "bytes");
    assert_eq!(whole.header("x-content-type-options").unwrap(), "nosniff");
    assert!(whole.header("content-disposition").unwrap().starts_with("inline"));
    let part = app.fetch(original, &author, &[("range", "bytes=100-199")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, film[100..200].to_vec());
    assert_eq!(part.header("content-range").unwrap(), format!("bytes 100-199/{}", film.len()));
    let beyond = app.fetch(original, &author, &[("range", &format!("bytes={}-", film.len() + 5))]).await;
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.json()["error"]["code"], "range-not-satisfiable");
    assert_eq!(beyond.header("content-range").unwrap(), format!("bytes */{}", film.len()));
    let poster = media["poster"].as_str().unwrap();
    let first = app.fetch(poster, &author, &[]).await;
    let etag = first.header("etag").unwrap();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong etag: {etag}");
    assert!(first.header("cache-control").unwrap().contains("max-age=31536000"));
    let again = app.fetch(poster, &author, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    let unknown = app
        .fetch(
            &format!("/api/v1/media/{}/derivatives/..%2F..%2Fetc%2Fpasswd", media["id"].as_str().unwrap()),
            &author,
            &[],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[actix_web::test]
async fn staff_never_get_a_drafts_files() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "cover.png", &fixtures::png(50, 50)).await;
    let staff = app.user_with_roles("reader", &[Role::Staff]).await;
    let id = media["id"].as_str().unwrap();
    for url in [
        format!("/api/v1/media/{id}"),
        media["original_url"].as_str().unwrap().to_owned(),
        media["thumbnails"]["small"].as_str().unwrap().to_owned(),
        format!("/api/v1/works/{work}/media"),
    ] {
        let reply = app.fetch(&url, &staff, &[]).await;
        assert_eq!(reply.status, 404, "{url}");
    }
    app.force_status(&work, "published");
    assert_eq!(app.fetch(media["original_url"].as_str().unwrap(), &staff, &[]).await.status, 200);
    assert_eq!(app.fetch(media["thumbnails"]["small"].as_str().unwrap(), &staff, &[]).await.status, 200);
}

#[actix_web::test]
async fn broken_multipart_forms_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let (content_type, whole) = multipart("cut.png", &fixtures::png(64, 64), None);
    let boundary = content_type.rsplit('=').next().unwrap().to_owned();
    let nameless = format!("--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{boundary}--\r\n");
    let junk_after_boundary = [
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").as_bytes(),
        &fixtures::png(8, 8),
        format!("\r\n--{boundary}junk").as_bytes(),
    ]
    .concat();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("cut short inside the file", whole[..whole.len() / 2].to_vec(), "ended in the middle"),
        ("no delimiter at all", b"just bytes".to_vec(), "ended in the middle"),
        ("a part without a name", nameless.into_bytes(), "no name"),
        ("a boundary followed by junk", junk_after_boundary, "neither CRLF nor --"),
    ];
    let bearer = format!("Bearer {}", author.token);
    let headers = [("authorization", bearer.as_str()), ("content-type", content_type.as_str())];
    let path = format!("/api/v1/works/{work}/media");
    for (what, body, reason) in cases {
        let reply = app.raw(awc::http::Method::POST, &path, &headers, body).await;
        assert_case_error(what, &reply, 400, "malformed-form", None);
        assert!(reply.json()["error"]["message"].as_str().unwrap().contains(reason), "{what}: {}", reply.text());
    }
    assert_eq!(app.get(&path, &author).await.json()["items"], json!([]));
    assert_eq!(app.temp_entries(), 0, "no temp leftovers");
    app.assert_healthy().await;
}

/// A multipart body of `(name, filename, bytes)` parts in the order given.
fn form_of(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "order-test-boundary";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        let filename = filename.map(|filename| format!("; filename=\"{filename}\"")).unwrap_or_default();
        let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n");
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[actix_web::test]
async fn form_fields_may_come_in_any_order_but_one_file_per_form_and_forms_are_bounded() {
    let app = TestApp::spawn_with(|settings| {
        settings.max_image_bytes = 200 * 1024;
        settings.max_video_bytes = 200 * 1024;
        settings.max_audio_bytes = 200 * 1024;
    })
    .await;
    let (author, work) = film_work(&app).await;
    let bearer = format!("Bearer {}", author.token);
    let path = format!("/api/v1/works/{work}/media");
    let send = |(content_type, body): (String, Vec<u8>)| {
        let headers = [("authorization", bearer.clone()), ("content-type", content_type)];
        let path = path.clone();
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
            app.raw(awc::http::Method::POST, &path, &headers, body).await
        }
    };
    let png = fixtures::png(30, 20);
    let unknown_first_role_last =
        form_of(&[("note", None, b"ignored"), ("file", Some("a.png"), &png), ("role", None, b"cover")]);
    let stored = send(unknown_first_role_last).await;
    assert_eq!(stored.status, 201, "{}", stored.text());
    assert_eq!(stored.json()["role"], "cover");
    // Processing works in a temp folder of its own; let it finish before counting leftovers.
    assert_eq!(app.processed(&author, stored.json()["id"].as_str().unwrap()).await["status"], "ready");
    let other = fixtures::png(31, 20);
    let two_files = send(form_of(&[("file", Some("a.png"), &png), ("file", Some("b.png"), &other)])).await;
    assert_error(&two_files, 422, "too-many-files");
    let long_role = send(form_of(&[("role", None, &[b'x'; 65]), ("file", Some("a.png"), &png)])).await;
    assert_error(&long_role, 422, "field-too-long");
    // Padding in fields that are skipped still counts towards the whole form's bound.
    let padding = vec![b'p'; 1024 * 1024];
    let padded =
        send(form_of(&[("pad", None, &padding), ("pad", None, &padding), ("file", Some("a.png"), &png)])).await;
    assert_error(&padded, 413, "upload-too-large");
    let listed = app.get(&path, &author).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "only the first form stored a file: {listed}");
    assert_eq!(app.temp_entries(), 0, "no temp leftovers");
    app.assert_healthy().await;
}

#[actix_web::test]
async fn only_the_creator_or_an_admin_uploads_and_only_while_editable() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let other = app.user_with_roles("other", &[Role::Contributor, Role::Reviewer]).await;
    let refused = app.upload(&other, &work, "x.png", &fixtures::png(10, 10), None).await;
    assert_error(&refused, 403, "forbidden");
    assert_eq!(app.upload(&app.admin, &work, "x.png", &fixtures::png(10, 10), None).await.status, 201);
    let bearer = format!("Bearer {}", author.token);
    let not_multipart = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let bare =
        app.raw(awc::http::Method::POST, &format!("/api/v1/works/{work}/media"), &not_multipart, b"{}".to_vec()).await;
    assert_error(&bare, 415, "unsupported-content-type");
    app.force_status(&work, "submitted");
    let locked = app.upload(&author, &work, "y.png", &fixtures::png(11, 10), None).await;
    assert_error(&locked, 409, "work-not-editable");
    let not_an_id = app.upload(&author, "not-a-work-id", "z.png", &[1], None).await;
    assert_error(&not_an_id, 400, "invalid-path-parameter");
}

#[actix_web::test]
async fn reviewers_can_reprocess_media() {
    let app = TestApp::spawn().await;
    let (author, work) = film_work(&app).await;
    let media = upload_ok(&app, &author, &work, "p.png", &fixtures::png(20, 20)).await;
    let id = media["id"].as_str().unwrap();
    assert_eq!(app.post(&format!("/api/v1/media/{id}/reprocess"), &author, &json!({})).await.status, 403);
    let reviewer = app.user_with_roles("judge", &[Role::Reviewer]).await;
    let queued = app.post(&format!("/api/v1/media/{id}/reprocess"), &reviewer, &json!({})).await;
    assert_eq!(queued.status, 202, "{}", queued.text());
    assert_eq!(app.processed(&reviewer, id).await["status"], "ready");
}

/// The long edge of a JPEG written by a one-shot command.
fn long_edge(path: &std::path::Path) -> u32 {
    let image = image::open(path).unwrap();
    image.width().max(image.height())
}

#[test]
fn one_shot_commands_write_derivatives_and_only_microcat_video_loads_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, fixtures::jpeg_with_orientation(1600, 1200, 1)).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_microcat")).args(args).output().unwrap()
    };
    let thumbnail = dir.path().join("thumbnail.jpg");
    let made = run(&["thumbnail".as_ref(), photo.as_os_str(), thumbnail.as_os_str()]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(long_edge(&thumbnail), 320);
    // `microcat poster` hands over to microcat-video beside it.
    let poster = dir.path().join("poster.jpg");
    let made =
        run(&["poster".as_ref(), films().h264_with_audio.as_os_str(), poster.as_os_str(), "--size=200".as_ref()]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(long_edge(&poster), 200);
    let refused = run(&["poster".as_ref(), photo.as_os_str(), poster.as_os_str()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("microcat-video"), "the film tool says who failed");
    let libraries = |program: &str| {
        let listed = std::process::Command::new("ldd").arg(program).output().unwrap();
        String::from_utf8(listed.stdout).unwrap()
    };
    let main = libraries(env!("CARGO_BIN_EXE_microcat"));
    assert!(!main.contains("libavcodec") && !main.contains("libheif"), "microcat links:\n{main}");
    assert!(libraries(env!("CARGO_BIN_EXE_microcat-video")).contains("libavcodec"));
}

#[test]
fn the_server_refuses_to_start_without_its_film_worker() {
    let dir = tempfile::tempdir().unwrap();
    // A photo worker in a folder with no microcat-video beside it.
    let lonely = dir.path().join("bin");
    std::fs::create_dir_all(&lonely).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_microcat"), lonely.join("microcat")).unwrap();
    let config = dir.path().join("microcat.toml");
    std::fs::write(&config, format!("media_worker_program = {:?}\n", lonely.join("microcat").display().to_string()))
        .unwrap();
    let database_url = crate::helpers::fresh_database_url(dir.path());
    let mut server = crate::helpers::ServerProcess::start(
        dir.path(),
        &database_url,
        &[("MICROCAT_CONFIG", config.to_str().unwrap())],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the server started without its film worker");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("microcat-video") && log.contains("missing"), "the reason is logged: {log}");
}

/// Pids of processes whose first argument is `program`.
pub(crate) fn processes_running(program: &std::path::Path) -> Vec<i32> {
    let wanted = program.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.split(|byte| *byte == 0).next() == Some(wanted))
        })
        .collect()
}

#[actix_web::test]
async fn a_killed_media_worker_fails_only_that_attempt_and_the_job_is_retried() {
    // Links of their own, so that only this test's children have these names.
    let links = tempfile::tempdir().unwrap();
    let worker = links.path().join("microcat");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_microcat"), &worker).unwrap();
    let program = microcat::media::worker::film_program(&worker);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_microcat-video"), &program).unwrap();
    let app = TestApp::spawn_with(move |settings| settings.media_worker_program = Some(worker)).await;
    let (author, work) = film_work(&app).await;
    let reply = app.upload(&author, &work, "long.mp4", &fixtures::read(&films().long_for_kill), None).await;
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let victim = loop {
        if let Some(pid) = processes_running(&program).first() {
            break *pid;
        }
        assert!(std::time::Instant::now() < deadline, "the worker child never started");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    // SAFETY: plain kill(2) of a child process this test's server started.
    unsafe { libc::kill(victim, libc::SIGKILL) };
    app.assert_healthy().await;
    let media = app.processed(&author, &id).await;
    assert_eq!(media["status"], "ready", "the retry succeeded: {media}");
    let attempts = {
        let mut conn = app.db.connection().unwrap();
        microcat::db::jobs::for_media(&mut conn, &id).unwrap()
    };
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempts, 2, "one killed attempt, one good one");
    assert!(attempts[0].last_error.as_deref().unwrap_or_default().contains("killed"), "{:?}", attempts[0].last_error);
}

#[actix_web::test]
async fn processing_resumes_after_a_restart() {
    let app = TestApp::spawn_with(|settings| settings.media_workers = 1).await;
    let (author, work) = film_work(&app).await;
    let mut ids = Vec::new();
    for size in 10..14 {
        ids.push(
            app.upload(&author, &work, "p.png", &fixtures::png(size, size), None).await.json()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let app = app.restart().await;
    for id in ids {
        assert_eq!(app.processed(&author, &id).await["status"], "ready");
    }
}

/// A small tmpfs for a full-disk test, unmounted when dropped. Mounting needs root, which
/// `make test` has.
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir_all(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status();
        assert!(
            status.is_ok_and(|status| status.success()),
            "mounting a tmpfs needs root: run the suite with `make test`"
        );
        Self { path, _dir: dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[actix_web::test]
async fn a_full_disk_answers_507_and_keeps_what_was_stored() {
    let disk = SmallDisk::mount("4m");
    let media_dir = disk.path.join("media");
    let app = TestApp::spawn_with(move |settings| settings.media_dir = media_dir).await;
    let (author, work) = film_work(&app).await;
    let photo = |seed: u32| {
        let mut bytes = fixtures::png(16, 16);
        bytes.extend((0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 11) as u8));
        bytes
    };
    let mut stored = Vec::new();
    let mut refused = None;
    for seed in 0..5 {
        let bytes = photo(seed);
        let reply = app.upload(&author, &work, "big.png", &bytes, Some("attachment")).await;
        match reply.status {
            201 => stored.push((reply.json()["sha256"].as_str().unwrap().to_owned(), bytes)),
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let refused = refused.expect("a 4 MiB disk fills up");
    assert_error(&refused, 507, "insufficient-storage");
    assert!(!stored.is_empty());
    for (sha, bytes) in &stored {
        let path = app.media_dir().join("originals").join(&sha[0..2]).join(&sha[2..4]).join(sha);
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "what was stored before is intact");
    }
    let uploads_left: Vec<String> = std::fs::read_dir(app.media_dir().join("tmp"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("upload-"))
        .collect();
    assert!(uploads_left.is_empty(), "the partial upload was removed: {uploads_left:?}");
    assert_eq!(
        app.get(&format!("/api/v1/works/{work}/media"), &author).await.json()["items"].as_array().unwrap().len(),
        stored.len()
    );
    app.assert_healthy().await;
}

#[actix_web::test]
async fn films_and_audio_over_the_duration_limit_fail_with_a_named_code() {
    let app = TestApp::spawn_with(|settings| settings.max_media_duration_secs = 1).await;
    let (author, work) = film_work(&app).await;
    let film = upload_ok(&app, &author, &work, "long.mp4", &fixtures::read(&films().h264_with_audio)).await;
    assert_eq!(
        (film["status"].as_str(), film["error"]["code"].as_str()),
        (Some("failed"), Some("video-too-long")),
        "{film}"
    );
    assert!(film["error"]["message"].as_str().unwrap().contains("limit of 0:00:01"));
    let audio = upload_ok(&app, &author, &work, "long.m4a", &fixtures::read(&films().audio_only)).await;
    assert_eq!(audio["error"]["code"], "audio-too-long", "{audio}");
}
