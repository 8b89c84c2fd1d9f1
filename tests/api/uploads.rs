//! Resumable uploads over tus 1.0 at `/api/v1/uploads`: creation (with and without a first
//! piece), offsets that survive a dropped connection, mismatched offsets, termination, the
//! protocol version, the size limit, and completion feeding the same ingest as a form upload.

use std::io::Write;

use awc::http::Method;
use base64::Engine;
use microcat::domain::user::Role;
use serde_json::Value;

use crate::fixtures;
use crate::helpers::{Reply, Session, TestApp, work_json};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn metadata(work: &str, filename: &str) -> String {
    format!("work_id {},role {},filename {}", b64(work), b64("main"), b64(filename))
}

async fn tus(
    app: &TestApp,
    method: Method,
    path: &str,
    session: &Session,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let bearer = format!("Bearer {}", session.token);
    let mut all = vec![("authorization", bearer.as_str()), ("tus-resumable", "1.0.0")];
    all.extend_from_slice(headers);
    app.raw(method, path, &all, body).await
}

async fn create(app: &TestApp, session: &Session, work: &str, length: usize) -> String {
    let length = length.to_string();
    let meta = metadata(work, "现场照片.jpg");
    let reply = tus(
        app,
        Method::POST,
        "/api/v1/uploads",
        session,
        &[("upload-length", &length), ("upload-metadata", &meta)],
        Vec::new(),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("tus-resumable").unwrap(), "1.0.0");
    assert!(reply.header("upload-expires").is_some());
    reply.header("location").unwrap()
}

async fn patch(app: &TestApp, session: &Session, location: &str, offset: usize, bytes: &[u8]) -> Reply {
    let offset = offset.to_string();
    let headers = [("upload-offset", offset.as_str()), ("content-type", "application/offset+octet-stream")];
    tus(app, Method::PATCH, location, session, &headers, bytes.to_vec()).await
}

async fn offset_of(app: &TestApp, session: &Session, location: &str) -> u64 {
    let reply = tus(app, Method::HEAD, location, session, &[], Vec::new()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control").unwrap(), "no-store");
    reply.header("upload-offset").unwrap().parse().unwrap()
}

async fn author_and_work(app: &TestApp) -> (Session, String) {
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "断点续传")).await;
    (author, work["id"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn an_upload_in_pieces_becomes_a_processed_medium() {
    let app = TestApp::spawn().await;
    let (author, work) = author_and_work(&app).await;
    let options = app.raw(Method::OPTIONS, "/api/v1/uploads", &[], Vec::new()).await;
    assert_eq!(options.status, 204);
    assert_eq!(options.header("tus-version").unwrap(), "1.0.0");
    assert!(options.header("tus-extension").unwrap().contains("creation-with-upload"));
    assert!(options.header("tus-max-size").unwrap().parse::<u64>().unwrap() > 0);

    let photo = fixtures::jpeg(1200, 900);
    let location = create(&app, &author, &work, photo.len()).await;
    assert_eq!(offset_of(&app, &author, &location).await, 0);
    let half = photo.len() / 2;
    let first = patch(&app, &author, &location, 0, &photo[..half]).await;
    assert_eq!(first.status, 204, "{}", first.text());
    assert_eq!(first.header("upload-offset").unwrap(), half.to_string());
    assert_eq!(offset_of(&app, &author, &location).await, half as u64);
    let wrong = patch(&app, &author, &location, 3, &photo[3..]).await;
    assert_eq!((wrong.status, wrong.error_code()), (409, "upload-offset-mismatch".into()));
    let plain = tus(
        &app,
        Method::PATCH,
        &location,
        &author,
        &[("upload-offset", "0"), ("content-type", "text/plain")],
        vec![1],
    )
    .await;
    assert_eq!(plain.status, 415);
    let last = patch(&app, &author, &location, half, &photo[half..]).await;
    assert_eq!(last.status, 204, "{}", last.text());
    let media_id = last.header("microcat-media-id").expect("the medium the upload became");
    let media = app.processed(&author, &media_id).await;
    assert_eq!(media["status"], "ready");
    assert_eq!(media["original_filename"], "现场照片.jpg");
    let original = app.fetch(media["original_url"].as_str().unwrap(), &author, &[]).await;
    assert!(original.body == photo, "the joined pieces are the file");
    let again = patch(&app, &author, &location, photo.len(), b"x").await;
    assert_eq!(again.error_code(), "upload-complete");
    assert_eq!(app.temp_entries(), 0, "no scratch left behind");

    // Someone else cannot see it; another version of the protocol is refused.
    let other = app.user_with_roles("other", &[Role::Contributor]).await;
    let hidden = tus(&app, Method::HEAD, &location, &other, &[], Vec::new()).await;
    assert_eq!(hidden.status, 404);
    let theirs = patch(&app, &other, &location, photo.len(), b"x").await;
    assert_eq!(theirs.status, 404, "nobody else may append");
    // Only someone who may add media to the work may open an upload for it.
    let length = photo.len().to_string();
    let meta = metadata(&work, "x.jpg");
    let headers = [("upload-length", length.as_str()), ("upload-metadata", meta.as_str())];
    let refused = tus(&app, Method::POST, "/api/v1/uploads", &other, &headers, Vec::new()).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.text());
    let anonymous = app
        .raw(Method::POST, "/api/v1/uploads", &[("tus-resumable", "1.0.0"), ("upload-length", "10")], Vec::new())
        .await;
    assert_eq!(anonymous.status, 401);
    let bearer = format!("Bearer {}", author.token);
    let old =
        app.raw(Method::HEAD, &location, &[("authorization", &bearer), ("tus-resumable", "0.2.2")], Vec::new()).await;
    assert_eq!((old.status, old.header("tus-version")), (412, Some("1.0.0".to_owned())));
}

#[actix_web::test]
async fn creation_with_upload_termination_and_limits() {
    let app = TestApp::spawn_with(|settings| settings.max_video_bytes = 4 * 1024 * 1024).await;
    let (author, work) = author_and_work(&app).await;
    let photo = fixtures::png(300, 200);
    let (length, meta) = (photo.len().to_string(), metadata(&work, "a.png"));
    let headers = [
        ("upload-length", length.as_str()),
        ("upload-metadata", meta.as_str()),
        ("content-type", "application/offset+octet-stream"),
    ];
    let created = tus(&app, Method::POST, "/api/v1/uploads", &author, &headers, photo.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("upload-offset").unwrap(), length);
    assert!(created.header("microcat-media-id").is_some(), "a whole file in the POST is complete at once");

    let location = create(&app, &author, &work, 1000).await;
    assert_eq!(patch(&app, &author, &location, 0, &[7; 400]).await.status, 204);
    assert_eq!(tus(&app, Method::DELETE, &location, &author, &[], Vec::new()).await.status, 204);
    assert_eq!(tus(&app, Method::HEAD, &location, &author, &[], Vec::new()).await.status, 404);

    let huge = (64u64 * 1024 * 1024 * 1024).to_string();
    let meta = metadata(&work, "huge.mp4");
    let refused = tus(
        &app,
        Method::POST,
        "/api/v1/uploads",
        &author,
        &[("upload-length", &huge), ("upload-metadata", &meta)],
        Vec::new(),
    )
    .await;
    assert_eq!((refused.status, refused.error_code()), (413, "upload-too-large".into()));
    let nowhere = metadata("00000000-0000-0000-0000-000000000000", "x.jpg");
    let missing = tus(
        &app,
        Method::POST,
        "/api/v1/uploads",
        &author,
        &[("upload-length", "10"), ("upload-metadata", &nowhere)],
        Vec::new(),
    )
    .await;
    assert_eq!(missing.status, 404);
    let garbled = tus(&app, Method::POST, "/api/v1/uploads", &author, &[("upload-length", "ten")], Vec::new()).await;
    assert_eq!((garbled.status, garbled.error_code()), (400, "invalid-header".into()));
    let location = create(&app, &author, &work, 10).await;
    let beyond = patch(&app, &author, &location, 0, &[1; 11]).await;
    assert_eq!(beyond.status, 413);
    let done = app.get(&format!("/api/v1/works/{work}/media"), &author).await.json();
    assert_eq!(done["items"].as_array().map(Vec::len), Some(1), "only the complete upload became a medium: {done}");
}

#[actix_web::test]
async fn a_dropped_connection_keeps_what_arrived() {
    let app = TestApp::spawn().await;
    let (author, work) = author_and_work(&app).await;
    let photo = fixtures::jpeg(1600, 1200);
    let location = create(&app, &author, &work, photo.len()).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let (token, path, bytes) = (author.token.clone(), location.clone(), photo.clone());
    let sent = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let head = format!(
            "PATCH {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n\
             Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let cut = bytes.len() / 3;
        stream.write_all(&bytes[..cut]).unwrap();
        stream.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(stream); // the link drops
        cut
    })
    .join()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let kept = loop {
        let offset = offset_of(&app, &author, &location).await;
        if offset > 0 || std::time::Instant::now() > deadline {
            break offset;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(kept, sent as u64, "the bytes that arrived are kept");
    let rest = patch(&app, &author, &location, sent, &photo[sent..]).await;
    assert_eq!(rest.status, 204, "{}", rest.text());
    let media: Value = app.processed(&author, &rest.header("microcat-media-id").unwrap()).await;
    let original = app.fetch(media["original_url"].as_str().unwrap(), &author, &[]).await;
    assert!(original.body == photo);
}
