//! Lifecycle steps and the reviewers' queue.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{self, ApiJson, CurrentUser};
use super::works::WorkResponse;
use crate::domain::ids::UserId;
use crate::domain::lifecycle::Action;
use crate::domain::media::Derivative;
use crate::domain::transition::{Transition, TransitionInput};
use crate::edge::links;
use crate::error::ApiError;
use crate::service::film_facts::CutFacts;
use crate::service::review as review_service;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// start_shooting, start_editing, submit, approve, request_changes, reject, publish, archive,
    /// shortlist, recommend, report, adopt, decline, return.
    action: String,
    /// Required for request_changes, reject, return and decline.
    comment: Option<String>,
    /// The work's current version.
    version: Option<i64>,
    /// For publish: where it went out (else the work's own).
    channel: Option<String>,
    external_url: Option<String>,
    published_at: Option<String>,
    /// For approve, publish, recommend and report: the deciding reviewer has read the work's
    /// open `review` compliance findings (refused with `compliance-unacknowledged` otherwise).
    acknowledge_findings: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransitionResponse {
    #[serde(flatten)]
    work: WorkResponse,
    /// Reviewers who signed off the current round (两级审核: the first approval).
    signoffs: Vec<String>,
}

/// Moves a work one step along its lifecycle.
#[utoipa::path(post, path = "/api/v1/works/{id}/transitions", tag = "production", request_body = TransitionRequest,
    responses((status = 200, body = TransitionResponse), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn create_transition(
    app: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: ApiJson<TransitionRequest>,
) -> Result<web::Json<TransitionResponse>, ApiError> {
    let id = extractors::work_id(&path)?;
    let request = body.into_inner()?;
    let input = TransitionInput {
        action: request.action,
        comment: request.comment,
        version: request.version,
        channel: request.channel,
        external_url: request.external_url,
        published_at: request.published_at,
        acknowledge_findings: request.acknowledge_findings.unwrap_or(false),
    };
    let step = Transition::parse(input)?;
    let outcome = review_service::transition(&app.db, &app.compliance, &app.two_level_kinds, &user.0, id, step).await?;
    Ok(web::Json(TransitionResponse {
        work: WorkResponse::full(outcome.work),
        signoffs: outcome.signoffs.into_iter().map(UserId::into_string).collect(),
    }))
}

/// A film's current cut, as the queue and the board show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentCut {
    media_id: String,
    /// 第N版.
    number: i32,
    duration_ms: Option<i64>,
    poster_url: Option<String>,
}

impl CurrentCut {
    /// The response form of a cut's facts.
    pub fn of(cut: CutFacts) -> Self {
        Self {
            poster_url: cut.has_poster.then(|| links::derivative(&cut.media_id, Derivative::Poster)),
            media_id: cut.media_id.into_string(),
            number: cut.number,
            duration_ms: cut.duration_ms,
        }
    }
}

/// Review notes (comments pinned to a cut): how many are open and resolved.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Notes {
    open: usize,
    resolved: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueItemResponse {
    #[serde(flatten)]
    work: WorkResponse,
    created_by_name: String,
    current_cut: Option<CurrentCut>,
    notes: Notes,
    waiting_ms: i64,
    allowed_actions: Vec<Action>,
    signoffs: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueResponse {
    items: Vec<QueueItemResponse>,
    total: usize,
}

/// Works waiting for the caller's decision, oldest first.
#[utoipa::path(get, path = "/api/v1/review-queue", tag = "production", responses((status = 200, body = QueueResponse), (status = 403)))]
pub async fn get_review_queue(
    app: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<QueueResponse>, ApiError> {
    let items = review_service::review_queue(&app.db, &user.0).await?;
    let total = items.len();
    let items = items
        .into_iter()
        .map(|item| QueueItemResponse {
            work: WorkResponse::summary_of(item.work),
            created_by_name: item.facts.creator_name,
            current_cut: item.facts.cut.map(CurrentCut::of),
            notes: Notes { open: item.facts.notes.open, resolved: item.facts.notes.resolved },
            waiting_ms: item.waiting_ms,
            allowed_actions: item.allowed_actions,
            signoffs: item.signoffs.into_iter().map(UserId::into_string).collect(),
        })
        .collect();
    Ok(web::Json(QueueResponse { items, total }))
}
