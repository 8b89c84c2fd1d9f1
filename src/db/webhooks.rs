//! The `webhooks` and `webhook_deliveries` tables: admins' robots and the persisted queue of
//! messages to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{webhook_deliveries, webhooks};

/// One robot and the kinds of event it is told about.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    /// `domain::webhook::RobotKind` spelling.
    pub kind: String,
    pub url: String,
    /// JSON list of `domain::notice::Event` spellings.
    pub events: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    /// The event spellings it subscribes to.
    pub fn event_names(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

/// One message to one robot, queued until delivered or given up.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub work_id: Option<String>,
    pub title: String,
    pub text: String,
    /// `pending`, `delivered` or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

pub fn insert(conn: &mut DbConnection, row: &WebhookRow) -> QueryResult<()> {
    diesel::insert_into(webhooks::table).values(row).execute(conn).map(drop)
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table.order((webhooks::created_at.asc(), webhooks::id.asc())).select(WebhookRow::as_select()).load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).optional()
}

pub fn update(conn: &mut DbConnection, row: &WebhookRow) -> QueryResult<()> {
    diesel::update(webhooks::table.find(&row.id))
        .set((webhooks::url.eq(&row.url), webhooks::events.eq(&row.events), webhooks::updated_at.eq(row.updated_at)))
        .execute(conn)
        .map(drop)
}

/// Removes a robot and its queue.
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? > 0)
}

pub fn enqueue(conn: &mut DbConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table).values(row).execute(conn).map(drop)
}

/// Pending deliveries whose time has come, oldest first.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::state.eq(PENDING))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .order((webhook_deliveries::next_attempt_at.asc(), webhook_deliveries::id.asc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Takes a due delivery for one attempt: pushes its next attempt to `lease_until` if it is
/// still pending and due. Only one worker (of any process) wins; the rest skip it.
pub fn claim(conn: &mut DbConnection, id: &str, now: NaiveDateTime, lease_until: NaiveDateTime) -> QueryResult<bool> {
    let claimed = diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::state.eq(PENDING))
            .filter(webhook_deliveries::next_attempt_at.le(now)),
    )
    .set(webhook_deliveries::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Records an attempt's outcome: delivered, another try at `next` (`None`: given up).
pub fn record_attempt(
    conn: &mut DbConnection,
    id: &str,
    outcome: Result<(), (Option<i32>, String)>,
    next: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = webhook_deliveries::table.find(id);
    let attempts = webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1);
    match outcome {
        Ok(()) => diesel::update(target)
            .set((
                attempts,
                webhook_deliveries::state.eq(DELIVERED),
                webhook_deliveries::delivered_at.eq(Some(now)),
                webhook_deliveries::last_status.eq(Some(200)),
                webhook_deliveries::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .map(drop),
        Err((status, error)) => diesel::update(target)
            .set((
                attempts,
                webhook_deliveries::state.eq(if next.is_some() { PENDING } else { FAILED }),
                webhook_deliveries::next_attempt_at.eq(next.unwrap_or(now)),
                webhook_deliveries::last_status.eq(status),
                webhook_deliveries::last_error.eq(Some(error)),
            ))
            .execute(conn)
            .map(drop),
    }
}

/// A robot's latest deliveries, newest first.
pub fn recent(conn: &mut DbConnection, webhook_id: &str, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}
