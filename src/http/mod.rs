//! The API: one route table, the per-request tracing span, and the safety net that turns any
//! framework-made error (unknown route, wrong method) into the API's JSON envelope.

pub mod audit;
pub mod board;
pub mod comments;
pub mod compliance;
pub mod extractors;
pub mod health;
pub mod imports;
pub mod media;
pub mod multipart;
pub mod notifications;
pub mod openapi;
pub mod publications;
pub mod review;
pub mod search;
pub mod session;
pub mod stats;
pub mod timestamps;
pub mod uploads;
pub mod users;
pub mod webhooks;
pub mod works;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::ApiError;
pub use crate::state::AppState;

/// The per-request tracing span, built only when INFO is on for this module: building it
/// walks the route table a second time (regular expressions for `{id}` routes) and formats
/// several fields, which cost an eighth of a cached `GET /api/v1/works/{id}` when logs were
/// set to `warn` and the span was thrown away anyway.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        if tracing::enabled!(tracing::Level::INFO) {
            tracing_actix_web::root_span!(request)
        } else {
            tracing::Span::none()
        }
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Registers every route. The table is the map of the API: read it first.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(health::get_health)).service(
        web::scope("/api/v1")
            .service(web::resource("/openapi.json").get(openapi::get_openapi))
            .service(web::resource("/session").post(session::create_session).delete(session::delete_session))
            .service(web::resource("/me").get(session::get_me))
            .service(web::resource("/users").post(users::create_user).get(users::list_users))
            .service(web::resource("/users/{id}").get(users::get_user).patch(users::update_user))
            .service(web::resource("/works").post(works::create_work).get(works::list_works))
            .service(
                web::resource("/works/{id}").get(works::get_work).patch(works::update_work).delete(works::delete_work),
            )
            .service(web::resource("/works/{id}/restore").post(works::restore_work))
            .service(web::resource("/works/{id}/media").post(media::upload_media).get(media::list_media))
            .service(web::resource("/media/{id}").get(media::get_media).delete(media::delete_media))
            .service(web::resource("/media/{id}/reprocess").post(media::reprocess_media))
            .service(web::resource("/media/{id}/original").get(media::get_original))
            .service(web::resource("/media/{id}/derivatives/{name}").get(media::get_derivative))
            .service(web::resource("/search").get(search::search_works))
            .service(web::resource("/works/{id}/transitions").post(review::create_transition))
            .service(web::resource("/works/{id}/comments").get(comments::list_comments).post(comments::create_comment))
            .service(web::resource("/comments/{id}").patch(comments::patch_comment))
            .service(
                web::resource("/works/{id}/publications")
                    .get(publications::list_publications)
                    .post(publications::create_publication),
            )
            .service(web::resource("/publications/{id}").patch(publications::correct_publication))
            .service(web::resource("/imports").post(imports::create_import))
            .service(web::resource("/imports/{id}").get(imports::get_import))
            .service(web::resource("/imports/{id}/run").post(imports::run_import))
            .service(web::resource("/imports/{id}/report").get(imports::import_report))
            .service(web::resource("/publications/{id}/metrics").post(publications::add_metrics))
            .service(web::resource("/works/{id}/history").get(audit::get_history))
            .service(web::resource("/notifications").get(notifications::list_notifications))
            .service(web::resource("/webhooks").get(webhooks::list_webhooks).post(webhooks::create_webhook))
            .service(web::resource("/webhooks/{id}").patch(webhooks::update_webhook).delete(webhooks::delete_webhook))
            .service(web::resource("/notifications/read").post(notifications::mark_read))
            .service(
                web::resource("/notifications/settings")
                    .get(notifications::get_settings)
                    .put(notifications::put_settings),
            )
            .service(web::resource("/audit").get(audit::list_audit))
            .service(web::resource("/works/{id}/findings").get(compliance::list_findings))
            .service(web::resource("/works/{id}/findings/{finding_id}/override").post(compliance::override_finding))
            .service(web::resource("/works/{id}/findings/{finding_id}/mask").post(compliance::mask_finding))
            .service(web::resource("/wordlists").get(compliance::list_wordlists).post(compliance::create_wordlist))
            .service(
                web::resource("/wordlists/{id}")
                    .get(compliance::get_wordlist)
                    .patch(compliance::update_wordlist)
                    .delete(compliance::delete_wordlist),
            )
            .service(web::resource("/wordlists/{id}/terms").put(compliance::put_wordlist_terms))
            .service(web::resource("/compliance/check").post(compliance::check_text))
            .service(web::resource("/review-queue").get(review::get_review_queue))
            .service(web::resource("/board").get(board::get_board))
            .service(web::resource("/stats").get(stats::get_stats))
            .service(web::resource("/stats/export").get(stats::export_stats))
            .configure(uploads::routes),
    );
}

/// Headers every response carries.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
}

/// Rewrites error responses that did not come from `ApiError` (actix's own 404/405 …) into
/// the envelope, so a client never sees an empty or HTML error body.
pub fn envelope_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        // JSON errors are already enveloped; HTML ones are the pages' own error pages.
        let is_rendered = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| {
            value.as_bytes().starts_with(b"application/json") || value.as_bytes().starts_with(b"text/html")
        });
        let page_error = response.response().extensions().get::<crate::web::page::PageErrorInfo>().copied();
        if let Some(info) = page_error {
            // A page's error, rendered in Chinese; an English reader gets it again in English.
            let lang = crate::web::page::lang_of(response.request());
            if lang != crate::web::i18n::Lang::Zh {
                let (request, rendered) = response.into_parts();
                let body = crate::web::page::error_page_html(lang, info);
                let headers = rendered.headers().clone();
                let mut english = HttpResponse::build(rendered.status()).body(body);
                for (name, value) in headers.iter() {
                    if name != header::CONTENT_LENGTH {
                        english.headers_mut().insert(name.clone(), value.clone());
                    }
                }
                return Ok(ErrorHandlerResponse::Response(
                    ServiceResponse::new(request, english).map_into_right_body(),
                ));
            }
        }
        if is_rendered {
            return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
        }
        let mut error = error_for_status(response.status());
        if let ApiError::RangeNotSatisfiable { size } = &mut error {
            // actix-files says the size in its own Content-Range; keep it in ours.
            *size = response
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|value| value.to_str().ok()?.strip_prefix("bytes */")?.parse().ok());
        }
        let (request, _) = response.into_parts();
        let mut rendered: HttpResponse<BoxBody> = error.error_response();
        rendered.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, rendered).map_into_right_body()))
    })
}

fn error_for_status(status: actix_web::http::StatusCode) -> ApiError {
    match status.as_u16() {
        404 => ApiError::route_not_found(),
        405 => ApiError::MethodNotAllowed,
        416 => ApiError::RangeNotSatisfiable { size: None },
        413 => ApiError::PayloadTooLarge { limit_bytes: 0 },
        400..=499 => ApiError::MalformedJson(format!("bad request ({status})")),
        _ => ApiError::internal(format!("framework error {status}")),
    }
}
