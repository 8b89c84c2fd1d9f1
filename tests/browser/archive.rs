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

    // The same article was also posted on Weibo: a reviewer-or-admin records it on the work page.
    browser.set_window(1366, 900).await;
    let works = app.get("/api/v1/works?per_page=1", &app.admin).await.json();
    let id = works["items"][0]["id"].as_str().unwrap().to_owned();
    browser.goto(&format!("/works/{id}")).await;
    browser.wait_text_contains("#publication-list", "微信公众号").await;
    browser.click("#add-publication summary").await;
    browser.select("#pub-platform", "weibo").await;
    browser.fill("#pub-account", "平安某县").await;
    browser.fill("#pub-url", "https://weibo.com/detail/Nabc").await;
    browser.set_value("#pub-at", "2022-04-16T10:30").await;
    browser.screenshot("publication-form").await;
    browser.click_and_load("#add-publication button[type=submit]").await;
    let list = browser.wait_text_contains("#publication-list", "微博").await;
    assert!(list.contains("平安某县"), "{list}");
    let records = app.get(&format!("/api/v1/works/{id}/publications"), &app.admin).await.json();
    let weibo = records["items"].as_array().unwrap().iter().find(|item| item["platform"] == "weibo").cloned();
    let weibo = weibo.unwrap_or_else(|| panic!("{records}"));
    assert_eq!(weibo["published_at"], "2022-04-16T02:30:00Z", "entered as Beijing time: {records}");
    let links = browser.find_all("#publication-list a.publication-link").await;
    assert_eq!(links.len(), 2, "both places, each with its link");
    let first = browser.attr_now("#publication-list li:first-child a.publication-link", "href").await;
    assert_eq!(first.as_deref(), Some("https://weibo.com/detail/Nabc"), "earliest first");
    browser.set_window(390, 844).await;
    browser.screenshot("publications-phone").await;
    browser.finish().await;
}
