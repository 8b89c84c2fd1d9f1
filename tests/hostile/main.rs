//! The hostile corpus, in a test process of its own: its bound on the process's peak RSS then
//! measures the server under hostile input, not the rest of the API suite running beside it.
//! It shares the API suite's server harness and fixtures.

// Shared with the API suite; the corpus uses only a part of them.
#[expect(dead_code, reason = "shared with the API suite, which uses the rest")]
#[path = "../api/fixtures.rs"]
mod fixtures;
#[expect(dead_code, reason = "shared with the API suite, which uses the rest")]
#[path = "../api/helpers.rs"]
mod helpers;

mod forged;
mod hostile;
