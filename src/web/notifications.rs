//! `/notifications`: the viewer's inbox (newest first, unread marked), marking it read, and
//! the kinds of notice they get.

use actix_web::web;
use askama::Template;

use super::forms;
use super::page::{self, Chrome, PageResult, SignedForm, Viewer};
use crate::domain::notice::Event;
use crate::domain::page::Page;
use crate::error::ApiError;
use crate::service::notify;
use crate::state::AppState;

/// Notices the page lists.
const SHOWN: i64 = 100;

struct Item {
    id: String,
    text: String,
    time: String,
    unread: bool,
    has_work: bool,
}

struct Setting {
    value: &'static str,
    label: &'static str,
    on: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct InboxPage {
    chrome: Chrome,
    unread: i64,
    items: Vec<Item>,
    settings: Vec<Setting>,
}

/// `GET /notifications`.
pub async fn get_notifications(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    let page = Page { page: 1, per_page: SHOWN };
    let (unread, rows) = notify::inbox(&app.db, &viewer.user, false, page).await.map_err(ApiError::from)?;
    let wanted = notify::wanted_events(&app.db, &viewer.user).await.map_err(ApiError::from)?;
    let english = viewer.lang == super::i18n::Lang::En;
    let page = InboxPage {
        chrome: viewer.chrome("notifications", None),
        unread,
        items: rows
            .into_iter()
            .map(|row| Item {
                has_work: row.work_id.is_some(),
                id: row.id,
                text: row.text,
                time: forms::show_time(row.created_at.and_utc()),
                unread: row.read_at.is_none(),
            })
            .collect(),
        settings: wanted
            .into_iter()
            .map(|(event, on)| Setting {
                value: event.as_str(),
                label: if english { event.label_en() } else { event.label_zh() },
                on,
            })
            .collect(),
    };
    page::render(&page)
}

/// `POST /notifications/read`: marks everything read.
pub async fn post_read_all(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    notify::mark_read(&app.db, &signed.viewer.user, None).await.map_err(ApiError::from)?;
    Ok(page::redirect("/notifications"))
}

/// `POST /notifications/{id}/open`: marks one notice read and goes to its work.
pub async fn post_open(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let work = notify::open(&app.db, &signed.viewer.user, path.into_inner()).await.map_err(ApiError::from)?;
    Ok(page::redirect(&work.map_or_else(|| "/notifications".to_owned(), |work| format!("/works/{work}"))))
}

/// `POST /notifications/settings`: the kinds ticked are the kinds received.
pub async fn post_settings(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let wanted: Vec<Event> = signed.form.all("events").iter().filter_map(|raw| Event::parse(raw)).collect();
    notify::set_wanted_events(&app.db, &signed.viewer.user, wanted).await.map_err(ApiError::from)?;
    Ok(page::redirect("/notifications?done=saved"))
}
