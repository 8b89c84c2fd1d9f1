//! Two reviewers approve a submitted film from `/review` (两级审核: two different sign-offs),
//! while its author, a reviewer too, may not decide on it.

use microcat::domain::user::Role;

use crate::api;
use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn reviewers_approve_a_submitted_film_from_the_queue_with_two_signoffs() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor, Role::Reviewer]).await;
    app.user_with_roles("chushen", &[Role::Reviewer]).await;
    app.user_with_roles("zhongshen", &[Role::Reviewer]).await;
    let id = api::submitted_film(&app, &author, "《守护》微电影").await;
    let browser = Browser::start(&app, "review").await;

    author_may_not_decide(&browser, &id).await;
    approve_from_queue(&browser, "chushen", &id, "画面清晰，初审通过。").await;
    assert_eq!(api::status_of(&app, &id).await, "submitted", "one sign-off does not approve a film");
    see_status(&browser, &id, "submitted").await;
    browser.logout().await;

    approve_from_queue(&browser, "zhongshen", &id, "终审通过。").await;
    see_status(&browser, &id, "approved").await;
    decisions_named_in_chinese(&browser).await;
    assert_eq!(api::status_of(&app, &id).await, "approved");
    approved_card_on_the_board(&browser, &id).await;
    browser.finish().await;
}

/// The author sees the self-review rule on the work, no approve button, and no queue entry.
async fn author_may_not_decide(browser: &Browser, id: &str) {
    browser.login("author", PASSWORD).await;
    browser.goto(&format!("/works/{id}")).await;
    browser.wait_for("p#self-review-note").await;
    browser.wait_class("#work-status", "status-submitted").await;
    assert_eq!(browser.count("button.action[value=\"approve\"]").await, 0, "the author must not see approve");
    browser.screenshot("author-own-work").await;
    browser.goto("/review").await;
    browser.wait_for("p#self-review-rule").await;
    assert_eq!(browser.count(&queue_item(id)).await, 0, "the author's own work is not in their queue");
    browser.screenshot("author-queue").await;
    browser.logout().await;
}

/// Logs in as `reviewer`, approves the work from `/review` with a comment, and checks that it
/// left the reviewer's queue.
async fn approve_from_queue(browser: &Browser, reviewer: &str, id: &str, comment: &str) {
    browser.login(reviewer, PASSWORD).await;
    browser.goto("/review").await;
    let item = queue_item(id);
    browser.wait_for(&item).await;
    browser.screenshot(&format!("{reviewer}-queue")).await;
    browser.fill(&format!("{item} form.review-form textarea[name=comment]"), comment).await;
    browser.click_and_load(&format!("{item} form.review-form button.action[value=\"approve\"]")).await;
    browser.wait_path("/review").await;
    browser.wait_gone(&item).await;
    browser.screenshot(&format!("{reviewer}-approved")).await;
}

/// Opens the work and checks its status badge.
async fn see_status(browser: &Browser, id: &str, status: &str) {
    browser.goto(&format!("/works/{id}")).await;
    browser.wait_class("#work-status", &format!("status-{status}")).await;
    browser.screenshot(&format!("work-{status}")).await;
}

/// The decisions' comments name the step (【通过】), never its code, at desktop and phone width.
async fn decisions_named_in_chinese(browser: &Browser) {
    let comments = browser.text("#comment-list").await;
    assert!(comments.contains("【通过】终审通过。"), "{comments}");
    assert!(!comments.contains("[approve]"), "{comments}");
    browser.set_window(390, 844).await;
    browser.screenshot("phone-work-approved").await;
    browser.goto("/review").await;
    browser.screenshot("phone-queue").await;
    browser.set_window(1366, 768).await;
}

/// The film's card sits in the board's "approved" column, and the history names both steps.
async fn approved_card_on_the_board(browser: &Browser, id: &str) {
    browser.goto("/board?kind=micro_film").await;
    let card = format!("section.board-column[data-status=\"approved\"] article.card a.work-link[href=\"/works/{id}\"]");
    browser.wait_for(&card).await;
    browser.screenshot("board").await;
    browser.goto(&format!("/works/{id}")).await;
    browser.wait_text_contains("ol#history", "终审通过").await;
}

/// The selector of the work's entry in the review queue.
fn queue_item(id: &str) -> String {
    format!("ul#queue li.queue-item[data-work-id=\"{id}\"]")
}
