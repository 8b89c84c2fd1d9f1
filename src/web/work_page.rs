//! `/works/{id}`: a work's fields, media (gallery, player with storyboard scrubbing, upload),
//! the steps the viewer may take, comments with timecodes and the history; and the two form
//! posts of that page (a lifecycle step, a comment). A refused post shows the page again with
//! the reason on top, so nothing typed is lost to a redirect.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{ResponseError, web};
use askama::Template;
use serde::Deserialize;

use super::forms;
use super::i18n::{Lang, Text};
use super::page::{self, Chrome, PageQuery, PageResult, SignedForm, Viewer};
use crate::domain::ids::UserId;
use crate::domain::ids::WorkId;
use crate::domain::lifecycle::Action;
use crate::domain::media::MediaStatus;
use crate::domain::media::{Derivative, MediaRole};
use crate::domain::transition::{Transition, TransitionInput};
use crate::edge::links;
use crate::edge::params::work_id;
use crate::error::ApiError;
use crate::service::audit::AuditView;
use crate::service::comments::{self, CommentView, NewComment};
use crate::service::media::MediaView;
use crate::service::review;
use crate::service::work_detail::{WorkDetail, work_detail};
use crate::service::works::{self, Work};
use crate::state::AppState;

/// A medium in the gallery.
struct MediaItem {
    id: String,
    status: &'static str,
    kind: &'static str,
    status_label: &'static str,
    thumb: Option<String>,
    original_url: String,
    error: Option<String>,
    filename: String,
}

/// The film player, for the first ready video.
struct Player {
    media_id: String,
    src: String,
    poster: String,
    vtt: Option<String>,
    duration_ms: i64,
}

struct CommentItem {
    author: String,
    time: String,
    timecode: Option<(i64, String)>,
    body: String,
}

struct HistoryItem {
    time: String,
    actor: String,
    text: String,
    comment: String,
}

struct ActionButton {
    value: &'static str,
    label: &'static str,
    confirm: Option<&'static str>,
}

struct Field {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    chrome: Chrome,
    work: Work,
    kind_label: &'static str,
    status_label: &'static str,
    fields: Vec<Field>,
    tags: Vec<String>,
    error: Option<String>,
    can_edit: bool,
    media: Vec<MediaItem>,
    player: Option<Player>,
    actions: Vec<ActionButton>,
    publish_open: bool,
    barred_as_own_work: bool,
    two_level: bool,
    signoff_names: Vec<String>,
    comments: Vec<CommentItem>,
    history: Vec<HistoryItem>,
}

/// The confirmation to show after a redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

impl Done {
    /// The confirmation key, if any.
    pub fn done_key(&self) -> Option<&str> {
        self.done.as_deref()
    }
}

fn media_kind(view: &MediaView) -> &'static str {
    match view.row.content_type.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        _ => "other",
    }
}

fn media_item(view: &MediaView, t: &'static Text) -> MediaItem {
    let id = &view.row.id;
    let thumb = [Derivative::Small, Derivative::Poster]
        .into_iter()
        .find(|derivative| view.has(*derivative))
        .map(|derivative| links::derivative(id, derivative));
    let (status, status_label) = match view.row.status {
        MediaStatus::Ready => ("ready", t.msg_ready),
        MediaStatus::Failed => ("failed", t.msg_failed),
        MediaStatus::Processing => ("processing", t.msg_processing),
    };
    MediaItem {
        id: view.row.id.to_string(),
        status,
        kind: media_kind(view),
        status_label,
        thumb,
        original_url: links::original(id),
        error: view.row.error_message.clone(),
        filename: view.row.original_filename.clone().unwrap_or_default(),
    }
}

/// The player shows the latest cut: the ready main video with the highest version (cut 2
/// after cut 1), else the first ready video of any role.
fn player_of(media: &[MediaView]) -> Option<Player> {
    let playable = || media.iter().filter(|view| view.row.status == MediaStatus::Ready && media_kind(view) == "video");
    let latest_cut = playable().filter(|view| view.row.role == MediaRole::Main).max_by_key(|view| view.row.version);
    let film = latest_cut.or_else(|| playable().next())?;
    let id = &film.row.id;
    let has = |derivative: Derivative| film.has(derivative);
    Some(Player {
        media_id: id.to_string(),
        src: links::original(id),
        poster: if has(Derivative::Poster) { links::derivative(id, Derivative::Poster) } else { String::new() },
        vtt: (has(Derivative::StoryboardVtt) && has(Derivative::StoryboardImage))
            .then(|| links::derivative(id, Derivative::StoryboardVtt)),
        duration_ms: film.row.duration_ms.unwrap_or(0),
    })
}

fn comment_item(view: CommentView, lang: Lang) -> CommentItem {
    CommentItem {
        author: view.author_name,
        time: forms::show_time(view.created_at),
        timecode: view.row.timecode_ms.map(|ms| (ms / 1000, forms::show_timecode(ms))),
        body: decision_named(&view.row.body, lang),
    }
}

/// A decision's comment is stored as `[approve] reasons`: the page names the step in the
/// reader's language instead of showing the code.
fn decision_named(body: &str, lang: Lang) -> String {
    let decision = body.strip_prefix('[').and_then(|rest| rest.split_once("] "));
    match decision.and_then(|(code, text)| Some((Action::parse(code)?, text))) {
        Some((action, text)) => format!("【{}】{text}", lang.action(action)),
        None => body.to_owned(),
    }
}

fn history_text(entry: &AuditView, lang: Lang) -> String {
    let t = lang.text();
    let detail = |key: &str| entry.details.get(key).and_then(|value| value.as_str()).unwrap_or_default().to_owned();
    match entry.action.as_str() {
        "work.transition" => {
            let action = Action::parse(&detail("action")).map(|action| lang.action(action)).unwrap_or_default();
            let state = |key: &str| {
                crate::domain::work::Status::parse(&detail(key)).map(|status| lang.status(status)).unwrap_or_default()
            };
            format!("{action}：{} → {}", state("from"), state("to"))
        }
        "work.created" => t.hist_created.to_owned(),
        "work.updated" => t.hist_updated.to_owned(),
        "work.signed_off" => t.hist_signed_off.to_owned(),
        "media.uploaded" => t.hist_media.to_owned(),
        "comment.created" => t.hist_comment.to_owned(),
        _ => t.hist_other.to_owned(),
    }
}

fn history_items(entries: Vec<AuditView>, names: &HashMap<UserId, String>, lang: Lang) -> Vec<HistoryItem> {
    entries
        .iter()
        .map(|entry| HistoryItem {
            time: forms::show_time(entry.at),
            actor: entry
                .actor_id
                .as_ref()
                .and_then(|id| names.get(&UserId::from_db(id.clone())))
                .cloned()
                .unwrap_or_default(),
            text: history_text(entry, lang),
            comment: entry.details.get("comment").and_then(|value| value.as_str()).unwrap_or_default().to_owned(),
        })
        .collect()
}

fn field_list(work: &Work, t: &'static Text, creator: String, people: &HashMap<UserId, String>) -> Vec<Field> {
    let mut fields = vec![Field { label: t.created_by, value: creator }];
    let mut add = |label: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|text| !text.is_empty()) {
            fields.push(Field { label, value });
        }
    };
    add(t.unit, work.unit.clone());
    add(t.summary, work.summary.clone());
    add(
        t.assignees,
        Some(work.assignees.iter().filter_map(|id| people.get(id).cloned()).collect::<Vec<_>>().join("、")),
    );
    add(t.due_date, work.due_date.clone());
    add(t.channel, work.channel.clone());
    add(t.external_url, work.external_url.clone());
    add(t.published_at, work.published_at.map(forms::show_time));
    add(t.created_at, Some(forms::show_time(work.created_at)));
    add(t.updated_at, Some(forms::show_time(work.updated_at)));
    fields
}

fn action_buttons(actions: &[Action], lang: Lang) -> Vec<ActionButton> {
    let t = lang.text();
    actions
        .iter()
        .map(|action| ActionButton {
            value: action.as_str(),
            label: lang.action(*action),
            confirm: matches!(action, Action::Reject | Action::Decline).then_some(t.confirm_reject),
        })
        .collect()
}

/// Builds the page of a work; `error` is the reason a post on it was refused.
async fn work_page(
    app: &AppState,
    viewer: &Viewer,
    id: WorkId,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let user = &viewer.user;
    let WorkDetail { work, media, comments: comment_views, history: entries, signoffs, names } =
        work_detail(&app.db, user, id).await?;
    let options = review::step_options(user, &work, &signoffs);
    let t = viewer.t();
    let lang = viewer.lang;
    let page = WorkPage {
        chrome: viewer.chrome("works", notice),
        kind_label: lang.kind(work.kind),
        status_label: lang.status(work.status),
        fields: field_list(&work, t, names.get(&work.created_by).cloned().unwrap_or_default(), &names),
        tags: work.tags.clone(),
        error,
        can_edit: works::may_edit(user, &work),
        media: media.iter().map(|view| media_item(view, t)).collect(),
        player: player_of(&media),
        publish_open: options.actions.contains(&Action::Publish),
        actions: action_buttons(&options.actions, lang),
        barred_as_own_work: options.barred_as_own_work,
        two_level: app.two_level_kinds.contains(&work.kind),
        signoff_names: signoffs.iter().filter_map(|id| names.get(id).cloned()).collect(),
        comments: comment_views.into_iter().map(|view| comment_item(view, lang)).collect(),
        history: history_items(entries, &names, lang),
        work,
    };
    page::render(&page)
}

/// `GET /works/{id}`.
pub async fn get_work(
    app: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    done: PageQuery<Done>,
) -> PageResult {
    work_page(&app, &viewer, work_id(&path)?, done.done_key(), None).await
}

/// Shows the page again with why a post was refused, answered with the refusal's status.
async fn refused(app: &AppState, viewer: &Viewer, id: WorkId, error: ApiError) -> PageResult {
    if matches!(error, ApiError::Internal(_) | ApiError::Unauthenticated(_)) {
        return Err(error.into());
    }
    let status = error.status_code();
    let message = format!("{}（{}）", error, error.code());
    let mut response = work_page(app, viewer, id, None, Some(message)).await?;
    *response.status_mut() = if status == StatusCode::OK { StatusCode::BAD_REQUEST } else { status };
    Ok(response)
}

/// `POST /works/{id}/transition`: one lifecycle step, then back where it was asked from.
pub async fn post_transition(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let id = work_id(&path)?;
    let input = TransitionInput {
        action: form.text("action"),
        comment: form.optional("comment"),
        version: form.get("version").and_then(|raw| raw.trim().parse().ok()),
        channel: form.optional("channel"),
        external_url: form.optional("external_url"),
        published_at: form.optional("published_at").map(|raw| forms::local_input_to_rfc3339(&raw)),
    };
    let back = page::local_path(form.get("back").or(Some(&format!("/works/{}", id.as_str()))));
    let step = match Transition::parse(input) {
        Ok(step) => step,
        Err(error) => return refused(&app, &viewer, id, error.into()).await,
    };
    match review::transition(&app.db, &app.two_level_kinds, &viewer.user, id.clone(), step).await {
        Ok(_) => Ok(page::redirect(&with_done(&back, "step"))),
        Err(error) => refused(&app, &viewer, id, error.into()).await,
    }
}

fn with_done(path: &str, done: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}done={done}")
}

/// `POST /works/{id}/comments`: a comment, optionally at a time in the film.
pub async fn post_comment(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let id = work_id(&path)?;
    let timecode = form.optional("timecode");
    let timecode_ms = timecode.as_deref().map(forms::parse_timecode);
    if timecode_ms == Some(None) {
        let error = crate::domain::FieldError::invalid("timecode", "must look like mm:ss");
        return refused(&app, &viewer, id, error.into()).await;
    }
    let comment = NewComment {
        body: form.text("body"),
        media_id: form.optional("media_id").filter(|_| timecode_ms.is_some()),
        timecode_ms: timecode_ms.flatten(),
        frame: None,
        drawing: None,
        reply_to: None,
    };
    match comments::create(&app.db, &viewer.user, id.clone(), comment).await {
        Ok(_) => Ok(page::redirect(&format!("/works/{}?done=comment#comments", id.as_str()))),
        Err(error) => refused(&app, &viewer, id, error.into()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_named_in_the_readers_language() {
        assert_eq!(
            decision_named("[approve] 画面清晰", Lang::Zh),
            format!("【{}】画面清晰", Lang::Zh.action(Action::Approve))
        );
        let english = format!("【{}】再剪短", Lang::En.action(Action::RequestChanges));
        assert_eq!(decision_named("[request_changes] 再剪短", Lang::En), english);
        assert_eq!(decision_named("[注意] 不是步骤", Lang::Zh), "[注意] 不是步骤");
        assert_eq!(decision_named("普通评论", Lang::Zh), "普通评论");
    }
}
