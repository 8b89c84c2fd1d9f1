//! An admin imports the team's old WeChat articles from the page: a dry run first, then the
//! import with its progress, then the report; the articles are found by search.

use std::time::Duration;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp};

#[actix_rt::test]
async fn an_admin_imports_an_export_through_preview_progress_and_report() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("公众号文章.json");
    let records: Vec<serde_json::Value> = (0..40i64)
        .map(|n| {
            serde_json::json!({
                "aid": format!("{}_1", 2247490000 + n), "title": format!("平安故事第{n}期"), "digest": "社区民警的一天",
                "link": format!("https://mp.weixin.qq.com/s?__biz=MzA5&mid={}&idx=1", 2247490000 + n),
                "create_time": 1_650_000_000 + n * 86_400, "content": "守护一方平安", "readNum": 100 + n
            })
        })
        .collect();
    let mut with_bad_row = records;
    with_bad_row.push(serde_json::json!({"aid": "1_1", "title": "", "create_time": 1}));
    std::fs::write(&export, serde_json::to_vec(&with_bad_row).unwrap()).unwrap();

    let browser = Browser::start(&app, "import").await;
    browser.login("admin", ADMIN_PASSWORD).await;
    browser.goto("/admin/import").await;
    browser.wait_for("form#import-form").await;
    browser.screenshot("import-form").await;
    browser.choose_file("#import-files", &export).await;
    browser.fill("#import-unit", "宣传科").await;
    browser.click("#import-check").await;
    browser.wait_for("#import-preview:not([hidden])").await;
    browser.wait_text_contains("#import-counts", "将新建 40").await;
    assert_eq!(browser.count("#import-sample tbody tr").await, 20, "the first 20 rows as they will be created");
    browser.wait_text_contains("#import-problems", "第41行").await;
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 0, "the check writes nothing");
    browser.screenshot("import-preview").await;
    browser.click("#import-run").await;
    browser.wait_for("#import-progress:not([hidden])").await;
    browser.wait_for_within("#import-report:not([hidden])", Duration::from_secs(60)).await;
    browser.wait_text_contains("#import-result", "新建 40").await;
    let report = browser.attr_now("#import-report", "href").await.unwrap_or_default();
    assert!(report.contains("/api/v1/imports/") && report.ends_with("/report"), "{report}");
    browser.screenshot("import-done").await;
    assert_eq!(app.get("/api/v1/works", &app.admin).await.json()["total"], 40);
    browser.set_window(390, 844).await;
    browser.screenshot("import-phone").await;
    browser.finish().await;
}
