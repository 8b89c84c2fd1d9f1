//! Killed at random moments, nothing acknowledged is lost. The real `microcat serve` runs a
//! concurrent workload (uploads, edits, lifecycle steps with two reviewers racing, comments)
//! and is SIGKILLed at seeded random moments, then restarted on the same database and folders.
//! Everything the server answered 2xx survives every restart: works, uploads with their bytes,
//! edits and steps (or a later change of the same work), steps in the work's history,
//! comments; a work no request of unknown outcome touched has exactly its last acknowledged
//! version. No partial upload outlives a restart. After the last restart processing resumes
//! until every medium is `ready`, the temp folder ends empty, every record's original is on
//! disk, the search index holds exactly the works of the database with their statuses, and
//! `microcat audit verify` accepts the audit chain.
//!
//! `MICROCAT_TEST_CRASH_SEED` (default 20261128) fixes the schedule; `MICROCAT_TEST_CRASH_KILLS`
//! (default 20; `make soak` sets 100) the number of kills.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use awc::http::Method;
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, join, join_all};
use image::{ImageFormat, Rgb, RgbImage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, Reply, ServerProcess, backend, fresh_database_url, multipart};

/// In every title, so one search finds every work of the test.
const TOKEN: &str = "崩溃测试";
const DEFAULT_SEED: u64 = 20_261_128;
const DEFAULT_KILLS: u64 = 20;
const AUTHOR: &str = "crash-author";
const REVIEWERS: [&str; 2] = ["crash-reviewer-1", "crash-reviewer-2"];
/// Works that uploads, edits and comments go to: created once and never submitted, so they
/// stay editable and every refusal there is a bug.
const POOL_SIZE: usize = 4;
/// Requests per task and round: enough to have some in flight at the kill, few enough that
/// twenty rounds stay quick in a debug build with one media worker.
const UPLOADS_PER_TASK: u64 = 3;
/// Edits and comments are cheap (no media job follows), so they keep going densely until the
/// kill: most kills then cut one of them off mid-way.
const EDITS_PER_TASK: u64 = 60;
const COMMENTS_PER_TASK: u64 = 60;
/// Their pause is this fraction of the upload pace.
const DENSE_PACE_DIVISOR: u64 = 20;
/// A server life lasts this long (seeded, in milliseconds) before the kill.
const ROUND_MS: (u64, u64) = (300, 1500);
/// How long processing may take to catch up after the last restart.
const PROCESSING_TIMEOUT: Duration = Duration::from_secs(120);

/// A tiny xorshift generator: the same seed gives the same schedule, without a crate.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // Spread small seeds over the state; xorshift must never hold zero.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A number in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }
}

/// A whole number from the environment, or `default`.
pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok()).unwrap_or(default)
}

/// A small picture no other `n` gives: `n` is written into its pixels, so every upload has its
/// own SHA-256.
pub(crate) fn unique_image(n: u64, format: ImageFormat) -> Vec<u8> {
    let picture = RgbImage::from_fn(24, 16, |x, y| {
        let bit = (n >> ((x + y * 24) % 64)) & 1;
        Rgb([(x * 10) as u8, (y * 15) as u8, if bit == 1 { 240 } else { 16 }])
    });
    let mut bytes = Vec::new();
    picture.write_to(&mut Cursor::new(&mut bytes), format).expect("encode a test picture");
    bytes
}

/// A client that drops idle connections before the server's 5 s keep-alive could close them
/// under it (a reused, half-closed connection would look like a lost request).
pub(crate) fn test_client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(0).conn_keep_alive(Duration::from_secs(2)))
        .timeout(Duration::from_secs(60))
        .disable_redirects()
        .finish()
}

/// What became of a request.
pub(crate) enum Sent {
    /// The server answered, whatever the status.
    Answered(Reply),
    /// The connection broke (a kill): the request may or may not have taken effect.
    Lost(String),
}

/// A JSON request body.
pub(crate) fn json_body(value: &Value) -> Option<(String, Vec<u8>)> {
    Some(("application/json".to_owned(), serde_json::to_vec(value).expect("json serialises")))
}

/// Sends one request; `body` is (content type, bytes).
pub(crate) async fn send(
    client: &awc::Client,
    address: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(String, Vec<u8>)>,
) -> Sent {
    let mut request = client.request(method, format!("{address}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let sent = match body {
        Some((content_type, bytes)) => request.insert_header(("content-type", content_type)).send_body(bytes).await,
        None => request.send().await,
    };
    let mut response = match sent {
        Ok(response) => response,
        Err(error) => return Sent::Lost(error.to_string()),
    };
    match response.body().limit(64 * 1024 * 1024).await {
        Ok(bytes) => Sent::Answered(Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: bytes.to_vec(),
        }),
        Err(error) => Sent::Lost(error.to_string()),
    }
}

/// Logs in and returns the bearer token (panics unless 200).
pub(crate) async fn login(client: &awc::Client, address: &str, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password});
    match send(client, address, Method::POST, "/api/v1/session", None, json_body(&body)).await {
        Sent::Answered(reply) if reply.status == 200 => reply.json()["token"].as_str().expect("token").to_owned(),
        Sent::Answered(reply) => panic!("login of {username}: {} {}", reply.status, reply.text()),
        Sent::Lost(error) => panic!("login of {username}: {error}"),
    }
}

/// An acknowledged upload.
struct AckUpload {
    media_id: String,
    sha256: String,
}

/// What an acknowledged change did to its work.
enum Change {
    Edit { title: String },
    Transition { action: String, to: String },
}

/// An acknowledged edit or lifecycle step, with the version it produced.
struct AckChange {
    work_id: String,
    version: i64,
    change: Change,
}

/// Everything the server acknowledged, across all rounds.
#[derive(Default)]
struct Ledger {
    /// Editable works for uploads, edits and comments.
    pool: Vec<String>,
    /// Every acknowledged work (the pool included).
    works: Vec<String>,
    uploads: Vec<AckUpload>,
    changes: Vec<AckChange>,
    /// (work, comment id).
    comments: Vec<(String, String)>,
    /// The highest version the server acknowledged for each work.
    acked_version: HashMap<String, i64>,
    /// Works a version-changing request of unknown outcome may have changed.
    uncertain: HashSet<String>,
    /// Requests cut off by a kill.
    unknown: usize,
    racing_approvals: usize,
    /// Answers that must never happen (5xx, a refusal the workload never provokes, two
    /// approvals of one version).
    violations: Vec<String>,
    /// Makes titles, comments and pictures unique.
    counter: u64,
}

impl Ledger {
    fn next_number(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn acknowledge_version(&mut self, work: &str, version: i64) {
        let entry = self.acked_version.entry(work.to_owned()).or_insert(version);
        *entry = (*entry).max(version);
    }

    fn edits(&self) -> usize {
        self.changes.iter().filter(|change| matches!(change.change, Change::Edit { .. })).count()
    }
}

/// What became of a state-changing request.
enum Fate {
    /// Answered 2xx, with the body.
    Done(Value),
    /// Answered otherwise: nothing changed.
    Refused(Reply),
    /// Cut off: it may or may not have happened.
    Unknown,
}

/// One server life: its sessions, the kill switch and the ledger.
struct Round<'a> {
    client: &'a awc::Client,
    address: String,
    index: u64,
    admin: String,
    author: String,
    reviewers: [String; 2],
    /// Set just before the kill: tasks start nothing new.
    stop: Cell<bool>,
    /// Longest pause between a task's requests, so they spread over the round.
    pace_ms: u64,
    ledger: RefCell<Ledger>,
}

impl Round<'_> {
    /// Waits a random moment; false once the round is over.
    async fn pause(&self, rng: &mut Rng, max_ms: u64) -> bool {
        actix_web::rt::time::sleep(Duration::from_millis(rng.below(max_ms))).await;
        !self.stop.get()
    }

    async fn get(&self, path: &str, token: &str) -> Sent {
        send(self.client, &self.address, Method::GET, path, Some(token), None).await
    }

    /// Sends a state-changing request and books a cut-off one as an unknown outcome (marking
    /// `work` uncertain when the request could change its version).
    async fn change(
        &self,
        work: Option<&str>,
        method: Method,
        path: &str,
        token: &str,
        body: Option<(String, Vec<u8>)>,
    ) -> Fate {
        match send(self.client, &self.address, method, path, Some(token), body).await {
            Sent::Answered(reply) if (200..300).contains(&reply.status) => Fate::Done(reply.json()),
            Sent::Answered(reply) => Fate::Refused(reply),
            Sent::Lost(_) => {
                let mut ledger = self.ledger.borrow_mut();
                ledger.unknown += 1;
                if let Some(work) = work {
                    ledger.uncertain.insert(work.to_owned());
                }
                Fate::Unknown
            }
        }
    }

    fn violation(&self, what: String) {
        self.ledger.borrow_mut().violations.push(what);
    }

    /// An answer the workload never provokes (a 5xx included).
    fn unexpected(&self, what: &str, reply: &Reply) {
        self.violation(format!("{what}: unexpected {} {}", reply.status, reply.text()));
    }

    /// A unique title carrying the search token.
    fn title(&self, label: &str) -> String {
        let n = self.ledger.borrow_mut().next_number();
        format!("{TOKEN} {label} r{}-{n}", self.index)
    }

    fn pick(&self, rng: &mut Rng, pool_only: bool) -> String {
        let ledger = self.ledger.borrow();
        let list = if pool_only { &ledger.pool } else { &ledger.works };
        list[rng.below(list.len() as u64) as usize].clone()
    }

    fn acknowledge(&self, work: &str, after: &Value, change: Change) -> Option<i64> {
        let version = after["version"].as_i64()?;
        let mut ledger = self.ledger.borrow_mut();
        ledger.acknowledge_version(work, version);
        ledger.changes.push(AckChange { work_id: work.to_owned(), version, change });
        Some(version)
    }

    /// Creates the pool as the author (panics on anything but 201: it runs before the round
    /// starts, so no kill can come).
    async fn create_pool(&self) {
        for _ in 0..POOL_SIZE {
            let body = json!({"kind": "weibo_post", "title": self.title("素材池"), "body": "崩溃测试的素材池。"});
            let Fate::Done(work) =
                self.change(None, Method::POST, "/api/v1/works", &self.author, json_body(&body)).await
            else {
                panic!("creating the pool failed");
            };
            let id = work["id"].as_str().expect("work id").to_owned();
            let mut ledger = self.ledger.borrow_mut();
            ledger.acknowledge_version(&id, 1);
            ledger.works.push(id.clone());
            ledger.pool.push(id);
        }
    }

    /// Takes one lifecycle step; the new version, or `None` when it did not (surely) happen.
    async fn transition(&self, work: &str, token: &str, body: Value) -> Option<i64> {
        let action = body["action"].as_str().unwrap_or_default().to_owned();
        let path = format!("/api/v1/works/{work}/transitions");
        match self.change(Some(work), Method::POST, &path, token, json_body(&body)).await {
            Fate::Done(after) => {
                let to = after["status"].as_str().unwrap_or_default().to_owned();
                self.acknowledge(work, &after, Change::Transition { action, to })
            }
            Fate::Refused(reply) => {
                self.unexpected(&action, &reply);
                None
            }
            Fate::Unknown => None,
        }
    }

    async fn step(&self, work: &str, token: &str, action: &str, version: i64, comment: Option<&str>) -> Option<i64> {
        self.transition(work, token, json!({"action": action, "version": version, "comment": comment})).await
    }

    async fn publish(&self, work: &str, version: i64) -> Option<i64> {
        let body = json!({"action": "publish", "version": version, "channel": "微博",
            "external_url": format!("https://weibo.com/crash/{work}"), "published_at": "2026-01-01T08:00:00+08:00"});
        self.transition(work, &self.admin, body).await
    }

    /// Edits the title at a known version; the new version, or `None`.
    async fn edit(&self, work: &str, version: i64) -> Option<i64> {
        let title = self.title("修改");
        let body = json!({"version": version, "title": title});
        let path = format!("/api/v1/works/{work}");
        match self.change(Some(work), Method::PATCH, &path, &self.author, json_body(&body)).await {
            Fate::Done(after) => self.acknowledge(work, &after, Change::Edit { title }),
            Fate::Refused(reply) => {
                self.unexpected("edit after changes were requested", &reply);
                None
            }
            Fate::Unknown => None,
        }
    }

    /// Both reviewers approve the same version at once: at most one may win, the other is
    /// told the work moved on.
    async fn racing_approvals(&self, work: &str, version: i64) -> Option<i64> {
        let path = format!("/api/v1/works/{work}/transitions");
        let body = json!({"action": "approve", "version": version});
        let (first, second) = join(
            self.change(Some(work), Method::POST, &path, &self.reviewers[0], json_body(&body)),
            self.change(Some(work), Method::POST, &path, &self.reviewers[1], json_body(&body)),
        )
        .await;
        self.ledger.borrow_mut().racing_approvals += 1;
        let (mut won, mut cut_off) = (None, false);
        for fate in [first, second] {
            match fate {
                Fate::Done(after) => {
                    if won.is_some() {
                        self.violation(format!("both reviewers approved version {version} of {work}"));
                    }
                    let to = after["status"].as_str().unwrap_or_default().to_owned();
                    won = self.acknowledge(work, &after, Change::Transition { action: "approve".into(), to });
                }
                Fate::Refused(reply)
                    if reply.status == 409
                        && matches!(reply.error_code().as_str(), "version-conflict" | "illegal-transition") => {}
                Fate::Refused(reply) => self.unexpected("racing approval", &reply),
                Fate::Unknown => cut_off = true,
            }
        }
        if won.is_none() && !cut_off {
            self.violation(format!("neither reviewer could approve version {version} of {work}"));
        }
        won
    }
}

/// Uploads unique pictures to pool works.
async fn upload_task(round: &Round<'_>, mut rng: Rng, format: ImageFormat) {
    for _ in 0..UPLOADS_PER_TASK {
        if !round.pause(&mut rng, round.pace_ms).await {
            return;
        }
        let work = round.pick(&mut rng, true);
        let n = round.ledger.borrow_mut().next_number();
        let bytes = unique_image(n, format);
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let name = format!("crash-{n}.{}", if format == ImageFormat::Png { "png" } else { "jpg" });
        let path = format!("/api/v1/works/{work}/media");
        match round.change(None, Method::POST, &path, &round.author, Some(multipart(&name, &bytes, None))).await {
            Fate::Done(media) => {
                if media["sha256"] != sha256.as_str() {
                    round.violation(format!("upload {n}: answered sha256 {} for {sha256}", media["sha256"]));
                }
                let media_id = media["id"].as_str().expect("media id").to_owned();
                round.ledger.borrow_mut().uploads.push(AckUpload { media_id, sha256 });
            }
            Fate::Refused(reply) => round.unexpected("upload", &reply),
            Fate::Unknown => {}
        }
    }
}

/// Reads a pool work and edits its title at the version read. Two of these run at once, so
/// some edits are refused with `version-conflict`: a definite "nothing changed".
async fn edit_task(round: &Round<'_>, mut rng: Rng) {
    for _ in 0..EDITS_PER_TASK {
        if !round.pause(&mut rng, round.pace_ms / DENSE_PACE_DIVISOR).await {
            return;
        }
        let work = round.pick(&mut rng, true);
        let path = format!("/api/v1/works/{work}");
        let current = match round.get(&path, &round.author).await {
            Sent::Answered(reply) if reply.status == 200 => reply.json(),
            Sent::Answered(reply) => return round.unexpected("read before an edit", &reply),
            Sent::Lost(_) => return,
        };
        let title = round.title("编辑");
        let body = json!({"version": current["version"], "title": title});
        match round.change(Some(work.as_str()), Method::PATCH, &path, &round.author, json_body(&body)).await {
            Fate::Done(after) => {
                round.acknowledge(&work, &after, Change::Edit { title });
            }
            Fate::Refused(reply) if reply.status == 409 && reply.error_code() == "version-conflict" => {}
            Fate::Refused(reply) => round.unexpected("edit", &reply),
            Fate::Unknown => {}
        }
    }
}

/// Drives one new Weibo post: create → submit → (both reviewers racing to approve |
/// request_changes → edit → submit → approve) → sometimes publish. Stops at the first step
/// that did not surely happen.
async fn lifecycle_task(round: &Round<'_>, mut rng: Rng) {
    let _ = drive_post(round, &mut rng).await;
}

async fn drive_post(round: &Round<'_>, rng: &mut Rng) -> Option<()> {
    let step_pause = round.pace_ms / 4;
    if !round.pause(rng, round.pace_ms).await {
        return None;
    }
    let body = json!({"kind": "weibo_post", "title": round.title("流程"), "body": "民警提醒：崩溃测试。"});
    let work = match round.change(None, Method::POST, "/api/v1/works", &round.author, json_body(&body)).await {
        Fate::Done(work) => work["id"].as_str()?.to_owned(),
        Fate::Refused(reply) => {
            round.unexpected("create", &reply);
            return None;
        }
        Fate::Unknown => return None,
    };
    {
        let mut ledger = round.ledger.borrow_mut();
        ledger.acknowledge_version(&work, 1);
        ledger.works.push(work.clone());
    }
    let mut version = round.step(&work, &round.author, "submit", 1, None).await?;
    if !round.pause(rng, step_pause).await {
        return None;
    }
    if rng.below(2) == 0 {
        version = round.racing_approvals(&work, version).await?;
    } else {
        version = round.step(&work, &round.reviewers[0], "request_changes", version, Some("请补充案例细节")).await?;
        if !round.pause(rng, step_pause).await {
            return None;
        }
        version = round.edit(&work, version).await?;
        version = round.step(&work, &round.author, "submit", version, None).await?;
        if !round.pause(rng, step_pause).await {
            return None;
        }
        version = round.step(&work, &round.reviewers[1], "approve", version, None).await?;
    }
    if rng.below(2) == 0 && round.pause(rng, step_pause).await {
        round.publish(&work, version).await?;
    }
    Some(())
}

/// Comments on any acknowledged work.
async fn comment_task(round: &Round<'_>, mut rng: Rng) {
    for _ in 0..COMMENTS_PER_TASK {
        if !round.pause(&mut rng, round.pace_ms / DENSE_PACE_DIVISOR).await {
            return;
        }
        let work = round.pick(&mut rng, false);
        let body = json!({"body": round.title("评论")});
        let path = format!("/api/v1/works/{work}/comments");
        match round.change(None, Method::POST, &path, &round.author, json_body(&body)).await {
            Fate::Done(comment) => {
                let id = comment["id"].as_str().expect("comment id").to_owned();
                round.ledger.borrow_mut().comments.push((work, id));
            }
            Fate::Refused(reply) => round.unexpected("comment", &reply),
            Fate::Unknown => {}
        }
    }
}

/// Runs the workload until the round's moment comes, then SIGKILLs the server.
async fn run_round(round: &Round<'_>, server: &mut ServerProcess, schedule: &mut Rng, window: Duration) {
    let tasks: Vec<LocalBoxFuture<'_, ()>> = vec![
        upload_task(round, Rng::new(schedule.next_u64()), ImageFormat::Jpeg).boxed_local(),
        upload_task(round, Rng::new(schedule.next_u64()), ImageFormat::Png).boxed_local(),
        edit_task(round, Rng::new(schedule.next_u64())).boxed_local(),
        edit_task(round, Rng::new(schedule.next_u64())).boxed_local(),
        lifecycle_task(round, Rng::new(schedule.next_u64())).boxed_local(),
        comment_task(round, Rng::new(schedule.next_u64())).boxed_local(),
    ];
    let kill = async {
        actix_web::rt::time::sleep(window).await;
        // Nothing awaits between these two: whatever is in flight now is cut off mid-way.
        round.stop.set(true);
        server.kill();
    };
    join(join_all(tasks), kill).await;
}

/// Entries of the media temp folder whose names start with `prefix`.
fn temp_entries(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir.join("media/tmp"))
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts the server on the shared folders; a killed run's partial uploads must be gone.
async fn start(dir: &Path, database_url: &str, client: &awc::Client) -> ServerProcess {
    let server = ServerProcess::start(dir, database_url, &[]);
    server.wait_ready(client).await;
    // The temp folder is cleared before the server listens, and no upload has arrived yet.
    // (Processing jobs may already have made `job-*` folders; those are checked at the end.)
    assert_eq!(temp_entries(dir, "upload-"), Vec::<String>::new(), "partial uploads survived a restart");
    server
}

/// Admin access to one server life, for the checks.
struct Api<'a> {
    client: &'a awc::Client,
    address: String,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> Reply {
        match send(self.client, &self.address, Method::GET, path, Some(self.token.as_str()), None).await {
            Sent::Answered(reply) => reply,
            Sent::Lost(error) => panic!("GET {path}: {error}"),
        }
    }

    async fn json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
        reply.json()
    }

    async fn create_accounts(&self) {
        let accounts = [(AUTHOR, "contributor"), (REVIEWERS[0], "reviewer"), (REVIEWERS[1], "reviewer")];
        for (username, role) in accounts {
            let body = json!({"username": username, "password": PASSWORD, "display_name": username, "roles": [role]});
            match send(
                self.client,
                &self.address,
                Method::POST,
                "/api/v1/users",
                Some(self.token.as_str()),
                json_body(&body),
            )
            .await
            {
                Sent::Answered(reply) => assert_eq!(reply.status, 201, "creating {username}: {}", reply.text()),
                Sent::Lost(error) => panic!("creating {username}: {error}"),
            }
        }
    }

    /// Every live work, by id, as the admin lists it.
    async fn all_works(&self) -> HashMap<String, Value> {
        let mut works = HashMap::new();
        let mut page = 1;
        loop {
            let listed = self.json(&format!("/api/v1/works?per_page=100&page={page}")).await;
            let items = listed["items"].as_array().expect("items");
            for item in items {
                works.insert(item["id"].as_str().expect("work id").to_owned(), item.clone());
            }
            if items.is_empty() || works.len() as u64 >= listed["total"].as_u64().unwrap_or(0) {
                return works;
            }
            page += 1;
        }
    }
}

/// Every acknowledged work is there; every acknowledged edit and step is the work's state or
/// was superseded (the version moved past it); a work no uncertain request touched has
/// exactly its last acknowledged version; acknowledged uploads from `uploads_from` on exist
/// with their digest.
async fn check_acknowledged(api: &Api<'_>, ledger: &Ledger, uploads_from: usize) {
    let works = api.all_works().await;
    let work = |id: &str| works.get(id).unwrap_or_else(|| panic!("acknowledged work {id} is gone"));
    for id in &ledger.works {
        assert!(works.contains_key(id), "acknowledged work {id} is gone");
    }
    for change in &ledger.changes {
        let current = work(change.work_id.as_str());
        let version = current["version"].as_i64().expect("version");
        assert!(version >= change.version, "{} went back from version {} to {version}", change.work_id, change.version);
        if version > change.version {
            continue;
        }
        match &change.change {
            Change::Edit { title } => assert_eq!(current["title"], title.as_str(), "acknowledged edit lost: {current}"),
            Change::Transition { action, to } => {
                assert_eq!(current["status"], to.as_str(), "acknowledged {action} lost: {current}")
            }
        }
    }
    for (id, acked) in &ledger.acked_version {
        let version = work(id.as_str())["version"].as_i64().expect("version");
        if ledger.uncertain.contains(id) {
            assert!(version >= *acked, "{id}: version {version} is behind the acknowledged {acked}");
        } else {
            assert_eq!(version, *acked, "{id}: only acknowledged or refused requests touched it");
        }
    }
    for upload in &ledger.uploads[uploads_from..] {
        let media = api.json(&format!("/api/v1/media/{}", upload.media_id)).await;
        assert_eq!(media["sha256"], upload.sha256.as_str(), "acknowledged upload {}", upload.media_id);
    }
}

/// The stored bytes of every acknowledged upload hash to what was sent.
async fn check_originals(api: &Api<'_>, ledger: &Ledger) {
    for upload in &ledger.uploads {
        let reply = api.get(&format!("/api/v1/media/{}/original", upload.media_id)).await;
        assert_eq!(reply.status, 200, "original of {}: {}", upload.media_id, reply.text());
        let digest = hex::encode(Sha256::digest(reply.body.as_slice()));
        assert_eq!(digest, upload.sha256, "original of {}", upload.media_id);
    }
}

/// Every acknowledged step is in its work's history (as often as it was acknowledged).
async fn check_history(api: &Api<'_>, ledger: &Ledger) {
    let mut expected: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for change in &ledger.changes {
        if let Change::Transition { action, to } = &change.change {
            expected.entry(change.work_id.as_str()).or_default().push((action.as_str(), to.as_str()));
        }
    }
    for (work, steps) in expected {
        let history = api.json(&format!("/api/v1/works/{work}/history")).await;
        let recorded: Vec<(&str, &str)> = history["items"]
            .as_array()
            .expect("history items")
            .iter()
            .filter(|entry| entry["action"] == "work.transition")
            .map(|entry| {
                (
                    entry["details"]["action"].as_str().unwrap_or_default(),
                    entry["details"]["to"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        for step in &steps {
            let acknowledged = steps.iter().filter(|other| *other == step).count();
            let found = recorded.iter().filter(|entry| *entry == step).count();
            assert!(found >= acknowledged, "{work}: {step:?} acknowledged {acknowledged}×, in history {found}×");
        }
    }
}

/// Every acknowledged comment is listed on its work.
async fn check_comments(api: &Api<'_>, ledger: &Ledger) {
    let mut by_work: HashMap<&str, Vec<&str>> = HashMap::new();
    for (work, comment) in &ledger.comments {
        by_work.entry(work.as_str()).or_default().push(comment.as_str());
    }
    for (work, comments) in by_work {
        let listed = api.json(&format!("/api/v1/works/{work}/comments")).await;
        let present: HashSet<&str> =
            listed["items"].as_array().expect("comment items").iter().filter_map(|item| item["id"].as_str()).collect();
        for comment in comments {
            assert!(present.contains(comment), "acknowledged comment {comment} on {work} is gone");
        }
    }
}

/// Every medium of every work, once none is `processing` (jobs resume after a crash).
async fn settled_media(api: &Api<'_>) -> Vec<Value> {
    let deadline = Instant::now() + PROCESSING_TIMEOUT;
    loop {
        let works = api.all_works().await;
        let mut media = Vec::new();
        for id in works.keys() {
            let listed = api.json(&format!("/api/v1/works/{id}/media")).await;
            media.extend(listed["items"].as_array().cloned().unwrap_or_default());
        }
        let processing = media.iter().filter(|medium| medium["status"] == "processing").count();
        if processing == 0 {
            return media;
        }
        assert!(Instant::now() < deadline, "{processing} media still processing after {PROCESSING_TIMEOUT:?}");
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until `/healthz` says the index holds every live work and nothing is pending.
async fn wait_index_caught_up(api: &Api<'_>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = api.get("/healthz").await.json();
        if health["index"]["status"] == "ok" && health["index"]["pending_tasks"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the index never caught up: {health}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A search for the token (in every title) finds exactly the database's works, each with
/// the database's status.
async fn check_search(api: &Api<'_>) {
    let works = api.all_works().await;
    let query: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
    let mut hits: HashMap<String, String> = HashMap::new();
    let mut page = 1;
    loop {
        let results = api.json(&format!("/api/v1/search?q={query}&per_page=100&page={page}")).await;
        let batch = results["hits"].as_array().expect("hits");
        for hit in batch {
            let id = hit["id"].as_str().expect("hit id").to_owned();
            hits.insert(id, hit["status"].as_str().unwrap_or_default().to_owned());
        }
        if batch.is_empty() || hits.len() as u64 >= results["total"].as_u64().unwrap_or(0) {
            break;
        }
        page += 1;
    }
    let mut in_database: Vec<&String> = works.keys().collect();
    let mut in_index: Vec<&String> = hits.keys().collect();
    in_database.sort();
    in_index.sort();
    assert_eq!(in_index, in_database, "the search index holds exactly the database's works");
    for (id, status) in &hits {
        assert_eq!(works[id]["status"], status.as_str(), "status of {id} in the index");
    }
}

/// The digests of the originals on disk (`media/originals/ab/cd/<sha256>`).
fn stored_originals(dir: &Path) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut folders = vec![dir.join("media/originals")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    found
}

/// `microcat audit verify` accepts the chain.
fn verify_audit(dir: &Path, database_url: &str) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"))
        .args(["audit", "verify"])
        .current_dir(dir)
        .env("MICROCAT_DATABASE_URL", database_url)
        .output()
        .expect("microcat audit verify runs");
    assert!(
        output.status.success(),
        "audit verify failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_web::test]
async fn acknowledged_work_survives_repeated_sigkills() {
    let seed = env_number("MICROCAT_TEST_CRASH_SEED", DEFAULT_SEED);
    let kills = env_number("MICROCAT_TEST_CRASH_KILLS", DEFAULT_KILLS);
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path());
    let client = test_client();
    let mut schedule = Rng::new(seed);
    let mut ledger = Ledger::default();
    let mut uploads_checked = 0;
    let started = Instant::now();
    for index in 0..kills {
        let mut server = start(dir.path(), &database_url, &client).await;
        let admin = login(&client, &server.address, "admin", ADMIN_PASSWORD).await;
        let api = Api { client: &client, address: server.address.clone(), token: admin.clone() };
        if index == 0 {
            api.create_accounts().await;
        } else {
            check_acknowledged(&api, &ledger, uploads_checked).await;
            uploads_checked = ledger.uploads.len();
        }
        let window = Duration::from_millis(schedule.between(ROUND_MS.0, ROUND_MS.1));
        let round = Round {
            client: &client,
            address: server.address.clone(),
            index,
            admin,
            author: login(&client, &server.address, AUTHOR, PASSWORD).await,
            reviewers: [
                login(&client, &server.address, REVIEWERS[0], PASSWORD).await,
                login(&client, &server.address, REVIEWERS[1], PASSWORD).await,
            ],
            stop: Cell::new(false),
            pace_ms: window.as_millis() as u64 / 3,
            ledger: RefCell::new(ledger),
        };
        if index == 0 {
            round.create_pool().await;
        }
        run_round(&round, &mut server, &mut schedule, window).await;
        ledger = round.ledger.into_inner();
        assert!(ledger.violations.is_empty(), "round {index}:\n{}", ledger.violations.join("\n"));
    }

    let mut server = start(dir.path(), &database_url, &client).await;
    let token = login(&client, &server.address, "admin", ADMIN_PASSWORD).await;
    let api = Api { client: &client, address: server.address.clone(), token };
    check_acknowledged(&api, &ledger, 0).await;
    check_originals(&api, &ledger).await;
    check_history(&api, &ledger).await;
    check_comments(&api, &ledger).await;
    let media = settled_media(&api).await;
    let failed: Vec<String> = media
        .iter()
        .filter(|medium| medium["status"] != "ready")
        .map(|medium| format!("{} {} {}", medium["id"], medium["status"], medium["error"]))
        .collect();
    assert!(failed.is_empty(), "media that did not end ready:\n{}", failed.join("\n"));
    assert_eq!(temp_entries(dir.path(), ""), Vec::<String>::new(), "temp files left once processing is done");
    let stored = stored_originals(dir.path());
    let referenced: HashSet<&str> = media.iter().filter_map(|medium| medium["sha256"].as_str()).collect();
    let missing: Vec<&str> = referenced.iter().copied().filter(|sha| !stored.contains(*sha)).collect();
    assert!(missing.is_empty(), "records whose original is not on disk: {missing:?}");
    // Bytes stored just before a kill, whose record never committed: harmless, reported.
    let unreferenced = stored.iter().filter(|sha| !referenced.contains(sha.as_str())).count();
    wait_index_caught_up(&api).await;
    check_search(&api).await;
    server.kill();
    verify_audit(dir.path(), &database_url);

    eprintln!(
        "crash test ({}, seed {seed}): {kills} kills in {:.1} s; acknowledged {} works, {} uploads, {} edits, \
         {} transitions, {} comments; {} unknown outcomes; {} racing approvals; {} media ready; \
         {unreferenced} unreferenced originals",
        backend(),
        started.elapsed().as_secs_f64(),
        ledger.works.len(),
        ledger.uploads.len(),
        ledger.edits(),
        ledger.changes.len() - ledger.edits(),
        ledger.comments.len(),
        ledger.unknown,
        ledger.racing_approvals,
        media.len(),
    );
}
