//! Staff find an approved Weibo post by a Chinese phrase: highlighted hits, the query kept in
//! the URL, and a facet that narrows the results.

use microcat::domain::user::Role;
use serde_json::json;

use crate::api::{self, PHRASE};
use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn staff_find_a_work_by_a_chinese_phrase_with_highlighting() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let reviewer = app.user_with_roles("reviewer", &[Role::Reviewer]).await;
    let staff = app.user_with_roles("staff", &[Role::Staff]).await;
    let body = json!({
        "kind": "weibo_post",
        "title": "全民反诈在行动",
        "body": format!("今天，刑侦大队民警走进社区，开展{PHRASE}活动，提醒群众守好钱袋子。"),
        "unit": "刑侦大队",
        "tags": ["反诈"],
    });
    let id = api::id_of(&app.create_work(&author, body).await);
    api::transition(&app, &author, &id, "submit").await;
    api::transition(&app, &reviewer, &id, "approve").await;
    api::wait_searchable(&app, &staff, PHRASE).await;
    let browser = Browser::start(&app, "search").await;

    browser.login("staff", PASSWORD).await;
    browser.goto("/search").await;
    browser.screenshot("search-empty").await;
    browser.submit_text("#q", PHRASE).await;
    see_highlighted_hits(&browser, &id).await;
    narrow_by_a_facet(&browser).await;
    facets_fold_on_a_phone(&browser).await;
    browser.finish().await;
}

/// On a phone the facets start folded under 筛选, one tap away; the results come first.
async fn facets_fold_on_a_phone(browser: &Browser) {
    browser.set_window(390, 844).await;
    browser.reload().await;
    browser.wait_for("details#facet-fold:not([open])").await;
    browser.screenshot("search-phone-folded").await;
    browser.click("details#facet-fold > summary").await;
    browser.wait_for("details#facet-fold[open]").await;
    browser.set_window(1366, 900).await;
}

/// The results page keeps the query and marks the matched words.
async fn see_highlighted_hits(browser: &Browser, id: &str) {
    browser.wait_for("ol#results li.result").await;
    let url = browser.url().await;
    assert_eq!(url.path(), "/search");
    assert!(url.query().unwrap_or_default().contains("q="), "the query stays in the URL: {url}");
    let kept = browser.attr_now("#q", "value").await.unwrap_or_default();
    assert_eq!(kept, PHRASE, "the search box keeps the query");
    browser.wait_for("p#result-count").await;
    browser.wait_for(&format!("ol#results li.result a.result-title[href$=\"/works/{id}\"]")).await;
    let marks = browser.find_all("ol#results li.result mark").await;
    assert!(!marks.is_empty(), "{}", browser.report("no <mark> in the results").await);
    for mark in marks {
        let text = browser.ok(mark.text().await, "reading a <mark>").await;
        assert!(!text.is_empty() && PHRASE.contains(text.as_str()), "highlighted {text:?} is not part of {PHRASE}");
    }
    browser.screenshot("search-results").await;
}

/// Clicking a facet changes the URL, keeps the query, marks the facet active and still finds the post.
async fn narrow_by_a_facet(browser: &Browser) {
    let before = browser.url().await;
    let facet = if browser.count("nav#facets a.facet[href*=\"kind=\"]:not(.active)").await > 0 {
        "nav#facets a.facet[href*=\"kind=\"]:not(.active)"
    } else {
        "nav#facets a.facet:not(.active)"
    };
    browser.click_and_load(facet).await;
    let after = browser.url().await;
    assert_ne!(after, before, "a facet leads to another URL");
    assert!(after.query().unwrap_or_default().contains("q="), "the facet keeps the query: {after}");
    browser.wait_for("nav#facets a.facet.active").await;
    browser.wait_for("ol#results li.result").await;
    browser.screenshot("search-facet").await;
}
