//! A reviewer sees the bell's count, opens the inbox, follows a notice to its work (which marks
//! it read) and turns a kind of notice off; desktop and phone.

use std::time::Duration;

use microcat::domain::user::Role;

use crate::api;
use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn a_reviewer_follows_the_bell_to_the_work_waiting_for_them() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let id = api::submitted_film(&app, &author, "《守护》微电影").await;
    let browser = Browser::start(&app, "notifications").await;
    browser.login("chushen", PASSWORD).await;
    browser.wait_for_within("#bell-count:not([hidden])", Duration::from_secs(10)).await;
    assert_eq!(browser.text("#bell-count").await, "1");
    browser.screenshot("bell").await;
    browser.click_and_load("#bell").await;
    browser.wait_text_contains("#inbox li.unread", "《〈守护〉微电影》等待你审核").await;
    browser.screenshot("inbox").await;
    browser.click_and_load("#inbox li.unread button.notice-text").await;
    browser.wait_path(&format!("/works/{id}")).await;
    browser.wait_for("#bell-count[hidden]").await;
    browser.goto("/notifications").await;
    assert_eq!(browser.count("#inbox li.unread").await, 0, "opening it marked it read");
    assert_eq!(browser.text("#unread-count").await, "0");

    browser.click("#notice-settings input[value=\"comment\"]").await;
    browser.click_and_load("#save-notice-settings").await;
    let settings = app.get("/api/v1/notifications/settings", &app.login("chushen", PASSWORD).await).await.json();
    assert_eq!(settings["events"]["comment"], false, "{settings}");
    assert_eq!(settings["events"]["review_waiting"], true);
    browser.set_window(390, 844).await;
    browser.screenshot("inbox-phone").await;
    browser.finish().await;
}
