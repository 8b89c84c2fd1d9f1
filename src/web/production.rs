//! `/review` (the reviewer's queue, with decision forms inline) and `/board` (kanban columns
//! by state, per kind).

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::forms;
use super::page::{self, Chrome, PageQuery, PageResult, Viewer};
use super::views::{self, SelectOption, WorkCard};
use crate::domain::lifecycle::Action;
use crate::domain::work::Kind;
use crate::error::ApiError;
use crate::service::{accounts, review};
use crate::state::AppState;

struct QueueEntry {
    card: WorkCard,
    /// `(open, resolved)` review notes, when there are any.
    notes: Option<(usize, usize)>,
    version: i64,
    waiting: String,
    signoffs: String,
    two_level: bool,
    buttons: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    entries: Vec<QueueEntry>,
}

/// `GET /review`.
pub async fn get_review(
    app: web::Data<AppState>,
    viewer: Viewer,
    done: PageQuery<super::work_page::Done>,
) -> PageResult {
    let queue = review::review_queue(&app.db, &viewer.user).await?;
    let ids = queue.iter().flat_map(|item| item.signoffs.iter().cloned()).collect();
    let names = accounts::display_names(&app.db, ids).await?;
    let lang = viewer.lang;
    let entries = queue
        .into_iter()
        .map(|item| {
            let options = review::step_options(&viewer.user, &item.work, &item.signoffs);
            let buttons = options
                .actions
                .iter()
                .map(|action| {
                    (action.as_str(), lang.action(*action), matches!(action, Action::Reject | Action::Decline))
                })
                .collect();
            QueueEntry {
                card: WorkCard::of(&item.work, lang, None).with_facts(&item.facts, lang),
                notes: (item.facts.notes.open + item.facts.notes.resolved > 0)
                    .then_some((item.facts.notes.open, item.facts.notes.resolved)),
                version: item.work.version,
                waiting: forms::show_waiting(lang, item.waiting_ms),
                signoffs: item.signoffs.iter().filter_map(|id| names.get(id).cloned()).collect::<Vec<_>>().join("、"),
                two_level: app.two_level_kinds.contains(&item.work.kind),
                buttons,
            }
        })
        .collect();
    let page = ReviewPage { chrome: viewer.chrome("review", done.done_key()), entries };
    page::render(&page)
}

struct Column {
    status: &'static str,
    label: &'static str,
    cards: Vec<WorkCard>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    kinds: Vec<SelectOption>,
    columns: Vec<Column>,
}

/// The board's kind filter.
#[derive(Debug, Deserialize)]
pub struct BoardFilter {
    kind: Option<String>,
}

/// `GET /board`.
pub async fn get_board(app: web::Data<AppState>, viewer: Viewer, filter: PageQuery<BoardFilter>) -> PageResult {
    let kind_name = filter.into_inner().kind.filter(|raw| !raw.is_empty());
    let kind =
        kind_name.as_deref().map(|raw| Kind::parse_field("kind", raw).map_err(ApiError::from_query)).transpose()?;
    let lang = viewer.lang;
    let grouped = review::board(&app.db, &viewer.user, kind).await?;
    let columns = grouped
        .into_iter()
        .filter(|(_, cards)| kind.is_some() || !cards.is_empty())
        .map(|(status, cards)| Column {
            status: status.as_str(),
            label: lang.status(status),
            cards: cards
                .into_iter()
                .map(|card| WorkCard {
                    overdue: card.overdue,
                    assignees: card.assignees.into_iter().map(|person| person.name).collect(),
                    ..WorkCard::of(&card.work, lang, None).with_facts(&card.facts, lang)
                })
                .collect(),
        })
        .collect();
    let page = BoardPage {
        chrome: viewer.chrome("board", None),
        kinds: views::kind_options(lang, kind_name.as_deref()),
        columns,
    };
    page::render(&page)
}
