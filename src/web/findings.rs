//! The compliance findings on the pages: the panel on the work and edit pages (each finding
//! where it is, with "mask it", "show" and a reviewer's override dialog), and the two form
//! posts behind those buttons.

use actix_web::web;

use super::i18n::Lang;
use super::page::{self, PageResult, SignedForm, Viewer};
use crate::edge::params::work_id;
use crate::service::findings::{self, FindingView};
use crate::service::works::{self as works_service, Work};
use crate::state::AppState;

/// One finding as the panel shows it.
pub struct FindingItem {
    pub id: String,
    pub level: String,
    pub level_label: &'static str,
    pub category_label: String,
    pub field: String,
    pub field_label: String,
    pub excerpt: String,
    pub status: String,
    pub status_label: &'static str,
    /// The text around it, for findings in the title, summary or body: before, it, after.
    pub context: Option<Context>,
    /// Its place in UTF-16 code units (what a textarea selects), for "show".
    pub select: Option<(usize, usize)>,
    pub maskable: bool,
    /// `reviewer：reason` of an override.
    pub decision: Option<String>,
    pub acknowledged_by: Option<String>,
}

/// What the panel needs.
pub struct FindingsPanel {
    pub work_id: String,
    pub version: i64,
    pub open: Vec<FindingItem>,
    pub decided: Vec<FindingItem>,
    pub fixed: usize,
    pub can_mask: bool,
    pub can_override: bool,
    /// Where a form post sends the reader back to.
    pub back: &'static str,
}

impl FindingsPanel {
    pub fn open_block(&self) -> usize {
        self.open.iter().filter(|item| item.level == "block").count()
    }

    pub fn open_review(&self) -> usize {
        self.open.iter().filter(|item| item.level == "review").count()
    }
}

/// A category's name in the reader's language.
pub fn category_label(lang: Lang, category: &str) -> String {
    let parsed = crate::domain::compliance::Category::parse(category);
    match (lang, parsed.is_detector()) {
        (Lang::Zh, _) | (Lang::En, false) => parsed.label_zh().to_owned(),
        (Lang::En, true) => match category {
            "id_card" => "ID number",
            "mobile" => "Mobile number",
            "bank_card" => "Bank card number",
            "plate" => "Licence plate",
            "email" => "E-mail address",
            _ => "Photo location",
        }
        .to_owned(),
    }
}

/// Where a finding is, as the team reads it: the error catalogue's name of a work's field,
/// or which part of a publication record or medium.
fn field_label(lang: Lang, field: &str) -> String {
    let t = lang.text();
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let part = field.rsplit('.').next().unwrap_or_default();
    match (base, part) {
        ("publications", _) => t.field_publication.to_owned(),
        ("media", "subtitles") => t.field_subtitles.to_owned(),
        ("media", "gps") => t.field_photo.to_owned(),
        ("media", _) => t.field_filename.to_owned(),
        _ => super::error_text::field_label(lang, field),
    }
}

/// The text of a field of the work the panel can show in place.
fn field_text<'a>(work: &'a Work, field: &str) -> Option<&'a str> {
    match field {
        "title" => Some(&work.title),
        "body" => Some(&work.body),
        "summary" => work.summary.as_deref(),
        _ => None,
    }
}

/// Characters shown on each side of a finding.
const CONTEXT_CHARS: usize = 24;

/// The text before a finding, the finding, and the text after it.
type Context = (String, String, String);

/// A finding's context and its place in UTF-16 code units.
fn context_of(text: &str, start: usize, end: usize) -> Option<(Context, (usize, usize))> {
    let chars: Vec<char> = text.chars().collect();
    if start > end || end > chars.len() {
        return None;
    }
    let from = start.saturating_sub(CONTEXT_CHARS);
    let to = (end + CONTEXT_CHARS).min(chars.len());
    let before: String = chars[from..start].iter().collect();
    let before = if from > 0 { format!("…{before}") } else { before };
    let after: String = chars[end..to].iter().collect();
    let after = if to < chars.len() { format!("{after}…") } else { after };
    let utf16 = |upto: usize| chars[..upto].iter().map(|c| c.len_utf16()).sum::<usize>();
    Some(((before, chars[start..end].iter().collect(), after), (utf16(start), utf16(end))))
}

fn item(view: FindingView, work: &Work, lang: Lang) -> FindingItem {
    let t = lang.text();
    let placed = field_text(work, &view.field)
        .filter(|_| view.status == "open")
        .and_then(|text| context_of(text, view.start.max(0) as usize, view.end.max(0) as usize));
    let (context, select) = placed.map_or((None, None), |(context, select)| (Some(context), Some(select)));
    let excerpt = if view.category == "gps" { t.photo_location.to_owned() } else { view.excerpt };
    FindingItem {
        level_label: if view.level == "block" { t.level_block } else { t.level_review },
        status_label: match view.status.as_str() {
            "fixed" => t.finding_fixed,
            "overridden" => t.finding_overridden,
            _ => t.finding_open,
        },
        category_label: category_label(lang, &view.category),
        field_label: field_label(lang, &view.field),
        decision: view
            .overridden
            .map(|decision| format!("{}：{}", decision.by_name, decision.reason.unwrap_or_default())),
        acknowledged_by: view.acknowledged.map(|decision| decision.by_name),
        id: view.id,
        level: view.level,
        field: view.field,
        excerpt,
        status: view.status,
        context,
        select,
        maskable: view.maskable,
    }
}

/// The panel for the team and reviewers (staff do not see production notes); `back` is
/// `work` or `edit`.
pub async fn panel(
    app: &AppState,
    viewer: &Viewer,
    work: &Work,
    back: &'static str,
) -> Result<Option<FindingsPanel>, page::WebError> {
    if !crate::service::access::sees_production(&viewer.user) {
        return Ok(None);
    }
    let views =
        findings::list_findings(&app.db, &viewer.user, work.id.clone()).await.map_err(crate::error::ApiError::from)?;
    let fixed = views.iter().filter(|view| view.status == "fixed").count();
    let (open, decided): (Vec<FindingItem>, Vec<FindingItem>) = views
        .into_iter()
        .filter(|view| view.status != "fixed")
        .map(|view| item(view, work, viewer.lang))
        .partition(|item| item.status == "open");
    let user = &viewer.user;
    let can_override = user.has(crate::domain::user::Role::Reviewer);
    Ok(Some(FindingsPanel {
        work_id: work.id.to_string(),
        version: work.version,
        open,
        decided,
        fixed,
        can_mask: works_service::may_edit(user, work),
        can_override,
        back,
    }))
}

fn back_to(id: &str, form_back: Option<&str>, done: &str) -> String {
    let page = if form_back == Some("edit") { format!("/works/{id}/edit") } else { format!("/works/{id}") };
    format!("{page}?done={done}#compliance")
}

/// `POST /works/{id}/findings/{finding}/override`: a reviewer's override, with the reason.
pub async fn post_override(
    app: web::Data<AppState>,
    signed: SignedForm,
    path: web::Path<(String, String)>,
) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let (work, finding) = path.into_inner();
    let id = work_id(&work)?;
    match findings::override_finding(&app.db, &viewer.user, id.clone(), finding, form.optional("reason")).await {
        Ok(_) => Ok(page::redirect(&back_to(id.as_str(), form.get("back"), "overridden"))),
        Err(error) => super::work_page::refused(&app, &viewer, id, error.into()).await,
    }
}

/// `POST /works/{id}/findings/{finding}/mask`: "mask it", at the version the page showed.
pub async fn post_mask(app: web::Data<AppState>, signed: SignedForm, path: web::Path<(String, String)>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let (work, finding) = path.into_inner();
    let id = work_id(&work)?;
    let version = form.get("version").and_then(|raw| raw.trim().parse().ok());
    match findings::mask_finding(&app.db, &app.compliance, &viewer.user, id.clone(), finding, version).await {
        Ok(_) => Ok(page::redirect(&back_to(id.as_str(), form.get("back"), "masked"))),
        Err(error) => super::work_page::refused(&app, &viewer, id, error.into()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_and_selection_count_what_a_textarea_counts() {
        let ((before, value, after), select) = context_of("😀电话13812345678。", 3, 14).unwrap();
        assert_eq!((before.as_str(), value.as_str(), after.as_str()), ("😀电话", "13812345678", "。"));
        assert_eq!(select, (4, 15));
        assert!(context_of("短", 0, 5).is_none());
    }

    #[test]
    fn fields_are_named_for_people() {
        assert_eq!(field_label(Lang::Zh, "media[abc].subtitles"), "字幕");
        assert_eq!(field_label(Lang::Zh, "credits[0].name"), "署名");
        assert_eq!(field_label(Lang::Zh, "body"), "正文");
        assert_eq!(field_label(Lang::En, "publications[x].account"), "Publication record");
    }
}
