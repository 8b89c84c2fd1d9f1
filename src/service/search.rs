//! Searching the archive: parse the query, run it on the index with the caller's visibility,
//! then read the hits' current rows from the database (the source of truth) for titles,
//! highlighting and thumbnails.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::access;
use super::auth::AuthUser;
use super::works::row_facts;
use crate::db::DbError;
use crate::db::media::ThumbnailCandidate;
use crate::db::works::WorkRow;
use crate::db::{Db, DbConnection, Weigh, media, works};
use crate::domain::filter::WorkFilter;
use crate::domain::ids::{MediaId, WorkId};
use crate::domain::page::Page;
use crate::domain::subtitles::Cue;
use crate::domain::user::Visibility;
use crate::domain::work::{Kind, Status};
use crate::search::IndexError;
use crate::search::SearchIndex;
use crate::search::query::{self, ParsedQuery};
use crate::search::searcher::{self, FacetCounts, Filters, SearchRequest};

/// Why a search was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be run, even after cleaning.
    #[error("{0}")]
    InvalidQuery(String),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

crate::query_errors_through_db_error!(SearchError);

/// A search as the caller asked for it, parsed.
#[derive(Debug, Clone)]
pub struct SearchInput {
    pub q: String,
    /// Kind, state, unit, tag and period (of publication, else creation).
    pub filter: WorkFilter,
    pub newest_first: bool,
    pub page: Page,
}

/// One result.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: WorkId,
    pub kind: Kind,
    pub title: String,
    pub title_html: String,
    pub snippet_html: String,
    pub status: Status,
    pub unit: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// The medium whose small thumbnail stands for the work.
    pub thumbnail: Option<MediaId>,
    /// The first line of the film's subtitles that matches, when one does.
    pub dialogue: Option<Cue>,
    pub score: f32,
}

/// A page of results with facet counts.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Exact up to `search::facets::EXACT_UP_TO` matches, then an estimate (facets too).
    pub total: usize,
    pub total_is_estimate: bool,
    pub took_ms: u64,
    pub hits: Vec<SearchHit>,
    pub facets: FacetCounts,
    pub page: Page,
}

fn invalid_query(message: impl Into<String>) -> SearchError {
    SearchError::InvalidQuery(message.into())
}

/// Parses the text of a search; a non-blank query with nothing searchable is refused.
pub fn parse_text(q: &str) -> Result<ParsedQuery, SearchError> {
    let parsed = query::parse(q).map_err(|error| invalid_query(error.to_string()))?;
    if parsed.is_empty() && !q.trim().is_empty() {
        return Err(invalid_query("the query has no searchable words"));
    }
    Ok(parsed)
}

/// Runs a search for the caller.
pub async fn search(
    db: &Db,
    index: &Arc<SearchIndex>,
    user: &AuthUser,
    input: SearchInput,
) -> Result<SearchOutcome, SearchError> {
    let started = std::time::Instant::now();
    let parsed = parse_text(&input.q)?;
    let visibility = user.visibility();
    if visibility == Visibility::Nothing {
        return Ok(SearchOutcome {
            total: 0,
            total_is_estimate: false,
            took_ms: 0,
            hits: Vec::new(),
            facets: FacetCounts::new(),
            page: input.page,
        });
    }
    let request = SearchRequest {
        filters: Filters {
            kind: input.filter.kind.map(|kind| kind.as_str().to_owned()),
            status: input.filter.status.map(|status| status.as_str().to_owned()),
            unit: input.filter.unit,
            tag: input.filter.tag,
            from_micros: input.filter.from.map(|time| time.timestamp_micros()),
            to_micros: input.filter.to.map(|time| time.timestamp_micros()),
        },
        visibility,
        newest_first: input.newest_first || parsed.required.is_empty(),
        query: parsed,
        offset: input.page.offset() as usize,
        limit: input.page.per_page as usize,
    };
    // One blocking hop: the index, the hits' rows and the highlighting. Identical searches by
    // callers who see the same works share the result until a write or a new index commit.
    let key = format!("search:{}:{request:?}", index.view_version());
    let (index, caller) = (index.clone(), user.clone());
    let found = db.read_cached(key, move |conn| run_search(conn, &index, &request, &caller)).await?;
    Ok(SearchOutcome {
        total: found.total,
        total_is_estimate: found.total_is_estimate,
        took_ms: started.elapsed().as_millis() as u64,
        hits: found.hits.clone(),
        facets: found.facets.clone(),
        page: input.page,
    })
}

/// What a search found, as any caller with the same visibility sees it.
struct FoundPage {
    total: usize,
    total_is_estimate: bool,
    hits: Vec<SearchHit>,
    facets: FacetCounts,
}

impl Weigh for FoundPage {
    fn weight(&self) -> usize {
        let hits: usize = self
            .hits
            .iter()
            .map(|hit| std::mem::size_of::<SearchHit>() + hit.title.len() * 2 + hit.snippet_html.len() + hit.id.len())
            .sum();
        let facets: usize = self.facets.values().flat_map(|counts| counts.keys()).map(|value| value.len() + 48).sum();
        hits + facets
    }
}

/// Runs the query on the index, then reads the hits' current rows (the database is the source
/// of truth for titles and visibility) and highlights them. Blocking: bodies may be 1 MiB each.
fn run_search(
    conn: &mut DbConnection,
    index: &SearchIndex,
    request: &SearchRequest,
    caller: &AuthUser,
) -> Result<FoundPage, SearchError> {
    let results = searcher::search(index, request)?;
    let ids: Vec<String> = results.hits.iter().map(|(_, id)| id.clone()).collect();
    let rows = works::find_many(conn, &ids)?;
    let thumbnails = media::thumbnails_for(conn, &ids)?;
    let terms = searcher::highlight_terms(index.jieba(), &request.query);
    let mut hits = build_hits(caller, results.hits, rows, &thumbnails, &terms);
    attach_dialogue(conn, &mut hits, &terms)?;
    Ok(FoundPage { total: results.total, total_is_estimate: results.total_is_estimate, hits, facets: results.facets })
}

/// Names, for each hit with subtitles, the first cue that matches the most query terms, so
/// the result can open the player at that line.
fn attach_dialogue(conn: &mut DbConnection, hits: &mut [SearchHit], terms: &[String]) -> diesel::QueryResult<()> {
    if terms.is_empty() || hits.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = hits.iter().map(|hit| hit.id.to_string()).collect();
    let transcripts = media::transcripts_for(conn, &ids)?;
    for hit in hits.iter_mut() {
        let cues = transcripts.iter().filter(|(work, _)| *work == hit.id).flat_map(|(_, cues)| cues.iter());
        let scored = cues.map(|cue| (searcher::match_ranges(&cue.text, terms).len(), cue));
        let best = scored.fold(None::<(usize, &Cue)>, |best, (score, cue)| match best {
            Some((top, _)) if top >= score => best,
            _ if score > 0 => Some((score, cue)),
            _ => best,
        });
        hit.dialogue = best.map(|(_, cue)| cue.clone());
    }
    Ok(())
}

fn build_hits(
    user: &AuthUser,
    found: Vec<(f32, String)>,
    rows: Vec<WorkRow>,
    thumbnails: &[ThumbnailCandidate],
    terms: &[String],
) -> Vec<SearchHit> {
    let by_id: HashMap<String, WorkRow> = rows.into_iter().map(|row| (row.id.to_string(), row)).collect();
    let mut hits = Vec::with_capacity(found.len());
    for (score, id) in found {
        let Some(row) = by_id.get(&id) else { continue };
        // The index may lag the database: the row decides (a deleted work is never a hit).
        if row.deleted_at.is_some() || !access::may_see(user, row_facts(row)) {
            continue;
        }
        let summary = row.summary.clone().unwrap_or_default();
        let excerpt_source = if searcher::match_ranges(&summary, terms).is_empty() && !row.body.is_empty() {
            &row.body
        } else {
            &summary
        };
        hits.push(SearchHit {
            id: row.id.clone(),
            kind: row.kind,
            title: row.title.clone(),
            title_html: searcher::mark(&row.title, &searcher::match_ranges(&row.title, terms)),
            snippet_html: searcher::snippet(excerpt_source, terms),
            status: row.status,
            unit: row.unit.clone(),
            published_at: row.published_at.map(|time| time.and_utc()),
            thumbnail: super::media::thumbnail_for(&row.id, thumbnails),
            dialogue: None,
            score,
        });
    }
    hits
}
