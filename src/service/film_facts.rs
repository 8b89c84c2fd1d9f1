//! What a reviewer sees of a film before opening it, on the review queue and the board: who
//! made it, its current cut (number, duration, poster) and how many review notes on it are
//! open or resolved.

use std::collections::HashMap;

use crate::db::{DbConnection, comments, media, users};
use crate::domain::ids::{MediaId, UserId, WorkId};

/// The latest ready cut of a film.
#[derive(Debug, Clone, PartialEq)]
pub struct CutFacts {
    pub media_id: MediaId,
    /// 第N版.
    pub number: i32,
    pub duration_ms: Option<i64>,
    pub has_poster: bool,
}

/// Review notes (comments pinned to a cut) of a work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoteCounts {
    pub open: usize,
    pub resolved: usize,
}

/// The facts of one work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilmFacts {
    pub creator_name: String,
    pub cut: Option<CutFacts>,
    pub notes: NoteCounts,
}

/// The facts of several works, read in three queries.
pub fn film_facts(
    conn: &mut DbConnection,
    works: &[(WorkId, UserId)],
) -> diesel::QueryResult<HashMap<WorkId, FilmFacts>> {
    let ids: Vec<String> = works.iter().map(|(id, _)| id.to_string()).collect();
    let creators: Vec<String> = works.iter().map(|(_, creator)| creator.to_string()).collect();
    let names: HashMap<String, String> = users::display_names(conn, &creators)?.into_iter().collect();
    let mut cuts: HashMap<WorkId, CutFacts> = HashMap::new();
    for row in media::latest_cuts_of(conn, &ids)? {
        let newer = cuts.get(&row.work_id).is_none_or(|cut| cut.number < row.version);
        if newer {
            let has_poster =
                row.derivatives.iter().any(|name| name == crate::domain::media::Derivative::Poster.file_name());
            let cut = CutFacts { media_id: row.id, number: row.version, duration_ms: row.duration_ms, has_poster };
            cuts.insert(row.work_id, cut);
        }
    }
    let mut notes: HashMap<WorkId, NoteCounts> = HashMap::new();
    for (work, resolved) in comments::notes_of(conn, &ids)? {
        let counts = notes.entry(work).or_default();
        if resolved { counts.resolved += 1 } else { counts.open += 1 }
    }
    Ok(works
        .iter()
        .map(|(id, creator)| {
            let facts = FilmFacts {
                creator_name: names.get(creator.as_str()).cloned().unwrap_or_default(),
                cut: cuts.remove(id),
                notes: notes.remove(id).unwrap_or_default(),
            };
            (id.clone(), facts)
        })
        .collect())
}
