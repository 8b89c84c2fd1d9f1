//! microcat: production, review, catalog and search of a public-security bureau's network
//! culture team's micro-content (微电影, 微博, 微信文章, 微改项目).
//!
//! Data flows one way: `http` (routes, extractors, response shapes) → `service` (use cases) →
//! `domain` (plain rules) and `db` (diesel over SQLite or PostgreSQL).

pub mod app;
pub mod cli;
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
