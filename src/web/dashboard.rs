//! `/`: the viewer's works, what waits for them, and the production chart.

use actix_web::web;
use askama::Template;
use chrono::{TimeZone, Utc};

use super::chart::{self, MonthlyChart};
use super::page::{self, Chrome, PageResult, Viewer};
use super::views::WorkCard;
use super::works::cards_of;
use crate::db::works::WorkOrder;
use crate::domain::filter::WorkFilter;
use crate::domain::work::{Kind, Status};
use crate::error::ApiError;
use crate::service::review;
use crate::service::stats::{self, GroupBy};
use crate::service::works as service;
use crate::state::AppState;

struct Total {
    kind: &'static str,
    label: &'static str,
    count: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    my_works: Vec<WorkCard>,
    queue_count: Option<usize>,
    /// What waits for the reviewer's decision, oldest first (the first few).
    queue: Vec<WorkCard>,
    /// The viewer's works sent back for changes.
    returned: Vec<WorkCard>,
    overdue: Vec<WorkCard>,
    chart: MonthlyChart,
    chart_width: u32,
    chart_height: u32,
    published: Vec<Total>,
}

/// How many of the waiting works the dashboard names (the queue page lists them all).
const QUEUE_SHOWN: usize = 8;

/// Works past their due date that the viewer created or is assigned to.
async fn overdue_for(app: &AppState, viewer: &Viewer) -> Result<Vec<WorkCard>, ApiError> {
    let works = service::overdue_works(&app.db, &viewer.user).await?;
    Ok(works.iter().map(|work| WorkCard { overdue: true, ..WorkCard::of(work, viewer.lang, None) }).collect())
}

/// `GET /`.
pub async fn get_dashboard(app: web::Data<AppState>, viewer: Viewer) -> PageResult {
    let user = &viewer.user;
    let mine_query = service::WorkQuery {
        created_by: Some(user.id.as_str().to_owned()),
        ..service::WorkQuery::everything(WorkOrder::RecentlyUpdated, 12)
    };
    let mine = service::list_works(&app.db, user, mine_query).await?;
    let waiting = match viewer.is_reviewer() {
        true => Some(review::review_queue(&app.db, user).await?),
        false => None,
    };
    let queue_count = waiting.as_ref().map(Vec::len);
    let queue =
        waiting.iter().flatten().take(QUEUE_SHOWN).map(|item| WorkCard::of(&item.work, viewer.lang, None)).collect();
    let returned_query = service::WorkQuery {
        filter: WorkFilter { status: Some(Status::ChangesRequested), ..WorkFilter::default() },
        created_by: Some(user.id.as_str().to_owned()),
        ..service::WorkQuery::everything(WorkOrder::Oldest, 20)
    };
    let returned = service::list_works(&app.db, user, returned_query).await?;
    let since_always = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
    let numbers = stats::stats(&app.db, user, (since_always, None), GroupBy::MonthAndKind).await?;
    let months = chart::last_months(numbers.to);
    let published = Kind::ALL
        .iter()
        .map(|kind| Total {
            kind: kind.as_str(),
            label: viewer.lang.kind(*kind),
            count: numbers.published.get(kind.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let page = DashboardPage {
        chrome: viewer.chrome("dashboard", None),
        my_works: cards_of(&app, &mine.items, viewer.lang).await?,
        queue_count,
        queue,
        returned: returned.items.iter().map(|work| WorkCard::of(work, viewer.lang, None)).collect(),
        overdue: overdue_for(&app, &viewer).await?,
        chart: chart::monthly_by_kind(&numbers.created, &months, viewer.lang),
        chart_width: chart::WIDTH,
        chart_height: chart::HEIGHT,
        published,
    };
    page::render(&page)
}
