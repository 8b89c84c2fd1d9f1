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

#[actix_rt::test]
async fn an_admin_adds_a_group_robot_and_sees_its_deliveries() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app, "webhooks").await;
    browser.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    browser.goto("/admin/webhooks").await;
    browser.wait_for("form#webhook-form").await;
    browser.select("#webhook-kind", "dingtalk").await;
    browser.fill("#webhook-url", "http://127.0.0.1:9/robot/send?access_token=secret").await;
    browser.click("#webhook-form input[value=\"review_waiting\"]").await;
    browser.click_and_load("#add-webhook").await;
    let robot = browser.wait_text_contains("section.robot", "钉钉群机器人").await;
    assert!(robot.contains("待我审核"), "{robot}");
    assert!(!robot.contains("secret"), "the robot's key is not shown: {robot}");
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    api::submitted_film(&app, &author, "推送测试").await;
    browser.reload().await;
    browser.wait_text_contains("section.robot table.deliveries tbody", "待我审核").await;
    browser.screenshot("robots").await;
    browser.set_window(390, 844).await;
    browser.screenshot("robots-phone").await;
    browser.finish().await;
}

#[actix_rt::test]
async fn the_back_button_after_a_step_shows_the_work_as_it_is_now() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    let draft = app
        .create_work(&author, serde_json::json!({"kind": "weibo_post", "title": "返回键测试", "body": "正文"}))
        .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let browser = Browser::start(&app, "back-button").await;
    browser.login("author", PASSWORD).await;
    browser.goto(&format!("/works/{id}")).await;
    browser.wait_class("#work-status", "status-draft").await;
    browser.click_and_load("button.action[value=\"submit\"]").await;
    browser.wait_class("#work-status", "status-submitted").await;
    browser.back().await;
    // Whether the browser keeps the page in its back-forward cache or not, it shows now's state.
    browser.wait_class("#work-status", "status-submitted").await;
    assert!(browser.count("button.action[value=\"submit\"]").await == 0, "no stale submit button");
    browser.finish().await;
}
