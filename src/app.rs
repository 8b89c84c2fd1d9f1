//! Builds the running service from settings: connect and migrate the database, prepare the
//! data folders, create the first admin, bind the listener and start the HTTP server. Used by
//! `microcat serve` and by the integration tests (with port 0).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::Notify;
use tracing_actix_web::TracingLogger;

use crate::config::{Secret, Settings};
use crate::db::{DatabaseUrl, Db, sessions};
use crate::domain::work::Kind;
use crate::http;
use crate::jobs::indexer;
use crate::jobs::{JobRunner, PreviewRules, Workers};
use crate::media::DecodeLimits;
use crate::media::worker::ChildLimits;
use crate::search::{SearchIndex, analysis};
use crate::service::accounts;
use crate::service::media::MediaContext;
use crate::service::off_executor;
use crate::service::sessions::LoginPolicy;
use crate::state::AppState;
use crate::storage::Storage;
use crate::storage::ingest::UploadLimits;

/// A bound, not yet awaited, server.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    workers: Workers,
    /// The indexer, change watch, sweeps, deliveries and heartbeat: stopped with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// How often the read cache looks for other processes' changes.
const CHANGE_WATCH_INTERVAL: Duration = Duration::from_millis(250);

impl Application {
    /// Prepares everything and binds `settings.listen`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = settings.validate()?;
        let db = open_database(&settings).await?;
        check_store_location(&db, &settings).await?;
        for folder in [&settings.media_dir, &settings.index_dir] {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        let store = open_storage(&settings)?;
        let node = crate::jobs::nodes::node_id(&settings.index_dir).context("reading this node's id")?;
        let wake = Arc::new(Notify::new());
        let workers = start_job_workers(&settings, db.clone(), (store.clone(), node.clone()), wake.clone()).await?;
        let media = media_context(&settings, store, wake);
        let upload_sweep = crate::jobs::uploads::start(db.clone(), media.clone(), crate::jobs::uploads::SWEEP_INTERVAL);
        let search = open_search(&settings, &db, &node).await?;
        let interval = Duration::from_millis(settings.search_commit_interval_ms);
        let indexer = indexer::start(db.clone(), search.clone(), node.clone(), interval);
        let change_watch = db.watch_other_writers(CHANGE_WATCH_INTERVAL);
        if let Some(password) = accounts::ensure_admin(&db, settings.admin_password.as_ref().map(Secret::expose))
            .await
            .map_err(|error| anyhow::anyhow!("creating the admin account: {error}"))?
        {
            print_generated_password(&password);
        }
        purge_expired_sessions(&db).await;
        let listener = TcpListener::bind(&settings.listen).with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let rules = delivery_rules(&settings, port);
        let heartbeat = crate::jobs::nodes::start(db.clone(), node, rules.public_url.clone());
        let compliance = crate::service::compliance::Compliance::new();
        let compliance_sweep = crate::jobs::compliance::start(db.clone(), compliance.clone());
        let server = serve(listener, db.clone(), Services { media, search, compliance }, settings)?;
        let reminders = crate::jobs::reminders::start(db.clone(), crate::jobs::reminders::SWEEP_INTERVAL);
        let webhooks = crate::jobs::webhooks::start(db.clone(), rules);
        let background = vec![indexer, change_watch, reminders, webhooks, compliance_sweep, heartbeat, upload_sweep];
        Ok(Self { port, server, db, workers, background })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database handle, for tests that inspect or tamper with stored rows.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (Ctrl-C / SIGTERM, or the handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.workers.stop();
        for task in &self.background {
            task.abort();
        }
        served
    }
}

/// How webhook deliveries are made: links point at `public_url`, else at the bound address.
fn delivery_rules(settings: &Settings, port: u16) -> crate::service::webhooks::DeliveryRules {
    let host = settings.listen.rsplit_once(':').map_or(settings.listen.as_str(), |(host, _)| host);
    crate::service::webhooks::DeliveryRules {
        public_url: settings.public_url.clone().unwrap_or_else(|| format!("http://{host}:{port}")),
        max_attempts: settings.webhook_max_attempts,
        retry_base: Duration::from_millis(settings.webhook_retry_base_ms.max(1)),
        timeout: Duration::from_secs(10),
    }
}

/// Scratch space under the media folder and the store of originals (`storage_url`).
pub fn open_storage(settings: &Settings) -> anyhow::Result<Storage> {
    let (url, s3) = settings.storage()?;
    Storage::open(&settings.media_dir, &url, &s3).with_context(|| format!("opening the store {url}"))
}

/// The store, limits and job wake-up media use cases run with.
pub fn media_context(settings: &Settings, store: Storage, wake: Arc<Notify>) -> MediaContext {
    let limits = UploadLimits {
        image_bytes: settings.max_image_bytes,
        video_bytes: settings.max_video_bytes,
        audio_bytes: settings.max_audio_bytes,
    };
    MediaContext::new(store, limits, wake, settings.job_max_attempts)
}

/// Connects and migrates on a blocking thread (pool set-up and migrations do I/O).
pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let pool_size = settings.db_pool_size;
    let cache_ttl = Duration::from_millis(settings.read_cache_ms);
    tracing::info!(backend = url.backend(), "opening database");
    let db = off_executor(move || anyhow::Ok(Db::connect(&url, pool_size)?)).await?;
    Ok(db.with_read_cache_ttl(cache_ttl))
}

/// Refuses to serve from a store `migrate-store` has moved away from: this node would store
/// uploads where no other node reads.
pub async fn check_store_location(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let (configured, _) = settings.storage()?;
    let recorded = db.read(|conn| Ok::<_, crate::db::DbError>(crate::db::store::location(conn)?)).await?;
    match recorded {
        Some(recorded) if recorded != configured.to_string() => anyhow::bail!(
            "the stored files were moved to {recorded} by `microcat migrate-store`; \
             set storage_url (MICROCAT_STORAGE_URL) to it (this node is configured for {configured})"
        ),
        _ => Ok(()),
    }
}

fn print_generated_password(password: &str) {
    println!("================================================================");
    println!(" microcat: created the first account");
    println!("   username: admin");
    println!("   password: {password}");
    println!(" It is shown only this once. Set MICROCAT_ADMIN_PASSWORD to choose it.");
    println!("================================================================");
}

async fn purge_expired_sessions(db: &Db) {
    let purged = db.write(|conn| sessions::delete_expired(conn, crate::clock::now())).await;
    if let Ok(count) = purged {
        tracing::info!(sessions = count, "purged expired sessions");
    }
}

/// Decode limits from settings.
pub fn decode_limits(settings: &Settings) -> DecodeLimits {
    DecodeLimits {
        max_pixels: settings.max_image_megapixels.saturating_mul(1_000_000),
        max_duration_ms: settings.max_media_duration_secs.saturating_mul(1000),
    }
}

async fn start_job_workers(
    settings: &Settings,
    db: Db,
    (store, node): (Storage, Arc<str>),
    wake: Arc<Notify>,
) -> anyhow::Result<Workers> {
    let program = match &settings.media_worker_program {
        Some(program) => program.clone(),
        None => std::env::current_exe().context("locating this binary for media workers")?,
    };
    let film_program = crate::media::worker::film_program(&program);
    if !film_program.is_file() {
        anyhow::bail!("the film worker {} is missing (it is built beside microcat)", film_program.display());
    }
    let child = ChildLimits {
        film_program,
        program,
        timeout: Duration::from_secs(settings.media_timeout_secs),
        memory_bytes: settings.media_memory_mb * 1024 * 1024,
    };
    let (policy, preview) = settings.preview()?;
    let count = if settings.media_workers == 0 {
        std::thread::available_parallelism().map_or(2, usize::from)
    } else {
        settings.media_workers
    };
    let runner = JobRunner {
        db,
        node,
        store,
        child,
        decode: decode_limits(settings),
        wake,
        retry_base: Duration::from_secs(settings.job_retry_base_secs),
        previews: PreviewRules { policy, settings: preview, seconds_per_second: settings.preview_seconds_per_second },
    };
    Ok(runner.start(count).await?)
}

/// Opens the search index; a new one is filled from the database before serving.
pub async fn open_search(settings: &Settings, db: &Db, node: &Arc<str>) -> anyhow::Result<Arc<SearchIndex>> {
    let root = settings.index_dir.clone();
    let dictionary = settings.search_dictionary.clone();
    let (db, node) = (db.clone(), node.clone());
    let index = off_executor(move || -> anyhow::Result<SearchIndex> {
        let jieba = analysis::segmenter(dictionary.as_deref());
        let (index, created) = SearchIndex::open(&root, jieba.clone())?;
        if created || indexer::needs_rebuild(&db, &index.payload())? {
            indexer::hold_log_for(&db, &node)?;
            let count = indexer::rebuild(&db, &root, &jieba)?;
            index.follow_current()?;
            tracing::info!(documents = count, "built the search index from the database");
        }
        Ok(index)
    })
    .await?;
    Ok(Arc::new(index))
}

/// The services' handles the server shares with its handlers.
struct Services {
    media: MediaContext,
    search: Arc<SearchIndex>,
    compliance: Arc<crate::service::compliance::Compliance>,
}

fn serve(listener: TcpListener, db: Db, services: Services, settings: Settings) -> anyhow::Result<Server> {
    let Services { media, search, compliance } = services;
    let workers = if settings.http_workers == 0 {
        std::thread::available_parallelism().map_or(2, usize::from)
    } else {
        settings.http_workers
    };
    // Database calls wait for a pooled connection on blocking threads: more threads than
    // connections only add stacks and malloc arenas under load, never throughput.
    let blocking_threads = (settings.db_pool_size as usize).div_ceil(workers) + 4;
    let login_policy = LoginPolicy::from_settings(&settings);
    let two_level_kinds = settings
        .two_level_signoff_kinds
        .iter()
        .map(|name| Kind::parse(name).ok_or_else(|| anyhow::anyhow!("two_level_signoff_kinds: unknown kind {name:?}")))
        .collect::<anyhow::Result<Vec<Kind>>>()?;
    let state = web::Data::new(AppState {
        db,
        sessions: Default::default(),
        two_level_kinds,
        search,
        media,
        settings,
        login_policy,
        imports: Default::default(),
        compliance,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(http::envelope_errors())
            .wrap(http::security_headers())
            .wrap(TracingLogger::<http::RequestSpan>::new())
            .configure(http::routes)
            .configure(crate::web::routes)
            .default_service(web::to(crate::web::fallback))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .listen(listener)?
    .run();
    Ok(server)
}
