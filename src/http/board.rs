//! The production board: works by state, with assignees and overdue marks.

use actix_web::web;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::extractors::{ApiQuery, CurrentUser};
use crate::domain::filter::non_blank;
use crate::domain::work::{Kind, Status};
use crate::error::ApiError;
use crate::service::review::{self as review_service};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    kind: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Assignee {
    id: String,
    display_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardCardResponse {
    id: String,
    kind: Kind,
    title: String,
    status: Status,
    unit: Option<String>,
    assignees: Vec<Assignee>,
    due_date: Option<String>,
    overdue: bool,
    version: i64,
    created_by_name: String,
    current_cut: Option<super::review::CurrentCut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardColumn {
    status: Status,
    label: String,
    works: Vec<BoardCardResponse>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardResponse {
    columns: Vec<BoardColumn>,
}

/// The production board: the works the caller may see, by state.
#[utoipa::path(get, path = "/api/v1/board", tag = "production", params(BoardQuery), responses((status = 200, body = BoardResponse)))]
pub async fn get_board(
    app: web::Data<AppState>,
    user: CurrentUser,
    query: ApiQuery<BoardQuery>,
) -> Result<web::Json<BoardResponse>, ApiError> {
    let kind =
        non_blank(query.0.kind).map(|raw| Kind::parse_field("kind", &raw)).transpose().map_err(ApiError::from_query)?;
    let grouped = review_service::board(&app.db, &user.0, kind).await?;
    let columns = grouped
        .into_iter()
        .map(|(status, cards)| BoardColumn {
            status,
            label: status.label_zh().to_owned(),
            works: cards
                .into_iter()
                .map(|card| BoardCardResponse {
                    created_by_name: card.facts.creator_name,
                    current_cut: card.facts.cut.map(super::review::CurrentCut::of),
                    id: card.work.id.into_string(),
                    kind: card.work.kind,
                    title: card.work.title,
                    status: card.work.status,
                    unit: card.work.unit,
                    assignees: card
                        .assignees
                        .into_iter()
                        .map(|person| Assignee { id: person.id.into_string(), display_name: person.name })
                        .collect(),
                    due_date: card.work.due_date,
                    overdue: card.overdue,
                    version: card.work.version,
                })
                .collect(),
        })
        .collect();
    Ok(web::Json(BoardResponse { columns }))
}
