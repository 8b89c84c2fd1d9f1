//! The compliance check in the pages (#18): the edit page shows each finding where it is
//! ("show" selects it in the field), "mask it" rewrites the number, a reviewer overrides the
//! rest in a dialog with a reason, acknowledges the plate while approving, and an admin tries
//! a text on `/admin/wordlists` — at desktop and phone width, in Chinese only.

use microcat::domain::user::Role;
use serde_json::json;

use crate::api;
use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, work_json};

const ID_NUMBER: &str = "320102199003071239";

#[actix_rt::test]
async fn findings_are_shown_masked_overridden_and_acknowledged() {
    let app = TestApp::spawn().await;
    let author = app.user_with_roles("author", &[Role::Contributor]).await;
    app.user_with_roles("chushen", &[Role::Reviewer]).await;
    let mut fields = work_json("wechat_article", "寻人启事");
    fields["body"] = json!(format!("老人身份证号{ID_NUMBER}，家属电话13812345678，车牌苏A12345。"));
    let id = api::id_of(&app.create_work(&author, fields).await);
    let browser = Browser::start(&app, "compliance").await;

    browser.login("author", PASSWORD).await;
    browser.goto(&format!("/works/{id}/edit")).await;
    browser.wait_for("#compliance #open-block").await;
    assert_eq!(browser.text("#open-block").await, "阻断 2");
    assert_eq!(browser.text("#open-review").await, "需复核 1");
    let marked = browser.text("#open-findings li.level-block mark").await;
    assert_eq!(marked, ID_NUMBER, "the edit page marks the number where it is");
    browser.screenshot("edit-panel").await;
    // "Show" selects it in the body's textarea.
    browser.click("#open-findings li.level-block button.locate").await;
    let selected = browser
        .eval("const b = document.getElementById('body'); return b.value.substring(b.selectionStart, b.selectionEnd);")
        .await;
    assert_eq!(selected, ID_NUMBER);
    browser.screenshot("edit-findings").await;
    browser.set_window(390, 844).await;
    browser.screenshot("edit-findings-phone").await;
    no_horizontal_scroll(&browser).await;
    browser.set_window(1366, 768).await;

    browser.click_and_load("#open-findings li.level-block form button.mask").await;
    browser.wait_path(&format!("/works/{id}/edit")).await;
    let body = browser.eval("return document.getElementById('body').value;").await;
    assert!(body.as_str().unwrap().contains("3201**********1239"), "{body}");
    assert_eq!(browser.text("#open-block").await, "阻断 1");
    browser.logout().await;

    api::transition(&app, &author, &id, "submit").await;
    browser.login("chushen", PASSWORD).await;
    browser.goto("/review").await;
    browser.wait_text_contains("main", "阻断 1").await;
    browser.screenshot("queue-counts").await;
    browser.goto(&format!("/works/{id}")).await;
    // Approving with a block finding open is refused, in Chinese.
    browser.check("#acknowledge input").await;
    browser.click_and_load("button.action[value=\"approve\"]").await;
    let refusal = browser.wait_text_contains("#error", "阻断").await;
    assert!(!refusal.is_ascii(), "{refusal}");
    browser.screenshot("approve-blocked").await;

    // The override dialog asks for a reason.
    browser.click("#open-findings li.level-block button.override").await;
    browser.wait_for("dialog[open] textarea[name=reason]").await;
    browser.screenshot("override-dialog").await;
    browser.fill("dialog[open] textarea[name=reason]", "家属要求公开电话以便寻人").await;
    browser.click_and_load("dialog[open] button.primary").await;
    browser.wait_for("ul.findings.decided").await;
    assert!(browser.text("ul.findings.decided").await.contains("家属要求公开电话以便寻人"));
    assert_eq!(browser.count("#open-block").await, 0);

    // The plate is acknowledged with the decision.
    browser.check("#acknowledge input").await;
    browser.click_and_load("button.action[value=\"approve\"]").await;
    browser.wait_class("#work-status", "status-approved").await;
    browser.wait_text_contains("#open-findings", "已核看").await;
    browser.screenshot("approved").await;
    assert_eq!(api::status_of(&app, &id).await, "approved");
    browser.logout().await;

    admin_tries_a_text(&browser).await;
    browser.finish().await;
}

async fn admin_tries_a_text(browser: &Browser) {
    browser.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    browser.goto("/admin/wordlists").await;
    browser.wait_text_contains("#wordlists", "默认词表").await;
    browser.fill("#try-text", "本文系內部資料，联系人电话13912345678").await;
    browser.click_and_load("#try-button").await;
    browser.wait_for("#try-result mark.level-block").await;
    let result = browser.text("#try-result").await;
    assert!(result.contains("涉密标识") && result.contains("手机号") && result.contains("139****5678"), "{result}");
    browser.screenshot("wordlists-try").await;
    browser.set_window(390, 844).await;
    browser.screenshot("wordlists-try-phone").await;
    no_horizontal_scroll(browser).await;
    browser.set_window(1366, 768).await;
}

async fn no_horizontal_scroll(browser: &Browser) {
    let wide = browser.eval("return document.documentElement.scrollWidth > window.innerWidth;").await;
    assert_eq!(wide, json!(false), "the page scrolls sideways on a phone");
}
