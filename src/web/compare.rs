//! `/works/{id}/compare?a=1&b=2`: two cuts of a film side by side on one clock (the page's
//! script keeps them within a frame of each other), a per-side offset for re-timed edits,
//! and each side's own comments.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::forms;
use super::page::{self, Chrome, PageQuery, PageResult, Viewer};
use super::work_page::cuts_of;
use crate::domain::media::Derivative;
use crate::domain::preview::PreviewStatus;
use crate::edge::links;
use crate::edge::params::work_id;
use crate::service::comments::CommentView;
use crate::service::media::MediaView;
use crate::service::work_detail::{WorkDetail, work_detail};
use crate::state::AppState;

/// Which cuts to compare (defaults: the last two).
#[derive(Debug, Default, Deserialize)]
pub struct CompareQuery {
    a: Option<i32>,
    b: Option<i32>,
}

struct SideComment {
    author: String,
    body: String,
    seconds: f64,
    label: String,
}

/// One side: a cut, its player and its comments.
struct Side {
    /// `a` or `b`: the query parameter that chooses it.
    key: &'static str,
    number: i32,
    src: String,
    poster: String,
    fps: f64,
    waiting: bool,
    choices: Vec<(i32, bool)>,
    comments: Vec<SideComment>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    chrome: Chrome,
    work_id: String,
    title: String,
    sides: Vec<Side>,
    /// The other side's number, for each side's cut chooser.
    other: Vec<(&'static str, i32)>,
}

fn side(key: &'static str, cut: &MediaView, numbers: &[i32], comments: &[CommentView]) -> Side {
    let fps = cut.row.frame_rate.unwrap_or(0.0);
    let comments = comments
        .iter()
        .filter(|view| view.row.reply_to.is_none() && view.row.media_id.as_ref() == Some(&cut.row.id))
        .filter_map(|view| {
            let ms = view.row.timecode_ms?;
            let seconds = match view.row.frame {
                Some(frame) if fps > 0.0 => (frame as f64 + 0.5) / fps,
                _ => ms as f64 / 1000.0,
            };
            let label = forms::show_timecode(ms);
            Some(SideComment { author: view.author_name.clone(), body: view.row.body.clone(), seconds, label })
        })
        .collect();
    Side {
        key,
        number: cut.row.version,
        src: links::playback(cut).unwrap_or_default(),
        poster: if cut.has(Derivative::Poster) {
            links::derivative(&cut.row.id, Derivative::Poster)
        } else {
            String::new()
        },
        fps,
        waiting: matches!(cut.row.preview_status, PreviewStatus::Pending | PreviewStatus::Processing),
        choices: numbers.iter().map(|number| (*number, *number == cut.row.version)).collect(),
        comments,
    }
}

/// `GET /works/{id}/compare`.
pub async fn get_compare(
    app: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    query: PageQuery<CompareQuery>,
) -> PageResult {
    let id = work_id(&path)?;
    let WorkDetail { work, media, comments, .. } = work_detail(&app.db, &viewer.user, id).await?;
    let cuts = cuts_of(&media);
    let numbers: Vec<i32> = cuts.iter().map(|cut| cut.row.version).collect();
    let pick = |wanted: Option<i32>, fallback: usize| {
        wanted
            .and_then(|number| cuts.iter().find(|cut| cut.row.version == number))
            .or_else(|| cuts.get(fallback))
            .copied()
    };
    let last = cuts.len().saturating_sub(1);
    let chosen = [("a", pick(query.a, last.saturating_sub(1))), ("b", pick(query.b, last))];
    let sides: Vec<Side> =
        chosen.iter().filter_map(|(key, cut)| cut.map(|cut| side(key, cut, &numbers, &comments))).collect();
    let other = match sides.as_slice() {
        [a, b] => vec![("b", b.number), ("a", a.number)],
        _ => Vec::new(),
    };
    let page = ComparePage {
        chrome: viewer.chrome("works", None),
        work_id: work.id.to_string(),
        title: work.title.clone(),
        sides: if cuts.len() >= 2 { sides } else { Vec::new() },
        other,
    };
    page::render(&page)
}
