//! Small view models shared by several pages: a work as a card, select options, and links
//! that keep the current filters.

use super::forms;
use super::i18n::Lang;
use crate::domain::media::Derivative;
use crate::domain::work::{Kind, Status};
use crate::edge::links;
use crate::service::film_facts::FilmFacts;
use crate::service::works::Work;

/// A work as a card or a list row.
#[derive(Debug, Clone)]
pub struct WorkCard {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub unit: String,
    pub thumb: Option<String>,
    pub updated: String,
    pub due: String,
    pub overdue: bool,
    pub assignees: Vec<String>,
    /// Who made it (queue and board).
    pub creator: String,
    /// `第2版 · 01:00` for a film with a cut.
    pub cut: String,
    /// Open compliance findings: `block`, `review`.
    pub findings: (i32, i32),
}

impl WorkCard {
    /// The card of a work, with its thumbnail if it has one.
    pub fn of(work: &Work, lang: Lang, thumb: Option<String>) -> Self {
        WorkCard {
            id: work.id.to_string(),
            title: work.title.clone(),
            kind: work.kind.as_str(),
            kind_label: lang.kind(work.kind),
            status: work.status.as_str(),
            status_label: lang.status(work.status),
            unit: work.unit.clone().unwrap_or_default(),
            thumb,
            updated: forms::show_time(work.updated_at),
            due: work.due_date.clone().unwrap_or_default(),
            overdue: false,
            assignees: Vec::new(),
            creator: String::new(),
            cut: String::new(),
            findings: (work.findings.block, work.findings.review),
        }
    }

    /// The card with a film's facts: the current cut's poster, number and duration, and who
    /// made it.
    pub fn with_facts(self, facts: &FilmFacts, lang: Lang) -> Self {
        let t = lang.text();
        let poster = facts
            .cut
            .as_ref()
            .filter(|cut| cut.has_poster)
            .map(|cut| links::derivative(&cut.media_id, Derivative::Poster));
        let cut = facts.cut.as_ref().map(|cut| {
            let duration = cut.duration_ms.map(forms::show_timecode).unwrap_or_default();
            format!("{}{}{} · {duration}", t.cut_prefix, cut.number, t.cut_suffix)
        });
        WorkCard {
            thumb: poster.or(self.thumb),
            creator: facts.creator_name.clone(),
            cut: cut.unwrap_or_default(),
            ..self
        }
    }
}

/// One `<option>`.
#[derive(Debug, Clone)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The kinds as options, `current` selected.
pub fn kind_options(lang: Lang, current: Option<&str>) -> Vec<SelectOption> {
    Kind::ALL
        .iter()
        .map(|kind| SelectOption {
            value: kind.as_str().to_owned(),
            label: lang.kind(*kind).to_owned(),
            selected: current == Some(kind.as_str()),
        })
        .collect()
}

/// The states as options, `current` selected.
pub fn status_options(lang: Lang, current: Option<&str>) -> Vec<SelectOption> {
    Status::ALL
        .iter()
        .map(|status| SelectOption {
            value: status.as_str().to_owned(),
            label: lang.status(*status).to_owned(),
            selected: current == Some(status.as_str()),
        })
        .collect()
}

/// `path?k=v&…` with blank values left out.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        query.append_pair(key, value);
    }
    let query = query.finish();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

/// Previous and next page links.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub page: i64,
    pub pages: i64,
}

impl Pager {
    /// Links for `page` of `total` items at `per_page`, built by `href(page)`.
    pub fn new(page: i64, per_page: i64, total: i64, href: impl Fn(i64) -> String) -> Self {
        let pages = ((total + per_page - 1) / per_page).max(1);
        Pager { prev: (page > 1).then(|| href(page - 1)), next: (page < pages).then(|| href(page + 1)), page, pages }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_drop_blank_values_and_encode_chinese() {
        assert_eq!(link("/works", &[("kind", ""), ("tag", "")]), "/works");
        assert_eq!(
            link("/search", &[("q", "反诈 宣传"), ("page", "2")]),
            "/search?q=%E5%8F%8D%E8%AF%88+%E5%AE%A3%E4%BC%A0&page=2"
        );
    }

    #[test]
    fn pager_offers_only_existing_pages() {
        let pager = Pager::new(1, 20, 41, |page| format!("/works?page={page}"));
        assert_eq!((pager.prev, pager.next.as_deref(), pager.pages), (None, Some("/works?page=2"), 3));
        let last = Pager::new(3, 20, 41, |page| format!("?page={page}"));
        assert_eq!((last.prev.as_deref(), last.next), (Some("?page=2"), None));
        assert_eq!(Pager::new(1, 20, 0, |_| String::new()).pages, 1);
    }
}
