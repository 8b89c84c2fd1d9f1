//! The compliance check over HTTP: a work's findings, a reviewer's override, "mask it", the
//! admins' word lists (also uploaded as plain text) and the "try a text" check.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiJson, CurrentUser, PlainText};
use super::works::WorkResponse;
use crate::edge::params::work_id;
use crate::error::ApiError;
use crate::service::findings::{self, Decision, FindingView};
use crate::service::wordlists::{self, TriedFinding, WordlistInput, WordlistView};

/// Who let a finding through (or acknowledged it), when and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionResponse {
    /// The reviewer's user id.
    by: String,
    by_name: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<Decision> for DecisionResponse {
    fn from(decision: Decision) -> Self {
        Self { by: decision.by, by_name: decision.by_name, at: decision.at, reason: decision.reason }
    }
}

/// One finding: where (field and character offsets into that field's text), what, how
/// serious, and a masked excerpt (the personal data itself is never sent or stored).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingResponse {
    id: String,
    /// `title`, `summary`, `body`, `tags[i]`, `credits[i].name`, `publications[id].account`,
    /// `media[id].filename`, `media[id].subtitles`, `media[id].gps` …
    field: String,
    /// First character (Unicode scalar values, not bytes), inclusive.
    start: i32,
    /// Last character, exclusive.
    end: i32,
    /// `id_card`, `mobile`, `bank_card`, `plate`, `email`, `gps`, or a word list's category.
    category: String,
    /// `block` or `review`.
    level: String,
    excerpt: String,
    /// `open`, `fixed` or `overridden`.
    status: String,
    /// Whether "mask it" can fix it.
    maskable: bool,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    overridden: Option<DecisionResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledged: Option<DecisionResponse>,
}

impl From<FindingView> for FindingResponse {
    fn from(view: FindingView) -> Self {
        Self {
            id: view.id,
            field: view.field,
            start: view.start,
            end: view.end,
            category: view.category,
            level: view.level,
            excerpt: view.excerpt,
            status: view.status,
            maskable: view.maskable,
            overridden: view.overridden.map(DecisionResponse::from),
            acknowledged: view.acknowledged.map(DecisionResponse::from),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingListResponse {
    items: Vec<FindingResponse>,
}

/// A work's compliance findings, open ones first.
#[utoipa::path(get, path = "/api/v1/works/{id}/findings", tag = "compliance",
    responses((status = 200, body = FindingListResponse), (status = 404)))]
pub async fn list_findings(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<FindingListResponse>, ApiError> {
    let id = work_id(&path)?;
    let found = findings::list_findings(&app.db, &user.0, id).await?;
    Ok(web::Json(FindingListResponse { items: found.into_iter().map(FindingResponse::from).collect() }))
}

/// `{"reason": "…"}`: why the finding may go out as it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    reason: Option<String>,
}

/// A reviewer lets an open finding through, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/works/{id}/findings/{finding_id}/override", tag = "compliance",
    request_body = OverrideRequest,
    responses((status = 200, body = FindingResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn override_finding(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: ApiJson<OverrideRequest>,
) -> Result<web::Json<FindingResponse>, ApiError> {
    let (work, finding) = path.into_inner();
    let id = work_id(&work)?;
    let request = body.into_inner()?;
    let view = findings::override_finding(&app.db, &user.0, id, finding, request.reason).await?;
    Ok(web::Json(view.into()))
}

/// `{"version": n}` (optional): mask only if the work is still at that version.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskRequest {
    version: Option<i64>,
}

/// "Mask it": the finding's digits become `*` in the text, as an audited edit; the work.
#[utoipa::path(post, path = "/api/v1/works/{id}/findings/{finding_id}/mask", tag = "compliance",
    request_body = MaskRequest,
    responses((status = 200, body = WorkResponse), (status = 403), (status = 404), (status = 409)))]
pub async fn mask_finding(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: ApiJson<MaskRequest>,
) -> Result<web::Json<WorkResponse>, ApiError> {
    let (work, finding) = path.into_inner();
    let id = work_id(&work)?;
    let version = body.into_inner()?.version;
    let masked = findings::mask_finding(&app.db, &app.compliance, &user.0, id, finding, version).await?;
    Ok(web::Json(WorkResponse::full(masked)))
}

/// A word list; `terms` (the list's text) only when one list is read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WordlistResponse {
    id: String,
    name: String,
    category: String,
    /// `block` or `review`: of every term whose line names none.
    level: String,
    term_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<String>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    updated_at: DateTime<Utc>,
}

impl From<WordlistView> for WordlistResponse {
    fn from(view: WordlistView) -> Self {
        Self {
            id: view.id,
            name: view.name,
            category: view.category,
            level: view.level.as_str().to_owned(),
            term_count: view.term_count,
            terms: view.terms,
            updated_at: view.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WordlistListResponse {
    items: Vec<WordlistResponse>,
}

/// A new list (every field) or a change (any of them). `terms`: one term a line, or
/// `term<TAB>category<TAB>level`; lines starting with `#` are comments.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WordlistRequest {
    name: Option<String>,
    category: Option<String>,
    level: Option<String>,
    terms: Option<String>,
}

impl From<WordlistRequest> for WordlistInput {
    fn from(request: WordlistRequest) -> Self {
        Self { name: request.name, category: request.category, level: request.level, terms: request.terms }
    }
}

/// Every word list (admins).
#[utoipa::path(get, path = "/api/v1/wordlists", tag = "compliance", responses((status = 200, body = WordlistListResponse), (status = 403)))]
pub async fn list_wordlists(
    app: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<WordlistListResponse>, ApiError> {
    let lists = wordlists::list(&app.db, &user.0).await?;
    Ok(web::Json(WordlistListResponse { items: lists.into_iter().map(WordlistResponse::from).collect() }))
}

/// A new word list (admins); every work is checked again in the background.
#[utoipa::path(post, path = "/api/v1/wordlists", tag = "compliance", request_body = WordlistRequest,
    responses((status = 201, body = WordlistResponse), (status = 403), (status = 422)))]
pub async fn create_wordlist(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<WordlistRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner()?;
    let view = wordlists::create(&app.db, &app.compliance, &user.0, request.into()).await?;
    Ok(HttpResponse::Created().json(WordlistResponse::from(view)))
}

/// One list with its text (admins).
#[utoipa::path(get, path = "/api/v1/wordlists/{id}", tag = "compliance",
    responses((status = 200, body = WordlistResponse), (status = 403), (status = 404)))]
pub async fn get_wordlist(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<WordlistResponse>, ApiError> {
    Ok(web::Json(wordlists::get(&app.db, &user.0, path.into_inner()).await?.into()))
}

/// Changes a list's name, category, level or text (admins).
#[utoipa::path(patch, path = "/api/v1/wordlists/{id}", tag = "compliance", request_body = WordlistRequest,
    responses((status = 200, body = WordlistResponse), (status = 403), (status = 404), (status = 422)))]
pub async fn update_wordlist(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<WordlistRequest>,
) -> Result<web::Json<WordlistResponse>, ApiError> {
    let request = body.into_inner()?;
    let view = wordlists::update(&app.db, &app.compliance, &user.0, path.into_inner(), request.into()).await?;
    Ok(web::Json(view.into()))
}

/// Replaces a list's terms with a `text/plain` upload (UTF-8, up to 8 MiB).
#[utoipa::path(put, path = "/api/v1/wordlists/{id}/terms", tag = "compliance", request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = WordlistResponse), (status = 403), (status = 404), (status = 413), (status = 415), (status = 422)))]
pub async fn put_wordlist_terms(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: PlainText,
) -> Result<web::Json<WordlistResponse>, ApiError> {
    let terms = body.into_inner()?;
    let input = WordlistInput { terms: Some(terms), ..WordlistInput::default() };
    let view = wordlists::update(&app.db, &app.compliance, &user.0, path.into_inner(), input).await?;
    Ok(web::Json(view.into()))
}

/// Removes a list (admins).
#[utoipa::path(delete, path = "/api/v1/wordlists/{id}", tag = "compliance", responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_wordlist(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    wordlists::delete(&app.db, &app.compliance, &user.0, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `{"text": "…"}` to check against the detectors and the current lists.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    text: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckedFinding {
    start: usize,
    end: usize,
    category: String,
    level: String,
    excerpt: String,
}

impl From<TriedFinding> for CheckedFinding {
    fn from(found: TriedFinding) -> Self {
        Self {
            start: found.start,
            end: found.end,
            category: found.category,
            level: found.level.as_str().to_owned(),
            excerpt: found.excerpt,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResponse {
    items: Vec<CheckedFinding>,
}

/// Checks any text (reviewers and admins): what a save of it would find.
#[utoipa::path(post, path = "/api/v1/compliance/check", tag = "compliance", request_body = CheckRequest,
    responses((status = 200, body = CheckResponse), (status = 403), (status = 422)))]
pub async fn check_text(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<CheckRequest>,
) -> Result<web::Json<CheckResponse>, ApiError> {
    let text = body.into_inner()?.text;
    let found = wordlists::try_text(&app.db, &app.compliance, &user.0, text).await?;
    Ok(web::Json(CheckResponse { items: found.into_iter().map(CheckedFinding::from).collect() }))
}
