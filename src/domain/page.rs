//! Pagination of list endpoints.

use super::fields::FieldError;

/// Default page size.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// Largest page size.
pub const MAX_PER_PAGE: i64 = 100;
/// Highest page number; beyond this, offsets stop being meaningful.
pub const MAX_PAGE: i64 = 100_000;

/// A validated page request (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Page number, from 1.
    pub page: i64,
    /// Items per page.
    pub per_page: i64,
}

impl Page {
    /// Applies defaults and checks bounds.
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<Self, FieldError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(FieldError::invalid("page", format!("must be between 1 and {MAX_PAGE}")));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(FieldError::invalid("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
        }
        Ok(Self { page, per_page })
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_first_page_of_twenty() {
        assert_eq!(Page::parse(None, None).unwrap(), Page { page: 1, per_page: 20 });
    }

    #[test]
    fn out_of_range_pages_name_the_bound() {
        assert!(Page::parse(Some(0), None).unwrap_err().message.contains("between 1 and"));
        assert_eq!(Page::parse(Some(-3), None).unwrap_err().field, "page");
        assert_eq!(Page::parse(Some(MAX_PAGE + 1), None).unwrap_err().field, "page");
        assert_eq!(Page::parse(None, Some(101)).unwrap_err().field, "per_page");
    }

    #[test]
    fn offset_counts_whole_pages() {
        assert_eq!(Page::parse(Some(3), Some(10)).unwrap().offset(), 20);
    }
}
