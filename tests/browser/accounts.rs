//! Accounts in the browser: switching the language, logging out, and an admin creating a
//! user who can then log in.

use microcat::domain::user::Role;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp};

#[actix_rt::test]
async fn language_switch_and_logout() {
    let app = TestApp::spawn().await;
    app.user_with_roles("lisi", &[Role::Contributor]).await;
    let browser = Browser::start(&app, "language").await;

    browser.login("lisi", PASSWORD).await;
    browser.wait_attr("html", "lang", "zh-CN").await;
    browser.screenshot("dashboard-zh").await;

    browser.click_and_load("a.lang-switch").await;
    browser.wait_attr("html", "lang", "en").await;
    browser.wait_text_contains("nav.mainnav", "Works").await;
    browser.screenshot("dashboard-en").await;

    browser.click_and_load("a.lang-switch").await;
    browser.wait_attr("html", "lang", "zh-CN").await;
    browser.wait_text_contains("nav.mainnav", "作品").await;

    browser.logout().await;
    browser.wait_for("form#login-form").await;
    browser.screenshot("logged-out").await;
    browser.goto("/").await;
    browser.wait_path("/login").await;
    browser.wait_for("form#login-form").await;
    browser.finish().await;
}

#[actix_rt::test]
async fn admin_creates_a_user_who_can_log_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app, "admin-users").await;

    browser.login("admin", ADMIN_PASSWORD).await;
    browser.goto("/admin/users").await;
    browser.wait_for("form#user-form").await;
    browser.screenshot("users").await;
    browser.fill("#user-form input[name=username]", "wangwu").await;
    browser.fill("#user-form input[name=display_name]", "王五").await;
    browser.fill("#user-form input[type=password][name=password]", "wangwu-password-1").await;
    browser.check("#user-form input[type=checkbox][name=roles][value=contributor]").await;
    browser.screenshot("user-form-filled").await;
    browser.click_and_load("#create-user").await;
    let row = browser.wait_text_contains("table#users tbody", "wangwu").await;
    assert!(row.contains("王五"), "the new row shows the display name: {row}");
    browser.screenshot("user-created").await;
    browser.logout().await;

    browser.login("wangwu", "wangwu-password-1").await;
    browser.wait_path("/").await;
    browser.wait_for("section#my-works").await;
    browser.wait_text_contains("span.whoami", "王五").await;
    browser.screenshot("new-user-dashboard").await;
    let account = app.login("wangwu", "wangwu-password-1").await;
    let me = app.get("/api/v1/me", &account).await.json();
    assert!(me.to_string().contains("contributor"), "the new user is a contributor: {me}");
    browser.finish().await;
}
