//! A 1 GiB upload streamed to the real `microcat serve` binary: the server's peak memory
//! must stay flat (bytes go to disk as they arrive, never into memory whole).

use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::stream;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::ServerProcess;

const CHUNK: usize = 1024 * 1024;
const CHUNKS: usize = 1024;
/// Largest growth of the server's peak resident memory we accept, in bytes.
const MAX_GROWTH: u64 = 64 * 1024 * 1024;

/// (current resident, peak resident) of a process, in bytes.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|line| line.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mp4_head() -> Vec<u8> {
    let mut head = 24u32.to_be_bytes().to_vec();
    head.extend_from_slice(b"ftypisom\0\0\x02\0isomavc1");
    head
}

#[actix_web::test]
async fn a_one_gibibyte_upload_keeps_server_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(dir.path());
    let server = ServerProcess::start(dir.path(), &database_url, &[]);
    let client = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
    server.wait_ready(&client).await;
    let token = server.admin_token(&client).await;
    let mut created = client
        .post(format!("{}/api/v1/works", server.address))
        .bearer_auth(&token)
        .send_json(&json!({"kind": "micro_film", "title": "大文件"}))
        .await
        .unwrap();
    let work = created.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let boundary = "microcat-big-upload";
    let head = mp4_head();
    let prefix = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n");
    let suffix = format!("\r\n--{boundary}--\r\n");
    let zeros = Bytes::from(vec![0u8; CHUNK]);
    let mut expected = Sha256::new();
    expected.update(&head);
    for _ in 0..CHUNKS {
        expected.update(&zeros);
    }
    let expected = hex::encode(expected.finalize());
    let mut parts = vec![Bytes::from(prefix.into_bytes()), Bytes::from(head)];
    parts.extend(std::iter::repeat_n(zeros, CHUNKS));
    parts.push(Bytes::from(suffix.into_bytes()));
    let body = stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));

    let pid = server.child.id();
    let (rss_before, peak_before) = memory_of(pid);
    let started = std::time::Instant::now();
    let mut reply = client
        .post(format!("{}/api/v1/works/{work}/media", server.address))
        .bearer_auth(&token)
        .insert_header(("content-type", format!("multipart/form-data; boundary={boundary}")))
        .send_stream(body)
        .await
        .expect("upload completes");
    let elapsed = started.elapsed();
    let (_, peak_after) = memory_of(pid);
    assert_eq!(reply.status().as_u16(), 201);
    let media = reply.json::<serde_json::Value>().limit(1 << 20).await.unwrap();
    assert_eq!(media["sha256"], expected);
    assert_eq!(media["size"].as_u64(), Some((CHUNKS * CHUNK + 24) as u64));
    let growth = peak_after.saturating_sub(peak_before.max(rss_before));
    println!(
        "1 GiB upload: {:.0} MiB/s, server rss before {} MiB, peak before {} MiB, peak after {} MiB, growth {} MiB",
        (CHUNKS as f64) / elapsed.as_secs_f64(),
        rss_before >> 20,
        peak_before >> 20,
        peak_after >> 20,
        growth >> 20
    );
    assert!(growth <= MAX_GROWTH, "server peak memory grew by {} MiB", growth >> 20);
}
