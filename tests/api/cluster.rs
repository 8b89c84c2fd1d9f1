//! Three `microcat serve` nodes on one PostgreSQL and one Garage bucket, each with its own
//! index folder, behind a real nginx: uploads through the balancer are processed once and
//! readable through every node, a work written on one node is found by search on another
//! within 2 s, a logout on one node is refused by another within a second, and a node killed
//! with SIGKILL under uploads and edits loses nothing that was acknowledged — its jobs are
//! taken over and requests keep succeeding through the others.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fixtures;
use crate::helpers::{Reply, multipart};

pub(crate) const ADMIN_PASSWORD: &str = "cluster-admin-1";

/// The PostgreSQL URL and Garage endpoint/bucket, or why the test cannot run here.
fn cluster_services() -> Option<(String, String, String)> {
    let postgres = std::env::var("MICROCAT_TEST_POSTGRES_URL").ok().filter(|_| crate::helpers::backend() == "postgres");
    let endpoint = std::env::var("MICROCAT_TEST_S3_ENDPOINT").ok();
    let bucket = std::env::var("MICROCAT_TEST_S3_BUCKET").ok();
    match (postgres, endpoint, bucket) {
        (Some(_), Some(endpoint), Some(bucket)) => {
            let fresh = crate::helpers::fresh_database_url(std::path::Path::new("/nonexistent"));
            Some((fresh, endpoint, bucket))
        }
        _ if crate::helpers::backend() == "postgres" && std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI runs the cluster test in the PostgreSQL pass: start Garage (scripts/test.sh)")
        }
        _ => {
            eprintln!("cluster test not run: it needs the PostgreSQL pass and Garage (scripts/test.sh)");
            None
        }
    }
}

pub(crate) struct Node {
    child: Child,
    pub(crate) address: String,
}

pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Node>,
    nginx: Child,
    pub(crate) balancer: String,
    client: awc::Client,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_node(dir: &std::path::Path, index: usize, (postgres, endpoint, bucket): &(String, String, String)) -> Node {
    let prefix = dir.file_name().unwrap().to_string_lossy().to_lowercase();
    let mut child = Command::new(env!("CARGO_BIN_EXE_microcat"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", postgres])
        .arg("--media-dir")
        .arg(dir.join(format!("scratch-{index}")))
        .arg("--index-dir")
        .arg(dir.join(format!("index-{index}")))
        .env("MICROCAT_STORAGE_URL", format!("s3://{bucket}/cluster-{}", prefix.trim_start_matches('.')))
        .env("MICROCAT_S3_ENDPOINT", endpoint)
        .env("MICROCAT_S3_REGION", "garage")
        .env("MICROCAT_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("MICROCAT_SEARCH_COMMIT_INTERVAL_MS", "200")
        .env("MICROCAT_READ_CACHE_MS", "0")
        .env("MICROCAT_MEDIA_WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .find_map(|line| Some(line.ok()?.strip_prefix("microcat is serving on ")?.trim().to_owned()))
        .expect("the node serves");
    // Keep reading its output: a closed pipe would fail the node's next log line.
    std::thread::spawn(move || lines.for_each(drop));
    Node { child, address }
}

fn start_nginx(dir: &std::path::Path, nodes: &[Node]) -> (Child, String) {
    let port = free_port();
    let upstreams: String = nodes
        .iter()
        .map(|node| format!("    server {} max_fails=1 fail_timeout=5s;\n", node.address.trim_start_matches("http://")))
        .collect();
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf")).unwrap();
    // The deployment's own file, pointed at this test's nodes and port.
    let config = config
        .replace("    server 10.0.0.11:8080 max_fails=1 fail_timeout=5s;\n", &upstreams)
        .replace("    server 10.0.0.12:8080 max_fails=1 fail_timeout=5s;\n", "")
        .replace("    server 10.0.0.13:8080 max_fails=1 fail_timeout=5s;\n", "")
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    let wrapped = format!(
        "daemon off;\npid {pid};\nerror_log {dir}/nginx-error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n{config}\n}}\n",
        pid = dir.join("nginx.pid").display(),
        dir = dir.display(),
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, wrapped).unwrap();
    let child = Command::new("nginx").arg("-c").arg(&path).arg("-p").arg(dir).stderr(Stdio::null()).spawn().unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, address)
}

impl Cluster {
    pub(crate) fn start(services: &(String, String, String)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The first node migrates the database and creates the admin; the others join it.
        let mut nodes = vec![start_node(dir.path(), 0, services)];
        nodes.extend((1..3).map(|index| start_node(dir.path(), index, services)));
        let (nginx, balancer) = start_nginx(dir.path(), &nodes);
        // Idle pooled connections are dropped before a node's 5 s keep-alive can close one
        // just as a request goes out on it.
        let connector = awc::Connector::new().conn_keep_alive(Duration::from_secs(2));
        let client =
            awc::Client::builder().connector(connector).timeout(Duration::from_secs(60)).disable_redirects().finish();
        Self { nodes, nginx, balancer, client, _dir: dir }
    }

    pub(crate) async fn call(&self, base: &str, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{base}{path}"));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        let sent = match body {
            Some(json) => request.send_json(&json).await,
            None => request.send().await,
        };
        let mut response = sent.unwrap_or_else(|error| panic!("{base}{path}: {error}"));
        let bytes = response.body().limit(64 * 1024 * 1024).await.unwrap();
        Reply { status: response.status().as_u16(), headers: response.headers().clone(), body: bytes.to_vec() }
    }

    pub(crate) async fn login(&self, base: &str, username: &str, password: &str) -> String {
        let body = json!({ "username": username, "password": password });
        let reply = self.call(base, Method::POST, "/api/v1/session", "", Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn upload(&self, base: &str, token: &str, work: &str, name: &str, bytes: &[u8]) -> Reply {
        let (content_type, body) = multipart(name, bytes, None);
        let sent = self
            .client
            .post(format!("{base}/api/v1/works/{work}/media"))
            .bearer_auth(token)
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await;
        match sent {
            Ok(mut response) => {
                let bytes = response.body().await.unwrap_or_default();
                Reply { status: response.status().as_u16(), headers: response.headers().clone(), body: bytes.to_vec() }
            }
            // A connection cut by the kill is an upload that was never acknowledged.
            Err(_) => Reply { status: 0, headers: Default::default(), body: Vec::new() },
        }
    }

    /// The SHA-256 of a response body, read as a stream (a master is larger than memory wants).
    pub(crate) async fn digest(&self, base: &str, path: &str, token: &str) -> String {
        use futures_util::StreamExt;
        let mut response = self.client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let mut hasher = Sha256::new();
        while let Some(chunk) = response.next().await {
            hasher.update(chunk.unwrap());
        }
        hex::encode(hasher.finalize())
    }

    pub(crate) async fn wait_ready(&self, token: &str, media: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let reply = self.call(&self.balancer, Method::GET, &format!("/api/v1/media/{media}"), token, None).await;
            let body = reply.json();
            if body["status"] != "processing" {
                return body;
            }
            assert!(Instant::now() < deadline, "media {media} still processing: {body}");
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[actix_web::test]
async fn three_nodes_behind_nginx_lose_nothing() {
    let Some(services) = cluster_services() else { return };
    let cluster = Cluster::start(&services);
    let lb = cluster.balancer.clone();
    let admin = cluster.login(&lb, "admin", ADMIN_PASSWORD).await;
    let user = json!({"username": "author", "password": "author-password-1", "display_name": "作者", "roles": ["contributor", "staff"]});
    assert_eq!(cluster.call(&lb, Method::POST, "/api/v1/users", &admin, Some(user)).await.status, 201);
    let author = cluster.login(&lb, "author", "author-password-1").await;
    let work = cluster
        .call(&lb, Method::POST, "/api/v1/works", &author, Some(json!({"kind": "micro_film", "title": "集群"})))
        .await;
    let work = work.json()["id"].as_str().unwrap().to_owned();

    // An upload through the balancer is processed once and readable through every node.
    let photo = fixtures::jpeg(800, 600);
    let created = cluster.upload(&lb, &author, &work, "现场.jpg", &photo).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let media = created.json()["id"].as_str().unwrap().to_owned();
    let ready = cluster.wait_ready(&author, &media, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    for node in &cluster.nodes {
        let original =
            cluster.call(&node.address, Method::GET, &format!("/api/v1/media/{media}/original"), &author, None).await;
        assert!(original.status == 200 && original.body == photo, "{}: {}", node.address, original.status);
    }
    let health = cluster.call(&lb, Method::GET, "/healthz", "", None).await.json();
    let nodes = health["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{health}");
    assert!(nodes.iter().all(|node| node["status"] == "alive"), "{health}");

    // Written on node A, found by search on node B within 2 s.
    let (a, b) = (cluster.nodes[0].address.clone(), cluster.nodes[1].address.clone());
    let body = json!({"kind": "wechat_article", "title": "跨节点检索的反诈宣传"});
    let written = cluster.call(&a, Method::POST, "/api/v1/works", &author, Some(body)).await;
    assert_eq!(written.status, 201);
    let written_at = Instant::now();
    let found_within = loop {
        let hits =
            cluster.call(&b, Method::GET, "/api/v1/search?q=%E8%B7%A8%E8%8A%82%E7%82%B9", &author, None).await.json();
        if hits["total"].as_u64() == Some(1) {
            break written_at.elapsed();
        }
        assert!(written_at.elapsed() < Duration::from_secs(2), "node B did not find node A's work within 2 s: {hits}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("search converged across nodes in {} ms", found_within.as_millis());

    // A resumable upload cut off on node A is finished through node B (offset in the
    // database, pieces in the bucket).
    let film = fixtures::read(&fixtures::films().h264_with_audio);
    let metadata = format!("work_id {},filename {}", b64(&work), b64("母版.mp4"));
    let tus = |base: &str, method: Method, path: &str| {
        cluster
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&author)
            .insert_header(("tus-resumable", "1.0.0"))
    };
    let created = tus(&a, Method::POST, "/api/v1/uploads")
        .insert_header(("upload-length", film.len().to_string()))
        .insert_header(("upload-metadata", metadata))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers().get("location").unwrap().to_str().unwrap().to_owned();
    let half = film.len() / 2;
    let first = tus(&a, Method::PATCH, &location)
        .insert_header(("upload-offset", "0"))
        .insert_header(("content-type", "application/offset+octet-stream"))
        .send_body(film[..half].to_vec())
        .await
        .unwrap();
    assert_eq!(first.status(), 204);
    let at_b = tus(&b, Method::HEAD, &location).send().await.unwrap();
    assert_eq!(at_b.headers().get("upload-offset").unwrap().to_str().unwrap(), half.to_string());
    let last = tus(&b, Method::PATCH, &location)
        .insert_header(("upload-offset", half.to_string()))
        .insert_header(("content-type", "application/offset+octet-stream"))
        .send_body(film[half..].to_vec())
        .await
        .unwrap();
    assert_eq!(last.status(), 204);
    let media_id = last.headers().get("microcat-media-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(cluster.wait_ready(&author, &media_id, Duration::from_secs(120)).await["status"], "ready");
    let whole = cluster
        .call(&c_address(&cluster), Method::GET, &format!("/api/v1/media/{media_id}/original"), &author, None)
        .await;
    assert_eq!(hex(&whole.body), hex(&film), "the master reads back whole through a third node");

    // The page's real client, tus-js-client in Node: a 200 MB master stopped at about half on
    // node A and resumed through node B ends with the right SHA-256.
    let master = cluster._dir.path().join("master.mp4");
    let mut bytes = film.clone();
    bytes.extend((0..200 * 1024 * 1024 - film.len()).map(|index| (index % 251) as u8));
    std::fs::write(&master, &bytes).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tus_resume.js");
    let output = Command::new("node")
        .args([script, &a, &b, &author, &work, master.to_str().unwrap()])
        .env("NODE_PATH", concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules"))
        .output()
        .expect("node runs (make deps installs it)");
    assert!(output.status.success(), "tus-js-client: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stopped = result["stoppedAt"].as_u64().unwrap();
    assert!(stopped >= bytes.len() as u64 / 2 && stopped < bytes.len() as u64, "{result}");
    let master_id = result["mediaId"].as_str().expect("the medium the upload became").to_owned();
    let digest = cluster.digest(&c_address(&cluster), &format!("/api/v1/media/{master_id}/original"), &author).await;
    assert_eq!(digest, hex(&bytes), "the resumed master reads back with its SHA-256");
    drop(bytes);

    // A logout on node A is refused by node C within a second.
    let c = cluster.nodes[2].address.clone();
    let session = cluster.login(&a, "author", "author-password-1").await;
    assert_eq!(cluster.call(&c, Method::GET, "/api/v1/works", &session, None).await.status, 200);
    assert_eq!(cluster.call(&a, Method::DELETE, "/api/v1/session", &session, None).await.status, 204);
    actix_web::rt::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(cluster.call(&c, Method::GET, "/api/v1/works", &session, None).await.status, 401);

    // Node C is killed under uploads and edits: nothing acknowledged is lost.
    let photos: Vec<Vec<u8>> = (0..24).map(|index| fixtures::jpeg(320 + index * 8, 240)).collect();
    let uploads = photos.iter().enumerate().map(|(index, bytes)| {
        let cluster = &cluster;
        let (lb, author, work) = (lb.clone(), author.clone(), work.clone());
        async move {
            actix_web::rt::time::sleep(Duration::from_millis(index as u64 * 40)).await;
            let reply = cluster.upload(&lb, &author, &work, &format!("{index}.jpg"), bytes).await;
            (index, reply)
        }
    });
    let edits = (0..24).map(|index| {
        let cluster = &cluster;
        let (lb, author) = (lb.clone(), author.clone());
        async move {
            actix_web::rt::time::sleep(Duration::from_millis(index as u64 * 40)).await;
            let title = format!("编辑中的作品 {index}");
            let reply = cluster
                .call(&lb, Method::POST, "/api/v1/works", &author, Some(json!({"kind": "weibo_post", "title": title})))
                .await;
            (title, reply)
        }
    });
    let victim = cluster.nodes[2].child.id().to_string();
    let killer = async {
        actix_web::rt::time::sleep(Duration::from_millis(400)).await;
        assert!(Command::new("kill").args(["-KILL", &victim]).status().unwrap().success());
    };
    let (uploaded, edited, ()) =
        futures_util::join!(futures_util::future::join_all(uploads), futures_util::future::join_all(edits), killer);
    let acknowledged: Vec<(usize, String)> = uploaded
        .iter()
        .filter(|(_, reply)| reply.status == 201)
        .map(|(index, reply)| (*index, reply.json()["id"].as_str().unwrap().to_owned()))
        .collect();
    let failed = uploaded.len() - acknowledged.len();
    assert!(
        acknowledged.len() >= uploaded.len() / 2,
        "most requests keep succeeding: {failed} of {} failed",
        uploaded.len()
    );
    for (index, id) in &acknowledged {
        // A job the dead node held is taken over once its lease (45 s) runs out.
        let media = cluster.wait_ready(&author, id, Duration::from_secs(120)).await;
        assert_eq!(media["status"], "ready", "{media}");
        let original = cluster.call(&lb, Method::GET, &format!("/api/v1/media/{id}/original"), &author, None).await;
        assert_eq!(original.status, 200);
        assert_eq!(hex(&original.body), hex(&photos[*index]), "upload {index} reads back whole");
    }
    for (title, reply) in edited.iter().filter(|(_, reply)| reply.status == 201) {
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        let stored = cluster.call(&lb, Method::GET, &format!("/api/v1/works/{id}"), &author, None).await.json();
        assert_eq!(stored["title"], title.as_str());
    }
    eprintln!("{} of {} uploads acknowledged around the kill; all read back", acknowledged.len(), uploaded.len());
}

fn c_address(cluster: &Cluster) -> String {
    cluster.nodes[2].address.clone()
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The change log cursor against transactions that commit out of order: a long transaction
/// writes its row first, a short one writes after it and commits at once. A cursor on the
/// sequence would pass the short one's row and skip the long one's forever; the reader must
/// hold back until the long one ends, then read both.
#[actix_web::test]
async fn the_change_log_skips_no_row_committed_out_of_order() {
    use diesel::{Connection, RunQueryDsl};
    use microcat::db::outbox::{self, LogPosition};
    if crate::helpers::backend() != "postgres" {
        return; // SQLite has one writer at a time: rows commit in sequence order.
    }
    let url = crate::helpers::fresh_database_url(std::path::Path::new("/nonexistent"));
    let db = microcat::db::Db::connect(&microcat::db::DatabaseUrl::parse(&url).unwrap(), 4).unwrap();
    let mut long = diesel::PgConnection::establish(&url).unwrap();
    let mut short = diesel::PgConnection::establish(&url).unwrap();
    let insert = |conn: &mut diesel::PgConnection, work: &str| {
        diesel::sql_query(format!("INSERT INTO search_outbox (work_id, created_at) VALUES ('{work}', now())"))
            .execute(conn)
            .unwrap();
    };
    let read = |from: LogPosition| {
        let mut conn = db.connection().unwrap();
        let horizon = outbox::horizon(&mut conn).unwrap();
        outbox::after(&mut conn, from, horizon, 100).unwrap()
    };
    diesel::sql_query("BEGIN").execute(&mut long).unwrap();
    insert(&mut long, "long");
    insert(&mut short, "short"); // autocommit: later sequence number, committed first
    let mut cursor = LogPosition::default();
    let mut seen = Vec::new();
    for (position, work) in read(cursor) {
        cursor = position;
        seen.push(work);
    }
    assert!(seen.is_empty(), "nothing is read past a transaction still open: {seen:?}");
    diesel::sql_query("COMMIT").execute(&mut long).unwrap();
    // The horizon is the whole server's oldest running writer, and other tests write to their own
    // databases on this server meanwhile: read until both rows arrive rather than at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        for (position, work) in read(cursor) {
            assert!(position > cursor);
            cursor = position;
            seen.push(work);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(seen, ["long", "short"], "both rows, in commit-safe order");
    assert!(read(cursor).is_empty());

    // Many short transactions around one long one: every row is read exactly once.
    diesel::sql_query("BEGIN").execute(&mut long).unwrap();
    insert(&mut long, "long-2");
    let mut expected = vec!["long-2".to_owned()];
    for index in 0..20 {
        let work = format!("short-{index}");
        insert(&mut short, &work);
        expected.push(work);
        for (position, work) in read(cursor) {
            cursor = position;
            seen.push(work);
        }
    }
    diesel::sql_query("COMMIT").execute(&mut long).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 2 + expected.len() && std::time::Instant::now() < deadline {
        for (position, work) in read(cursor) {
            cursor = position;
            seen.push(work);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(read(cursor).is_empty());
    let mut read_after_first = seen[2..].to_vec();
    read_after_first.sort();
    expected.sort();
    assert_eq!(read_after_first, expected);
}
