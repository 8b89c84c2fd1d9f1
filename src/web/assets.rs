//! The script and stylesheet, embedded in the binary so the site works offline with no
//! front-end server. Pages link them with `?v=<hash>`, so they may be cached for a year.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// The page script.
pub const APP_JS: &str = include_str!("../../static/app.js");
/// The stylesheet.
pub const APP_CSS: &str = include_str!("../../static/app.css");
/// tus-js-client (npm, pinned in package.json; see scripts/vendor-js.sh): resumable uploads.
pub const TUS_JS: &str = include_str!("../../static/vendor/tus.min.js");
/// Its licence (MIT), served beside it.
pub const TUS_LICENSE: &str = include_str!("../../static/vendor/tus-js-client.LICENSE");

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
        "tus.min.js" => asset("text/javascript; charset=utf-8", TUS_JS),
        "tus-js-client.LICENSE" => asset("text/plain; charset=utf-8", TUS_LICENSE),
        _ => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded copy is the one package-lock.json pins (`make deps` installs it with npm ci).
    #[test]
    fn the_vendored_tus_client_is_the_pinned_one() {
        let lock = include_str!("../../package-lock.json");
        let entry =
            lock.split("\"node_modules/tus-js-client\": {").nth(1).expect("package-lock.json has tus-js-client");
        assert!(entry.trim_start().starts_with("\"version\": \"4.3.1\""), "package-lock.json pins tus-js-client 4.3.1");
        let installed = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/tus-js-client/dist/tus.min.js");
        match std::fs::read_to_string(installed) {
            Ok(text) => {
                assert!(text == TUS_JS, "static/vendor/tus.min.js differs from npm's: run scripts/vendor-js.sh")
            }
            Err(_) if std::env::var("CI").as_deref() != Ok("true") => eprintln!("node_modules missing: run make deps"),
            Err(error) => panic!("{installed}: {error} (make deps runs npm ci)"),
        }
        assert!(TUS_LICENSE.contains("MIT License"));
    }
}
