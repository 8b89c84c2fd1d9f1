//! The JSON API benchmark's peer: an actix-web hello-world handler on the same machine.
//! Usage: `hello_actix 127.0.0.1:PORT`.

use actix_web::{App, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".into());
    HttpServer::new(|| App::new().route("/", web::get().to(|| async { "Hello world!" }))).bind(address)?.run().await
}
