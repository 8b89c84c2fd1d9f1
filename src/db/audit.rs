//! The `audit_log` table: append-only and hash-chained. Each entry stores the hash of the
//! previous one; `audit_head` holds the chain's tip, and updating it first serialises
//! concurrent appenders (a row lock on PostgreSQL, the writer lock on SQLite).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::DbConnection;
use super::schema::{audit_head, audit_log};

/// A stored entry.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
}

/// The hash of an entry: SHA-256 over its fields and the previous hash, unambiguously joined.
pub fn entry_hash(row: &AuditRow) -> String {
    let mut hasher = Sha256::new();
    let parts = [
        row.seq.to_string(),
        row.at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        row.actor_id.clone().unwrap_or_default(),
        row.client_addr.clone().unwrap_or_default(),
        row.action.clone(),
        row.target_type.clone(),
        row.target_id.clone().unwrap_or_default(),
        row.details.clone(),
        row.prev_hash.clone(),
    ];
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Appends an entry to the chain, inside the caller's transaction.
pub fn append(conn: &mut DbConnection, entry: NewEntry, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(audit_head::table.find(1)).set(audit_head::seq.eq(audit_head::seq + 1)).execute(conn)?;
    let (seq, prev_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    // Microsecond precision is what both databases keep.
    let at =
        chrono::DateTime::from_timestamp_micros(now.and_utc().timestamp_micros()).map_or(now, |time| time.naive_utc());
    let mut row = AuditRow {
        seq,
        at,
        actor_id: entry.actor_id,
        client_addr: entry.client_addr,
        action: entry.action,
        target_type: entry.target_type,
        target_id: entry.target_id,
        details: entry.details.to_string(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row);
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    diesel::update(audit_head::table.find(1)).set(audit_head::hash.eq(&row.hash)).execute(conn).map(drop)
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// A page of entries, newest first, and the total.
/// The audit chain's tip: it moves with every recorded change, by any process.
pub fn head_seq(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(audit_head::table.find(1).select(audit_head::seq).first(conn).optional()?.unwrap_or(0))
}

pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AuditRow>, i64)> {
    let query = || {
        let mut query = audit_log::table.into_boxed::<super::MultiBackend>();
        if let Some(actor) = &filter.actor_id {
            query = query.filter(audit_log::actor_id.eq(actor.clone()));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_log::action.eq(action.clone()));
        }
        if let Some(target) = &filter.target_id {
            query = query.filter(audit_log::target_id.eq(target.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_log::at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(audit_log::at.le(to));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows =
        query().order(audit_log::seq.desc()).offset(offset).limit(limit).select(AuditRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// Why the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenChain {
    /// The first entry that does not check out (or the first missing sequence number).
    pub seq: i64,
    pub reason: String,
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every entry checks out.
    Intact { entries: i64 },
    /// The first break.
    Broken(BrokenChain),
}

/// Walks the whole chain in order; returns the number of entries, or the first break.
pub fn verify(conn: &mut DbConnection) -> QueryResult<ChainCheck> {
    let mut expected_prev = "0".repeat(64);
    let mut expected_seq = 1;
    let mut after = 0i64;
    loop {
        let page: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(1000)
            .select(AuditRow::as_select())
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in page {
            if row.seq != expected_seq {
                return Ok(ChainCheck::Broken(BrokenChain {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing"),
                }));
            }
            if row.prev_hash != expected_prev {
                return Ok(ChainCheck::Broken(BrokenChain {
                    seq: row.seq,
                    reason: "its previous-hash does not match the entry before it".into(),
                }));
            }
            if entry_hash(&row) != row.hash {
                return Ok(ChainCheck::Broken(BrokenChain {
                    seq: row.seq,
                    reason: "its content does not match its hash (edited)".into(),
                }));
            }
            expected_prev = row.hash;
            expected_seq += 1;
        }
    }
    let (head_seq, head_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        return Ok(ChainCheck::Broken(BrokenChain {
            seq: expected_seq,
            reason: format!("entries after {} were removed", expected_seq - 1),
        }));
    }
    Ok(ChainCheck::Intact { entries: expected_seq - 1 })
}
