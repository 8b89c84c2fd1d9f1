//! The caller's inbox: notices newest first with the unread count, marking them read, and the
//! kinds of notice they get.

use std::collections::BTreeMap;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiJson, ApiQuery, CurrentUser};
use crate::domain::FieldError;
use crate::domain::notice::Event;
use crate::domain::page::Page;
use crate::error::ApiError;
use crate::service::notify;

/// `?unread=&page=&per_page=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only notices not yet read.
    unread: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationItem {
    id: String,
    /// `review_waiting`, `sent_back`, `approved`, `published`, `comment`, `reply`, `mention`,
    /// `assigned` or `overdue`.
    event: String,
    work_id: Option<String>,
    /// The notice as the team reads it (Chinese).
    text: String,
    read: bool,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxResponse {
    unread: i64,
    items: Vec<NotificationItem>,
}

/// The caller's notices, newest first, and how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(InboxQuery), responses((status = 200, body = InboxResponse)))]
pub async fn list_notifications(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<InboxQuery>,
) -> Result<web::Json<InboxResponse>, ApiError> {
    let ApiQuery(query) = query;
    let page = Page::parse(query.page, query.per_page).map_err(ApiError::from_query)?;
    let (unread, rows) = notify::inbox(&app.db, &user.0, query.unread.unwrap_or(false), page).await?;
    let items = rows
        .into_iter()
        .map(|row| NotificationItem {
            id: row.id,
            event: row.event,
            work_id: row.work_id,
            text: row.text,
            read: row.read_at.is_some(),
            created_at: row.created_at.and_utc(),
        })
        .collect();
    Ok(web::Json(InboxResponse { unread, items }))
}

/// `{"ids": [...]}` or `{"all": true}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    ids: Option<Vec<String>>,
    all: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadResponse {
    unread: i64,
}

/// Marks notices read: those named, or all of the caller's.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = MarkRead,
    responses((status = 200, body = UnreadResponse), (status = 422)))]
pub async fn mark_read(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<MarkRead>,
) -> Result<web::Json<UnreadResponse>, ApiError> {
    let request = body.into_inner()?;
    let ids = match (request.ids, request.all) {
        (Some(ids), None | Some(false)) => Some(ids),
        (None, Some(true)) => None,
        _ => return Err(FieldError::invalid("ids", "send either ids (a list) or all: true").into()),
    };
    let unread = notify::mark_read(&app.db, &user.0, ids).await?;
    Ok(web::Json(UnreadResponse { unread }))
}

/// `{"events": {"review_waiting": true, "comment": false, …}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettings {
    events: BTreeMap<String, bool>,
}

fn settings_of(events: Vec<(Event, bool)>) -> NoticeSettings {
    NoticeSettings { events: events.into_iter().map(|(event, on)| (event.as_str().to_owned(), on)).collect() }
}

/// The kinds of notice the caller gets.
#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "notifications", responses((status = 200, body = NoticeSettings)))]
pub async fn get_settings(app: web::Data<AppState>, user: CurrentUser) -> Result<web::Json<NoticeSettings>, ApiError> {
    Ok(web::Json(settings_of(notify::wanted_events(&app.db, &user.0).await?)))
}

/// Turns kinds of notice on or off (kinds not named keep their setting).
#[utoipa::path(put, path = "/api/v1/notifications/settings", tag = "notifications", request_body = NoticeSettings,
    responses((status = 200, body = NoticeSettings), (status = 422)))]
pub async fn put_settings(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<NoticeSettings>,
) -> Result<web::Json<NoticeSettings>, ApiError> {
    let request = body.into_inner()?;
    let mut wanted: Vec<Event> = notify::wanted_events(&app.db, &user.0)
        .await?
        .into_iter()
        .filter_map(|(event, on)| on.then_some(event))
        .collect();
    for (name, on) in request.events {
        let event = Event::parse(&name).ok_or_else(|| {
            let names: Vec<&str> = Event::ALL.iter().map(|event| event.as_str()).collect();
            FieldError::invalid(
                format!("events.{name}"),
                format!("is not a kind of notice; kinds: {}", names.join(", ")),
            )
        })?;
        wanted.retain(|kept| *kept != event);
        if on {
            wanted.push(event);
        }
    }
    Ok(web::Json(settings_of(notify::set_wanted_events(&app.db, &user.0, wanted).await?)))
}
