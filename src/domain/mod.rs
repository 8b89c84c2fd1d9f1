//! Plain-Rust domain types: identifiers, work kinds and states, validated field values and
//! roles. Nothing here knows about HTTP, the database or the search index.

pub mod archive;
pub mod compliance;
pub mod fields;
pub mod filter;
pub mod fold;
pub mod frames;
pub mod ids;
pub mod lifecycle;
pub mod media;
pub mod notice;
pub mod page;
pub mod preview;
pub mod subtitles;
pub mod transition;
pub mod user;
pub mod webhook;
pub mod work;

pub use fields::FieldError;
