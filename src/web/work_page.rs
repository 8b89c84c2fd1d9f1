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
use crate::db::publications::{MetricsRow, PublicationRow};
use crate::domain::FieldError;
use crate::domain::archive::Platform;
use crate::domain::frames::Drawing;
use crate::domain::ids::UserId;
use crate::domain::ids::WorkId;
use crate::domain::lifecycle::Action;
use crate::domain::media::MediaStatus;
use crate::domain::media::{Derivative, MediaRole};
use crate::domain::preview::PreviewStatus;
use crate::domain::transition::{Transition, TransitionInput};
use crate::domain::user::Role;
use crate::edge::links;
use crate::edge::params::work_id;
use crate::error::{ApiError, codes};
use crate::service::audit::AuditView;
use crate::service::comments::{self, CommentView, NewComment};
use crate::service::media::MediaView;
use crate::service::publications::{self, NewPublication};
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

/// The film player, for the chosen cut (the latest by default) or the first ready video.
struct Player {
    media_id: String,
    /// Empty while a needed preview is being made: the page shows the poster and progress.
    src: String,
    poster: String,
    vtt: Option<String>,
    subtitles: Option<String>,
    duration_ms: i64,
    /// Frames a second; 0 when unknown.
    fps: f64,
    /// The cut's number, for main videos.
    cut: Option<i32>,
    /// Progress of a preview being made.
    preview_wait: Option<i32>,
    preview_failed: bool,
}

/// One place the work was published.
struct PublicationItem {
    platform: &'static str,
    account: String,
    /// Only `http(s)` links are stored, so this is safe to make clickable.
    url: Option<String>,
    time: String,
    metrics: String,
}

fn publication_item(row: &PublicationRow, latest: Option<&MetricsRow>) -> PublicationItem {
    PublicationItem {
        platform: Platform::parse(&row.platform).unwrap_or(Platform::Other).label_zh(),
        account: row.account.clone().unwrap_or_default(),
        url: row.url.clone().filter(|url| url.starts_with("https://") || url.starts_with("http://")),
        time: forms::show_time(row.published_at.and_utc()),
        metrics: latest.map(|snapshot| snapshot.metrics().label_zh()).unwrap_or_default(),
    }
}

/// One cut of the film in the switcher.
struct CutItem {
    number: i32,
    media_id: String,
    time: String,
    uploader: String,
    duration: String,
    poster: Option<String>,
    selected: bool,
}

struct CommentItem {
    id: String,
    author: String,
    time: String,
    /// Where the player jumps (seconds, the middle of the frame) and the label.
    timecode: Option<(f64, String)>,
    frame: Option<i64>,
    cut: Option<i32>,
    body: String,
    resolved: bool,
    resolved_by: String,
    drawing: Option<String>,
    replies: Vec<CommentItem>,
}

/// The comment filters of the page.
struct CommentFilters {
    /// `cut=2&` when a cut is chosen, so the filter links keep it.
    cut_param: String,
    /// `this` or `all`.
    scope: &'static str,
    this_cut_only: bool,
    state: &'static str,
    open_count: usize,
    resolved_count: usize,
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
    /// Shown as a link (only `http`/`https`).
    link: Option<String>,
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
    /// Reviewers and admins correct a work that went out (with a reason).
    can_correct: bool,
    /// Its author while unsubmitted, admins always (soft delete: admins restore it).
    can_delete: bool,
    /// What the upload script says for each refusal code, in the reader's language.
    upload_messages: Vec<(&'static str, &'static str)>,
    media: Vec<MediaItem>,
    player: Option<Player>,
    cuts: Vec<CutItem>,
    publications: Vec<PublicationItem>,
    /// Reviewers and admins record publications of a published work.
    can_record_publication: bool,
    platforms: Vec<(&'static str, &'static str)>,
    filters: CommentFilters,
    /// The playing cut's open review notes `(timecode, body)`, listed with "request changes".
    open_notes: Vec<(String, String)>,
    can_resolve: bool,
    can_draw: bool,
    actions: Vec<ActionButton>,
    publish_open: bool,
    barred_as_own_work: bool,
    two_level: bool,
    signoff_names: Vec<String>,
    /// Comments, steps and history are for the team and reviewers, not for staff.
    production: bool,
    comments: Vec<CommentItem>,
    history: Vec<HistoryItem>,
    /// The compliance check's findings (for the team and reviewers).
    findings: Option<super::findings::FindingsPanel>,
}

/// The confirmation to show after a redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `/works/{id}?cut=2&comments=all&state=open`: which cut plays and which comments show.
#[derive(Debug, Default, Deserialize)]
pub struct WorkView {
    done: Option<String>,
    cut: Option<i32>,
    /// `this` (the playing cut's and the general ones, by default) or `all`.
    comments: Option<String>,
    /// `open`, `resolved` or `all` (by default).
    state: Option<String>,
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
        original_url: links::original(id),
        thumb,
        error: view.row.error_message.clone(),
        filename: view.row.original_filename.clone().unwrap_or_default(),
    }
}

/// The cuts of a film: its ready main videos, by number.
pub(super) fn cuts_of(media: &[MediaView]) -> Vec<&MediaView> {
    let mut cuts: Vec<&MediaView> = media
        .iter()
        .filter(|view| {
            view.row.status == MediaStatus::Ready && view.row.role == MediaRole::Main && media_kind(view) == "video"
        })
        .collect();
    cuts.sort_by_key(|view| view.row.version);
    cuts
}

/// The player shows the chosen cut, else the latest (the ready main video with the highest
/// version), else the first ready video of any role.
fn player_of(media: &[MediaView], chosen: Option<i32>) -> Option<Player> {
    let cuts = cuts_of(media);
    let film = chosen
        .and_then(|number| cuts.iter().find(|view| view.row.version == number).copied())
        .or_else(|| cuts.last().copied())
        .or_else(|| media.iter().find(|view| view.row.status == MediaStatus::Ready && media_kind(view) == "video"))?;
    let id = &film.row.id;
    let has = |derivative: Derivative| film.has(derivative);
    let waiting = matches!(film.row.preview_status, PreviewStatus::Pending | PreviewStatus::Processing);
    let subtitles = media
        .iter()
        .rev()
        .find(|view| view.row.role == MediaRole::Subtitle && view.has(Derivative::Subtitles))
        .map(|view| links::derivative(&view.row.id, Derivative::Subtitles));
    Some(Player {
        media_id: id.to_string(),
        src: if waiting { String::new() } else { links::playback(film).unwrap_or_default() },
        poster: if has(Derivative::Poster) { links::derivative(id, Derivative::Poster) } else { String::new() },
        vtt: (has(Derivative::StoryboardVtt) && has(Derivative::StoryboardImage))
            .then(|| links::derivative(id, Derivative::StoryboardVtt)),
        subtitles,
        duration_ms: film.row.duration_ms.unwrap_or(0),
        fps: film.row.frame_rate.unwrap_or(0.0),
        cut: (film.row.role == MediaRole::Main).then_some(film.row.version),
        preview_wait: waiting.then_some(film.row.preview_progress),
        preview_failed: film.row.preview_status == PreviewStatus::Failed,
    })
}

fn cut_items(media: &[MediaView], playing: Option<&Player>, names: &HashMap<UserId, String>) -> Vec<CutItem> {
    cuts_of(media)
        .into_iter()
        .map(|view| CutItem {
            number: view.row.version,
            media_id: view.row.id.to_string(),
            time: forms::show_time(view.row.created_at.and_utc()),
            uploader: names.get(&view.row.created_by).cloned().unwrap_or_default(),
            duration: forms::show_timecode(view.row.duration_ms.unwrap_or(0)),
            poster: view.has(Derivative::Poster).then(|| links::derivative(&view.row.id, Derivative::Poster)),
            selected: playing.is_some_and(|player| player.media_id == view.row.id.as_str()),
        })
        .collect()
}

/// The playing cut's unresolved review notes, for the "request changes" step.
fn open_notes_of(views: &[CommentView], player: Option<&Player>) -> Vec<(String, String)> {
    let Some(player) = player else { return Vec::new() };
    views
        .iter()
        .filter(|view| view.row.reply_to.is_none() && view.row.resolved_at.is_none())
        .filter(|view| view.row.media_id.as_ref().is_some_and(|id| id == player.media_id.as_str()))
        .map(|view| (view.row.timecode_ms.map(forms::show_timecode).unwrap_or_default(), view.row.body.clone()))
        .collect()
}

/// Which comments the page lists: this cut's (and the general ones) or all, in a state.
fn comment_filters(query: &WorkView) -> (bool, &'static str) {
    let state = match query.state.as_deref() {
        Some("open") => "open",
        Some("resolved") => "resolved",
        _ => "all",
    };
    (query.comments.as_deref() != Some("all"), state)
}

/// Comments as the page lists them: top-level ones in order with their replies beneath,
/// filtered by cut and state (replies follow their parent).
fn comment_items(
    views: Vec<CommentView>,
    media: &[MediaView],
    player: Option<&Player>,
    query: &WorkView,
    lang: Lang,
    names: &HashMap<UserId, String>,
) -> (Vec<CommentItem>, CommentFilters) {
    let (this_cut_only, state) = comment_filters(query);
    let playing = player.map(|player| player.media_id.clone());
    let on_this_cut = |view: &CommentView| {
        view.row.media_id.as_ref().is_none_or(|id| playing.as_deref().is_some_and(|playing| id == playing))
    };
    let counted =
        views.iter().filter(|view| view.row.reply_to.is_none() && view.row.media_id.is_some() && on_this_cut(view));
    let (resolved_count, open_count) =
        counted.fold(
            (0, 0),
            |(resolved, open), view| {
                if view.row.resolved_at.is_some() { (resolved + 1, open) } else { (resolved, open + 1) }
            },
        );
    let keep = |view: &CommentView| {
        let in_state = match state {
            "open" => view.row.resolved_at.is_none(),
            "resolved" => view.row.resolved_at.is_some(),
            _ => true,
        };
        (!this_cut_only || on_this_cut(view)) && in_state
    };
    let (top, mut replies): (Vec<CommentView>, Vec<CommentView>) =
        views.into_iter().partition(|view| view.row.reply_to.is_none());
    let item = |view: CommentView, replies: Vec<CommentItem>| comment_item(view, replies, media, lang, names);
    let mut items = Vec::new();
    for view in top.into_iter().filter(|view| keep(view)) {
        let (mine, rest): (Vec<CommentView>, Vec<CommentView>) =
            replies.into_iter().partition(|reply| reply.row.reply_to.as_deref() == Some(view.row.id.as_str()));
        replies = rest;
        let children = mine.into_iter().map(|reply| item(reply, Vec::new())).collect();
        items.push(item(view, children));
    }
    let cut_param = query.cut.map(|cut| format!("cut={cut}&")).unwrap_or_default();
    let scope = if this_cut_only { "this" } else { "all" };
    (items, CommentFilters { cut_param, scope, this_cut_only, state, open_count, resolved_count })
}

fn comment_item(
    view: CommentView,
    replies: Vec<CommentItem>,
    media: &[MediaView],
    lang: Lang,
    names: &HashMap<UserId, String>,
) -> CommentItem {
    let cut = view.row.media_id.as_ref().and_then(|id| media.iter().find(|medium| &medium.row.id == id));
    let fps = cut.and_then(|medium| medium.row.frame_rate).filter(|fps| *fps > 0.0);
    // The middle of the frame: seeking there shows exactly that frame at any rate.
    let seek = match (view.row.frame, fps) {
        (Some(frame), Some(fps)) => Some((frame as f64 + 0.5) / fps),
        _ => view.row.timecode_ms.map(|ms| ms as f64 / 1000.0),
    };
    CommentItem {
        id: view.row.id.clone(),
        author: view.author_name,
        time: forms::show_time(view.created_at),
        timecode: seek.zip(view.row.timecode_ms.map(forms::show_timecode)),
        frame: view.row.frame,
        cut: cut.filter(|medium| medium.row.role == MediaRole::Main).map(|medium| medium.row.version),
        body: decision_named(&view.row.body, lang),
        resolved: view.row.resolved_at.is_some(),
        resolved_by: view.row.resolved_by.as_ref().and_then(|id| names.get(id)).cloned().unwrap_or_default(),
        drawing: view.row.drawing.as_ref().map(|drawing| drawing.text().to_owned()),
        replies,
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
        "work.corrected" => format!("{}：{}", t.hist_corrected, detail("reason")),
        "work.signed_off" => t.hist_signed_off.to_owned(),
        "media.uploaded" => t.hist_media.to_owned(),
        "comment.created" => t.hist_comment.to_owned(),
        _ => t.hist_other.to_owned(),
    }
}

/// Every sign-off of the latest review round, who and when (`张三（2026-11-29 10:30）`): the
/// first level's and the approval that completed it.
fn round_signoffs(entries: &[AuditView], names: &HashMap<UserId, String>) -> Vec<String> {
    let step = |entry: &AuditView| entry.details.get("action").and_then(|value| value.as_str()).map(str::to_owned);
    let is_step =
        |entry: &AuditView, action: &str| entry.action == "work.transition" && step(entry).as_deref() == Some(action);
    let round_start = entries.iter().rposition(|entry| is_step(entry, "submit")).map_or(0, |index| index + 1);
    entries[round_start..]
        .iter()
        .filter(|entry| entry.action == "work.signed_off" || is_step(entry, "approve"))
        .map(|entry| {
            let who = entry.actor_id.as_ref().and_then(|id| names.get(&UserId::from_db(id.clone()))).cloned();
            format!("{}（{}）", who.unwrap_or_default(), forms::show_time(entry.at))
        })
        .collect()
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
    let mut fields = vec![Field { label: t.created_by, value: creator, link: None }];
    let mut add = |label: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|text| !text.is_empty()) {
            fields.push(Field { label, value, link: None });
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
    add(t.published_at, work.published_at.map(forms::show_time));
    add(t.created_at, Some(forms::show_time(work.created_at)));
    add(t.updated_at, Some(forms::show_time(work.updated_at)));
    if let Some(url) = &work.external_url {
        let link = crate::domain::archive::web_link(url);
        fields.push(Field { label: t.external_url, value: url.clone(), link });
    }
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
async fn work_page(app: &AppState, viewer: &Viewer, id: WorkId, query: &WorkView, error: Option<String>) -> PageResult {
    let notice = query.done.as_deref();
    let user = &viewer.user;
    let WorkDetail { work, media, comments: comment_views, history: entries, signoffs, names, publications } =
        work_detail(&app.db, user, id).await?;
    let player = player_of(&media, query.cut);
    let open_notes = open_notes_of(&comment_views, player.as_ref());
    let (comments, filters) = comment_items(comment_views, &media, player.as_ref(), query, viewer.lang, &names);
    let reviewer = user.has(Role::Reviewer) || user.is_admin();
    let options = review::step_options(user, &work, &signoffs);
    let t = viewer.t();
    let lang = viewer.lang;
    let findings = super::findings::panel(app, viewer, &work, "work").await?;
    let page = WorkPage {
        findings,
        chrome: viewer.chrome("works", notice),
        kind_label: lang.kind(work.kind),
        status_label: lang.status(work.status),
        fields: field_list(&work, t, names.get(&work.created_by).cloned().unwrap_or_default(), &names),
        tags: work.tags.clone(),
        error,
        can_edit: works::may_edit(user, &work),
        can_correct: works::may_correct(user, &work),
        can_delete: user.is_admin() || works::may_edit(user, &work),
        upload_messages: UPLOAD_CODES.iter().map(|code| (*code, super::error_text::message(lang, code))).collect(),
        media: media.iter().map(|view| media_item(view, t)).collect(),
        cuts: cut_items(&media, player.as_ref(), &names),
        publications: publications.iter().map(|(row, latest)| publication_item(row, latest.as_ref())).collect(),
        can_record_publication: reviewer
            && matches!(work.status, crate::domain::work::Status::Published | crate::domain::work::Status::Archived),
        platforms: Platform::ALL.iter().map(|platform| (platform.as_str(), platform.label_zh())).collect(),
        player,
        filters,
        open_notes,
        can_resolve: reviewer || work.created_by == user.id,
        can_draw: reviewer,
        publish_open: options.actions.contains(&Action::Publish),
        actions: action_buttons(&options.actions, lang),
        barred_as_own_work: options.barred_as_own_work,
        two_level: app.two_level_kinds.contains(&work.kind),
        signoff_names: round_signoffs(&entries, &names),
        production: crate::service::access::sees_production(user),
        comments,
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
    query: PageQuery<WorkView>,
) -> PageResult {
    work_page(&app, &viewer, work_id(&path)?, &query, None).await
}

/// Shows the page again with why a post was refused, answered with the refusal's status.
pub(crate) async fn refused(app: &AppState, viewer: &Viewer, id: WorkId, error: ApiError) -> PageResult {
    if matches!(error, ApiError::Internal(_) | ApiError::Unauthenticated(_)) {
        return Err(error.into());
    }
    let status = error.status_code();
    let message = super::error_text::refusal(viewer.lang, &error);
    let mut response = work_page(app, viewer, id, &WorkView::default(), Some(message)).await?;
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
        acknowledge_findings: form.get("acknowledge_findings").is_some(),
    };
    let back = page::local_path(form.get("back").or(Some(&format!("/works/{}", id.as_str()))));
    let step = match Transition::parse(input) {
        Ok(step) => step,
        Err(error) => return refused(&app, &viewer, id, error.into()).await,
    };
    match review::transition(&app.db, &app.compliance, &app.two_level_kinds, &viewer.user, id.clone(), step).await {
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
    // The page fills `frame` from the player; a typed timecode that no longer matches it wins.
    let frame = form.optional("frame").and_then(|raw| raw.trim().parse::<i64>().ok());
    let drawing = match form.optional("drawing").filter(|raw| !raw.trim().is_empty()) {
        Some(raw) => match serde_json::from_str(&raw)
            .map_err(|_| FieldError::invalid("drawing", "is not JSON"))
            .and_then(Drawing::parse)
        {
            Ok(drawing) => Some(drawing),
            Err(error) => return refused(&app, &viewer, id, error.into()).await,
        },
        None => None,
    };
    let pinned = timecode_ms.is_some() || frame.is_some();
    let comment = NewComment {
        body: form.text("body"),
        media_id: form.optional("media_id").filter(|_| pinned),
        timecode_ms: timecode_ms.flatten(),
        frame: frame.filter(|_| timecode.is_some()),
        drawing,
        reply_to: form.optional("reply_to"),
    };
    match comments::create(&app.db, &viewer.user, id.clone(), comment).await {
        Ok(_) => Ok(page::redirect(&format!("/works/{}?done=comment#comments", id.as_str()))),
        Err(error) => refused(&app, &viewer, id, error.into()).await,
    }
}

/// `POST /works/{id}/publications`: records another place the work was published.
pub async fn post_publication(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let id = work_id(&path)?;
    let parsed = (|| -> Result<NewPublication, FieldError> {
        let url = form.optional("url").map(|raw| publications::url_field(&raw)).transpose()?;
        let time = form.optional("published_at").map(|raw| forms::local_input_to_rfc3339(&raw)).unwrap_or_default();
        Ok(NewPublication {
            platform: publications::platform_field(&form.text("platform"))?,
            account: form.optional("account"),
            url,
            published_at: crate::domain::fields::parse_timestamp("published_at", &time)?,
            metrics: None,
        })
    })();
    let input = match parsed {
        Ok(input) => input,
        Err(error) => return refused(&app, &viewer, id, error.into()).await,
    };
    match publications::add(&app.db, &viewer.user, id.clone(), input).await {
        Ok(_) => Ok(page::redirect(&format!("/works/{}?done=saved#publications", id.as_str()))),
        Err(error) => refused(&app, &viewer, id, error.into()).await,
    }
}

/// The refusals an upload can meet, each said in the page's words by the upload script.
const UPLOAD_CODES: [&str; 13] = [
    codes::UPLOAD_TOO_LARGE,
    codes::PAYLOAD_TOO_LARGE,
    codes::UNSUPPORTED_MEDIA_TYPE,
    codes::INSUFFICIENT_STORAGE,
    codes::WORK_NOT_EDITABLE,
    codes::FORBIDDEN,
    codes::EMPTY_FILE,
    codes::TOO_MANY_FILES,
    codes::FILE_MISSING,
    codes::INVALID_FIELD,
    codes::MALFORMED_FORM,
    codes::UNAUTHENTICATED,
    codes::CSRF_REJECTED,
];

/// `POST /works/{id}/delete`: soft-deletes the work (its author while it is unsubmitted,
/// admins always); admins can restore it.
pub async fn post_delete_work(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let id = work_id(&path)?;
    match works::delete_work(&app.db, &signed.viewer.user, id.clone()).await {
        Ok(()) => Ok(page::redirect("/works?done=deleted")),
        Err(error) => refused(&app, &signed.viewer, id, error.into()).await,
    }
}

/// `POST /works/{id}/media/{media}/delete`: removes a wrong upload.
pub async fn post_delete_media(
    app: web::Data<AppState>,
    signed: SignedForm,
    path: web::Path<(String, String)>,
) -> PageResult {
    let (work, media) = path.into_inner();
    let id = work_id(&work)?;
    let media_id = crate::domain::ids::MediaId::parse(&media)
        .ok_or_else(|| crate::error::ApiError::InvalidPath(format!("media id {media:?} is not a uuid")))?;
    match crate::service::media::delete_media(&app.db, &app.media, &signed.viewer.user, media_id).await {
        Ok(()) => Ok(page::redirect(&format!("/works/{}?done=media-deleted#media", id.as_str()))),
        Err(error) => refused(&app, &signed.viewer, id, error.into()).await,
    }
}

/// `POST /works/{id}/comments/{comment}/resolve`: resolves a comment or opens it again.
pub async fn post_resolve(
    app: web::Data<AppState>,
    signed: SignedForm,
    path: web::Path<(String, String)>,
) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let (work, comment) = path.into_inner();
    let id = work_id(&work)?;
    let resolved = form.get("resolved").map(str::trim) != Some("false");
    match comments::set_resolved(&app.db, &viewer.user, comment.clone(), resolved).await {
        Ok(_) => {
            let done = if resolved { "resolved" } else { "reopened" };
            Ok(page::redirect(&format!("/works/{}?done={done}#c-{comment}", id.as_str())))
        }
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
