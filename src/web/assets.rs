//! The script and stylesheet, embedded in the binary so the site works offline with no
//! front-end server. Pages link them with `?v=<hash>`, so they may be cached for a year.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// The page script.
pub const APP_JS: &str = include_str!("../../static/app.js");
/// The stylesheet.
pub const APP_CSS: &str = include_str!("../../static/app.css");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

/// `GET /static/{name}`.
pub async fn get_asset(name: web::Path<String>) -> HttpResponse {
    match name.as_str() {
        "app.js" => asset("text/javascript; charset=utf-8", APP_JS),
        "app.css" => asset("text/css; charset=utf-8", APP_CSS),
        _ => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such file"),
    }
}
