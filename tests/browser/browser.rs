//! `Browser`: headless Chromium behind its own `chromedriver`, with waits that poll, numbered
//! screenshots per journey, and failures that show where the browser was and what it showed.

use std::cell::Cell;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// How long an element or a page may take to show up.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);
/// How long chromedriver may take to answer `/status`.
const DRIVER_START: Duration = Duration::from_secs(30);
/// The WebDriver key code of Enter.
pub const ENTER: &str = "\u{e007}";

/// Marks the current document, so that a wait can tell when another one has replaced it.
const MARK_PAGE: &str = "window.__microcatOldPage = true; return true;";
/// True once a new document has replaced the marked one and finished loading.
const NEW_PAGE_LOADED: &str = "return window.__microcatOldPage !== true && document.readyState === 'complete';";

/// A `chromedriver` process in its own process group; dropping it ends the group (Chromium too).
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn spawn() -> Self {
        let program = std::env::var_os("CHROMEDRIVER").map_or_else(|| PathBuf::from("chromedriver"), PathBuf::from);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(&program);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        match command.spawn() {
            Ok(child) => Self { child, url: format!("http://127.0.0.1:{port}") },
            Err(error) => panic!(
                "cannot start {} ({error}): the browser suite needs Debian's chromium and chromium-driver; \
                 run `make test`, which installs them (or set CHROMEDRIVER and CHROMIUM)",
                program.display()
            ),
        }
    }

    /// Waits until `/status` answers.
    async fn wait_ready(&mut self) {
        let client = awc::Client::default();
        let deadline = Instant::now() + DRIVER_START;
        loop {
            let answered = client.get(format!("{}/status", self.url)).send().await;
            if matches!(answered, Ok(response) if response.status().is_success()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited before answering ({status}); run `make test` to install chromium-driver");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer {}/status within {DRIVER_START:?}",
                self.url
            );
            actix_rt::time::sleep(POLL).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) only sends a signal, here to the process group this guard created.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

/// The capabilities of the headless Chromium every journey uses.
fn capabilities() -> Capabilities {
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1366,768",
        "--lang=zh-CN",
    ];
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), json!({ "args": args, "binary": binary }));
    // Leave an unexpected alert open, so that a test sees it instead of having it dismissed.
    capabilities.insert("unhandledPromptBehavior".into(), json!("ignore"));
    capabilities
}

/// Where screenshots go: `<target>/screenshots/` (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("screenshots")
}

/// The first `limit` characters of `text`.
fn excerpt(text: &str, limit: usize) -> String {
    let mut short: String = text.chars().take(limit).collect();
    if short.len() < text.len() {
        short.push_str(" …");
    }
    short
}

/// True when a click failed because something covers the element or it cannot be clicked.
fn blocked(error: &CmdError) -> bool {
    matches!(error, CmdError::Standard(failure)
        if matches!(failure.error, ErrorStatus::ElementClickIntercepted | ErrorStatus::ElementNotInteractable))
}

/// One wait: what it waits for, and until when.
struct Waiter {
    what: String,
    timeout: Duration,
    deadline: Instant,
}

impl Waiter {
    fn new(what: String, timeout: Duration) -> Self {
        Self { what, timeout, deadline: Instant::now() + timeout }
    }
}

/// A Chromium session on one `TestApp`.
pub struct Browser {
    client: Client,
    base: String,
    journey: &'static str,
    shots: Cell<u32>,
    _driver: Driver,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1366×768) for the journey `journey`, which
    /// names its screenshots.
    pub async fn start(app: &TestApp, journey: &'static str) -> Self {
        let mut driver = Driver::spawn();
        driver.wait_ready().await;
        let connected =
            ClientBuilder::new(HttpConnector::new()).capabilities(capabilities()).connect(&driver.url).await;
        let client = match connected {
            Ok(client) => client,
            Err(error) => panic!(
                "chromedriver at {} could not start Chromium ({error}); run `make test` to install chromium \
                 and chromium-driver of the same version, or set CHROMIUM",
                driver.url
            ),
        };
        let browser = Self { client, base: app.address.clone(), journey, shots: Cell::new(0), _driver: driver };
        browser.set_window(1366, 768).await;
        browser
    }

    /// Ends the WebDriver session (closing Chromium), then chromedriver.
    pub async fn finish(self) {
        let Self { client, _driver: driver, .. } = self;
        let closed = client.close().await;
        drop(driver);
        if let Err(error) = closed {
            panic!("closing the browser session: {error}");
        }
    }

    /// The WebDriver client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` of the server (e.g. `/works/new`) and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        let opened = self.client.goto(&url).await;
        self.ok(opened, &format!("opening {url}")).await;
    }

    /// Reloads the current page.
    pub async fn reload(&self) {
        let reloaded = self.client.refresh().await;
        self.ok(reloaded, "reloading").await;
    }

    /// Goes back one page in the history, as the browser's back button does.
    pub async fn back(&self) {
        let went = self.client.back().await;
        self.ok(went, "going back").await;
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        let url = self.client.current_url().await;
        self.ok(url, "reading the current URL").await
    }

    /// The path of the current URL (empty while unknown).
    pub async fn path(&self) -> String {
        self.client.current_url().await.map(|url| url.path().to_owned()).unwrap_or_default()
    }

    /// Resizes the window.
    pub async fn set_window(&self, width: u32, height: u32) {
        let resized = self.client.set_window_size(width, height).await;
        self.ok(resized, &format!("resizing the window to {width}×{height}")).await;
    }

    /// The first element matching `css` right now, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// How many elements match `css` right now.
    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.map_or(0, |found| found.len())
    }

    /// Every element matching `css` right now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self.client.find_all(Locator::Css(css)).await;
        self.ok(found, &format!("looking for `{css}`")).await
    }

    /// The text of the first element matching `css` right now, if any.
    pub async fn text_now(&self, css: &str) -> Option<String> {
        self.try_find(css).await?.text().await.ok()
    }

    /// An attribute of the first element matching `css` right now, if both exist.
    pub async fn attr_now(&self, css: &str, name: &str) -> Option<String> {
        self.try_find(css).await?.attr(name).await.ok().flatten()
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_for_within(css, WAIT).await
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Element {
        let waiter = Waiter::new(format!("`{css}` to appear"), timeout);
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            self.again(&waiter).await;
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let waiter = Waiter::new(format!("`{css}` to go away"), WAIT);
        while self.count(css).await > 0 {
            self.again(&waiter).await;
        }
    }

    /// Waits up to `timeout` until at least `wanted` elements match `css`; fails at once when
    /// `failure` (a selector of an error display) matches.
    pub async fn wait_count(&self, css: &str, wanted: usize, timeout: Duration, failure: Option<&str>) {
        let waiter = Waiter::new(format!("{wanted} × `{css}`"), timeout);
        loop {
            if self.count(css).await >= wanted {
                return;
            }
            if let Some(failure) = failure {
                self.refuse(failure, &waiter.what).await;
            }
            self.again(&waiter).await;
        }
    }

    /// Fails when `failure` matches, with its text.
    async fn refuse(&self, failure: &str, waiting_for: &str) {
        if let Some(text) = self.text_now(failure).await {
            let why = format!("`{failure}` appeared while waiting for {waiting_for}: {text}");
            panic!("{}", self.report(&why).await);
        }
    }

    /// Waits until the text of the first element matching `css` contains `needle`; returns it.
    pub async fn wait_text_contains(&self, css: &str, needle: &str) -> String {
        let waiter = Waiter::new(format!("the text of `{css}` to contain {needle:?}"), WAIT);
        loop {
            if let Some(text) = self.text_now(css).await.filter(|text| text.contains(needle)) {
                return text;
            }
            self.again(&waiter).await;
        }
    }

    /// Waits until the first element matching `css` has the class `class`.
    pub async fn wait_class(&self, css: &str, class: &str) {
        let waiter = Waiter::new(format!("`{css}` to have the class {class:?}"), WAIT);
        loop {
            let classes = self.attr_now(css, "class").await.unwrap_or_default();
            if classes.split_whitespace().any(|name| name == class) {
                return;
            }
            self.again(&waiter).await;
        }
    }

    /// Waits until the first element matching `css` has `name="value"`.
    pub async fn wait_attr(&self, css: &str, name: &str, value: &str) {
        let waiter = Waiter::new(format!("`{css}` to have {name}={value:?}"), WAIT);
        while self.attr_now(css, name).await.as_deref() != Some(value) {
            self.again(&waiter).await;
        }
    }

    /// Waits until the URL's path is `path`.
    pub async fn wait_path(&self, path: &str) {
        let waiter = Waiter::new(format!("the path {path}"), WAIT);
        while self.path().await != path {
            self.again(&waiter).await;
        }
    }

    /// The text of the element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        let text = element.text().await;
        self.ok(text, &format!("reading the text of `{css}`")).await
    }

    /// Types `text` into the (emptied) field matching `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        let cleared = element.clear().await;
        self.ok(cleared, &format!("clearing `{css}`")).await;
        let typed = element.send_keys(text).await;
        self.ok(typed, &format!("typing into `{css}`")).await;
    }

    /// Runs a script in the page and returns its value.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        let ran = self.client.execute(script, Vec::new()).await;
        self.ok(ran, &format!("running {script}")).await
    }

    /// Sets the value of the input matching `css` as a picker would (date and time inputs take
    /// typed keys in the browser's locale order, which a test should not depend on).
    pub async fn set_value(&self, css: &str, value: &str) {
        let element = self.wait_for(css).await;
        let argument = serde_json::to_value(&element).expect("an element reference serialises");
        let script = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true})); arguments[0].dispatchEvent(new Event('change', {bubbles: true})); return arguments[0].value;";
        let set = self.client.execute(script, vec![argument, serde_json::Value::from(value)]).await;
        let now = self.ok(set, &format!("setting `{css}`")).await;
        assert_eq!(now, serde_json::Value::from(value), "{}", self.report(&format!("`{css}` refused {value:?}")).await);
    }

    /// Picks the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let element = self.wait_for(css).await;
        let picked = element.select_by_value(value).await;
        self.ok(picked, &format!("choosing {value:?} in `{css}`")).await;
    }

    /// Ticks the checkbox matching `css` (unless it is ticked already).
    pub async fn check(&self, css: &str) {
        let element = self.wait_for(css).await;
        let selected = element.is_selected().await;
        if !self.ok(selected, &format!("reading `{css}`")).await {
            self.click_element(&element, css).await;
        }
        let selected = element.is_selected().await;
        assert!(
            self.ok(selected, &format!("reading `{css}`")).await,
            "{}",
            self.report(&format!("`{css}` stays unticked")).await
        );
    }

    /// Hands the file at `path` to the file input matching `css`, as picking it in the dialog would.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        let element = self.wait_for(css).await;
        // Start from an empty selection: WebDriver adds to the files of a `multiple` input.
        let argument = serde_json::to_value(&element).expect("an element reference serialises");
        let emptied = self.client.execute("arguments[0].value = ''; return true;", vec![argument]).await;
        self.ok(emptied, &format!("emptying `{css}`")).await;
        let path = path.to_str().expect("fixture paths are UTF-8");
        let chosen = element.send_keys(path).await;
        self.ok(chosen, &format!("choosing {path} in `{css}`")).await;
    }

    /// Clicks the element matching `css` (waiting for it); scripts on the page do the rest.
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.click_element(&element, css).await;
    }

    /// Clicks the element matching `css` and waits until the next page has loaded.
    pub async fn click_and_load(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.mark_page().await;
        self.click_element(&element, css).await;
        self.wait_new_page(&format!("a new page after clicking `{css}`")).await;
    }

    /// Types `text` and Enter into the field matching `css`, and waits for the next page.
    pub async fn submit_text(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        let cleared = element.clear().await;
        self.ok(cleared, &format!("clearing `{css}`")).await;
        self.mark_page().await;
        let typed = element.send_keys(&format!("{text}{ENTER}")).await;
        self.ok(typed, &format!("typing {text:?} and Enter into `{css}`")).await;
        self.wait_new_page(&format!("a new page after submitting `{css}`")).await;
    }

    /// Marks the document before an action that should replace it.
    pub async fn mark_page(&self) {
        let marked = self.client.execute(MARK_PAGE, vec![]).await;
        self.ok(marked, "marking the page").await;
    }

    /// True while the page marked by [`Browser::mark_page`] is still the one shown.
    pub async fn same_page(&self) -> bool {
        let answer = self.client.execute("return window.__microcatOldPage === true;", vec![]).await;
        matches!(answer, Ok(Value::Bool(true)))
    }

    async fn wait_new_page(&self, what: &str) {
        let waiter = Waiter::new(what.to_owned(), WAIT);
        loop {
            // Errors are expected while the old document unloads.
            if matches!(self.client.execute(NEW_PAGE_LOADED, vec![]).await, Ok(Value::Bool(true))) {
                return;
            }
            self.again(&waiter).await;
        }
    }

    async fn click_element(&self, element: &Element, css: &str) {
        let clicked = element.click().await;
        let Err(error) = clicked else { return };
        if !blocked(&error) {
            panic!("{}", self.report(&format!("clicking `{css}`: {error}")).await);
        }
        // Covered (e.g. by a sticky bar) or inside a collapsed phone menu: click it as a script would.
        let argument = serde_json::to_value(element).expect("an element reference serialises");
        let clicked = self.client.execute("arguments[0].click(); return true;", vec![argument]).await;
        self.ok(clicked, &format!("clicking `{css}` by script after {error}")).await;
    }

    /// Logs in through the form on `/login` and waits for a logged-in page.
    pub async fn login(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click_and_load("#login-submit").await;
        if self.try_find("#logout").await.is_none() {
            let banner = self.text_now("#error").await.unwrap_or_default();
            panic!("{}", self.report(&format!("login of {username} failed: {banner}")).await);
        }
    }

    /// Logs out with the button in the top bar and waits for `/login`.
    pub async fn logout(&self) {
        self.click_and_load("#logout").await;
        self.wait_path("/login").await;
    }

    /// Saves a screenshot as `<target>/screenshots/<journey>-<nn>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        if let Err(why) = self.save_screenshot(name).await {
            panic!("{}", self.report(&why).await);
        }
    }

    async fn save_screenshot(&self, name: &str) -> Result<PathBuf, String> {
        let number = self.shots.get() + 1;
        self.shots.set(number);
        let png = self.client.screenshot().await.map_err(|error| format!("screenshot {name}: {error}"))?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).map_err(|error| format!("creating {}: {error}", dir.display()))?;
        let path = dir.join(format!("{}-{number:02}-{name}.png", self.journey));
        std::fs::write(&path, png).map_err(|error| format!("writing {}: {error}", path.display()))?;
        Ok(path)
    }

    /// Unwraps a WebDriver answer, or fails showing where the browser was.
    pub async fn ok<T>(&self, result: Result<T, CmdError>, doing: &str) -> T {
        match result {
            Ok(value) => value,
            Err(error) => panic!("{}", self.report(&format!("{doing}: {error}")).await),
        }
    }

    /// Sleeps one poll interval, or fails when the wait is over.
    async fn again(&self, waiter: &Waiter) {
        if Instant::now() >= waiter.deadline {
            let why = format!("waited {:?} for {}", waiter.timeout, waiter.what);
            panic!("{}", self.report(&why).await);
        }
        actix_rt::time::sleep(POLL).await;
    }

    /// A failure message: `why`, the URL, the error banner, the page's text and source, and a
    /// screenshot of it.
    pub async fn report(&self, why: &str) -> String {
        let url =
            self.client.current_url().await.map_or_else(|error| format!("unknown ({error})"), |url| url.to_string());
        let shot = self.save_screenshot("failure").await.map_or_else(|error| error, |path| path.display().to_string());
        let banner = self.text_now("#error").await.unwrap_or_default();
        let text = self.client.execute("return document.body ? document.body.innerText : '';", vec![]).await;
        let text = text.ok().and_then(|text| text.as_str().map(str::to_owned)).unwrap_or_default();
        let source = self.client.source().await.unwrap_or_default();
        format!(
            "{why}\n  url: {url}\n  screenshot: {shot}\n  error banner: {banner}\n--- page text ---\n{}\n--- page source ---\n{}",
            excerpt(&text, 1500),
            excerpt(&source, 4000)
        )
    }
}
