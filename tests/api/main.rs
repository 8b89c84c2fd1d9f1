//! The integration suite: every test starts a real server on port 0 over a fresh database
//! (SQLite by default; PostgreSQL when `MICROCAT_TEST_DATABASE=postgres`) and talks HTTP to it.

mod access;
mod archive;
mod auth;
mod cluster;
mod compliance;
mod crash;
mod database;
mod errors;
mod everyday;
mod film_review;
mod fixtures;
mod garage_soak;
mod helpers;
mod load;
mod media;
mod notifications;
mod pages;
mod production;
mod read_cache;
mod search;
mod search_corpus;
mod snapshots;
mod storage;
mod upload_memory;
mod uploads;
mod users;
mod visibility;
mod webhooks;
mod works;
