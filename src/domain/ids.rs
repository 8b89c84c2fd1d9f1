//! Identifier newtypes. Ids are UUIDv7 strings: generated in Rust so both databases store the
//! same thing, and time-ordered so newest-first sorting by id is cheap.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7().to_string())
            }

            /// Parses an id from a path or body; only canonical UUID text is accepted.
            pub fn parse(raw: &str) -> Option<Self> {
                Uuid::parse_str(raw).ok().map(|uuid| Self(uuid.hyphenated().to_string()))
            }

            /// Wraps an id read back from the database.
            pub fn from_db(raw: String) -> Self {
                Self(raw)
            }

            /// The id as stored and shown.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned string, for database rows.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// Reads as the text it is, where a query or a URL wants `&str` (as lemmy's newtypes).
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Identifies a work (micro-film, post, article or proposal).
    WorkId
);
id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies one uploaded medium (one upload; its bytes may be shared with others).
    MediaId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let first = WorkId::generate();
        let second = WorkId::generate();
        assert_eq!(WorkId::parse(first.as_str()), Some(first.clone()));
        assert!(first.as_str() < second.as_str());
    }

    #[test]
    fn non_uuid_text_is_not_an_id() {
        assert_eq!(WorkId::parse("../etc/passwd"), None);
        assert_eq!(WorkId::parse(""), None);
    }

    #[test]
    fn uppercase_uuid_is_normalised_to_lowercase() {
        let id = WorkId::generate();
        let parsed = WorkId::parse(&id.as_str().to_uppercase()).unwrap();
        assert_eq!(parsed, id);
    }
}
