//! Stored files in an S3 bucket (a real Garage node that `scripts/test.sh` starts) and
//! `migrate-store` between a folder and the bucket: uploads, processing, Range reads and
//! deletion through S3, nothing kept on the node's disk, and a verified, resumable migration.

use microcat::app::Application;
use serde_json::Value;

use crate::fixtures::{self, films};
use crate::helpers::{Session, TestApp, work_json};
use microcat::domain::user::Role;

/// Garage's endpoint and bucket, from `scripts/test.sh`. Outside it the tests say they did
/// not run; under CI a missing Garage fails them (a skipped case is not a passed one).
fn garage() -> Option<(String, String)> {
    let endpoint = std::env::var("MICROCAT_TEST_S3_ENDPOINT").ok();
    let bucket = std::env::var("MICROCAT_TEST_S3_BUCKET").ok();
    match endpoint.zip(bucket) {
        Some(found) => Some(found),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI runs the S3 tests: start Garage (scripts/test.sh)")
        }
        None => {
            eprintln!("S3 tests not run: MICROCAT_TEST_S3_ENDPOINT is unset (scripts/test.sh starts Garage)");
            None
        }
    }
}

fn fresh_prefix() -> String {
    format!("test-{}", uuid::Uuid::now_v7())
}

async fn author_and_work(app: &TestApp) -> (Session, String) {
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let work = app.create_work(&author, work_json("micro_film", "云端存储")).await;
    (author, work["id"].as_str().unwrap().to_owned())
}

async fn upload_processed(app: &TestApp, author: &Session, work: &str, name: &str, bytes: &[u8]) -> Value {
    let reply = app.upload(author, work, name, bytes, None).await;
    assert_eq!(reply.status, 201, "{name}: {}", reply.text());
    let media = app.processed(author, reply.json()["id"].as_str().unwrap()).await;
    assert_eq!(media["status"], "ready", "{name}: {media}");
    media
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|entry| if entry.path().is_dir() { files_under(&entry.path()) } else { 1 }).sum()
    })
}

fn microcat(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[actix_web::test]
async fn media_live_in_the_bucket_and_are_served_from_it() {
    let Some((endpoint, bucket)) = garage() else { return };
    let app = TestApp::spawn_with(|settings| {
        settings.storage_url = Some(format!("s3://{bucket}/{}", fresh_prefix()));
        settings.s3_endpoint = Some(endpoint.clone());
        settings.s3_region = "garage".into();
    })
    .await;
    let (author, work) = author_and_work(&app).await;
    let film = fixtures::read(&films().h264_with_audio);
    let media = upload_processed(&app, &author, &work, "剧情片.mp4", &film).await;
    let original = media["original_url"].as_str().unwrap();
    let whole = app.fetch(original, &author, &[]).await;
    assert_eq!((whole.status, whole.body.len()), (200, film.len()));
    assert!(whole.body == film, "the bytes read back from S3 differ");
    assert_eq!(whole.header("accept-ranges").unwrap(), "bytes");
    assert_eq!(whole.header("content-type").unwrap(), "video/mp4");
    let part = app.fetch(original, &author, &[("range", "bytes=100-199")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, film[100..200].to_vec());
    assert_eq!(part.header("content-range").unwrap(), format!("bytes 100-199/{}", film.len()));
    let tail = app.fetch(original, &author, &[("range", "bytes=-10")]).await;
    assert_eq!((tail.status, tail.body.clone()), (206, film[film.len() - 10..].to_vec()));
    let beyond = app.fetch(original, &author, &[("range", &format!("bytes={}-", film.len() + 5))]).await;
    assert_eq!(beyond.status, 416, "{}", beyond.text());
    assert_eq!(beyond.header("content-range").unwrap(), format!("bytes */{}", film.len()));
    let poster = app.fetch(media["poster"].as_str().unwrap(), &author, &[]).await;
    assert_eq!(poster.status, 200);
    assert!(image::load_from_memory(&poster.body).is_ok(), "the poster made from the S3 original decodes");

    // The same bytes again are stored once; deleting one record keeps the bytes for the other.
    let photo = fixtures::jpeg(640, 480);
    let first = upload_processed(&app, &author, &work, "a.jpg", &photo).await;
    let second = upload_processed(&app, &author, &work, "b.jpg", &photo).await;
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/media/{first_id}"), &author).await.status, 204);
    let kept = app.fetch(second["original_url"].as_str().unwrap(), &author, &[]).await;
    assert_eq!((kept.status, kept.body == photo), (200, true));

    // A master over several parts streams into the bucket as it arrives (staged, then filed
    // under its digest); the same master again is stored once; no staged copy stays behind.
    let mut master = film.clone();
    master.extend((0..20 * 1024 * 1024).map(|index| (index % 253) as u8));
    for name in ["母版.mp4", "母版副本.mp4"] {
        let reply = app.upload(&author, &work, name, &master, None).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        let read = app.fetch(&format!("/api/v1/media/{id}/original"), &author, &[]).await;
        assert!(read.status == 200 && read.body == master, "{name} reads back whole from the bucket");
    }
    let settings = microcat::storage::S3Settings { endpoint: Some(endpoint.clone()), region: "garage".into() };
    let prefix = app.settings.storage_url.as_deref().unwrap().trim_start_matches(&format!("s3://{bucket}/")).to_owned();
    let store = microcat::storage::S3Store::open(&bucket, &prefix, &settings).unwrap();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let left = actix_web::rt::task::spawn_blocking(move || {
        microcat::storage::BlobStore::remove_stale_staging(&store, std::time::Duration::ZERO).unwrap()
    });
    assert_eq!(left.await.unwrap(), 0, "no staged upload is left in the bucket");

    // Nothing but scratch space on the node's own disk, and no scratch left behind.
    assert_eq!(files_under(&app.media_dir().join("originals")), 0);
    assert_eq!(files_under(&app.media_dir().join("derived")), 0);
    assert_eq!(app.temp_entries(), 0);
}

#[actix_web::test]
async fn migrate_store_copies_verifies_resumes_and_switches() {
    let Some((endpoint, bucket)) = garage() else { return };
    let app = TestApp::spawn().await;
    let (author, work) = author_and_work(&app).await;
    let photos = [fixtures::jpeg(320, 240), fixtures::png(64, 48)];
    let mut uploaded = Vec::new();
    for (index, photo) in photos.iter().enumerate() {
        uploaded.push(upload_processed(&app, &author, &work, &format!("p{index}.jpg"), photo).await);
    }
    let media_dir = app.media_dir();
    let (url, media) = (app.settings.database_url.clone(), media_dir.to_str().unwrap().to_owned());
    let target = format!("s3://{bucket}/{}", fresh_prefix());
    let keys = [
        ("AWS_ACCESS_KEY_ID", std::env::var("AWS_ACCESS_KEY_ID").unwrap()),
        ("AWS_SECRET_ACCESS_KEY", std::env::var("AWS_SECRET_ACCESS_KEY").unwrap()),
    ];
    let mut env: Vec<(&str, &str)> = keys.iter().map(|(name, value)| (*name, value.as_str())).collect();
    env.extend([("MICROCAT_S3_ENDPOINT", endpoint.as_str()), ("MICROCAT_S3_REGION", "garage")]);
    let migrate = |to: &str, env: &[(&str, &str)]| {
        microcat(&["migrate-store", "--to", to, "--database-url", &url, "--media-dir", &media], env)
    };

    // A damaged original is found by its digest, not copied, and nothing switches.
    let digest = uploaded[0]["sha256"].as_str().unwrap().to_owned();
    let stored = media_dir.join(format!("originals/{}/{}/{digest}", &digest[..2], &digest[2..4]));
    let good = std::fs::read(&stored).unwrap();
    std::fs::write(&stored, b"not the uploaded bytes").unwrap();
    let (ok, text) = migrate(&target, &env);
    assert!(!ok && text.contains("the source copy is damaged") && text.contains("nothing was switched"), "{text}");

    // Repaired, a second run copies only what the first could not.
    std::fs::write(&stored, &good).unwrap();
    let (ok, text) = migrate(&target, &env);
    assert!(ok && text.contains("1 copied now") && text.contains("verified before"), "{text}");
    assert!(text.contains(&format!("MICROCAT_STORAGE_URL={target}")), "{text}");

    // A node still configured for the folder is refused; one on the bucket serves every file.
    let refused = Application::build(app.settings.clone()).await.err().expect("the old store is refused");
    assert!(refused.to_string().contains("migrate-store"), "{refused}");
    let on_bucket = TestApp::spawn_with(|settings| {
        settings.database_url = url.clone();
        settings.media_dir = std::path::PathBuf::from(&media).with_file_name("scratch");
        settings.storage_url = Some(target.clone());
        settings.s3_endpoint = Some(endpoint.clone());
        settings.s3_region = "garage".into();
    })
    .await;
    let author = on_bucket.login("author", crate::helpers::PASSWORD).await;
    for (media, bytes) in uploaded.iter().zip(&photos) {
        let original = on_bucket.fetch(media["original_url"].as_str().unwrap(), &author, &[]).await;
        assert!(original.status == 200 && &original.body == bytes, "{}", original.status);
        let small = on_bucket.fetch(media["thumbnails"]["small"].as_str().unwrap(), &author, &[]).await;
        assert_eq!(small.status, 200);
    }

    // And back to a new folder, every hash checked again.
    let back = std::path::PathBuf::from(&media).with_file_name("back");
    let back = back.to_str().unwrap();
    let mut env_on_bucket = env.clone();
    env_on_bucket.push(("MICROCAT_STORAGE_URL", target.as_str()));
    let (ok, text) = migrate(back, &env_on_bucket);
    assert!(ok && text.contains(&format!("MICROCAT_STORAGE_URL={back}")), "{text}");
    let copied = std::fs::read(format!("{back}/originals/{}/{}/{digest}", &digest[..2], &digest[2..4])).unwrap();
    assert!(copied == good);
    let (ok, text) = migrate(&target, &[]);
    assert!(!ok && text.contains(&format!("moved to {back}")), "the folder is no longer the store: {text}");
    let (ok, text) = migrate(back, &[("MICROCAT_STORAGE_URL", back)]);
    assert!(!ok && text.contains("already in"), "{text}");
}

#[actix_web::test]
async fn a_second_node_on_one_sqlite_file_is_refused() {
    use std::io::BufRead;
    if crate::helpers::backend() != "sqlite" {
        return; // several nodes on PostgreSQL are the supported way to grow.
    }
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("one.db").display());
    let media = dir.path().join("media");
    let index = dir.path().join("index");
    let serve = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--database-url", &database]);
        command.arg("--media-dir").arg(&media).arg("--index-dir").arg(&index);
        command.env("MICROCAT_ADMIN_PASSWORD", "admin-password-1");
        command
    };
    let mut first = serve().stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = std::io::BufReader::new(first.stdout.take().unwrap()).lines();
    let serving = lines.find(|line| line.as_ref().is_ok_and(|line| line.contains("microcat is serving")));
    assert!(serving.is_some(), "the first node serves");
    let second = serve().output().unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success() && said.contains("already serving"), "{said}");
    first.kill().unwrap();
    first.wait().unwrap();
    // The lock dies with the process: a node may start again at once.
    let mut again = serve().stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = std::io::BufReader::new(again.stdout.take().unwrap()).lines();
    assert!(lines.any(|line| line.is_ok_and(|line| line.contains("microcat is serving"))));
    again.kill().unwrap();
    again.wait().unwrap();
}

#[actix_web::test]
async fn an_upload_refused_midway_into_the_bucket_leaves_nothing() {
    let Some((endpoint, bucket)) = garage() else { return };
    let prefix = fresh_prefix();
    let app = TestApp::spawn_with(|settings| {
        settings.storage_url = Some(format!("s3://{bucket}/{prefix}"));
        settings.s3_endpoint = Some(endpoint.clone());
        settings.s3_region = "garage".into();
        settings.max_video_bytes = 12 * 1024 * 1024;
    })
    .await;
    let (author, work) = author_and_work(&app).await;
    // Past one part (8 MiB) the upload is a multipart upload in the bucket; at 12 MiB it is
    // refused, the multipart upload aborted, and nothing is filed or recorded.
    let mut master = fixtures::read(&films().h264_with_audio);
    master.extend((0..20 * 1024 * 1024).map(|index| (index % 249) as u8));
    let refused = app.upload(&author, &work, "超限母版.mp4", &master, None).await;
    assert_eq!(refused.status, 413, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "upload-too-large");
    let listed = app.get(&format!("/api/v1/works/{work}/media"), &author).await.json();
    assert_eq!(listed["items"].as_array().map_or(0, Vec::len), 0, "{listed}");
    // The same node still takes uploads into the bucket afterwards.
    let film = fixtures::read(&films().h264_with_audio);
    upload_processed(&app, &author, &work, "正片.mp4", &film).await;
    let settings = microcat::storage::S3Settings { endpoint: Some(endpoint.clone()), region: "garage".into() };
    let store = microcat::storage::S3Store::open(&bucket, &prefix, &settings).unwrap();
    let left = actix_web::rt::task::spawn_blocking(move || {
        microcat::storage::BlobStore::remove_stale_staging(&store, std::time::Duration::ZERO).unwrap()
    });
    assert_eq!(left.await.unwrap(), 0, "nothing staged was completed");
    assert_eq!(app.temp_entries(), 0);
}
