//! `TestApp`: a running server with its own database and folders, plus request helpers.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::http::Method;
use diesel::RunQueryDsl;
use microcat::app::Application;
use microcat::config::Settings;
use microcat::db::Db;
use microcat::domain::user::Role;
use serde_json::{Value, json};

/// Password every test account gets.
pub const PASSWORD: &str = "test-password-1";
/// The first admin's password in tests.
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// Which backend this run tests, from `MICROCAT_TEST_DATABASE` (`sqlite` or `postgres`).
pub fn backend() -> String {
    std::env::var("MICROCAT_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into())
}

/// A fresh database URL for one test.
pub fn fresh_database_url(dir: &std::path::Path) -> String {
    if backend() != "postgres" {
        return format!("sqlite://{}", dir.join("data/microcat.db").display());
    }
    let admin_url = std::env::var("MICROCAT_TEST_POSTGRES_URL")
        .expect("MICROCAT_TEST_DATABASE=postgres needs MICROCAT_TEST_POSTGRES_URL (make test starts a cluster)");
    let name = format!("microcat_test_{}", uuid_simple());
    let mut conn =
        <diesel::PgConnection as diesel::Connection>::establish(&admin_url).expect("connect to the test cluster");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create a test database");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).expect("postgres url has a database part");
    format!("{base}/{name}")
}

fn uuid_simple() -> String {
    microcat::domain::ids::WorkId::generate().as_str().replace('-', "")
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not json ({}): {}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error envelope's code.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {}", self.text())).to_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").filter_map(|value| value.to_str().ok()).map(str::to_owned).collect()
    }
}

/// Asserts that `reply` is the error envelope `{"error":{"code":…,"message":…}}` with this status
/// and code; otherwise panics showing the status and the whole body.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    check_error(reply, status, code, None, None);
}

/// [`assert_error`], and the envelope's `field` names the input at fault.
#[track_caller]
pub fn assert_error_field(reply: &Reply, status: u16, code: &str, field: &str) {
    check_error(reply, status, code, Some(field), None);
}

/// [`assert_error`] for one case of a table: `case` leads the panic message, and `field`, when
/// given, must be the envelope's `field`.
#[track_caller]
pub fn assert_case_error(case: impl std::fmt::Display, reply: &Reply, status: u16, code: &str, field: Option<&str>) {
    let case: &dyn std::fmt::Display = &case;
    check_error(reply, status, code, field, Some(case));
}

/// The check behind the `assert_error` family; a body that is not JSON never matches.
#[track_caller]
fn check_error(reply: &Reply, status: u16, code: &str, field: Option<&str>, case: Option<&dyn std::fmt::Display>) {
    let envelope: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let error = &envelope["error"];
    let code_matches = error["code"].as_str() == Some(code);
    let field_matches = field.is_none_or(|field| error["field"].as_str() == Some(field));
    if reply.status != status || !code_matches || !field_matches {
        let case = case.map(|case| format!("{case}: ")).unwrap_or_default();
        let field = field.map(|field| format!(" on field `{field}`")).unwrap_or_default();
        panic!("{case}expected {status} `{code}`{field}, got {}: {}", reply.status, reply.text());
    }
}

/// A logged-in account.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub token: String,
    pub csrf_token: String,
}

/// A running server with its own database and folders.
pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub settings: Settings,
    pub admin: Session,
    handle: ServerHandle,
    client: awc::Client,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// A server with default test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose settings the test adjusts first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            database_url: fresh_database_url(dir.path()),
            media_dir: dir.path().join("media"),
            index_dir: dir.path().join("index"),
            admin_password: Some(ADMIN_PASSWORD.into()),
            http_workers: 2,
            db_pool_size: 8,
            media_workers: 2,
            job_retry_base_secs: 1,
            media_worker_program: Some(env!("CARGO_BIN_EXE_microcat").into()),
            ..Settings::default()
        };
        adjust(&mut settings);
        Self::start(settings, dir).await
    }

    async fn start(settings: Settings, dir: tempfile::TempDir) -> Self {
        let application = Application::build(settings.clone()).await.expect("server builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let db = application.db();
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        // Idle pooled connections are dropped before the server's 5 s keep-alive can close one just
        // as a request goes out on it.
        let connector = awc::Connector::new().conn_keep_alive(Duration::from_secs(2));
        let client =
            awc::Client::builder().connector(connector).timeout(Duration::from_secs(60)).disable_redirects().finish();
        let placeholder = Session { user_id: String::new(), token: String::new(), csrf_token: String::new() };
        let mut app = Self { address, db, settings, admin: placeholder, handle, client, _dir: dir };
        app.admin = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// Stops the server and starts a new one on the same database and folders.
    pub async fn restart(self) -> Self {
        self.handle.stop(true).await;
        let Self { settings, _dir, .. } = self;
        Self::start(settings, _dir).await
    }

    /// Sends a request; `token` authenticates with a bearer token.
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let sent = match body {
            Some(json) => request.send_json(json).await,
            None => request.send().await,
        };
        read(sent.expect("request reaches the server")).await
    }

    /// Sends raw bytes with the given headers.
    pub async fn raw(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        read(request.send_body(body).await.expect("request reaches the server")).await
    }

    pub async fn get(&self, path: &str, session: &Session) -> Reply {
        self.request(Method::GET, path, Some(&session.token), None).await
    }

    pub async fn post(&self, path: &str, session: &Session, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(&session.token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, session: &Session, body: &Value) -> Reply {
        self.request(Method::PATCH, path, Some(&session.token), Some(body)).await
    }

    pub async fn put_json(&self, path: &str, session: &Session, body: &Value) -> Reply {
        self.request(Method::PUT, path, Some(&session.token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, session: &Session) -> Reply {
        self.request(Method::DELETE, path, Some(&session.token), None).await
    }

    /// Logs in and returns the session (panics unless 200).
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let reply = self.try_login(username, password).await;
        assert_eq!(reply.status, 200, "login of {username}: {}", reply.text());
        let body = reply.json();
        Session {
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
            csrf_token: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Attempts a login and returns the raw answer.
    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        let body = json!({ "username": username, "password": password });
        self.request(Method::POST, "/api/v1/session", None, Some(&body)).await
    }

    /// Creates an account with these roles (as admin) and logs it in.
    pub async fn user_with_roles(&self, username: &str, roles: &[Role]) -> Session {
        let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        let body = json!({ "username": username, "password": PASSWORD, "display_name": username, "roles": roles });
        let reply = self.post("/api/v1/users", &self.admin, &body).await;
        assert_eq!(reply.status, 201, "creating {username}: {}", reply.text());
        self.login(username, PASSWORD).await
    }

    /// Creates a work as `session` and returns its JSON (panics unless 201).
    pub async fn create_work(&self, session: &Session, body: Value) -> Value {
        let reply = self.post("/api/v1/works", session, &body).await;
        assert_eq!(reply.status, 201, "creating a work: {}", reply.text());
        reply.json()
    }

    /// Sets a work's status directly in the database (until a test drives the lifecycle).
    pub fn force_status(&self, work_id: &str, status: &str) {
        let mut conn = self.db.connection().expect("db connection");
        diesel::sql_query(format!("UPDATE works SET status = '{status}' WHERE id = '{work_id}'"))
            .execute(&mut *conn)
            .expect("status update");
        // A raw write bypasses the server's read cache; tell it, as an operator's tool would.
        self.db.forget_cached_reads();
    }

    /// Runs one SQL statement directly (panics if it fails).
    pub fn execute_sql(&self, sql: &str) -> usize {
        self.try_sql(sql).expect("sql statement")
    }

    /// Runs one SQL statement directly.
    pub fn try_sql(&self, sql: &str) -> diesel::QueryResult<usize> {
        let mut conn = self.db.connection().expect("db connection");
        let outcome = diesel::sql_query(sql).execute(&mut *conn);
        self.db.forget_cached_reads();
        outcome
    }
}

async fn read<S>(mut response: awc::ClientResponse<S>) -> Reply
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let body = response.body().limit(64 * 1024 * 1024).await.expect("response body");
    Reply { status: response.status().as_u16(), headers: response.headers().clone(), body: body.to_vec() }
}

/// A minimal valid work of `kind`.
pub fn work_json(kind: &str, title: &str) -> Value {
    json!({ "kind": kind, "title": title })
}

/// A multipart/form-data body with one file field (and an optional role).
pub fn multipart(filename: &str, bytes: &[u8], role: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "microcat-test-boundary-7d1f";
    let mut body = Vec::new();
    if let Some(role) = role {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\n{role}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Uploads one file to a work.
    pub async fn upload(
        &self,
        session: &Session,
        work_id: &str,
        filename: &str,
        bytes: &[u8],
        role: Option<&str>,
    ) -> Reply {
        let (content_type, body) = multipart(filename, bytes, role);
        let bearer = format!("Bearer {}", session.token);
        let headers = [("authorization", bearer.as_str()), ("content-type", content_type.as_str())];
        self.raw(Method::POST, &format!("/api/v1/works/{work_id}/media"), &headers, body).await
    }

    /// Waits until processing of a medium has ended, and returns it.
    pub async fn processed(&self, session: &Session, media_id: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let media = self.get(&format!("/api/v1/media/{media_id}"), session).await.json();
            if media["status"] != "processing" {
                return media;
            }
            assert!(std::time::Instant::now() < deadline, "media {media_id} still processing: {media}");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fetches a URL path with a session and optional extra headers.
    pub async fn fetch(&self, path: &str, session: &Session, headers: &[(&str, &str)]) -> Reply {
        let bearer = format!("Bearer {}", session.token);
        let mut all = vec![("authorization", bearer.as_str())];
        all.extend_from_slice(headers);
        let mut request = self.client.request(Method::GET, format!("{}{path}", self.address));
        for (name, value) in all {
            request = request.insert_header((name, value));
        }
        read(request.send().await.expect("request reaches the server")).await
    }

    /// The media folder of this server.
    pub fn media_dir(&self) -> std::path::PathBuf {
        self.settings.media_dir.clone()
    }

    /// Entries left in the media temp folder.
    pub fn temp_entries(&self) -> usize {
        std::fs::read_dir(self.media_dir().join("tmp")).map(|entries| entries.count()).unwrap_or(0)
    }

    /// Asserts the server still answers its health check.
    pub async fn assert_healthy(&self) {
        let health = self.request(Method::GET, "/healthz", None, None).await;
        assert_eq!(health.status, 200, "server must stay healthy");
    }
}

/// A real `microcat serve` process (for tests that kill it or measure it).
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
    /// Where the server's stderr goes, shown when it does not come up.
    log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts the binary in `dir` (its working directory) on a port it chooses itself, and
    /// learns the address from the line the server prints once it listens. (Choosing a free
    /// port here and passing it on raced with other tests' servers: one could take the port
    /// first, and this test then talked to that server.) Returns early, with no address, when
    /// the process exits before listening — some tests expect exactly that.
    pub fn start(dir: &std::path::Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        let log = dir.join("server.log");
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the server log");
        let offset = log_file.metadata().map(|metadata| metadata.len() as usize).unwrap_or(0);
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_microcat"));
        command
            .arg("serve")
            .current_dir(dir)
            .env("MICROCAT_LISTEN", "127.0.0.1:0")
            .env("MICROCAT_DATABASE_URL", database_url)
            .env("MICROCAT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("MICROCAT_MEDIA_WORKERS", "1")
            .env("RUST_LOG", "warn")
            .stdout(log_file.try_clone().expect("server log handle"))
            .stderr(log_file);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("microcat serve starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let address = loop {
            let text = std::fs::read(&log).unwrap_or_default();
            let fresh = String::from_utf8_lossy(text.get(offset..).unwrap_or_default()).into_owned();
            let announced = fresh.lines().find_map(|line| line.split("microcat is serving on ").nth(1).map(str::trim));
            if let Some(address) = announced {
                break address.to_owned();
            }
            if child.try_wait().ok().flatten().is_some() || std::time::Instant::now() > deadline {
                break String::new();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child, address, log }
    }

    /// Waits until `/healthz` answers.
    pub async fn wait_ready(&self, client: &awc::Client) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while client.get(format!("{}/healthz", self.address)).send().await.is_err() {
            if std::time::Instant::now() > deadline {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: String = log.chars().rev().take(2_000).collect::<Vec<_>>().into_iter().rev().collect();
                panic!("server did not come up; its log ends:\n{tail}");
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Logs in as the admin and returns the bearer token.
    pub async fn admin_token(&self, client: &awc::Client) -> String {
        let body = json!({"username": "admin", "password": ADMIN_PASSWORD});
        let mut reply = client.post(format!("{}/api/v1/session", self.address)).send_json(&body).await.unwrap();
        reply.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Takes a lifecycle step on a work at its current version (read as admin), with any extra
/// fields (`comment`, publication details).
pub async fn step(app: &TestApp, session: &Session, work: &str, action: &str, extra: Value) -> Reply {
    let current = app.get(&format!("/api/v1/works/{work}"), &app.admin).await.json();
    let mut body = json!({"action": action, "version": current["version"]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.post(&format!("/api/v1/works/{work}/transitions"), session, &body).await
}

/// [`step`], which must succeed; the work as it is after.
pub async fn ok_step(app: &TestApp, session: &Session, work: &str, action: &str, extra: Value) -> Value {
    let reply = step(app, session, work, action, extra).await;
    assert_eq!(reply.status, 200, "{action}: {}", reply.text());
    reply.json()
}
