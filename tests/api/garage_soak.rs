//! `make soak`: the cluster of `cluster.rs` on a Garage of three nodes with replication factor 3
//! (`start_garage_cluster` in scripts/garage.sh). Clients upload and read back through nginx for
//! `MICROCAT_SOAK_SECS`; a third of the way in one Garage node is SIGKILLed, two thirds in it
//! is started again. Uploads and reads must keep succeeding, and at the end every acknowledged
//! upload reads back with its SHA-256 — also with a second Garage node down, after the first
//! came back.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::json;

use crate::cluster::{ADMIN_PASSWORD, Cluster, hex};
use crate::fixtures;

/// The Garage nodes `start_garage_cluster` started: their PIDs and config files, node by node.
struct GarageNodes {
    binary: String,
    pids: Vec<String>,
    configs: Vec<String>,
    restarted: Vec<Child>,
}

impl GarageNodes {
    fn from_env() -> Option<Self> {
        let pids = std::env::var("GARAGE_CLUSTER_PIDS").ok()?;
        let configs = std::env::var("GARAGE_CLUSTER_CONFIGS").ok()?;
        let binary = std::env::var("GARAGE_BIN").ok()?;
        let split = |list: String| list.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        Some(Self { binary, pids: split(pids), configs: split(configs), restarted: Vec::new() })
    }

    fn kill(&self, node: usize) {
        assert!(Command::new("kill").args(["-KILL", &self.pids[node]]).status().unwrap().success());
    }

    fn start_again(&mut self, node: usize) {
        let child = Command::new(&self.binary)
            .args(["-c", &self.configs[node], "server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.pids[node] = child.id().to_string();
        self.restarted.push(child);
    }
}

impl Drop for GarageNodes {
    fn drop(&mut self) {
        for child in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the clients did, phase by phase: before the kill, while the node is down, after.
#[derive(Default, Debug)]
struct Tally {
    uploads: [usize; 3],
    failed_uploads: [usize; 3],
    reads: [usize; 3],
    failed_reads: [usize; 3],
}

#[actix_web::test]
async fn uploads_and_reads_continue_while_a_garage_replica_dies() {
    let (Some(mut garage), Ok(postgres)) = (GarageNodes::from_env(), std::env::var("MICROCAT_TEST_POSTGRES_URL"))
    else {
        eprintln!("Garage soak not run: `make soak` starts three Garage nodes and PostgreSQL for it");
        return;
    };
    assert_eq!(crate::helpers::backend(), "postgres", "the soak runs in the PostgreSQL pass ({postgres})");
    let endpoint = std::env::var("MICROCAT_TEST_S3_ENDPOINT").unwrap();
    let bucket = std::env::var("MICROCAT_TEST_S3_BUCKET").unwrap();
    let fresh = crate::helpers::fresh_database_url(std::path::Path::new("/nonexistent"));
    let cluster = Cluster::start(&(fresh, endpoint, bucket));
    let lb = cluster.balancer.clone();
    let admin = cluster.login(&lb, "admin", ADMIN_PASSWORD).await;
    let user = json!({"username": "soak", "password": "soak-password-1", "display_name": "压测", "roles": ["contributor", "staff"]});
    assert_eq!(cluster.call(&lb, Method::POST, "/api/v1/users", &admin, Some(user)).await.status, 201);
    let token = cluster.login(&lb, "soak", "soak-password-1").await;
    let work = cluster
        .call(&lb, Method::POST, "/api/v1/works", &token, Some(json!({"kind": "micro_film", "title": "长时间运行"})))
        .await;
    let work = work.json()["id"].as_str().unwrap().to_owned();

    let seconds: u64 = std::env::var("MICROCAT_SOAK_SECS").ok().and_then(|raw| raw.parse().ok()).unwrap_or(90);
    let started = Instant::now();
    let phase = move || (started.elapsed().as_secs() * 3 / seconds).min(2) as usize;
    let stored = std::cell::RefCell::new(Vec::<(String, String, bool)>::new());
    let tally = std::cell::RefCell::new(Tally::default());
    let client = |number: usize| {
        let (cluster, lb, token, work, stored, tally) = (&cluster, &lb, &token, &work, &stored, &tally);
        async move {
            let mut round = 0;
            while started.elapsed() < Duration::from_secs(seconds) {
                round += 1;
                // Every fifth upload is a film over one multipart part (8 MiB); the rest photos.
                let (name, bytes, photo) = if round % 5 == 0 {
                    let mut film = fixtures::read(&fixtures::films().h264_with_audio);
                    film.extend((0..9 * 1024 * 1024).map(|index| ((index + number * 7 + round) % 251) as u8));
                    (format!("{number}-{round}.mp4"), film, false)
                } else {
                    (
                        format!("{number}-{round}.jpg"),
                        fixtures::jpeg(640 + number as u32 * 97, 400 + round as u32),
                        true,
                    )
                };
                let at = phase();
                let reply = cluster.upload(lb, token, work, &name, &bytes).await;
                if reply.status == 201 {
                    let id = reply.json()["id"].as_str().unwrap().to_owned();
                    stored.borrow_mut().push((id, hex(&bytes), photo));
                    tally.borrow_mut().uploads[at] += 1;
                } else {
                    eprintln!("upload in phase {at} answered {}: {}", reply.status, reply.text());
                    tally.borrow_mut().failed_uploads[at] += 1;
                }
                // Read back an earlier upload, chosen by the round.
                let earlier = {
                    let stored = stored.borrow();
                    (!stored.is_empty()).then(|| stored[(round * 31 + number) % stored.len()].clone())
                };
                if let Some((id, digest, _)) = earlier {
                    let at = phase();
                    let path = format!("/api/v1/media/{id}/original");
                    let reply = cluster.call(lb, Method::GET, &path, token, None).await;
                    if reply.status == 200 && hex(&reply.body) == digest {
                        tally.borrow_mut().reads[at] += 1;
                    } else {
                        eprintln!("read of {id} in phase {at} answered {}", reply.status);
                        tally.borrow_mut().failed_reads[at] += 1;
                    }
                }
            }
        }
    };
    let victim = 2;
    let chaos = async {
        actix_web::rt::time::sleep(Duration::from_secs(seconds / 3)).await;
        garage.kill(victim);
        eprintln!("Garage node {victim} killed at {:.1} s", started.elapsed().as_secs_f64());
        actix_web::rt::time::sleep(Duration::from_secs(seconds / 3)).await;
        garage.start_again(victim);
        eprintln!("Garage node {victim} started again at {:.1} s", started.elapsed().as_secs_f64());
    };
    futures_util::join!(futures_util::future::join_all((0..4).map(client)), chaos);
    let tally = tally.into_inner();
    let stored = stored.into_inner();
    eprintln!("soak tally (before the kill, node down, after it returned): {tally:?}");
    for at in 0..3 {
        assert!(tally.uploads[at] > 0 && tally.reads[at] > 0, "phase {at}: uploads and reads continue: {tally:?}");
        let (done, failed) = (tally.uploads[at] + tally.reads[at], tally.failed_uploads[at] + tally.failed_reads[at]);
        assert!(failed * 50 <= done, "phase {at}: at most 2 % of requests fail: {tally:?}");
    }

    // Nothing lost: every acknowledged upload is processed and reads back whole — now, and
    // with another Garage node down once the first has rejoined.
    for (id, digest, photo) in &stored {
        let media = cluster.wait_ready(&token, id, Duration::from_secs(180)).await;
        if *photo {
            assert_eq!(media["status"], "ready", "{media}");
        }
        let read = cluster.digest(&lb, &format!("/api/v1/media/{id}/original"), &token).await;
        assert_eq!(&read, digest, "{id} reads back whole");
    }
    actix_web::rt::time::sleep(Duration::from_secs(10)).await; // the returned node rejoins
    garage.kill(1);
    for (id, digest, _) in &stored {
        let read = cluster.digest(&lb, &format!("/api/v1/media/{id}/original"), &token).await;
        assert_eq!(&read, digest, "{id} reads back whole with the second Garage node down");
    }
    eprintln!("{} acknowledged uploads read back, with one replica down and with another", stored.len());
}
