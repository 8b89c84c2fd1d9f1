//! `/works` (the grid), `/works/new` and `/works/{id}/edit` (the form). A refused form comes
//! back with what was typed and each message next to its field.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::forms;
use super::i18n::Lang;
use super::page::{self, Chrome, FormData, PageQuery, PageResult, SignedForm, Viewer};
use super::views::{self, Pager, SelectOption, WorkCard};
use crate::db::works::WorkOrder;
use crate::domain::FieldError;
use crate::domain::filter::{WorkFilter, WorkFilterInput};
use crate::domain::ids::UserId;
use crate::domain::ids::WorkId;
use crate::domain::media::Derivative;
use crate::domain::page::Page;
use crate::domain::work::{NewWorkFields, NewWorkInput, WorkEdit, WorkEditInput};
use crate::edge::links;
use crate::error::ApiError;
use crate::service::works::{self as service, Work, WorkQuery};
use crate::service::{accounts, media};
use crate::state::AppState;

const PER_PAGE: i64 = 24;

/// The grid's filters, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct WorksFilter {
    kind: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    tag: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

impl WorksFilter {
    fn page_number(&self) -> i64 {
        self.page.as_deref().and_then(|raw| raw.trim().parse().ok()).unwrap_or(1).clamp(1, 100_000)
    }

    fn to_query(&self) -> Result<WorkQuery, ApiError> {
        Ok(WorkQuery {
            filter: WorkFilter::parse(self.criteria()).map_err(ApiError::from_query)?,
            page: Page { page: self.page_number(), per_page: PER_PAGE },
            ..WorkQuery::everything(WorkOrder::Newest, PER_PAGE)
        })
    }

    /// The criteria as typed (not flattened into this struct: serde would then lose the
    /// name of a parameter it refuses).
    fn criteria(&self) -> WorkFilterInput {
        WorkFilterInput {
            kind: self.kind.clone(),
            status: self.status.clone(),
            unit: self.unit.clone(),
            tag: self.tag.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }

    fn href(&self, page: i64) -> String {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let page = page.to_string();
        let criteria = self.criteria();
        let (kind, status, unit, tag) =
            (text(&criteria.kind), text(&criteria.status), text(&criteria.unit), text(&criteria.tag));
        let (from, to) = (text(&criteria.from), text(&criteria.to));
        let pairs = [
            ("kind", kind.as_str()),
            ("status", status.as_str()),
            ("unit", unit.as_str()),
            ("tag", tag.as_str()),
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("page", page.as_str()),
        ];
        views::link("/works", &pairs)
    }
}

#[derive(Template)]
#[template(path = "works.html")]
struct WorksPage {
    chrome: Chrome,
    cards: Vec<WorkCard>,
    total: i64,
    kinds: Vec<SelectOption>,
    statuses: Vec<SelectOption>,
    unit: String,
    tag: String,
    from: String,
    to: String,
    can_create: bool,
    pager: Pager,
}

/// Cards for works, with their thumbnails.
pub async fn cards_of(app: &AppState, works: &[Work], lang: Lang) -> Result<Vec<WorkCard>, ApiError> {
    let ids = works.iter().map(|work| work.id.clone()).collect();
    let mut thumbs = media::work_thumbnails(&app.db, ids).await?;
    let mut thumb_of = |work: &Work| thumbs.remove(&work.id).map(|media| links::derivative(&media, Derivative::Small));
    Ok(works.iter().map(|work| WorkCard::of(work, lang, thumb_of(work))).collect())
}

/// `GET /works`.
pub async fn get_works(app: web::Data<AppState>, viewer: Viewer, filter: PageQuery<WorksFilter>) -> PageResult {
    let filter = filter.into_inner();
    let listed = service::list_works(&app.db, &viewer.user, filter.to_query()?).await?;
    let lang = viewer.lang;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let page = WorksPage {
        chrome: viewer.chrome("works", None),
        cards: cards_of(&app, &listed.items, lang).await?,
        total: listed.total,
        kinds: views::kind_options(lang, filter.kind.as_deref()),
        statuses: views::status_options(lang, filter.status.as_deref()),
        unit: text(&filter.unit),
        tag: text(&filter.tag),
        from: text(&filter.from),
        to: text(&filter.to),
        can_create: service::ensure_can_create(&viewer.user).is_ok(),
        pager: Pager::new(listed.page.page, PER_PAGE, listed.total, |page| filter.href(page)),
    };
    page::render(&page)
}

/// What the form fields hold, as text.
#[derive(Debug, Clone, Default)]
struct FormValues {
    kind: String,
    title: String,
    body: String,
    summary: String,
    tags: String,
    unit: String,
    credits: String,
    channel: String,
    external_url: String,
    published_at: String,
    due_date: String,
    assignees: Vec<String>,
    /// Only when correcting a work that went out.
    correction_reason: String,
}

impl FormValues {
    fn from_form(form: &FormData) -> Self {
        FormValues {
            kind: form.text("kind"),
            title: form.text("title"),
            body: form.text("body"),
            summary: form.text("summary"),
            tags: form.text("tags"),
            unit: form.text("unit"),
            credits: form.text("credits"),
            channel: form.text("channel"),
            external_url: form.text("external_url"),
            published_at: form.text("published_at"),
            due_date: form.text("due_date"),
            assignees: form.all("assignees").into_iter().filter(|id| !id.is_empty()).collect(),
            correction_reason: form.text("correction_reason"),
        }
    }

    fn from_work(work: &Work) -> Self {
        FormValues {
            kind: work.kind.as_str().to_owned(),
            title: work.title.clone(),
            body: work.body.clone(),
            summary: work.summary.clone().unwrap_or_default(),
            tags: forms::join_tags(&work.tags),
            unit: work.unit.clone().unwrap_or_default(),
            credits: forms::join_credits(&work.credits),
            channel: work.channel.clone().unwrap_or_default(),
            external_url: work.external_url.clone().unwrap_or_default(),
            published_at: work.published_at.map(forms::to_local_input).unwrap_or_default(),
            due_date: work.due_date.clone().unwrap_or_default(),
            assignees: work.assignees.iter().map(UserId::to_string).collect(),
            correction_reason: String::new(),
        }
    }

    fn optional(value: &str) -> Option<String> {
        Some(value.trim()).filter(|text| !text.is_empty()).map(str::to_owned)
    }

    fn published_at(&self) -> Option<String> {
        Self::optional(&self.published_at).map(|raw| forms::local_input_to_rfc3339(&raw))
    }

    fn new_work(&self) -> Result<NewWorkFields, FieldError> {
        NewWorkFields::parse(NewWorkInput {
            kind: self.kind.clone(),
            title: self.title.clone(),
            body: Some(self.body.clone()),
            summary: Self::optional(&self.summary),
            tags: forms::split_tags(&self.tags),
            unit: Self::optional(&self.unit),
            credits: forms::parse_credits(&self.credits),
            channel: Self::optional(&self.channel),
            external_url: Self::optional(&self.external_url),
            published_at: self.published_at(),
            assignees: self.assignees.clone(),
            due_date: Self::optional(&self.due_date),
        })
    }

    fn edit(&self) -> Result<WorkEdit, FieldError> {
        WorkEdit::parse(WorkEditInput {
            title: Some(self.title.clone()),
            body: Some(self.body.clone()),
            summary: Some(Self::optional(&self.summary)),
            tags: Some(forms::split_tags(&self.tags)),
            unit: Some(Self::optional(&self.unit)),
            credits: Some(forms::parse_credits(&self.credits)),
            channel: Some(Self::optional(&self.channel)),
            external_url: Some(Self::optional(&self.external_url)),
            published_at: Some(self.published_at()),
            assignees: Some(self.assignees.clone()),
            due_date: Some(Self::optional(&self.due_date)),
            correction_reason: Self::optional(&self.correction_reason),
        })
    }
}

#[derive(Template)]
#[template(path = "work_form.html")]
struct WorkFormPage {
    chrome: Chrome,
    heading: &'static str,
    action: String,
    cancel_href: String,
    is_new: bool,
    version: i64,
    kinds: Vec<SelectOption>,
    people: Vec<SelectOption>,
    values: FormValues,
    banner: Option<&'static str>,
    /// The refused field (its base name: `credits` for `credits[2].name`) and why.
    error: Option<(String, String)>,
    /// A correction of a work that went out: the form asks why.
    correcting: bool,
    /// The saved work's compliance findings, where they are.
    findings: Option<super::findings::FindingsPanel>,
}

impl WorkFormPage {
    /// The message for a field, if it is the one refused.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(name, _)| name == field).map(|(_, message)| message.as_str())
    }

    /// `aria-invalid` of a field.
    fn invalid(&self, field: &str) -> &'static str {
        if self.error_for(field).is_some() { "true" } else { "false" }
    }
}

/// The field a message belongs to: `credits[2].name` → `credits`.
fn base_field(field: &str) -> String {
    field.split(['[', '.']).next().unwrap_or(field).to_owned()
}

async fn people_options(app: &AppState, chosen: &[String]) -> Result<Vec<SelectOption>, ApiError> {
    let (users, _) = accounts::list_users(&app.db, Page { page: 1, per_page: 500 }).await?;
    Ok(users
        .into_iter()
        .filter(|user| !user.disabled)
        .map(|user| SelectOption {
            selected: chosen.iter().any(|id| user.id == *id),
            value: user.id.into_string(),
            label: user.display_name,
        })
        .collect())
}

struct FormSpec {
    is_new: bool,
    action: String,
    cancel_href: String,
    version: i64,
    correcting: bool,
    findings: Option<super::findings::FindingsPanel>,
}

async fn form_page(
    app: &AppState,
    viewer: &Viewer,
    spec: FormSpec,
    values: FormValues,
    failure: Option<ApiError>,
) -> PageResult {
    let t = viewer.t();
    let (banner, error, status) = match failure {
        None => (None, None, StatusCode::OK),
        Some(ApiError::Field(field)) => {
            let message = super::error_text::field_error(viewer.lang, &field);
            (Some(t.form_has_errors), Some((base_field(&field.field), message)), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Some(ApiError::VersionConflict { .. }) => (Some(t.version_conflict), None, StatusCode::CONFLICT),
        Some(other) => return Err(other.into()),
    };
    let page = WorkFormPage {
        chrome: viewer.chrome("works", None),
        heading: if spec.is_new { t.new_work } else { t.edit_title },
        kinds: views::kind_options(viewer.lang, Some(values.kind.as_str()).filter(|kind| !kind.is_empty())),
        people: people_options(app, &values.assignees).await?,
        action: spec.action,
        cancel_href: spec.cancel_href,
        is_new: spec.is_new,
        version: spec.version,
        values,
        banner,
        error,
        correcting: spec.correcting,
        findings: spec.findings,
    };
    page::render_with_status(status, &page)
}

fn new_spec() -> FormSpec {
    FormSpec {
        is_new: true,
        action: "/works/new".into(),
        cancel_href: "/works".into(),
        version: 0,
        correcting: false,
        findings: None,
    }
}

/// `GET /works/new`.
pub async fn get_new_work(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    service::ensure_can_create(&viewer.user)?;
    let values = FormValues { kind: "micro_film".into(), ..FormValues::default() };
    form_page(&app, &viewer, new_spec(), values, None).await
}

/// `POST /works/new`: creates the work and shows it.
pub async fn post_new_work(app: web::Data<AppState>, signed: SignedForm) -> PageResult {
    let SignedForm { viewer, form } = signed;
    service::ensure_can_create(&viewer.user)?;
    let values = FormValues::from_form(&form);
    let created = match values.new_work() {
        Ok(fields) => service::create_work(&app.db, &app.compliance, &viewer.user, fields).await,
        Err(field) => Err(field.into()),
    };
    match created {
        Ok(work) => Ok(page::redirect(&format!("/works/{}?done=saved", work.id))),
        Err(error) => form_page(&app, &viewer, new_spec(), values, Some(error.into())).await,
    }
}

fn edit_spec(work_id: &str, version: i64, correcting: bool) -> FormSpec {
    let href = format!("/works/{work_id}");
    FormSpec { is_new: false, action: format!("{href}/edit"), cancel_href: href, version, correcting, findings: None }
}

/// `GET /works/{id}/edit`.
pub async fn get_edit_work(app: web::Data<AppState>, viewer: Viewer, path: web::Path<String>) -> PageResult {
    let id = crate::edge::params::work_id(&path)?;
    let work = service::get_work(&app.db, &viewer.user, id).await?;
    let correcting = service::may_correct(&viewer.user, &work);
    if !correcting {
        service::ensure_editable(&viewer.user, &work)?;
    }
    let mut spec = edit_spec(&work.id, work.version, correcting);
    spec.findings = super::findings::panel(&app, &viewer, &work, "edit").await?;
    form_page(&app, &viewer, spec, FormValues::from_work(&work), None).await
}

/// `POST /works/{id}/edit`: saves with the version the form was loaded at.
pub async fn post_edit_work(app: web::Data<AppState>, signed: SignedForm, path: web::Path<String>) -> PageResult {
    let SignedForm { viewer, form } = signed;
    let id: WorkId = crate::edge::params::work_id(&path)?;
    let version: i64 = form.get("version").and_then(|raw| raw.parse().ok()).unwrap_or(-1);
    let values = FormValues::from_form(&form);
    let correcting = form.get("correcting") == Some("1");
    let saved = match values.edit() {
        Ok(edit) => service::update_work(&app.db, &app.compliance, &viewer.user, id.clone(), version, edit).await,
        Err(field) => Err(field.into()),
    };
    match saved {
        Ok(work) => Ok(page::redirect(&format!("/works/{}?done=saved", work.id))),
        Err(error) => {
            let spec = edit_spec(id.as_str(), version, correcting);
            form_page(&app, &viewer, spec, values, Some(error.into())).await
        }
    }
}
