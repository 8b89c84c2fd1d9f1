//! Background workers: the persisted media job queue ([`media`]) and the outbox indexer that
//! keeps the search index in step with the database ([`indexer`]).

pub mod compliance;
pub mod indexer;
pub mod media;
pub mod nodes;
pub mod reminders;
pub mod uploads;
pub mod webhooks;

pub use media::{JobRunner, PreviewRules, Workers};
