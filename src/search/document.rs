//! A work as tantivy indexes it: our own document type over a [`SearchDocument`], so the
//! indexing threads read the work's strings where they are. tantivy's `TantivyDocument`
//! copied every text into its own buffer, and each text twice (once for the word field, once
//! for the bigram field): copying was most of what the thread feeding a rebuild spent.

use std::iter::Empty;

use tantivy::Document;
use tantivy::schema::Field;
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};

use super::{Fields, SearchDocument};

/// One work, ready for an index writer.
#[derive(Debug)]
pub struct IndexedWork {
    fields: Fields,
    work: SearchDocument,
    /// The text that is neither title nor body (see [`SearchDocument::extra_text`]).
    extra: String,
}

impl IndexedWork {
    pub fn new(work: SearchDocument, fields: Fields) -> Self {
        let extra = work.extra_text();
        Self { fields, work, extra }
    }
}

/// A value of an indexed work: a borrowed text or a number.
#[derive(Debug, Clone, Copy)]
pub enum IndexedValue<'a> {
    Text(&'a str),
    Number(i64),
}

impl<'a> Value<'a> for IndexedValue<'a> {
    type ArrayIter = Empty<Self>;
    type ObjectIter = Empty<(&'a str, Self)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            IndexedValue::Text(text) => ReferenceValueLeaf::Str(text),
            IndexedValue::Number(number) => ReferenceValueLeaf::I64(number),
        })
    }
}

impl Document for IndexedWork {
    type Value<'a> = IndexedValue<'a>;
    type FieldsValuesIter<'a> = std::vec::IntoIter<(Field, IndexedValue<'a>)>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        fn text(field: Field, value: &str) -> (Field, IndexedValue<'_>) {
            (field, IndexedValue::Text(value))
        }
        let (fields, work) = (&self.fields, &self.work);
        let mut values = vec![
            text(fields.id, &work.id),
            text(fields.title_words, &work.title),
            text(fields.title_bigrams, &work.title),
            text(fields.extra_words, &self.extra),
            text(fields.extra_bigrams, &self.extra),
            text(fields.body_words, &work.body),
            text(fields.body_bigrams, &work.body),
            text(fields.kind, &work.kind),
            text(fields.status, &work.status),
            text(fields.unit, work.unit.as_deref().unwrap_or("")),
            text(fields.channel, work.channel.as_deref().unwrap_or("")),
            text(fields.created_by, &work.created_by),
            (fields.year, IndexedValue::Number(work.year)),
            (fields.date, IndexedValue::Number(work.date_micros)),
        ];
        values.extend(work.tags.iter().map(|tag| text(fields.tag, tag)));
        values.extend(work.assignees.iter().map(|assignee| text(fields.assignee, assignee)));
        values.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::TantivyDocument;

    use super::*;

    /// Every field of the schema gets the value the work gives it, and nothing else.
    #[test]
    fn every_field_gets_its_value() {
        let (schema, fields) = super::super::schema();
        let work = SearchDocument {
            id: "w1".into(),
            kind: "micro_film".into(),
            status: "published".into(),
            title: "反诈宣传".into(),
            summary: "摘要".into(),
            body: "民警在社区".into(),
            tags: vec!["反诈".into(), "宣传".into()],
            unit: Some("城关派出所".into()),
            channel: None,
            created_by: "u1".into(),
            assignees: vec!["u2".into()],
            date_micros: 1_700_000_000_000_000,
            year: 2023,
            ..SearchDocument::default()
        };
        let document: TantivyDocument = IndexedWork::new(work.clone(), fields).into_tantivy_document();
        let texts =
            |field: Field| -> Vec<&str> { document.get_all(field).filter_map(|value| value.as_str()).collect() };
        let numbers =
            |field: Field| -> Vec<i64> { document.get_all(field).filter_map(|value| value.as_i64()).collect() };
        let extra = work.extra_text();
        let expected_texts: [(Field, Vec<&str>); 14] = [
            (fields.id, vec!["w1"]),
            (fields.title_words, vec!["反诈宣传"]),
            (fields.title_bigrams, vec!["反诈宣传"]),
            (fields.extra_words, vec![&extra]),
            (fields.extra_bigrams, vec![&extra]),
            (fields.body_words, vec!["民警在社区"]),
            (fields.body_bigrams, vec!["民警在社区"]),
            (fields.kind, vec!["micro_film"]),
            (fields.status, vec!["published"]),
            (fields.unit, vec!["城关派出所"]),
            (fields.channel, vec![""]),
            (fields.tag, vec!["反诈", "宣传"]),
            (fields.created_by, vec!["u1"]),
            (fields.assignee, vec!["u2"]),
        ];
        for (field, expected) in &expected_texts {
            assert_eq!(&texts(*field), expected, "{}", schema.get_field_name(*field));
        }
        assert_eq!(numbers(fields.year), [2023]);
        assert_eq!(numbers(fields.date), [1_700_000_000_000_000]);
        // Every field of the schema is one of those above.
        assert_eq!(schema.fields().count(), expected_texts.len() + 2);
    }
}
