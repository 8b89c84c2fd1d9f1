//! Keeps this node's index in step with the database. Every change writes a row of the change
//! log (`search_outbox`) in its own transaction; each node's indexer reads the log in order
//! from the position stored in its index's last commit, applies a batch, and commits the new
//! position with it — so a crash between the database commit and the index commit loses
//! nothing (the rows are read again), and indexing a work twice is harmless (a document is
//! replaced by the work's current state). The log is pruned once every live node has passed
//! a row; a node whose index is older than what was pruned rebuilds from the database.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDateTime};
use tokio::task::JoinHandle;

use crate::clock::now;
use crate::db::outbox::LogPosition;
use crate::db::works::WorkRow;
use crate::db::{Db, DbConnection, DbError, media, nodes, outbox, works};
use crate::domain::ids::UserId;
use crate::search::{self, CommitPayload, IndexError, SearchDocument, SearchIndex};

/// Why indexing stopped: the index or the database failed (both are retried).
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// The tantivy index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(IndexerError);

/// Tasks applied per commit.
const BATCH: i64 = 500;
/// A node heard from within this long holds the log back for its index; one silent for longer
/// has left (or died), and rebuilds its index if it comes back after the log moved on.
const NODE_LIVE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Where an index stands in the change log.
pub fn position_of(payload: &CommitPayload) -> LogPosition {
    LogPosition { txid: payload.applied_txid, seq: payload.applied_seq }
}

/// Whether the log no longer holds every change this index lacks (the node was gone while
/// the others pruned it): it must be rebuilt.
pub fn needs_rebuild(db: &Db, payload: &CommitPayload) -> Result<bool, IndexerError> {
    let mut conn = db.connection()?;
    Ok(outbox::pruned_through(&mut conn)?.is_some_and(|pruned| position_of(payload) < pruned))
}

/// Turns stored rows into search documents.
fn documents_for(conn: &mut DbConnection, rows: Vec<WorkRow>) -> diesel::QueryResult<Vec<SearchDocument>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.to_string()).collect();
    let mut filenames: HashMap<String, Vec<String>> = HashMap::new();
    for (work_id, name) in media::filenames_for(conn, &ids)? {
        if let Some(name) = name {
            filenames.entry(work_id).or_default().push(name);
        }
    }
    let mut dialogue: HashMap<String, Vec<String>> = HashMap::new();
    for (work_id, cues) in media::transcripts_for(conn, &ids)? {
        dialogue.entry(work_id.into_string()).or_default().extend(cues.into_value().into_iter().map(|cue| cue.text));
    }
    Ok(rows.into_iter().map(|row| document_of(row, &mut filenames, &mut dialogue)).collect())
}

fn document_of(
    row: WorkRow,
    filenames: &mut HashMap<String, Vec<String>>,
    dialogue: &mut HashMap<String, Vec<String>>,
) -> SearchDocument {
    let dated: NaiveDateTime = row.published_at.unwrap_or(row.created_at);
    SearchDocument {
        filenames: filenames.remove(row.id.as_str()).unwrap_or_default(),
        dialogue: dialogue.remove(row.id.as_str()).unwrap_or_default(),
        id: row.id.into_string(),
        kind: row.kind.as_str().to_owned(),
        status: row.status.as_str().to_owned(),
        title: row.title,
        summary: row.summary.unwrap_or_default(),
        body: row.body,
        tags: row.tags.into_value(),
        credit_names: row.credits.into_value().into_iter().map(|credit| credit.name).collect(),
        unit: row.unit,
        channel: row.channel,
        created_by: row.created_by.into_string(),
        assignees: row.assignees.into_value().into_iter().map(UserId::into_string).collect(),
        date_micros: dated.and_utc().timestamp_micros(),
        year: i64::from(dated.year()),
    }
}

/// Applies up to one batch of the log after this index's position; returns how many rows.
pub fn apply_pending(db: &Db, index: &SearchIndex, node: &str) -> Result<usize, IndexerError> {
    let mut conn = db.connection()?;
    let payload = index.payload();
    let horizon = outbox::horizon(&mut conn)?;
    let tasks = outbox::after(&mut conn, position_of(&payload), horizon, BATCH)?;
    if tasks.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = tasks.iter().map(|(_, id)| id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let rows = works::find_many(&mut conn, &ids)?;
    let live: Vec<WorkRow> = rows.into_iter().filter(|row| row.deleted_at.is_none()).collect();
    let live_ids: HashSet<&str> = live.iter().map(|row| row.id.as_str()).collect();
    let deletions: Vec<String> = ids.iter().filter(|id| !live_ids.contains(id.as_str())).cloned().collect();
    let documents = documents_for(&mut conn, live)?;
    let reached = tasks.last().map(|(position, _)| *position).unwrap_or_default();
    let payload = CommitPayload { applied_txid: reached.txid, applied_seq: reached.seq, ..payload };
    index.apply(documents, &deletions, payload)?;
    drop(conn);
    report_and_prune(db, node, reached)?;
    Ok(tasks.len())
}

/// Publishes this node's position (and lag), then prunes what every live node has applied.
/// A write: it takes the writers' turn like every other, or a SQLite writer that began by
/// reading could find its snapshot stale and fail.
fn report_and_prune(db: &Db, node: &str, reached: LogPosition) -> Result<(), IndexerError> {
    db.write_bookkeeping_blocking(|conn| -> Result<(), IndexerError> {
        let stamp = now();
        let (lag, _) = outbox::backlog_after(conn, reached)?;
        nodes::set_index(conn, node, reached, lag, stamp)?;
        if let Some(slowest) = nodes::slowest_live(conn, stamp - NODE_LIVE)? {
            outbox::prune_through(conn, slowest)?;
        }
        Ok(())
    })
}

/// Holds the change log for a node about to build its index: registers the node at the
/// position the build will start from, so other nodes do not prune past it meanwhile.
pub fn hold_log_for(db: &Db, node: &str) -> Result<(), IndexerError> {
    db.write_bookkeeping_blocking(|conn| -> Result<(), IndexerError> {
        let from = outbox::start_position(conn)?;
        Ok(nodes::set_index(conn, node, from, 0, now())?)
    })
}

/// Builds a complete new generation from the database and makes it the live one. Safe while
/// a server runs: the server notices `CURRENT` changed, switches, and catches up on what
/// changed since the build started.
pub fn rebuild(db: &Db, root: &std::path::Path, jieba: &Arc<jieba_rs::Jieba>) -> Result<u64, IndexerError> {
    let started = now();
    let name = search::create_generation(root, jieba)?;
    let mut conn = db.connection()?;
    // Read before the first page: whatever changes from here on is applied after the build.
    let from = outbox::start_position(&mut conn)?;
    let mut filler = search::GenerationFiller::open(root, &name, jieba)?;
    // Page by page: memory stays at one page plus tantivy's budget, and reading the next page
    // overlaps with the indexing threads segmenting the last one.
    let mut after = String::new();
    loop {
        let page = works::page_after(&mut conn, &after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.id.to_string();
        let live = page.into_iter().filter(|row| row.deleted_at.is_none()).collect();
        for document in documents_for(&mut conn, live)? {
            filler.add(document)?;
        }
    }
    drop(conn);
    let payload = CommitPayload {
        applied_txid: from.txid,
        applied_seq: from.seq,
        built_at_micros: started.and_utc().timestamp_micros(),
    };
    let count = filler.finish(payload)?;
    search::switch_current(root, &name)?;
    Ok(count)
}

/// When the log no longer holds every change this index lacks (it was built by another
/// process, or this node was silent, while the others pruned), re-queues what changed since
/// the index was built and moves the index's position to just before those rows.
fn catch_up(db: &Db, index: &SearchIndex, payload: CommitPayload) -> Result<(), IndexerError> {
    if !needs_rebuild(db, &payload)? {
        return Ok(());
    }
    let since = chrono::DateTime::from_timestamp_micros(payload.built_at_micros)
        .map(|time| time.naive_utc())
        .unwrap_or_default();
    let since = since - chrono::TimeDelta::seconds(2);
    let from = db.write_blocking(|conn| -> Result<LogPosition, IndexerError> {
        // Read first: the rows queued below come after it.
        let from = outbox::start_position(conn)?;
        let stamp = now();
        for id in works::changed_since(conn, since)? {
            outbox::enqueue(conn, &id, stamp)?;
        }
        Ok(from)
    })?;
    index.apply(Vec::new(), &[], CommitPayload { applied_txid: from.txid, applied_seq: from.seq, ..payload })?;
    Ok(())
}

/// Runs the indexer until aborted, looking at the log every `interval` (a short poll: every
/// node sees another's change within it): changes are batched into one commit per interval
/// on purpose, so nothing wakes it earlier.
pub fn start(db: Db, index: Arc<SearchIndex>, node: Arc<str>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let (db, index, node) = (db.clone(), index.clone(), node.clone());
            let outcome = tokio::task::spawn_blocking(move || step(&db, &index, &node)).await;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "search indexing failed; will retry");
                    tokio::time::sleep(interval * 4).await;
                }
                Err(error) => tracing::error!(%error, "search indexing task failed"),
            }
        }
    })
}

fn step(db: &Db, index: &SearchIndex, node: &str) -> Result<(), IndexerError> {
    if let Some(payload) = index.follow_current()? {
        catch_up(db, index, payload)?;
    } else if needs_rebuild(db, &index.payload())? {
        // This node was silent long enough for the others to prune past it.
        tracing::warn!("the search change log moved on without this node: re-indexing what changed since");
        catch_up(db, index, index.payload())?;
    }
    while apply_pending(db, index, node)? == BATCH as usize {}
    Ok(())
}
