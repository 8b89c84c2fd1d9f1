//! The database: one connection type over SQLite or PostgreSQL (chosen by the URL), a pool,
//! embedded migrations for each backend, and helpers that run diesel calls on blocking threads
//! so the async executors never wait on the database.

pub mod audit;
pub mod comments;
pub mod compliance;
pub mod jobs;
pub mod media;
pub mod nodes;
pub mod notifications;
pub mod outbox;
pub mod publications;
pub mod read_cache;
pub mod review;
pub mod schema;
pub mod sessions;
pub mod store;
pub mod types;
pub mod uploads;
pub mod users;
pub mod webhooks;
pub mod works;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tracing::Instrument;

pub use read_cache::{DEFAULT_READ_CACHE_TTL, Lookup, ReadCache, Shared, Weigh};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite connection waits for a lock before giving up, in milliseconds.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 15_000;

/// A connection to either backend; queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for larger deployments.
    Postgresql(diesel::PgConnection),
    /// Embedded SQLite, the default.
    Sqlite(diesel::SqliteConnection),
}

/// Where the database lives, parsed from `sqlite://<path>` or `postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a database URL; a bare path is taken as a SQLite file.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw.strip_prefix("sqlite://").unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(format!("database url {raw:?} must be sqlite://<path> or postgres://…"));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The backend's name, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had from the pool in time.
    #[error("no database connection")]
    Pool(#[from] r2d2::PoolError),
    /// The query itself failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// The blocking task was cancelled or panicked.
    #[error("database task: {0}")]
    Task(String),
}

impl DbError {
    /// Whether the error is a row that was not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }
}

/// Lets a [`Db`] closure that returns plain diesel results (`QueryResult<T>`) be the whole
/// error type of a read or write: a pool or task failure around it becomes a diesel error
/// too ("unable to send command"), keeping its message. Closures with refusals of their own
/// return their service's error instead.
impl From<DbError> for diesel::result::Error {
    fn from(error: DbError) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            DbError::Query(query) => query,
            other => Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, Box::new(other.to_string())),
        }
    }
}

/// Implements `From<diesel::result::Error>` for a service error that has a
/// `From<DbError>`, so `?` works on queries inside [`Db::read`] and [`Db::write`] closures.
#[macro_export]
macro_rules! query_errors_through_db_error {
    ($error:ty) => {
        impl From<diesel::result::Error> for $error {
            fn from(error: diesel::result::Error) -> Self {
                Self::from($crate::db::DbError::from(error))
            }
        }
    };
}

/// Opens connections for the pool, applying SQLite's per-connection settings.
#[derive(Debug, Clone)]
pub struct ConnectionOpener {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionOpener {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                diesel::PgConnection::establish(url).map(DbConnection::Postgresql).map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => open_sqlite(path),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Opens a SQLite file with foreign keys, WAL and a busy timeout. Each PRAGMA runs as its own
/// statement: a multi-statement `sql_query` would silently run only the first.
fn open_sqlite(path: &Path) -> Result<DbConnection, r2d2::Error> {
    let url = path.to_string_lossy();
    let mut conn = diesel::SqliteConnection::establish(&url).map_err(r2d2::Error::ConnectionError)?;
    let pragmas = [
        format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
        "PRAGMA journal_mode = WAL".to_owned(),
        "PRAGMA synchronous = NORMAL".to_owned(),
        "PRAGMA foreign_keys = ON".to_owned(),
    ];
    for pragma in &pragmas {
        diesel::sql_query(pragma.as_str()).execute(&mut conn).map_err(r2d2::Error::QueryError)?;
    }
    Ok(DbConnection::Sqlite(conn))
}

/// The shared database handle: a pool plus, for SQLite, a lock that serialises writers so a
/// read transaction never has to be upgraded under another writer ("database is locked").
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionOpener>,
    sqlite_writer: Option<Arc<Mutex<()>>>,
    cache: Arc<ReadCache>,
}

/// Takes the serving lock of a SQLite database (`<file>.serve.lock`, `flock`): SQLite serves
/// one node, and a second `microcat serve` on the same file is refused with a clear message
/// instead of starting its own job workers, search index and in-memory throttles beside the
/// first. The lock lives as long as the returned file (the kernel drops it when the process
/// dies, even on SIGKILL).
pub fn lock_sqlite_for_serving(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let lock_path = std::path::PathBuf::from(format!("{}.serve.lock", path.display()));
    if let Some(folder) = lock_path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
    // SAFETY: flock only reads the descriptor, which `file` keeps open for the call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "another microcat node is already serving {}: SQLite serves one node only; \
                     run several nodes on PostgreSQL (database_url = postgres://…) with a shared store",
                    path.display()
                ),
            ));
        }
        return Err(error);
    }
    Ok(file)
}

impl Db {
    /// Connects (creating a SQLite file's folder if needed) and applies pending migrations.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|error| DbError::Task(format!("creating {folder:?}: {error}")))?;
        }
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(30))
            .build(ConnectionOpener { url: url.clone() })?;
        let sqlite_writer = matches!(url, DatabaseUrl::Sqlite(_)).then(|| Arc::new(Mutex::new(())));
        let cache = Arc::new(ReadCache::new(DEFAULT_READ_CACHE_TTL));
        let db = Self { pool, sqlite_writer, cache };
        db.migrate()?;
        Ok(db)
    }

    /// The same database with cached reads living at most `ttl` (zero: no caching).
    pub fn with_read_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache = Arc::new(ReadCache::new(ttl));
        self
    }

    /// Watches for changes made by other processes (a CLI command, a second server on the same
    /// PostgreSQL): every user-visible change moves the audit chain's tip, so when it has
    /// moved, cached reads are dropped. Polls every `every`; the time to live bounds the rest
    /// (another server's media processing, which is not audited).
    pub fn watch_other_writers(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let db = self.clone();
        tokio::spawn(async move {
            // Read at once: the server starts serving (and caching) right after this.
            let mut seen = db.read(audit::head_seq).await.ok();
            loop {
                tokio::time::sleep(every).await;
                let Ok(tip) = db.read(audit::head_seq).await else { continue };
                // Our own writes move the tip too; dropping the cache once more for them is
                // cheaper than telling them apart.
                if seen != Some(tip) {
                    db.cache.invalidate();
                }
                seen = Some(tip);
            }
        })
    }

    /// Drops every cached read; for writes made with a raw [`Db::connection`].
    pub fn forget_cached_reads(&self) {
        self.cache.invalidate();
    }

    /// Applies every embedded migration not yet applied; returns how many ran.
    pub fn migrate(&self) -> Result<usize, DbError> {
        let mut conn = self.pool.get()?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(|done| done.len()),
            DbConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(|done| done.len()),
        };
        applied.map_err(|error| DbError::Task(format!("migrations: {error}")))
    }

    /// A pooled connection, for blocking code (CLI commands, tests).
    pub fn connection(&self) -> Result<PooledConnection<ConnectionOpener>, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs read-only diesel work on a blocking thread. The closure's error type is the
    /// caller's (a service error, or [`DbError`] itself); pool and task failures become it too.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        run_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
    }

    /// Like [`Db::read`], but a result read under the same `key` since this process last wrote
    /// (and within the cache's time to live) is shared instead of queried again. `key` must name
    /// the query and every parameter of it. Only successes are cached; an error comes back as
    /// it is. An entry past its time to live is served once more while the query runs again
    /// in the background (see [`Lookup::Refresh`]).
    pub async fn read_cached<T, E, F>(&self, key: String, work: F) -> Result<Arc<T>, E>
    where
        T: Weigh + Send + Sync + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let generation = self.cache.generation();
        match self.cache.lookup::<T>(&key) {
            Lookup::Hit(hit) => return Ok(hit),
            Lookup::Refresh(stale) => {
                let db = self.clone();
                tokio::spawn(async move {
                    if let Ok(value) = db.read(work).await {
                        db.cache.put(key, generation, Arc::new(value));
                    }
                });
                return Ok(stale);
            }
            Lookup::Miss => {}
        }
        let value = Arc::new(self.read(work).await?);
        self.cache.put(key, generation, value.clone());
        Ok(value)
    }

    /// Runs diesel work inside one transaction on a blocking thread; on SQLite writers take
    /// turns. An `Err` from the closure rolls the transaction back and comes back unchanged.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_blocking(work)).await
    }

    /// [`Db::write`] for bookkeeping that no cached read looks at — the job queue's claims and
    /// leases, the search outbox — so polling them does not empty the read cache twice a
    /// second. Never use it for a write that changes a work, its media, or who may see what.
    pub async fn write_bookkeeping<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_bookkeeping_blocking(work)).await
    }

    /// The blocking body of [`Db::write`], for CLI commands.
    pub fn write_blocking<T, E, F>(&self, work: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
    {
        let outcome = self.write_bookkeeping_blocking(work);
        // After the transaction ended, so a read that began before it cannot be cached as new.
        self.cache.invalidate();
        outcome
    }

    /// The blocking body of [`Db::write_bookkeeping`] (the indexer's thread), and of every
    /// write: one transaction, without touching the read cache.
    pub fn write_bookkeeping_blocking<T, E, F>(&self, work: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
    {
        let mut conn = self.pool.get().map_err(DbError::from)?;
        let _turn = self.sqlite_writer.as_ref().map(|lock| lock.lock().unwrap_or_else(|poison| poison.into_inner()));
        let begin = match &*conn {
            DbConnection::Sqlite(_) => "BEGIN IMMEDIATE",
            DbConnection::Postgresql(_) => "BEGIN",
        };
        in_transaction(&mut conn, begin, work)
    }
}

/// Runs `work` in a transaction opened with `begin`, committing on `Ok` and rolling back on
/// `Err` or a panic. SQLite opens with `BEGIN IMMEDIATE`: the write lock is taken up front, so
/// a transaction that reads first can never find its snapshot stale when it writes (which
/// SQLite reports as "database is locked" at once, whatever the busy timeout) — not even when
/// another process (a CLI command) writes too.
fn in_transaction<T, E, F>(conn: &mut DbConnection, begin: &str, work: F) -> Result<T, E>
where
    E: From<DbError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    use diesel::connection::AnsiTransactionManager;
    let query_error = |error: diesel::result::Error| E::from(DbError::from(error));
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, begin),
        DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction_sql(inner, begin),
    }
    .map_err(query_error)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)));
    match outcome {
        Ok(Ok(value)) => {
            finish_transaction(conn, true).map_err(query_error)?;
            Ok(value)
        }
        Ok(Err(error)) => {
            // The closure's error is the answer; a failed rollback only closes the connection.
            if let Err(rollback) = finish_transaction(conn, false) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
        Err(panic) => {
            let _ = finish_transaction(conn, false);
            std::panic::resume_unwind(panic)
        }
    }
}

/// Commits (`commit`) or rolls back the transaction [`in_transaction`] opened.
fn finish_transaction(conn: &mut DbConnection, commit: bool) -> QueryResult<()> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match (conn, commit) {
        (DbConnection::Sqlite(inner), true) => AnsiTransactionManager::commit_transaction(inner),
        (DbConnection::Sqlite(inner), false) => AnsiTransactionManager::rollback_transaction(inner),
        (DbConnection::Postgresql(inner), true) => AnsiTransactionManager::commit_transaction(inner),
        (DbConnection::Postgresql(inner), false) => AnsiTransactionManager::rollback_transaction(inner),
    }
}

/// Runs `work` on tokio's blocking pool, keeping the caller's tracing span.
async fn run_blocking<T, E, F>(work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .instrument(tracing::Span::current())
        .await
        .map_err(|error| E::from(DbError::Task(error.to_string())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/microcat.db").unwrap(),
            DatabaseUrl::Sqlite("data/microcat.db".into())
        );
        assert_eq!(DatabaseUrl::parse("/tmp/x.db").unwrap(), DatabaseUrl::Sqlite("/tmp/x.db".into()));
        assert!(matches!(DatabaseUrl::parse("postgres://u@localhost/db").unwrap(), DatabaseUrl::Postgres(_)));
        assert!(DatabaseUrl::parse("mysql://localhost/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
