//! microcat: production, review, catalog and search of a public-security bureau's network
//! culture team's micro-content (微电影, 微博, 微信文章, 微改项目).
//!
//! Data flows one way: `http` (the API) and `web` (the pages), sharing `edge` → `service` (use
//! cases, with `state` holding their handles) → `domain` (plain rules), `db` (diesel over SQLite
//! or PostgreSQL), `storage`, `search` and `media`; `jobs` runs in the background beside the
//! services. Nothing below reaches up; `error` turns service errors into HTTP answers.

pub mod app;
pub mod backup;
pub mod cli;
pub mod cli_check;
pub mod cli_export;
pub mod cli_import;
pub mod cli_store;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod edge;
pub mod error;
pub mod http;
pub mod jobs;
pub mod media;
pub mod search;
pub mod service;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;
