//! The web pages people use: server-rendered HTML (askama templates in `templates/`), a little
//! JavaScript and CSS embedded from `static/`, all served by `microcat serve`. Handlers here
//! call the same services as the JSON API; they never touch the database directly.

pub mod admin;
pub mod admin_nodes;
pub mod admin_webhooks;
pub mod assets;
pub mod auth;
pub mod chart;
pub mod compare;
pub mod dashboard;
pub mod error_text;
pub mod findings;
pub mod forms;
pub mod i18n;
pub mod notifications;
pub mod page;
pub mod production;
pub mod search;
pub mod views;
pub mod wordlists;
pub mod work_page;
pub mod works;

use actix_web::web;

/// Registers every page. Bookmarkable addresses: `/login`, `/`, `/works`, `/works/new`,
/// `/works/{id}`, `/review`, `/board`, `/search?q=…`, `/admin/users`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/{name}").get(assets::get_asset))
        .service(web::resource("/login").get(auth::get_login).post(auth::post_login))
        .service(web::resource("/logout").post(auth::post_logout))
        .service(web::resource("/lang").get(auth::get_lang))
        .service(web::resource("/").get(dashboard::get_dashboard))
        .service(web::resource("/works").get(works::get_works))
        .service(web::resource("/works/new").get(works::get_new_work).post(works::post_new_work))
        .service(web::resource("/works/{id}").get(work_page::get_work))
        .service(web::resource("/works/{id}/compare").get(compare::get_compare))
        .service(web::resource("/works/{id}/edit").get(works::get_edit_work).post(works::post_edit_work))
        .service(web::resource("/works/{id}/transition").post(work_page::post_transition))
        .service(web::resource("/works/{id}/comments").post(work_page::post_comment))
        .service(web::resource("/works/{id}/comments/{comment}/resolve").post(work_page::post_resolve))
        .service(web::resource("/works/{id}/publications").post(work_page::post_publication))
        .service(web::resource("/works/{id}/delete").post(work_page::post_delete_work))
        .service(web::resource("/works/{id}/findings/{finding}/override").post(findings::post_override))
        .service(web::resource("/works/{id}/findings/{finding}/mask").post(findings::post_mask))
        .service(web::resource("/works/{id}/media/{media}/delete").post(work_page::post_delete_media))
        .service(web::resource("/notifications").get(notifications::get_notifications))
        .service(web::resource("/notifications/read").post(notifications::post_read_all))
        .service(web::resource("/notifications/settings").post(notifications::post_settings))
        .service(web::resource("/notifications/{id}/open").post(notifications::post_open))
        .service(web::resource("/review").get(production::get_review))
        .service(web::resource("/board").get(production::get_board))
        .service(web::resource("/search").get(search::get_search))
        .service(web::resource("/admin/users").get(admin::get_users).post(admin::post_user))
        .service(web::resource("/admin/import").get(admin::get_import))
        .service(web::resource("/admin/nodes").get(admin_nodes::get_nodes))
        .service(web::resource("/admin/webhooks").get(admin_webhooks::get_webhooks).post(admin_webhooks::post_webhook))
        .service(web::resource("/admin/webhooks/{id}/delete").post(admin_webhooks::post_delete_webhook))
        .service(web::resource("/admin/wordlists").get(wordlists::get_wordlists).post(wordlists::post_wordlist))
        .service(web::resource("/admin/wordlists/try").post(wordlists::post_try))
        .service(
            web::resource("/admin/wordlists/{id}").get(wordlists::get_wordlist).post(wordlists::post_wordlist_update),
        )
        .service(web::resource("/admin/wordlists/{id}/delete").post(wordlists::post_delete_wordlist))
        .service(web::resource("/admin/users/{id}").post(admin::post_user_update));
}

/// Answers unknown paths: the API's JSON envelope under `/api/`, an HTML page elsewhere.
pub async fn fallback(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let error = crate::error::ApiError::route_not_found();
    if req.path().starts_with("/api/") || req.path() == "/healthz" {
        return error.error_response();
    }
    page::WebError::Api(error).error_response()
}
