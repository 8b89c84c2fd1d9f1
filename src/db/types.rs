//! Typed values across the database edge: kinds, states, roles, media roles and statuses and
//! ids are read from rows as their domain types and bound as parameters directly, all stored
//! as TEXT on both backends; JSON columns go through [`Json`]. A value the code does not know
//! is a deserialisation error naming the column's type — never a silent default.
//!
//! The impls are what diesel's `AsExpression`/`FromSqlRow` derives generate, written here so
//! that `domain/` stays free of diesel: the derives would have to sit on the domain types.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::MultiBackend;
use crate::domain::ids::{MediaId, UserId, WorkId};
use crate::domain::lifecycle::Action;
use crate::domain::media::{MediaRole, MediaStatus};
use crate::domain::preview::PreviewStatus;
use crate::domain::user::Role;
use crate::domain::work::{Kind, Status};

/// Reads a TEXT value as a `String`, on any backend.
fn read_text(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<Text, MultiBackend>>::from_sql(bytes)
}

/// A type stored as one TEXT column: its spelling, and how a stored spelling is read back.
trait TextColumn: Sized {
    /// What the column holds, for the error about a value the code does not know.
    const WHAT: &'static str;
    /// The stored spelling.
    fn text(&self) -> &str;
    /// The value a stored spelling stands for; `None` when the code does not know it.
    fn from_text(text: String) -> Option<Self>;
}

/// Implements diesel's traits for a [`TextColumn`]: bound as TEXT (also where the column is
/// nullable), read back through `from_text`.
macro_rules! text_column {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.text());
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.text(), out)
            }
        }

        impl ToSql<Nullable<Text>, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <Self as ToSql<Text, Sqlite>>::to_sql(self, out)
            }
        }

        impl ToSql<Nullable<Text>, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Self as ToSql<Text, Pg>>::to_sql(self, out)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl ToSql<Nullable<Text>, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                <Self as ToSql<Text, MultiBackend>>::to_sql(self, out)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = read_text(bytes)?;
                let unknown = format!("unknown {} {text:?} in the database", <Self as TextColumn>::WHAT);
                <Self as TextColumn>::from_text(text).ok_or_else(|| unknown.into())
            }
        }

        impl Queryable<Text, MultiBackend> for $ty {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<Text> for $ty {
            type Expression = Bound<Text, Self>;

            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Text> for &'a $ty {
            type Expression = Bound<Text, Self>;

            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = Bound<Nullable<Text>, Self>;

            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Nullable<Text>> for &'a $ty {
            type Expression = Bound<Nullable<Text>, Self>;

            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
    )*};
}

/// Implements [`TextColumn`]: each type's name in errors and how a stored spelling is read
/// (enums know their spellings; any stored text is a valid id).
macro_rules! text_columns {
    ($($ty:ty => $what:literal, |$text:ident| $from_text:expr;)*) => {$(
        impl TextColumn for $ty {
            const WHAT: &'static str = $what;

            fn text(&self) -> &str {
                self.as_str()
            }

            fn from_text($text: String) -> Option<Self> {
                $from_text
            }
        }
    )*};
}

text_columns! {
    Kind => "work kind", |text| Kind::parse(&text);
    Status => "work status", |text| Status::parse(&text);
    Role => "role", |text| Role::parse(&text);
    MediaRole => "media role", |text| MediaRole::parse(&text);
    MediaStatus => "media status", |text| MediaStatus::parse(&text);
    PreviewStatus => "preview status", |text| PreviewStatus::parse(&text);
    Action => "lifecycle action", |text| Action::parse(&text);
    WorkId => "work id", |text| Some(WorkId::from_db(text));
    UserId => "user id", |text| Some(UserId::from_db(text));
    MediaId => "media id", |text| Some(MediaId::from_db(text));
}
text_column!(Kind, Status, Role, MediaRole, MediaStatus, PreviewStatus, Action, WorkId, UserId, MediaId);

/// A JSON value stored as TEXT (tags, credits, assignees, derivative names, audit details).
/// Its text is made once, when it is built, so binding it never serialises again.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T> {
    value: T,
    text: String,
}

impl<T: Serialize> Json<T> {
    /// Wraps a value to be stored.
    pub fn new(value: T) -> Self {
        let text = serde_json::to_string(&value).expect("the stored JSON types always serialise");
        Self { value, text }
    }
}

impl<T> Json<T> {
    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The value, owned.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The stored text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T: Default + Serialize> Default for Json<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// Serialises as the value itself (in audit details and responses).
impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: std::fmt::Debug> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.text.as_str());
        Ok(IsNull::No)
    }
}

impl<T: std::fmt::Debug> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(&self.text, out)
    }
}

impl<T: std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl<T: DeserializeOwned> FromSql<Text, MultiBackend> for Json<T> {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = read_text(bytes)?;
        let value = serde_json::from_str(&text).map_err(|error| format!("unreadable JSON in the database: {error}"))?;
        Ok(Self { value, text })
    }
}

impl<T: DeserializeOwned> Queryable<Text, MultiBackend> for Json<T> {
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl<T: Send + Sync + 'static> AsExpression<Text> for Json<T> {
    type Expression = Bound<Text, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T: Send + Sync + 'static> AsExpression<Text> for &Json<T> {
    type Expression = Bound<Text, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T: std::fmt::Debug> ToSql<Nullable<Text>, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        <Self as ToSql<Text, Sqlite>>::to_sql(self, out)
    }
}

impl<T: std::fmt::Debug> ToSql<Nullable<Text>, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Self as ToSql<Text, Pg>>::to_sql(self, out)
    }
}

impl<T: std::fmt::Debug + Send + Sync + 'static> ToSql<Nullable<Text>, MultiBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        <Self as ToSql<Text, MultiBackend>>::to_sql(self, out)
    }
}

impl<T: Send + Sync + 'static> AsExpression<Nullable<Text>> for Json<T> {
    type Expression = Bound<Nullable<Text>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<T: Send + Sync + 'static> AsExpression<Nullable<Text>> for &Json<T> {
    type Expression = Bound<Nullable<Text>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}
