//! `/admin/webhooks`: the group-chat robots (admins) — add one for chosen events, remove one,
//! and see each robot's latest deliveries, a failed one with its error.

use actix_web::web;
use askama::Template;

use super::forms;
use super::page::{self, Chrome, PageResult, SignedForm, Viewer};
use crate::domain::notice::Event;
use crate::error::ApiError;
use crate::service::webhooks;
use crate::state::AppState;

struct DeliveryLine {
    time: String,
    event: String,
    state: String,
    state_label: &'static str,
    attempts: i32,
    error: String,
}

struct Robot {
    id: String,
    kind_label: &'static str,
    url: String,
    events: String,
    deliveries: Vec<DeliveryLine>,
}

struct EventBox {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    robots: Vec<Robot>,
    events: Vec<EventBox>,
    error: Option<String>,
}

fn event_label(name: &str) -> String {
    Event::parse(name).map_or_else(|| name.to_owned(), |event| event.label_zh().to_owned())
}

/// The robot's address without its secret key (`…?key=…` / `access_token=…`).
fn shown_url(url: &str) -> String {
    url.split_once('?').map_or_else(|| url.to_owned(), |(address, _)| format!("{address}?…"))
}

async fn render(app: &AppState, viewer: &Viewer, error: Option<String>) -> PageResult {
    let listed = webhooks::list(&app.db, &viewer.user).await.map_err(ApiError::from)?;
    let t = viewer.t();
    let robots = listed
        .into_iter()
        .map(|(hook, recent)| Robot {
            kind_label: if hook.kind == "wecom" { t.robot_wecom } else { t.robot_dingtalk },
            url: shown_url(&hook.url),
            events: hook.event_names().iter().map(|name| event_label(name)).collect::<Vec<_>>().join("、"),
            id: hook.id,
            deliveries: recent
                .into_iter()
                .map(|row| DeliveryLine {
                    time: forms::show_time(row.created_at.and_utc()),
                    event: event_label(&row.event),
                    state_label: match row.state.as_str() {
                        "delivered" => t.delivery_delivered,
                        "failed" => t.delivery_failed,
                        _ => t.delivery_pending,
                    },
                    state: row.state,
                    attempts: row.attempts,
                    error: row.last_error.unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let page = WebhooksPage {
        chrome: viewer.chrome("webhooks", None),
        robots,
        events: Event::ALL.iter().map(|event| EventBox { value: event.as_str(), label: event.label_zh() }).collect(),
        error,
    };
    page::render(&page)
}

/// `GET /admin/webhooks`.
pub async fn get_webhooks(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    render(&app, &viewer, None).await
}

/// `POST /admin/webhooks`: adds a robot.
pub async fn post_webhook(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let parsed = webhooks::parse_input(&form.text("kind"), &form.text("url"), &form.all("events"));
    let outcome = match parsed {
        Ok(input) => webhooks::create(&app.db, &viewer.user, input).await.map_err(ApiError::from),
        Err(field) => Err(field.into()),
    };
    match outcome {
        Ok(_) => Ok(page::redirect("/admin/webhooks?done=saved")),
        Err(ApiError::Field(field)) => {
            let message = super::error_text::field_error(viewer.lang, &field);
            render(&app, &viewer, Some(message)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn post_delete_webhook(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    webhooks::delete(&app.db, &signed.viewer.user, path.into_inner()).await.map_err(ApiError::from)?;
    Ok(page::redirect("/admin/webhooks?done=saved"))
}
