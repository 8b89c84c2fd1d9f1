//! `/admin/wordlists`: the bureau's word lists (admins) — each with its category, level and
//! number of terms; a new list; one list's terms edited in place (or read from a text file by
//! the page); and a box to try any text against the current lists and detectors.

use actix_web::web;
use askama::Template;

use super::findings::category_label;
use super::forms;
use super::page::{self, Chrome, PageResult, SignedForm, Viewer};
use crate::domain::compliance::Level;
use crate::error::ApiError;
use crate::service::wordlists::{self, WordlistInput, WordlistView};
use crate::state::AppState;

struct ListLine {
    id: String,
    name: String,
    category: String,
    level: String,
    level_label: &'static str,
    term_count: i32,
    updated: String,
}

/// A tried text with its findings marked: pieces of `(text, Some(level) if found)`.
struct Tried {
    text: String,
    pieces: Vec<(String, Option<String>)>,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_wordlists.html")]
struct WordlistsPage {
    chrome: Chrome,
    lists: Vec<ListLine>,
    /// The list being edited, with its text.
    editing: Option<(ListLine, String)>,
    tried: Option<Tried>,
    error: Option<String>,
}

fn line(view: WordlistView, viewer: &Viewer) -> ListLine {
    let t = viewer.t();
    ListLine {
        level_label: if view.level == Level::Block { t.level_block } else { t.level_review },
        level: view.level.as_str().to_owned(),
        updated: forms::show_time(view.updated_at),
        id: view.id,
        name: view.name,
        category: view.category,
        term_count: view.term_count,
    }
}

async fn render(app: &AppState, viewer: &Viewer, parts: (Option<String>, Option<Tried>, Option<String>)) -> PageResult {
    let (editing_id, tried, error) = parts;
    let lists = wordlists::list(&app.db, &viewer.user).await.map_err(ApiError::from)?;
    let editing = match editing_id {
        Some(id) => {
            let view = wordlists::get(&app.db, &viewer.user, id).await.map_err(ApiError::from)?;
            let terms = view.terms.clone().unwrap_or_default();
            Some((line(view, viewer), terms))
        }
        None => None,
    };
    let page = WordlistsPage {
        chrome: viewer.chrome("wordlists", None),
        lists: lists.into_iter().map(|view| line(view, viewer)).collect(),
        editing,
        tried,
        error,
    };
    page::render(&page)
}

/// `GET /admin/wordlists`.
pub async fn get_wordlists(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    render(&app, &viewer, (None, None, None)).await
}

/// `GET /admin/wordlists/{id}`: the list's terms in an editor.
pub async fn get_wordlist(app: web::Data<AppState>, viewer: Viewer, path: web::Path<String>) -> PageResult {
    render(&app, &viewer, (Some(path.into_inner()), None, None)).await
}

fn input_of(form: &super::page::FormData) -> WordlistInput {
    WordlistInput {
        name: form.optional("name"),
        category: form.optional("category"),
        level: form.optional("level"),
        terms: form.get("terms").map(str::to_owned),
    }
}

/// A refused field says why on the page; anything else is an error page.
async fn refused(app: &AppState, viewer: &Viewer, editing: Option<String>, error: ApiError) -> PageResult {
    match error {
        ApiError::Field(field) => {
            let message = super::error_text::field_error(viewer.lang, &field);
            render(app, viewer, (editing, None, Some(message))).await
        }
        other => Err(other.into()),
    }
}

/// `POST /admin/wordlists`: a new list.
pub async fn post_wordlist(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let SignedForm { viewer, form } = signed;
    match wordlists::create(&app.db, &app.compliance, &viewer.user, input_of(&form)).await {
        Ok(_) => Ok(page::redirect("/admin/wordlists?done=wordlist")),
        Err(error) => refused(&app, &viewer, None, error.into()).await,
    }
}

/// `POST /admin/wordlists/{id}`: a changed list.
pub async fn post_wordlist_update(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let id = path.into_inner();
    match wordlists::update(&app.db, &app.compliance, &viewer.user, id.clone(), input_of(&form)).await {
        Ok(_) => Ok(page::redirect("/admin/wordlists?done=wordlist")),
        Err(error) => refused(&app, &viewer, Some(id), error.into()).await,
    }
}

/// `POST /admin/wordlists/{id}/delete`.
pub async fn post_delete_wordlist(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, .. } = signed;
    wordlists::delete(&app.db, &app.compliance, &viewer.user, path.into_inner()).await.map_err(ApiError::from)?;
    Ok(page::redirect("/admin/wordlists?done=wordlist"))
}

/// `POST /admin/wordlists/try`: the page again, with the text's findings marked.
pub async fn post_try(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let text = form.text("text");
    let found = match wordlists::try_text(&app.db, &app.compliance, &viewer.user, text.clone()).await {
        Ok(found) => found,
        Err(error) => return refused(&app, &viewer, None, error.into()).await,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut done = 0;
    for finding in found.iter().filter(|finding| finding.end <= chars.len()) {
        if finding.start < done {
            continue;
        }
        pieces.push((chars[done..finding.start].iter().collect(), None));
        pieces.push((chars[finding.start..finding.end].iter().collect(), Some(finding.level.as_str().to_owned())));
        done = finding.end;
    }
    pieces.push((chars[done..].iter().collect(), None));
    let t = viewer.t();
    let lines = found
        .iter()
        .map(|finding| {
            let level = if finding.level == Level::Block { t.level_block } else { t.level_review };
            format!("{level} · {} · {}", category_label(viewer.lang, &finding.category), finding.excerpt)
        })
        .collect();
    render(&app, &viewer, (None, Some(Tried { text, pieces, lines }), None)).await
}
