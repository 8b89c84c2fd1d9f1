//! A hundred concurrent clients, mixed: one real `microcat serve` over a seeded catalog (50
//! published Weibo posts in Chinese, ten accounts) takes lists, reads, searches, uploads and
//! review steps from 100 clients at once, each with its own session, for `MICROCAT_TEST_LOAD_SECS`
//! seconds (10 by default; `make soak` sets 60). Every answer is the expected success: no
//! 5xx, no unexpected 4xx, no broken connection and never "database is locked", on SQLite
//! as on PostgreSQL. Throughput, latencies and the server's peak memory are printed, not
//! asserted: benchmarks measure speed, tests must not be timing-flaky.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use awc::http::Method;
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, join, join_all};
use image::ImageFormat;
use serde_json::{Value, json};

use crate::crash::{Rng, Sent, env_number, json_body, login, send, test_client, unique_image};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, Reply, ServerProcess, backend, fresh_database_url, multipart};

const CLIENTS: usize = 100;
/// Accounts, each `contributor` and `reviewer`; client `i` is logged in as account `i % USERS`.
const USERS: usize = 10;
const PUBLISHED: usize = 50;
/// Drafts per account that uploads go to (never submitted, so always editable).
const DRAFTS_PER_USER: usize = 2;
/// Logins at once while setting up: each hashes with Argon2 (19 MiB), so not all 100.
const LOGIN_BATCH: usize = 4;
/// Posts seeded at once.
const SEED_BATCH: usize = 10;
const SEED: u64 = 20_261_128;
const WORDS: [&str; 10] = ["反诈", "交通安全", "防溺水", "禁毒", "护路", "平安", "社区", "民警", "宣传", "校园"];

/// The kinds of request, as the table prints them.
#[derive(Debug, Clone, Copy)]
enum Op {
    List,
    Read,
    Search,
    Upload,
    Create,
    Transition,
}

impl Op {
    const ALL: [Op; 6] = [Op::List, Op::Read, Op::Search, Op::Upload, Op::Create, Op::Transition];

    fn label(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Read => "read",
            Op::Search => "search",
            Op::Upload => "upload",
            Op::Create => "create",
            Op::Transition => "transition",
        }
    }
}

/// The requests of one kind.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: usize,
    /// Refusals that are correct under concurrency (see [`judge`]).
    conflicts: usize,
    /// The first few errors, for the failure message.
    samples: Vec<String>,
}

/// How an answer counts.
enum Verdict {
    Expected,
    Conflict,
    Error(String),
}

/// Judges one answer: only the expected success is fine. A transition refused with
/// `version-conflict` or `illegal-transition` would be correct when two clients step the
/// same work at once (one wins); every client here steps only its own new posts, so none
/// is expected, but it is not an error. Anything else — a 5xx, another 4xx, a broken
/// connection, "database is locked" anywhere in a body — is an error.
fn judge(op: Op, sent: &Sent, expected: u16) -> Verdict {
    let reply = match sent {
        Sent::Answered(reply) => reply,
        Sent::Lost(error) => return Verdict::Error(format!("no answer: {error}")),
    };
    let text = reply.text();
    if text.contains("database is locked") {
        return Verdict::Error(format!("{} database is locked: {text}", reply.status));
    }
    if reply.status == expected {
        return Verdict::Expected;
    }
    let code = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if matches!(op, Op::Transition)
        && reply.status == 409
        && matches!(code.as_str(), "version-conflict" | "illegal-transition")
    {
        return Verdict::Conflict;
    }
    Verdict::Error(format!("{} {}", reply.status, text.chars().take(300).collect::<String>()))
}

/// The running load: sessions, seeded ids and the tallies.
struct Load {
    client: awc::Client,
    address: String,
    /// One session per client.
    tokens: Vec<String>,
    published: Vec<String>,
    /// Per account: its drafts.
    drafts: Vec<Vec<String>>,
    tallies: RefCell<Vec<Tally>>,
    images: Cell<u64>,
    deadline: Instant,
}

impl Load {
    /// Sends one request, times it and books the verdict; the answer when it is the expected one.
    async fn timed(
        &self,
        op: Op,
        method: Method,
        path: &str,
        token: &str,
        body: Option<(String, Vec<u8>)>,
        expected: u16,
    ) -> Option<Reply> {
        let started = Instant::now();
        let sent = send(&self.client, &self.address, method, path, Some(token), body).await;
        self.book(op, path, started.elapsed(), judge(op, &sent, expected));
        match sent {
            Sent::Answered(reply) if reply.status == expected => Some(reply),
            _ => None,
        }
    }

    fn book(&self, op: Op, path: &str, elapsed: Duration, verdict: Verdict) {
        let mut tallies = self.tallies.borrow_mut();
        let tally = &mut tallies[op as usize];
        tally.latencies_us.push(elapsed.as_micros() as u64);
        match verdict {
            Verdict::Expected => {}
            Verdict::Conflict => tally.conflicts += 1,
            Verdict::Error(message) => {
                tally.errors += 1;
                if tally.samples.len() < 5 {
                    tally.samples.push(format!("{path}: {message}"));
                }
            }
        }
    }

    async fn list(&self, rng: &mut Rng, client: usize) {
        let path = format!("/api/v1/works?page={}&per_page=20", rng.between(1, 3));
        self.timed(Op::List, Method::GET, &path, &self.tokens[client], None, 200).await;
    }

    async fn read(&self, rng: &mut Rng, client: usize) {
        let id = &self.published[rng.below(self.published.len() as u64) as usize];
        self.timed(Op::Read, Method::GET, &format!("/api/v1/works/{id}"), &self.tokens[client], None, 200).await;
    }

    async fn search(&self, rng: &mut Rng, client: usize) {
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        let query: String = url::form_urlencoded::byte_serialize(word.as_bytes()).collect();
        let path = format!("/api/v1/search?q={query}&per_page=10");
        self.timed(Op::Search, Method::GET, &path, &self.tokens[client], None, 200).await;
    }

    async fn upload(&self, rng: &mut Rng, client: usize) {
        let drafts = &self.drafts[client % USERS];
        let work = &drafts[rng.below(drafts.len() as u64) as usize];
        let n = self.images.get() + 1;
        self.images.set(n);
        let body = multipart("load.png", &unique_image(n, ImageFormat::Png), None);
        let path = format!("/api/v1/works/{work}/media");
        self.timed(Op::Upload, Method::POST, &path, &self.tokens[client], Some(body), 201).await;
    }

    /// Creates a post, submits it, and has the next client's account approve it (a different
    /// person, so never a self-review).
    async fn review(&self, rng: &mut Rng, client: usize) {
        let (own, partner) = (&self.tokens[client], &self.tokens[(client + 1) % CLIENTS]);
        let word = WORDS[rng.below(WORDS.len() as u64) as usize];
        let body = json!({"kind": "weibo_post", "title": format!("{word}压测微博{}", rng.below(1_000_000))});
        let Some(created) = self.timed(Op::Create, Method::POST, "/api/v1/works", own, json_body(&body), 201).await
        else {
            return;
        };
        let id = created.json()["id"].as_str().expect("work id").to_owned();
        let path = format!("/api/v1/works/{id}/transitions");
        let submit = json!({"action": "submit", "version": 1});
        let Some(submitted) = self.timed(Op::Transition, Method::POST, &path, own, json_body(&submit), 200).await
        else {
            return;
        };
        let approve = json!({"action": "approve", "version": submitted.json()["version"]});
        self.timed(Op::Transition, Method::POST, &path, partner, json_body(&approve), 200).await;
    }
}

/// One client: a weighted mix until the deadline (list 35, read 30, search 20, upload 10,
/// create-submit-approve 5).
async fn run_client(load: &Load, client: usize, mut rng: Rng) {
    while Instant::now() < load.deadline {
        match rng.below(100) {
            0..=34 => load.list(&mut rng, client).await,
            35..=64 => load.read(&mut rng, client).await,
            65..=84 => load.search(&mut rng, client).await,
            85..=94 => load.upload(&mut rng, client).await,
            _ => load.review(&mut rng, client).await,
        }
    }
}

/// A setup request that must succeed.
async fn must(client: &awc::Client, address: &str, path: &str, token: &str, body: Value, expected: u16) -> Value {
    match send(client, address, Method::POST, path, Some(token), json_body(&body)).await {
        Sent::Answered(reply) if reply.status == expected => reply.json(),
        Sent::Answered(reply) => panic!("setting up, {path}: {} {}", reply.status, reply.text()),
        Sent::Lost(error) => panic!("setting up, {path}: {error}"),
    }
}

fn username(account: usize) -> String {
    format!("load-user-{account}")
}

/// Creates the accounts and logs every client in, a few at a time.
async fn sessions(client: &awc::Client, address: &str) -> Vec<String> {
    let admin = login(client, address, "admin", ADMIN_PASSWORD).await;
    for account in 0..USERS {
        let body = json!({"username": username(account), "password": PASSWORD,
            "display_name": format!("压测用户{account}"), "roles": ["contributor", "reviewer"]});
        must(client, address, "/api/v1/users", &admin, body, 201).await;
    }
    let mut tokens = Vec::with_capacity(CLIENTS);
    for first in (0..CLIENTS).step_by(LOGIN_BATCH) {
        let batch = (first..(first + LOGIN_BATCH).min(CLIENTS)).map(|index| {
            let name = username(index % USERS);
            async move { login(client, address, &name, PASSWORD).await }
        });
        tokens.extend(join_all(batch).await);
    }
    tokens
}

/// One published post: written by account `n`, approved and published by account `n + 1`.
async fn published_post(client: &awc::Client, address: &str, tokens: &[String], n: usize) -> String {
    let (author, reviewer) = (&tokens[n % USERS], &tokens[(n + 1) % USERS]);
    let (first, second) = (WORDS[n % WORDS.len()], WORDS[(n * 3 + 1) % WORDS.len()]);
    let body = json!({"kind": "weibo_post", "title": format!("{first}{second}宣传第{n}期"),
        "body": format!("{first}知识进{second}：民警提醒广大群众注意{first}，共建平安社区。第{n}期。"),
        "tags": [first, second], "unit": "宣传科"});
    let work = must(client, address, "/api/v1/works", author, body, 201).await;
    let id = work["id"].as_str().expect("work id").to_owned();
    let path = format!("/api/v1/works/{id}/transitions");
    let submitted = must(client, address, &path, author, json!({"action": "submit", "version": 1}), 200).await;
    let approve = json!({"action": "approve", "version": submitted["version"]});
    let approved = must(client, address, &path, reviewer, approve, 200).await;
    let publish = json!({"action": "publish", "version": approved["version"], "channel": "微博",
        "external_url": format!("https://weibo.com/load/{n}"), "published_at": "2026-01-01T08:00:00+08:00"});
    must(client, address, &path, reviewer, publish, 200).await;
    id
}

/// The catalog: published posts for lists, reads and searches, and each account's drafts.
async fn catalog(client: &awc::Client, address: &str, tokens: &[String]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut published = Vec::with_capacity(PUBLISHED);
    for first in (0..PUBLISHED).step_by(SEED_BATCH) {
        let batch = (first..(first + SEED_BATCH).min(PUBLISHED)).map(|n| published_post(client, address, tokens, n));
        published.extend(join_all(batch).await);
    }
    let mut drafts = Vec::with_capacity(USERS);
    // Client `i` is account `i`, for the first `USERS` clients.
    for (account, token) in tokens.iter().take(USERS).enumerate() {
        let mut mine = Vec::with_capacity(DRAFTS_PER_USER);
        for k in 0..DRAFTS_PER_USER {
            let body = json!({"kind": "weibo_post", "title": format!("素材草稿{account}-{k}")});
            let work = must(client, address, "/api/v1/works", token, body, 201).await;
            mine.push(work["id"].as_str().expect("work id").to_owned());
        }
        drafts.push(mine);
    }
    (published, drafts)
}

/// The resident memory of a process, in KiB.
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples the server's resident memory every second until `until`, keeping the peak.
async fn sample_memory(pid: u32, until: Instant, peak: &Cell<u64>) {
    while Instant::now() < until {
        if let Some(kib) = resident_kib(pid) {
            peak.set(peak.get().max(kib));
        }
        actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The `share` quantile of sorted latencies, in milliseconds.
fn quantile_ms(sorted_us: &[u64], share: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() as f64 * share).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

fn print_table(tallies: &mut [Tally], elapsed: Duration, peak_kib: u64) {
    let seconds = elapsed.as_secs_f64();
    eprintln!(
        "load test ({}): {CLIENTS} clients for {seconds:.1} s; server peak RSS {} MiB (sampled each second)",
        backend(),
        peak_kib / 1024
    );
    eprintln!(
        "{:<12}{:>10}{:>10}{:>10}{:>10}{:>8}{:>11}",
        "kind", "requests", "req/s", "p50 ms", "p99 ms", "errors", "conflicts"
    );
    let mut total = 0;
    for (op, tally) in Op::ALL.iter().zip(tallies.iter_mut()) {
        tally.latencies_us.sort_unstable();
        let count = tally.latencies_us.len();
        total += count;
        eprintln!(
            "{:<12}{:>10}{:>10.1}{:>10.1}{:>10.1}{:>8}{:>11}",
            op.label(),
            count,
            count as f64 / seconds,
            quantile_ms(&tally.latencies_us, 0.50),
            quantile_ms(&tally.latencies_us, 0.99),
            tally.errors,
            tally.conflicts
        );
    }
    eprintln!("{:<12}{:>10}{:>10.1}", "all", total, total as f64 / seconds);
}

#[actix_web::test]
async fn a_hundred_mixed_clients_get_no_errors() {
    let seconds = env_number("MICROCAT_TEST_LOAD_SECS", 10);
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path());
    let server = ServerProcess::start(dir.path(), &database_url, &[]);
    let client = test_client();
    server.wait_ready(&client).await;
    let address = server.address.clone();
    let tokens = sessions(&client, &address).await;
    let (published, drafts) = catalog(&client, &address, &tokens).await;

    let started = Instant::now();
    let load = Load {
        client,
        address,
        tokens,
        published,
        drafts,
        tallies: RefCell::new(Op::ALL.iter().map(|_| Tally::default()).collect()),
        images: Cell::new(0),
        deadline: started + Duration::from_secs(seconds),
    };
    let mut rng = Rng::new(SEED);
    let clients: Vec<LocalBoxFuture<'_, ()>> =
        (0..CLIENTS).map(|index| run_client(&load, index, Rng::new(rng.next_u64())).boxed_local()).collect();
    let peak = Cell::new(resident_kib(server.child.id()).unwrap_or(0));
    join(join_all(clients), sample_memory(server.child.id(), load.deadline, &peak)).await;
    let elapsed = started.elapsed();

    let mut tallies = load.tallies.into_inner();
    print_table(&mut tallies, elapsed, peak.get());
    let errors: Vec<String> = Op::ALL
        .iter()
        .zip(&tallies)
        .filter(|(_, tally)| tally.errors > 0)
        .map(|(op, tally)| format!("{}: {} errors, e.g.\n  {}", op.label(), tally.errors, tally.samples.join("\n  ")))
        .collect();
    assert!(errors.is_empty(), "requests failed under load:\n{}", errors.join("\n"));
}
