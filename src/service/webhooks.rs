//! Outgoing webhooks: admins point 企业微信/钉钉 robots at kinds of event; each event that
//! makes an in-app notice also queues one message per subscribed robot, in the same
//! transaction. The delivery worker (`jobs::webhooks`) drains the queue with retries and
//! backoff; a request never waits on a chat server, a restart loses nothing, and a delivery
//! that is given up stays visible to admins with its last error.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::auth::AuthUser;
use crate::clock::now;
use crate::db::webhooks::{self as rows, DeliveryRow, WebhookRow};
use crate::db::{Db, DbConnection, DbError};
use crate::domain::FieldError;
use crate::domain::notice::Event;
use crate::domain::webhook::{self, RobotKind};

/// Why a webhook request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhooks are managed by admins")]
    AdminRequired,
    #[error("no such webhook")]
    NotFound,
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(WebhookError);

/// A robot as a client sends it, checked.
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub kind: RobotKind,
    pub url: String,
    pub events: Vec<Event>,
}

/// Checks a robot's fields.
pub fn parse_input(kind: &str, url: &str, events: &[String]) -> Result<WebhookInput, FieldError> {
    let kind = RobotKind::parse(kind).ok_or_else(|| FieldError::invalid("kind", "must be wecom or dingtalk"))?;
    let url = crate::domain::archive::web_link(url)
        .ok_or_else(|| FieldError::invalid("url", "must be the robot's http:// or https:// address"))?;
    let events = parse_events(events)?;
    Ok(WebhookInput { kind, url, events })
}

/// Checks a list of event names (at least one).
pub fn parse_events(names: &[String]) -> Result<Vec<Event>, FieldError> {
    if names.is_empty() {
        return Err(FieldError::required("events"));
    }
    names
        .iter()
        .map(|name| {
            Event::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Event::ALL.iter().map(|event| event.as_str()).collect();
                FieldError::invalid("events", format!("{name:?} is not an event; events: {}", known.join(", ")))
            })
        })
        .collect()
}

fn events_json(events: &[Event]) -> String {
    serde_json::to_string(&events.iter().map(|event| event.as_str()).collect::<Vec<_>>()).unwrap_or_default()
}

fn admin_only(user: &AuthUser) -> Result<(), WebhookError> {
    if user.is_admin() { Ok(()) } else { Err(WebhookError::AdminRequired) }
}

/// Most deliveries shown with each robot.
pub const RECENT_DELIVERIES: i64 = 10;

/// Every robot with its latest deliveries (admins).
pub async fn list(db: &Db, user: &AuthUser) -> Result<Vec<(WebhookRow, Vec<DeliveryRow>)>, WebhookError> {
    admin_only(user)?;
    Ok(db
        .read(|conn| -> diesel::QueryResult<_> {
            let mut listed = Vec::new();
            for hook in rows::list(conn)? {
                let recent = rows::recent(conn, &hook.id, RECENT_DELIVERIES)?;
                listed.push((hook, recent));
            }
            Ok(listed)
        })
        .await?)
}

/// Adds a robot (admins; audited).
pub async fn create(db: &Db, user: &AuthUser, input: WebhookInput) -> Result<WebhookRow, WebhookError> {
    admin_only(user)?;
    let stamp = now();
    let row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: input.kind.as_str().to_owned(),
        url: input.url,
        events: events_json(&input.events),
        created_by: Some(user.id.as_str().to_owned()),
        created_at: stamp,
        updated_at: stamp,
    };
    let (stored, caller) = (row.clone(), user.clone());
    db.write(move |conn| -> diesel::QueryResult<()> {
        rows::insert(conn, &stored)?;
        let details = serde_json::json!({"kind": stored.kind, "events": stored.event_names()});
        super::audit::record(conn, Some(&caller), "webhook.created", ("webhook", &stored.id), details, stamp)
    })
    .await?;
    Ok(row)
}

/// Changes a robot's address or events (admins; audited).
pub async fn update(
    db: &Db,
    user: &AuthUser,
    id: String,
    (url, events): (Option<String>, Option<Vec<Event>>),
) -> Result<WebhookRow, WebhookError> {
    admin_only(user)?;
    let url = url
        .map(|raw| {
            crate::domain::archive::web_link(&raw)
                .ok_or_else(|| FieldError::invalid("url", "must be an http:// or https:// address"))
        })
        .transpose()?;
    let caller = user.clone();
    db.write(move |conn| -> Result<WebhookRow, WebhookError> {
        let mut row = rows::find(conn, &id)?.ok_or(WebhookError::NotFound)?;
        if let Some(url) = url {
            row.url = url;
        }
        if let Some(events) = &events {
            row.events = events_json(events);
        }
        row.updated_at = now();
        rows::update(conn, &row)?;
        let details = serde_json::json!({"events": row.event_names()});
        super::audit::record(conn, Some(&caller), "webhook.updated", ("webhook", &row.id), details, row.updated_at)?;
        Ok(row)
    })
    .await
}

/// Removes a robot and its queue (admins; audited).
pub async fn delete(db: &Db, user: &AuthUser, id: String) -> Result<(), WebhookError> {
    admin_only(user)?;
    let caller = user.clone();
    db.write(move |conn| -> Result<(), WebhookError> {
        if !rows::delete(conn, &id)? {
            return Err(WebhookError::NotFound);
        }
        super::audit::record(conn, Some(&caller), "webhook.deleted", ("webhook", &id), serde_json::json!({}), now())?;
        Ok(())
    })
    .await
}

/// Queues the event's message for every robot subscribed to it (inside the caller's
/// transaction).
pub fn enqueue(
    conn: &mut DbConnection,
    event: Event,
    work_id: Option<&str>,
    text: &str,
    stamp: NaiveDateTime,
) -> diesel::QueryResult<()> {
    for hook in rows::list(conn)? {
        if !hook.event_names().iter().any(|name| name == event.as_str()) {
            continue;
        }
        let row = DeliveryRow {
            id: uuid::Uuid::now_v7().to_string(),
            webhook_id: hook.id,
            event: event.as_str().to_owned(),
            work_id: work_id.map(str::to_owned),
            title: event.label_zh().to_owned(),
            // A chat message quotes titles and comments: never a person's ID or phone number.
            text: crate::domain::compliance::redact(text).into_owned(),
            state: rows::PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: stamp,
            last_status: None,
            last_error: None,
            created_at: stamp,
            delivered_at: None,
        };
        rows::enqueue(conn, &row)?;
    }
    Ok(())
}

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct DeliveryRules {
    /// The address people open microcat at, for links back to a work.
    pub public_url: String,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub timeout: Duration,
}

/// Deliveries made per round.
const ROUND: i64 = 50;

/// Sends every due delivery once (blocking: the worker's thread); returns how many were tried.
pub fn deliver_due(db: &Db, rules: &DeliveryRules) -> Result<usize, WebhookError> {
    let mut conn = db.connection()?;
    let due = rows::due(&mut conn, now(), ROUND)?;
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(rules.timeout)).http_status_as_error(false).build().into();
    for delivery in &due {
        // Claimed first, so two workers (a restart's overlap, or several servers) never both send it.
        let lease = now() + chrono::TimeDelta::from_std(rules.timeout * 3).unwrap_or(chrono::TimeDelta::minutes(1));
        if !db.write_blocking(|conn| rows::claim(conn, &delivery.id, now(), lease))? {
            continue;
        }
        let Some(hook) = rows::find(&mut conn, &delivery.webhook_id)? else { continue };
        let outcome = send_one(&agent, &hook, delivery, &rules.public_url);
        let attempts = delivery.attempts + 1;
        let next = (outcome.is_err() && attempts < rules.max_attempts).then(|| {
            let wait = webhook::retry_delay(rules.retry_base, attempts as u32);
            now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1))
        });
        if let Err((_, error)) = &outcome {
            tracing::warn!(webhook = %hook.id, delivery = %delivery.id, attempts, %error, "webhook delivery failed");
        }
        db.write_blocking(|conn| rows::record_attempt(conn, &delivery.id, outcome, next, now()))?;
    }
    Ok(due.len())
}

fn send_one(
    agent: &ureq::Agent,
    hook: &WebhookRow,
    delivery: &DeliveryRow,
    public_url: &str,
) -> Result<(), (Option<i32>, String)> {
    let kind = RobotKind::parse(&hook.kind).ok_or((None, format!("unknown robot kind {:?}", hook.kind)))?;
    let link = delivery.work_id.as_ref().map(|id| format!("{}/works/{id}", public_url.trim_end_matches('/')));
    let body = webhook::message(kind, &delivery.title, &delivery.text, link.as_deref());
    let mut response = agent.post(&hook.url).send_json(&body).map_err(|error| (None, error.to_string()))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    webhook::outcome(status, &text).map_err(|error| (Some(i32::from(status)), error))
}
