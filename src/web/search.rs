//! `/search?q=…`: one box, highlighted results with thumbnails, facets as links that add a
//! filter, pagination — all in the URL, so a search can be bookmarked and shared.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::i18n::Lang;
use super::page::{self, Chrome, PageQuery, PageResult, Viewer};
use super::views::{self, Pager};
use crate::domain::filter::{WorkFilter, WorkFilterInput, non_blank, parse_date_bound};
use crate::domain::media::Derivative;
use crate::domain::page::Page;
use crate::domain::work::{Kind, Status};
use crate::edge::links;
use crate::error::ApiError;
use crate::service::search::{self as service, SearchHit, SearchInput};
use crate::state::AppState;

const PER_PAGE: i64 = 20;

/// The search as it stands in the URL.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    year: Option<String>,
    page: Option<String>,
}

impl SearchParams {
    fn value(&self, name: &str) -> String {
        let field = match name {
            "q" => &self.q,
            "kind" => &self.kind,
            "status" => &self.status,
            "unit" => &self.unit,
            "year" => &self.year,
            _ => &self.page,
        };
        field.clone().unwrap_or_default()
    }

    /// This search with one parameter changed (an empty value removes it); back to page 1.
    fn with(&self, name: &str, value: &str) -> String {
        let names = ["q", "kind", "status", "unit", "year"];
        let values: Vec<(&str, String)> =
            names.iter().map(|key| (*key, if *key == name { value.to_owned() } else { self.value(key) })).collect();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(key, value)| (*key, value.as_str())).collect();
        views::link("/search", &pairs)
    }

    fn page_href(&self, page: i64) -> String {
        let page = page.to_string();
        let names = ["q", "kind", "status", "unit", "year"];
        let values: Vec<String> = names.iter().map(|name| self.value(name)).collect();
        let mut pairs: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
        pairs.push(("page", &page));
        views::link("/search", &pairs)
    }

    fn to_input(&self) -> Result<SearchInput, ApiError> {
        let criteria = WorkFilterInput {
            kind: self.kind.clone(),
            status: self.status.clone(),
            unit: self.unit.clone(),
            ..WorkFilterInput::default()
        };
        let mut filter = WorkFilter::parse(criteria).map_err(ApiError::from_query)?;
        // A year facet bounds the date the index files a work under (publication, else creation).
        if let Some(year) = non_blank(self.year.clone()) {
            let bound = |suffix: &str, end: bool| parse_date_bound("year", &format!("{year}{suffix}"), end);
            filter.from = Some(bound("-01-01", false).map_err(ApiError::from_query)?);
            filter.to = Some(bound("-12-31", true).map_err(ApiError::from_query)?);
        }
        Ok(SearchInput {
            q: self.value("q"),
            filter,
            newest_first: false,
            page: Page { page: self.value("page").parse().unwrap_or(1).clamp(1, 500), per_page: PER_PAGE },
        })
    }
}

struct ResultItem {
    hit: SearchHit,
    thumb: Option<String>,
    /// The matching subtitle line: its timecode label, text and the link that plays it.
    dialogue: Option<(String, String, String)>,
    kind_label: &'static str,
    status_label: &'static str,
}

struct FacetLink {
    label: String,
    count: String,
    href: String,
    active: bool,
}

struct FacetGroup {
    title: &'static str,
    links: Vec<FacetLink>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    error: Option<String>,
    /// "1234 条结果" or, past the exact limit, "约 12 万条结果".
    total: String,
    took_ms: u64,
    results: Vec<ResultItem>,
    facets: Vec<FacetGroup>,
    filtered: bool,
    clear_href: String,
    pager: Pager,
}

fn facet_label(lang: Lang, group: &str, value: &str) -> String {
    match group {
        "kind" => Kind::parse(value).map(|kind| lang.kind(kind).to_owned()),
        "status" => Status::parse(value).map(|status| lang.status(status).to_owned()),
        _ => None,
    }
    .unwrap_or_else(|| value.to_owned())
}

fn facet_groups(
    params: &SearchParams,
    facets: &crate::search::searcher::FacetCounts,
    shown: &dyn Fn(u64) -> String,
    lang: Lang,
) -> Vec<FacetGroup> {
    let t = lang.text();
    let titles = [("kind", t.kind), ("status", t.status), ("unit", t.unit), ("year", t.facet_year)];
    titles
        .iter()
        .filter_map(|(group, title)| {
            let counts = facets.get(*group)?;
            let current = params.value(group);
            let links = counts
                .iter()
                .map(|(value, count)| FacetLink {
                    label: facet_label(lang, group, value),
                    count: shown(*count),
                    active: current == *value,
                    href: params.with(group, if current == *value { "" } else { value }),
                })
                .collect::<Vec<_>>();
            (!links.is_empty()).then_some(FacetGroup { title, links })
        })
        .collect()
}

/// `GET /search`.
pub async fn get_search(app: web::Data<AppState>, viewer: Viewer, params: PageQuery<SearchParams>) -> PageResult {
    let params = params.into_inner();
    let q = params.value("q");
    let lang = viewer.lang;
    let mut page = SearchPage {
        chrome: viewer.chrome("search", None),
        searched: !q.trim().is_empty(),
        q,
        error: None,
        total: String::new(),
        took_ms: 0,
        results: Vec::new(),
        facets: Vec::new(),
        filtered: ["kind", "status", "unit", "year"].iter().any(|name| !params.value(name).is_empty()),
        clear_href: views::link("/search", &[("q", params.value("q").as_str())]),
        pager: Pager::default(),
    };
    if !page.searched {
        return page::render(&page);
    }
    let input = match params.to_input() {
        Ok(input) => input,
        Err(error) => return refused(page, viewer.lang, error),
    };
    let outcome = match service::search(&app.db, &app.search, &viewer.user, input).await.map_err(ApiError::from) {
        Ok(outcome) => outcome,
        Err(error @ (ApiError::InvalidSearch(_) | ApiError::InvalidQuery { .. })) => {
            return refused(page, viewer.lang, error);
        }
        Err(other) => return Err(other.into()),
    };
    let shown = |count: u64| if outcome.total_is_estimate { lang.about(count) } else { count.to_string() };
    let total = shown(outcome.total as u64);
    // "约 12 万条结果" reads as one phrase; "1234 条结果" and "about 120,000 results" keep the space.
    let joiner = if total.ends_with(['万', '亿']) { "" } else { " " };
    page.total = format!("{total}{joiner}{}", lang.text().results_count);
    page.took_ms = outcome.took_ms;
    page.facets = facet_groups(&params, &outcome.facets, &shown, lang);
    page.pager = Pager::new(outcome.page.page, PER_PAGE, outcome.total as i64, |number| params.page_href(number));
    page.results = outcome
        .hits
        .into_iter()
        .map(|hit| ResultItem {
            kind_label: lang.kind(hit.kind),
            status_label: lang.status(hit.status),
            thumb: hit.thumbnail.as_ref().map(|media| links::derivative(media, Derivative::Small)),
            dialogue: hit.dialogue.as_ref().map(|cue| {
                (
                    super::forms::show_timecode(cue.start_ms),
                    cue.text.clone(),
                    links::work_page_at(&hit.id, cue.start_ms),
                )
            }),
            hit,
        })
        .collect();
    page::render(&page)
}

/// The page with the query's problem shown above the box.
fn refused(mut page: SearchPage, lang: super::i18n::Lang, error: ApiError) -> PageResult {
    page.error = Some(super::error_text::refusal(lang, &error));
    page::render_with_status(StatusCode::BAD_REQUEST, &page)
}
