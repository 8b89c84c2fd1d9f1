//! `/api/v1/works`: the catalog. Handlers parse, call one service function, and shape the
//! response.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, ApiQuery, CurrentUser};
use crate::db::works::WorkOrder;
use crate::domain::FieldError;
use crate::domain::fields::Credit;
use crate::domain::filter::{WorkFilter, WorkFilterInput, non_blank, parse_date_bound, parse_period};
use crate::domain::ids::UserId;
use crate::domain::page::Page;
use crate::domain::work::{Kind, NewWorkFields, NewWorkInput, Status, WorkEdit, WorkEditInput};
use crate::error::ApiError;
use crate::service::works::{self as service, Work, WorkQuery};

/// A work as clients see it. List items leave out `body` (it can be 1 MiB).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkResponse {
    id: String,
    kind: Kind,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    summary: Option<String>,
    tags: Vec<String>,
    unit: Option<String>,
    credits: Vec<Credit>,
    channel: Option<String>,
    external_url: Option<String>,
    #[serde(serialize_with = "super::timestamps::rfc3339_option")]
    published_at: Option<DateTime<Utc>>,
    status: Status,
    created_by: String,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamps::rfc3339")]
    updated_at: DateTime<Utc>,
    version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "super::timestamps::rfc3339_option")]
    deleted_at: Option<DateTime<Utc>>,
    assignees: Vec<String>,
    due_date: Option<String>,
    /// Open compliance findings by level: `block` ones stop approval and publication.
    findings: FindingsSummary,
}

/// `{"block": n, "review": n}`: a work's open compliance findings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingsSummary {
    block: i32,
    review: i32,
}

impl WorkResponse {
    pub(crate) fn full(work: Work) -> Self {
        let body = Some(work.body.clone());
        Self { body, ..Self::summary_of(work) }
    }

    pub(crate) fn summary_of(work: Work) -> Self {
        Self {
            id: work.id.into_string(),
            kind: work.kind,
            title: work.title,
            body: None,
            summary: work.summary,
            tags: work.tags,
            unit: work.unit,
            credits: work.credits,
            channel: work.channel,
            external_url: work.external_url,
            published_at: work.published_at,
            status: work.status,
            created_by: work.created_by.into_string(),
            created_at: work.created_at,
            updated_at: work.updated_at,
            version: work.version,
            deleted_at: work.deleted_at,
            assignees: work.assignees.into_iter().map(UserId::into_string).collect(),
            due_date: work.due_date,
            findings: FindingsSummary { block: work.findings.block, review: work.findings.review },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkListResponse {
    items: Vec<WorkResponse>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkRequest {
    /// `micro_film`, `weibo_post`, `wechat_article` or `reform_proposal`.
    kind: String,
    /// 1–200 characters after trimming.
    title: String,
    /// Up to 1 MiB.
    body: Option<String>,
    summary: Option<String>,
    tags: Option<Vec<String>>,
    unit: Option<String>,
    credits: Option<Vec<Credit>>,
    channel: Option<String>,
    external_url: Option<String>,
    /// RFC 3339.
    published_at: Option<String>,
    /// User ids.
    assignees: Option<Vec<String>>,
    /// `YYYY-MM-DD`.
    due_date: Option<String>,
}

/// An edit: absent fields stay, `null` clears a nullable field. `version` may instead come
/// as an `If-Match` header.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkRequest {
    version: Option<i64>,
    title: Option<String>,
    body: Option<String>,
    #[serde(default, deserialize_with = "present")]
    summary: Option<Option<String>>,
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    unit: Option<Option<String>>,
    credits: Option<Vec<Credit>>,
    #[serde(default, deserialize_with = "present")]
    channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    external_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    published_at: Option<Option<String>>,
    assignees: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    due_date: Option<Option<String>>,
    /// Required to correct a work that went out (reviewers, admins): audited with the old values.
    correction_reason: Option<String>,
}

impl CreateWorkRequest {
    /// The request's fields, parsed; the first wrong one is named.
    pub fn into_fields(self) -> Result<NewWorkFields, FieldError> {
        NewWorkFields::parse(NewWorkInput {
            kind: self.kind,
            title: self.title,
            body: self.body,
            summary: self.summary,
            tags: self.tags.unwrap_or_default(),
            unit: self.unit,
            credits: self.credits.unwrap_or_default(),
            channel: self.channel,
            external_url: self.external_url,
            published_at: self.published_at,
            assignees: self.assignees.unwrap_or_default(),
            due_date: self.due_date,
        })
    }
}

impl UpdateWorkRequest {
    /// The edit, parsed (the version is read separately, as it may come as `If-Match`).
    pub fn into_edit(self) -> Result<WorkEdit, FieldError> {
        WorkEdit::parse(WorkEditInput {
            title: self.title,
            body: self.body,
            summary: self.summary,
            tags: self.tags,
            unit: self.unit,
            credits: self.credits,
            channel: self.channel,
            external_url: self.external_url,
            published_at: self.published_at,
            assignees: self.assignees,
            due_date: self.due_date,
            correction_reason: self.correction_reason,
        })
    }
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// From 1.
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
}

/// List filters. Dates are RFC 3339 or `YYYY-MM-DD` (a `to` date includes that whole day).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListWorksQuery {
    kind: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    tag: Option<String>,
    created_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// Published on or after (the publication time, e.g. of an imported article).
    published_from: Option<String>,
    /// Published on or before (a date includes that whole day).
    published_to: Option<String>,
    /// `newest` (default), `oldest` or `updated`.
    sort: Option<String>,
    /// Admins only: list deleted works instead.
    deleted: Option<bool>,
    page: Option<i64>,
    per_page: Option<i64>,
}

impl ListWorksQuery {
    fn parse(self) -> Result<WorkQuery, ApiError> {
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
        let order = match non_blank(self.sort).as_deref() {
            None | Some("newest") => WorkOrder::Newest,
            Some("oldest") => WorkOrder::Oldest,
            Some("updated") => WorkOrder::RecentlyUpdated,
            Some(_) => {
                return Err(ApiError::query("sort", "sort must be newest, oldest or updated"));
            }
        };
        (filter.from, filter.to) = parse_period(from, to).map_err(ApiError::from_query)?;
        let bound = |field: &str, raw: Option<String>, end: bool| {
            non_blank(raw).map(|raw| parse_date_bound(field, &raw, end)).transpose().map_err(ApiError::from_query)
        };
        filter.published_from = bound("published_from", self.published_from, false)?;
        filter.published_to = bound("published_to", self.published_to, true)?;
        Ok(WorkQuery {
            filter,
            created_by: non_blank(self.created_by),
            deleted: self.deleted.unwrap_or(false),
            order,
            page: Page::parse(self.page, self.per_page).map_err(ApiError::from_query)?,
        })
    }
}

/// Creates a work in its kind's first state.
#[utoipa::path(post, path = "/api/v1/works", tag = "works", request_body = CreateWorkRequest,
    responses((status = 201, body = WorkResponse), (status = 401), (status = 403), (status = 422)))]
pub async fn create_work(
    app: web::Data<AppState>,
    user: CurrentUser,
    body: ApiJson<CreateWorkRequest>,
) -> Result<HttpResponse, ApiError> {
    service::ensure_can_create(&user.0)?;
    let fields = body.into_inner()?.into_fields()?;
    let work = service::create_work(&app.db, &app.compliance, &user.0, fields).await?;
    let location = format!("/api/v1/works/{}", work.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(WorkResponse::full(work)))
}

/// Lists the works the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/works", tag = "works", params(ListWorksQuery),
    responses((status = 200, body = WorkListResponse), (status = 400), (status = 401)))]
pub async fn list_works(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<ListWorksQuery>,
) -> Result<HttpResponse, ApiError> {
    let listed = service::list_works_shared(&app.db, &user.0, query.0.parse()?).await?;
    let body = listed.rendered(|listed| {
        serde_json::to_vec(&WorkListResponse {
            items: listed.items.iter().cloned().map(WorkResponse::summary_of).collect(),
            total: listed.total,
            page: listed.page.page,
            per_page: listed.page.per_page,
        })
    });
    Ok(HttpResponse::Ok().insert_header(header::ContentType::json()).body(body.map_err(rendering_failed)?))
}

fn rendering_failed(error: serde_json::Error) -> ApiError {
    ApiError::internal(format!("rendering JSON: {error}"))
}

/// One work.
#[utoipa::path(get, path = "/api/v1/works/{id}", tag = "works", responses((status = 200, body = WorkResponse), (status = 404)))]
pub async fn get_work(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shared = service::get_work_shared(&app.db, &user.0, extractors::work_id(&path)?).await?;
    let body =
        shared.rendered(|work| serde_json::to_vec(&WorkResponse::full(work.clone()))).map_err(rendering_failed)?;
    let etag = format!("\"{}\"", shared.value().version);
    Ok(HttpResponse::Ok().insert_header(header::ContentType::json()).insert_header((header::ETAG, etag)).body(body))
}

/// The expected version: the body's `version`, else `If-Match`.
fn expected_version(req: &HttpRequest, from_body: Option<i64>) -> Result<i64, ApiError> {
    if let Some(version) = from_body {
        return Ok(version);
    }
    let Some(raw) = req.headers().get(header::IF_MATCH) else {
        return Err(FieldError::required("version").into());
    };
    let text = raw.to_str().unwrap_or("").trim();
    let unquoted = text.trim_start_matches("W/").trim_matches('"');
    unquoted.parse().map_err(|_| ApiError::InvalidHeader {
        field: "if-match".into(),
        message: format!("if-match {text:?} must be the work's version number"),
    })
}

/// Edits a work while it is editable; a stale version → 409 `version-conflict`.
#[utoipa::path(patch, path = "/api/v1/works/{id}", tag = "works", request_body = UpdateWorkRequest,
    responses((status = 200, body = WorkResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_work(
    app: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: ApiJson<UpdateWorkRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = extractors::work_id(&path)?;
    let request = body.into_inner()?;
    let version = expected_version(&req, request.version)?;
    let edit = request.into_edit()?;
    let work = service::update_work(&app.db, &app.compliance, &user.0, id, version, edit).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, format!("\"{}\"", work.version))).json(WorkResponse::full(work)))
}

/// Soft-deletes a work.
#[utoipa::path(delete, path = "/api/v1/works/{id}", tag = "works", responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_work(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete_work(&app.db, &user.0, extractors::work_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restores a soft-deleted work (admin).
#[utoipa::path(post, path = "/api/v1/works/{id}/restore", tag = "works", responses((status = 200, body = WorkResponse), (status = 403), (status = 404), (status = 409)))]
pub async fn restore_work(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<WorkResponse>, ApiError> {
    let work = service::restore_work(&app.db, &user.0, extractors::work_id(&path)?).await?;
    Ok(web::Json(WorkResponse::full(work)))
}
