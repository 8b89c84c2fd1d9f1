//! The browser suite: real journeys through the web pages, driven in headless Chromium over
//! WebDriver (`chromedriver` + `fantoccini`). Every test starts its own server (`TestApp`, on a
//! fresh SQLite or PostgreSQL database per `MICROCAT_TEST_DATABASE`) and its own browser, and
//! saves a screenshot of every page it visits under `<target>/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`make test` installs both). Override the
//! programs with `CHROMEDRIVER` (default: `chromedriver` on `PATH`) and `CHROMIUM` (default:
//! `/usr/bin/chromium`). Films are made with Debian's `ffmpeg`, as in the API suite.

// Shared with the API suite; this suite uses only a part of them.
#[expect(dead_code, reason = "shared with the API suite, which uses the rest")]
#[path = "../api/helpers.rs"]
mod helpers;

// Shared with the API suite; this suite uses only a part of them.
#[expect(dead_code, reason = "shared with the API suite, which uses the rest")]
#[path = "../api/fixtures.rs"]
mod fixtures;

mod api;
mod browser;
mod files;

mod accounts;
mod archive;
mod compliance;
mod film;
mod film_review;
mod notifications;
mod pages;
mod resumable;
mod review;
mod safety;
mod search;
