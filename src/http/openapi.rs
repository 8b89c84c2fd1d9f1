//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handlers'
//! annotations and the request/response types.

use actix_web::web;
use utoipa::OpenApi;

use super::{
    audit, board, comments, compliance, health, imports, media, notifications, publications, review, search, session,
    stats, uploads, users, webhooks, works,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "microcat", description = "Production, review, catalog and search of micro-content"),
    paths(
        health::get_health,
        session::create_session,
        session::delete_session,
        session::get_me,
        users::create_user,
        users::list_users,
        users::get_user,
        users::update_user,
        works::create_work,
        works::list_works,
        works::get_work,
        works::update_work,
        works::delete_work,
        works::restore_work,
        media::upload_media,
        media::list_media,
        media::get_media,
        media::delete_media,
        media::reprocess_media,
        media::get_original,
        media::get_derivative,
        uploads::options,
        uploads::create,
        uploads::head,
        uploads::patch,
        uploads::terminate,
        search::search_works,
        review::create_transition,
        comments::list_comments,
        comments::create_comment,
        comments::patch_comment,
        publications::list_publications,
        publications::create_publication,
        publications::correct_publication,
        publications::add_metrics,
        imports::create_import,
        imports::run_import,
        imports::get_import,
        imports::import_report,
        notifications::list_notifications,
        notifications::mark_read,
        notifications::get_settings,
        notifications::put_settings,
        webhooks::list_webhooks,
        webhooks::create_webhook,
        webhooks::update_webhook,
        webhooks::delete_webhook,
        audit::get_history,
        audit::list_audit,
        review::get_review_queue,
        board::get_board,
        stats::get_stats,
        stats::export_stats,
        compliance::list_findings,
        compliance::override_finding,
        compliance::mask_finding,
        compliance::list_wordlists,
        compliance::create_wordlist,
        compliance::get_wordlist,
        compliance::update_wordlist,
        compliance::put_wordlist_terms,
        compliance::delete_wordlist,
        compliance::check_text,
    ),
    components(schemas(
        crate::domain::fields::Credit,
        crate::domain::work::Kind,
        crate::domain::work::Status,
        crate::domain::user::Role
    ))
)]
struct ApiDoc;

/// Serves the OpenAPI document.
pub async fn get_openapi() -> web::Json<utoipa::openapi::OpenApi> {
    web::Json(ApiDoc::openapi())
}
