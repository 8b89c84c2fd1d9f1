//! `GET /api/v1/search`: Chinese full-text search over the archive.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiQuery, CurrentUser};
use crate::domain::filter::{WorkFilter, WorkFilterInput, non_blank, parse_period};
use crate::domain::media::Derivative;
use crate::domain::page::Page;
use crate::edge::links;
use crate::error::ApiError;
use crate::search::searcher::FacetCounts;
use crate::service::search::{self as service, SearchHit, SearchInput};

/// Search parameters. `q` uses: words (ANDed), `"exact phrase"`, `-excluded`, `OR`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    tag: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `relevance` (default) or `newest`.
    sort: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHitResponse {
    id: String,
    kind: String,
    title: String,
    /// Escaped title with matches in `<mark>`.
    title_html: String,
    /// Escaped excerpt with matches in `<mark>`.
    snippet_html: String,
    status: String,
    unit: Option<String>,
    published_at: Option<DateTime<Utc>>,
    thumbnail_url: Option<String>,
    /// The matching line of the film's subtitles, with where the player opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    dialogue: Option<DialogueHit>,
    score: f32,
}

/// A line of dialogue that matched.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DialogueHit {
    text: String,
    timecode_ms: i64,
    /// The work page with the player at that line.
    url: String,
}

impl From<SearchHit> for SearchHitResponse {
    fn from(hit: SearchHit) -> Self {
        Self {
            id: hit.id.to_string(),
            kind: hit.kind.as_str().to_owned(),
            title: hit.title,
            title_html: hit.title_html,
            snippet_html: hit.snippet_html,
            status: hit.status.as_str().to_owned(),
            unit: hit.unit,
            published_at: hit.published_at,
            thumbnail_url: hit.thumbnail.map(|media| links::derivative(&media, Derivative::Small)),
            dialogue: hit.dialogue.map(|cue| DialogueHit {
                url: links::work_page_at(&hit.id, cue.start_ms),
                text: cue.text,
                timecode_ms: cue.start_ms,
            }),
            score: hit.score,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// How many works matched: exact up to 10 000, then estimated from a sample.
    total: usize,
    /// Whether `total` and the facet counts are estimates.
    total_is_estimate: bool,
    took_ms: u64,
    hits: Vec<SearchHitResponse>,
    /// Counts per `kind`, `status`, `unit` and `year`, over everything that matched.
    #[schema(value_type = Object)]
    facets: FacetCounts,
    page: i64,
    per_page: i64,
}

impl SearchQuery {
    fn parse(self) -> Result<SearchInput, ApiError> {
        let filter = WorkFilterInput {
            kind: self.kind,
            status: self.status,
            unit: self.unit,
            tag: self.tag,
            ..WorkFilterInput::default()
        };
        // Kind and state, then the sort, then the period: the order parameters were always
        // checked in, so the first one at fault is the one named.
        let (from, to) = (self.from, self.to);
        let mut filter = WorkFilter::parse_criteria(filter).map_err(ApiError::from_query)?;
        let newest_first = match non_blank(self.sort).as_deref() {
            None | Some("relevance") => false,
            Some("newest") => true,
            Some(_) => return Err(ApiError::query("sort", "sort must be relevance or newest")),
        };
        (filter.from, filter.to) = parse_period(from, to).map_err(ApiError::from_query)?;
        Ok(SearchInput {
            q: self.q.unwrap_or_default(),
            filter,
            newest_first,
            page: Page::parse(self.page, self.per_page).map_err(ApiError::from_query)?,
        })
    }
}

/// Searches the works the caller may see.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchResponse), (status = 400), (status = 401)))]
pub async fn search_works(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<SearchQuery>,
) -> Result<web::Json<SearchResponse>, ApiError> {
    let outcome = service::search(&app.db, &app.search, &user.0, query.0.parse()?).await?;
    Ok(web::Json(SearchResponse {
        total: outcome.total,
        total_is_estimate: outcome.total_is_estimate,
        took_ms: outcome.took_ms,
        hits: outcome.hits.into_iter().map(SearchHitResponse::from).collect(),
        facets: outcome.facets,
        page: outcome.page.page,
        per_page: outcome.page.per_page,
    }))
}
