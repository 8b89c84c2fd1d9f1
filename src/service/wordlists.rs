//! The admins' word lists: listed, read, created, replaced and removed; each change puts
//! every work up for a fresh check (the sweep in `jobs::compliance` runs it) and is audited.
//! Also the "try a text" box: the findings of any text against the current lists.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit;
use super::auth::AuthUser;
use super::compliance::{Compliance, ComplianceError};
use crate::clock::now;
use crate::db::Db;
use crate::db::compliance::{self as rows, WordlistRow};
use crate::domain::FieldError;
use crate::domain::compliance::words::parse_terms;
use crate::domain::compliance::{Category, Level};
use crate::domain::fields::LimitUnit;
use crate::domain::user::Role;

/// Longest list name and category, in characters.
const NAME_MAX_CHARS: usize = 50;
/// Largest list text, in bytes.
pub const TERMS_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Longest text the "try a text" box checks, in bytes.
pub const TRY_MAX_BYTES: usize = 1024 * 1024;

/// A list as clients see it (its terms only when one list is asked for).
#[derive(Debug, Clone)]
pub struct WordlistView {
    pub id: String,
    pub name: String,
    pub category: String,
    pub level: Level,
    pub term_count: i32,
    pub terms: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl WordlistView {
    fn from_row(row: WordlistRow, with_terms: bool) -> Self {
        Self {
            level: Level::parse(&row.level).unwrap_or(Level::Review),
            terms: with_terms.then_some(row.terms),
            id: row.id,
            name: row.name,
            category: row.category,
            term_count: row.term_count,
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A list as sent: every field for a new list; any of them for a change.
#[derive(Debug, Clone, Default)]
pub struct WordlistInput {
    pub name: Option<String>,
    pub category: Option<String>,
    pub level: Option<String>,
    pub terms: Option<String>,
}

fn ensure_admin(user: &AuthUser) -> Result<(), ComplianceError> {
    if user.is_admin() { Ok(()) } else { Err(ComplianceError::RoleRequired("admin")) }
}

pub async fn list(db: &Db, user: &AuthUser) -> Result<Vec<WordlistView>, ComplianceError> {
    ensure_admin(user)?;
    let lists = db.read(rows::all_lists).await?;
    Ok(lists.into_iter().map(|row| WordlistView::from_row(row, false)).collect())
}

pub async fn get(db: &Db, user: &AuthUser, id: String) -> Result<WordlistView, ComplianceError> {
    ensure_admin(user)?;
    let row = db.read(move |conn| rows::find_list(conn, &id)).await?.ok_or(ComplianceError::ListNotFound)?;
    Ok(WordlistView::from_row(row, true))
}

fn short_text(field: &str, value: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(|text| text.trim().to_owned()) else { return Ok(None) };
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    if value.chars().count() > NAME_MAX_CHARS {
        return Err(FieldError::too_long(field, NAME_MAX_CHARS, LimitUnit::Chars));
    }
    Ok(Some(value))
}

/// Applies what was sent to a list (a new one starts empty), checking every line.
fn apply(mut row: WordlistRow, input: WordlistInput) -> Result<WordlistRow, ComplianceError> {
    if let Some(name) = short_text("name", input.name)? {
        row.name = name;
    }
    if let Some(category) = short_text("category", input.category)? {
        if Category::parse(&category).is_detector() {
            return Err(FieldError::invalid("category", "is reserved for the built-in detectors").into());
        }
        row.category = category;
    }
    if let Some(level) = input.level {
        let level =
            Level::parse(level.trim()).ok_or_else(|| FieldError::invalid("level", "must be block or review"))?;
        row.level = level.as_str().to_owned();
    }
    if let Some(terms) = input.terms {
        if terms.len() > TERMS_MAX_BYTES {
            return Err(FieldError::too_long("terms", TERMS_MAX_BYTES, LimitUnit::Bytes).into());
        }
        row.terms = terms;
    }
    let level = Level::parse(&row.level).unwrap_or(Level::Review);
    let parsed = parse_terms(&row.terms, &row.category, level)
        .map_err(|error| FieldError::invalid("terms", error.to_string()))?;
    row.term_count = parsed.len() as i32;
    Ok(row)
}

pub async fn create(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    input: WordlistInput,
) -> Result<WordlistView, ComplianceError> {
    ensure_admin(user)?;
    for (field, value) in [("name", &input.name), ("category", &input.category), ("level", &input.level)] {
        if value.is_none() {
            return Err(FieldError::required(field).into());
        }
    }
    let stamp = now();
    let empty = WordlistRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: String::new(),
        category: String::new(),
        level: String::new(),
        terms: String::new(),
        term_count: 0,
        created_by: Some(user.id.to_string()),
        created_at: stamp,
        updated_at: stamp,
    };
    let row = apply(empty, input)?;
    let (stored, caller) = (row.clone(), user.clone());
    db.write(move |conn| -> Result<(), ComplianceError> {
        rows::insert_list(conn, &stored)?;
        rows::mark_all_unchecked(conn)?;
        let details = json!({"name": stored.name, "category": stored.category, "level": stored.level, "terms": stored.term_count});
        audit::record(conn, Some(&caller), "wordlist.created", ("wordlist", &stored.id), details, stamp)?;
        Ok(())
    })
    .await?;
    compliance.sweep.notify_one();
    Ok(WordlistView::from_row(row, true))
}

pub async fn update(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    id: String,
    input: WordlistInput,
) -> Result<WordlistView, ComplianceError> {
    ensure_admin(user)?;
    let caller = user.clone();
    let row = db
        .write(move |conn| -> Result<WordlistRow, ComplianceError> {
            let before = rows::find_list(conn, &id)?.ok_or(ComplianceError::ListNotFound)?;
            let mut row = apply(before.clone(), input)?;
            // Strictly later than before, so every node sees that the lists changed.
            row.updated_at = now().max(before.updated_at + chrono::Duration::microseconds(1));
            rows::update_list(conn, &row)?;
            rows::mark_all_unchecked(conn)?;
            let details = json!({"name": row.name, "category": row.category, "level": row.level, "terms": row.term_count, "terms_before": before.term_count});
            audit::record(conn, Some(&caller), "wordlist.updated", ("wordlist", &row.id), details, row.updated_at)?;
            Ok(row)
        })
        .await?;
    compliance.sweep.notify_one();
    Ok(WordlistView::from_row(row, true))
}

pub async fn delete(db: &Db, compliance: &Arc<Compliance>, user: &AuthUser, id: String) -> Result<(), ComplianceError> {
    ensure_admin(user)?;
    let caller = user.clone();
    db.write(move |conn| -> Result<(), ComplianceError> {
        let row = rows::find_list(conn, &id)?.ok_or(ComplianceError::ListNotFound)?;
        rows::delete_list(conn, &id)?;
        rows::mark_all_unchecked(conn)?;
        let details = json!({"name": row.name, "terms": row.term_count});
        audit::record(conn, Some(&caller), "wordlist.deleted", ("wordlist", &id), details, now())?;
        Ok(())
    })
    .await?;
    compliance.sweep.notify_one();
    Ok(())
}

/// A finding in a tried text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriedFinding {
    pub start: usize,
    pub end: usize,
    pub category: String,
    pub level: Level,
    pub excerpt: String,
}

/// The findings of any text against the current lists (reviewers and admins).
pub async fn try_text(
    db: &Db,
    compliance: &Arc<Compliance>,
    user: &AuthUser,
    text: String,
) -> Result<Vec<TriedFinding>, ComplianceError> {
    if !user.has(Role::Reviewer) && !user.is_admin() {
        return Err(ComplianceError::RoleRequired("reviewer"));
    }
    if text.len() > TRY_MAX_BYTES {
        return Err(FieldError::too_long("text", TRY_MAX_BYTES, LimitUnit::Bytes).into());
    }
    let compliance = compliance.clone();
    let checker = db.read(move |conn| compliance.checker(conn)).await?;
    let found = tokio::task::spawn_blocking(move || {
        checker
            .scan(&text)
            .into_iter()
            .map(|found| TriedFinding {
                start: found.start,
                end: found.end,
                category: found.category.as_str().to_owned(),
                level: found.level,
                excerpt: found.excerpt.into_owned(),
            })
            .collect()
    })
    .await
    .map_err(|error| crate::db::DbError::Task(error.to_string()))?;
    Ok(found)
}
