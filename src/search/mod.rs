//! Full-text search over the archive with tantivy: the schema, the index's generations on
//! disk (`index/CURRENT` names the live one, so `microcat reindex` can build a fresh one and
//! switch atomically), and turning works into documents. The database stays the source of
//! truth: the index only ever holds what the outbox says, and can always be rebuilt.

pub mod analysis;
pub mod document;
pub mod facets;
pub mod query;
pub mod searcher;
pub mod topk;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use analysis::{BIGRAMS, BigramTokenizer, WORDS, WordTokenizer};
use document::IndexedWork;

/// Memory budget of the live index writer, in bytes: small batches every 250 ms need little.
const WRITER_MEMORY_BYTES: usize = 48 * 1024 * 1024;
/// A rebuild indexes everything at once and may use more: bigger first segments mean fewer
/// merges of a million documents (each merge rewrites what it merges).
const REBUILD_MEMORY_BYTES: usize = 768 * 1024 * 1024;
/// Name of the file that names the live generation.
const CURRENT_FILE: &str = "CURRENT";

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub title_words: Field,
    pub title_bigrams: Field,
    pub extra_words: Field,
    pub extra_bigrams: Field,
    pub body_words: Field,
    pub body_bigrams: Field,
    pub kind: Field,
    pub status: Field,
    pub unit: Field,
    pub channel: Field,
    pub tag: Field,
    pub created_by: Field,
    pub assignee: Field,
    pub year: Field,
    pub date: Field,
}

fn text_field(builder: &mut tantivy::schema::SchemaBuilder, name: &str, tokenizer: &str, positions: bool) -> Field {
    let record = if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
    let indexing = TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record);
    builder.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
}

/// The schema and its fields.
pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let keyword = STRING | FAST;
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        title_words: text_field(&mut builder, "title_words", WORDS, false),
        title_bigrams: text_field(&mut builder, "title_bigrams", BIGRAMS, true),
        extra_words: text_field(&mut builder, "extra_words", WORDS, false),
        extra_bigrams: text_field(&mut builder, "extra_bigrams", BIGRAMS, true),
        body_words: text_field(&mut builder, "body_words", WORDS, false),
        body_bigrams: text_field(&mut builder, "body_bigrams", BIGRAMS, true),
        kind: builder.add_text_field("kind", keyword.clone()),
        status: builder.add_text_field("status", keyword.clone()),
        unit: builder.add_text_field("unit", keyword.clone()),
        channel: builder.add_text_field("channel", keyword.clone()),
        tag: builder.add_text_field("tag", STRING),
        created_by: builder.add_text_field("created_by", STRING),
        assignee: builder.add_text_field("assignee", STRING),
        year: builder.add_i64_field("year", INDEXED | FAST),
        date: builder.add_i64_field("date", INDEXED | FAST),
    };
    (builder.build(), fields)
}

/// Everything about a work that search looks at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchDocument {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub tags: Vec<String>,
    pub credit_names: Vec<String>,
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub filenames: Vec<String>,
    /// Lines of the film's subtitles.
    pub dialogue: Vec<String>,
    pub created_by: String,
    /// Assigned user ids (they may see the work like its creator).
    pub assignees: Vec<String>,
    /// Publication time if published, else creation time (UTC microseconds).
    pub date_micros: i64,
    pub year: i64,
}

impl SearchDocument {
    /// The text that is neither title nor body: summary, tags, names, unit, channel, files,
    /// subtitles.
    pub fn extra_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.summary];
        parts.extend(self.tags.iter().map(String::as_str));
        parts.extend(self.credit_names.iter().map(String::as_str));
        parts.extend(self.unit.iter().map(String::as_str));
        parts.extend(self.channel.iter().map(String::as_str));
        parts.extend(self.filenames.iter().map(String::as_str));
        parts.extend(self.dialogue.iter().map(String::as_str));
        parts.join("\n")
    }
}

/// What the last commit of a generation covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    /// The change log position applied through: the writing transaction's id (0 on SQLite)…
    #[serde(default)]
    pub applied_txid: i64,
    /// …and the sequence number within it.
    pub applied_seq: i64,
    /// When the generation was built from the database (UTC microseconds).
    pub built_at_micros: i64,
}

/// One index generation: a folder under the index root.
pub struct Generation {
    pub name: String,
    pub index: Index,
    pub reader: IndexReader,
    /// The payload of the commit the reader shows. A commit is on disk a moment before the
    /// reader reloads; health and the indexer's position must not run ahead of searches.
    visible: RwLock<CommitPayload>,
    /// The facet columns of the reader's segments, opened as each searcher opens.
    pub facet_columns: Arc<facets::FacetColumns>,
}

impl Generation {
    /// The payload of the commit its reader shows.
    fn visible_payload(&self) -> CommitPayload {
        *self.visible.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Errors of the search layer.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Other(String),
}

/// The live index and its writer.
pub struct SearchIndex {
    root: PathBuf,
    pub fields: Fields,
    jieba: Arc<Jieba>,
    live: RwLock<Arc<Generation>>,
    writer: std::sync::Mutex<Option<IndexWriter<IndexedWork>>>,
}

impl SearchIndex {
    /// Opens the live generation under `root`, or creates an empty one. Returns whether the
    /// index was newly created (then it must be filled from the database).
    pub fn open(root: &Path, jieba: Arc<Jieba>) -> Result<(Self, bool), IndexError> {
        std::fs::create_dir_all(root)?;
        let (_, fields) = schema();
        let current = std::fs::read_to_string(root.join(CURRENT_FILE)).ok().map(|name| name.trim().to_owned());
        let opened = current.as_deref().and_then(|name| open_generation(root, name, &jieba).ok());
        let (generation, created) = match opened {
            Some(generation) => (generation, false),
            None => {
                let name = create_generation(root, &jieba)?;
                switch_current(root, &name)?;
                (open_generation(root, &name, &jieba)?, true)
            }
        };
        let index = Self {
            root: root.to_owned(),
            fields,
            jieba,
            live: RwLock::new(Arc::new(generation)),
            writer: std::sync::Mutex::new(None),
        };
        Ok((index, created))
    }

    /// The live generation (cheap: an `Arc`).
    pub fn live(&self) -> Arc<Generation> {
        self.live.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Names what a search would see now (generation and commit), so a cached result
    /// computed on an older view is never reused.
    pub fn view_version(&self) -> String {
        let live = self.live();
        let commit = live.reader.searcher().generation().generation_id();
        format!("{}@{commit}", live.name)
    }

    /// The segmenter.
    pub fn jieba(&self) -> &Arc<Jieba> {
        &self.jieba
    }

    /// The name written in `CURRENT`, if readable.
    pub fn current_name(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join(CURRENT_FILE)).ok().map(|name| name.trim().to_owned())
    }

    /// Switches to the generation `CURRENT` names, if it changed; returns its payload.
    pub fn follow_current(&self) -> Result<Option<CommitPayload>, IndexError> {
        let Some(name) = self.current_name() else { return Ok(None) };
        if name == self.live().name {
            return Ok(None);
        }
        let generation = open_generation(&self.root, &name, &self.jieba)?;
        let payload = generation.visible_payload();
        let old = {
            let mut writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(mut old_writer) = writer.take() {
                let _ = old_writer.commit();
            }
            let mut live = self.live.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            std::mem::replace(&mut *live, Arc::new(generation))
        };
        let _ = std::fs::remove_dir_all(self.root.join(&old.name));
        tracing::info!(generation = %name, "switched to a rebuilt search index");
        Ok(Some(payload))
    }

    /// Applies documents and deletions in one commit, recording the payload.
    pub fn apply(
        &self,
        upserts: Vec<SearchDocument>,
        deletions: &[String],
        payload: CommitPayload,
    ) -> Result<(), IndexError> {
        let generation = self.live();
        let mut guard = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            *guard = Some(generation.index.writer(WRITER_MEMORY_BYTES)?);
        }
        let writer = guard.as_mut().expect("writer was just created");
        for id in deletions.iter().chain(upserts.iter().map(|document| &document.id)) {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        for document in upserts {
            writer.add_document(IndexedWork::new(document, self.fields))?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
        commit.commit()?;
        generation.reader.reload()?;
        *generation.visible.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = payload;
        Ok(())
    }

    /// The payload of the commit searches of the live generation see.
    pub fn payload(&self) -> CommitPayload {
        self.live().visible_payload()
    }

    /// Documents in the live generation.
    pub fn document_count(&self) -> u64 {
        self.live().reader.searcher().num_docs()
    }
}

fn read_payload(index: &Index) -> CommitPayload {
    index
        .load_metas()
        .ok()
        .and_then(|metas| metas.payload)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn register_analyzers(index: &Index, jieba: &Arc<Jieba>) {
    index.tokenizers().register(WORDS, WordTokenizer::new(jieba.clone()));
    index.tokenizers().register(BIGRAMS, BigramTokenizer);
}

/// Creates an empty generation folder and returns its name.
pub fn create_generation(root: &Path, jieba: &Arc<Jieba>) -> Result<String, IndexError> {
    let name = format!("gen-{}", uuid::Uuid::now_v7().simple());
    let dir = root.join(&name);
    std::fs::create_dir_all(&dir)?;
    let (schema, _) = schema();
    let index = Index::create_in_dir(&dir, schema)?;
    register_analyzers(&index, jieba);
    Ok(name)
}

/// Opens a generation, checking it has our schema.
pub fn open_generation(root: &Path, name: &str, jieba: &Arc<Jieba>) -> Result<Generation, IndexError> {
    let index = Index::open_in_dir(root.join(name))?;
    let (expected, _) = schema();
    if index.schema() != expected {
        return Err(IndexError::Other(format!("generation {name} has an older schema")));
    }
    register_analyzers(&index, jieba);
    // Read before the reader opens: what it shows is this commit or a later one.
    let visible = RwLock::new(read_payload(&index));
    let facet_columns = Arc::new(facets::FacetColumns::default());
    let warmer = Arc::downgrade(&facet_columns) as Weak<dyn tantivy::Warmer>;
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).warmers(vec![warmer]).try_into()?;
    Ok(Generation { name: name.to_owned(), index, reader, visible, facet_columns })
}

/// Points `CURRENT` at a generation atomically (write a temp file, fsync, rename).
pub fn switch_current(root: &Path, name: &str) -> Result<(), IndexError> {
    let temp = root.join(format!("{CURRENT_FILE}.tmp-{}", std::process::id()));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(name.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temp, root.join(CURRENT_FILE))?;
    std::fs::File::open(root)?.sync_all()?;
    Ok(())
}

/// Writes a whole generation (rebuilds): documents go to tantivy's indexing threads as they
/// are added, and nothing is visible until [`GenerationFiller::finish`] commits once.
pub struct GenerationFiller {
    writer: IndexWriter<IndexedWork>,
    fields: Fields,
    count: u64,
}

impl GenerationFiller {
    /// Opens the (empty) generation `name` for filling.
    pub fn open(root: &Path, name: &str, jieba: &Arc<Jieba>) -> Result<Self, IndexError> {
        let generation = open_generation(root, name, jieba)?;
        let (_, fields) = schema();
        let writer = generation.index.writer(REBUILD_MEMORY_BYTES)?;
        Ok(Self { writer, fields, count: 0 })
    }

    /// Hands one document to the indexing threads.
    pub fn add(&mut self, document: SearchDocument) -> Result<(), IndexError> {
        self.writer.add_document(IndexedWork::new(document, self.fields))?;
        self.count += 1;
        Ok(())
    }

    /// Commits everything with `payload` and waits for merges; returns the document count.
    pub fn finish(mut self, payload: CommitPayload) -> Result<u64, IndexError> {
        let mut commit = self.writer.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
        commit.commit()?;
        self.writer.wait_merging_threads()?;
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit on disk that the reader has not loaded yet is not reported: health and the
    /// indexer's position never run ahead of what a search sees.
    #[test]
    fn the_payload_is_the_commit_searches_see() {
        let root = tempfile::tempdir().expect("temp folder");
        let (index, created) = SearchIndex::open(root.path(), analysis::segmenter(None)).expect("index");
        assert!(created);
        let on_disk_only = CommitPayload { applied_seq: 7, ..CommitPayload::default() };
        {
            let mut writer: IndexWriter<IndexedWork> = index.live().index.writer(WRITER_MEMORY_BYTES).expect("writer");
            writer.add_document(IndexedWork::new(document("w0"), index.fields)).expect("add");
            let mut commit = writer.prepare_commit().expect("prepare");
            commit.set_payload(&serde_json::to_string(&on_disk_only).expect("payload"));
            commit.commit().expect("commit");
        }
        assert_eq!(read_payload(&index.live().index), on_disk_only);
        assert_eq!(index.payload(), CommitPayload::default(), "the reader has not loaded that commit");
        assert_eq!(index.document_count(), 0);
        let applied = CommitPayload { applied_seq: 8, ..CommitPayload::default() };
        index.apply(vec![document("w1")], &[], applied).expect("apply");
        assert_eq!(index.payload(), applied);
        assert_eq!(index.document_count(), 2);
    }

    fn document(id: &str) -> SearchDocument {
        SearchDocument { id: id.into(), title: "反诈宣传".into(), ..SearchDocument::default() }
    }
}
