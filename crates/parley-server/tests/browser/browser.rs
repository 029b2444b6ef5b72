//! Real headless Chromium for the browser tests: Debian's `chromium` driven through `chromedriver`,
//! which the test starts itself and a guard kills, so no stray driver or browser outlives a test.
//!
//! A test that cannot find the browser fails when `CI` is set or `PARLEY_REQUIRE_BROWSER=1` (a skipped
//! test in CI would be a green run that checked nothing) and otherwise skips with a loud message.
//!
//! [`Browsers::finish`] turns a failed scenario into screenshots and page sources of every browser
//! session under `target/browser-failures/`, named in the panic message, before it fails the test.

use std::any::Any;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use thirtyfour::LoggingPrefsLogLevel;
use thirtyfour::prelude::*;

use crate::harness::eventually;

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts the driver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long chromedriver may take to say which port it listens on.
const DRIVER_START: Duration = Duration::from_secs(20);

/// Chromium's flags: headless, and quiet (no first-run UI, no background downloads or updates, which
/// would reach out of the machine). `--no-sandbox` because CI runs as root in a container;
/// `--disable-dev-shm-usage` because containers often have a tiny `/dev/shm`.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--window-size=1280,800",
];

/// Whether a missing browser fails the test instead of skipping it.
fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("PARLEY_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// A running chromedriver. Dropping it kills the driver's whole process group (the driver and any
/// browser it started), by the id of the group this guard created.
pub(crate) struct Chromedriver {
    child: Child,
    /// The WebDriver endpoint, `http://127.0.0.1:PORT`.
    url: String,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The driver leads its own process group (see `start`), so `-PID` names exactly the processes
        // this test started: the driver and the browsers it launched.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Chromedriver {
    /// Starts chromedriver on a port of its own choosing (`--port=0`) and waits until it says which.
    fn start() -> Chromedriver {
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(CHROMEDRIVER)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        // A thread reads the port from the banner and then keeps draining the pipe, so the driver
        // never blocks on a full pipe; it ends when the driver does.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.split("started successfully on port ").nth(1) {
                    let _ = tx.send(Ok(port.trim().trim_end_matches('.').to_owned()));
                } else {
                    banner.push(line);
                }
            }
            let _ = tx.send(Err(banner.join("\n")));
        });
        let mut driver = Chromedriver { child, url: String::new() };
        match rx.recv_timeout(DRIVER_START) {
            Ok(Ok(port)) => driver.url = format!("http://127.0.0.1:{port}"),
            Ok(Err(banner)) => panic!("{CHROMEDRIVER} stopped before it listened:\n{banner}"),
            Err(_) => panic!("{CHROMEDRIVER} did not say which port it listens on within {DRIVER_START:?}"),
        }
        driver
    }
}

/// The browser sessions of one test, on one chromedriver.
pub(crate) struct Browsers {
    test: &'static str,
    sessions: Vec<(String, WebDriver)>,
    // Declared last: dropped after the sessions.
    driver: Chromedriver,
}

impl Browsers {
    /// Starts chromedriver for `test`, or returns `None` (after saying so loudly) when the browser is
    /// not installed and nothing requires it. Panics when it is missing and required.
    pub(crate) fn start(test: &'static str) -> Option<Browsers> {
        let missing: Vec<&str> =
            [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !std::path::Path::new(p).exists()).collect();
        if !missing.is_empty() {
            let why = format!(
                "{test}: {} not installed; `apt-get install chromium chromium-driver` (Debian) provides them",
                missing.join(" and ")
            );
            assert!(
                !browser_required(),
                "{why}. CI or PARLEY_REQUIRE_BROWSER=1 is set, so this is a failure, not a skip"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED BROWSER TEST {why}. Set PARLEY_REQUIRE_BROWSER=1 to make this fail. !!!!!!!!\n"
            );
            return None;
        }
        Some(Browsers { test, sessions: Vec::new(), driver: Chromedriver::start() })
    }

    /// Opens a new browser session (its own window, cookies and storage) called `name` in failure
    /// reports.
    pub(crate) async fn open(&mut self, name: &str) -> WebDriver {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).expect("setting the chromium binary");
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg).expect("adding a chromium argument");
        }
        // The browser's console (script errors, content-policy refusals) is kept for `console_problems`.
        caps.set_browser_log_level(LoggingPrefsLogLevel::Warning).expect("asking for the browser's log");
        let session = WebDriver::new(self.driver.url.as_str(), caps)
            .await
            .unwrap_or_else(|e| panic!("opening browser session {name} through {}: {e}", self.driver.url));
        self.sessions.push((name.to_owned(), session.clone()));
        session
    }

    /// Ends every session, and fails the test if the scenario failed: first saving a screenshot and
    /// the page source of each session under `target/browser-failures/`.
    pub(crate) async fn finish(mut self, outcome: Result<(), Box<dyn Any + Send>>) {
        let Err(panic) = outcome else {
            for (name, session) in self.sessions.drain(..) {
                session.quit().await.unwrap_or_else(|e| panic!("closing browser session {name}: {e}"));
            }
            return;
        };
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .map_or_else(|| "the scenario panicked without a message".to_owned(), str::to_owned);
        let dir = failures_dir();
        let mut saved = Vec::new();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            saved.push(format!("could not create {}: {e}", dir.display()));
        }
        for (name, session) in self.sessions.drain(..) {
            let base = dir.join(format!("{}-{name}", self.test));
            let png = base.with_extension("png");
            match session.screenshot_as_png().await.map(|bytes| std::fs::write(&png, bytes)) {
                Ok(Ok(())) => saved.push(png.display().to_string()),
                Ok(Err(e)) => saved.push(format!("{name}: writing {}: {e}", png.display())),
                Err(e) => saved.push(format!("{name}: no screenshot: {e}")),
            }
            let html = base.with_extension("html");
            let url = session.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            match session.source().await.map(|source| std::fs::write(&html, format!("<!-- {url} -->\n{source}"))) {
                Ok(Ok(())) => saved.push(html.display().to_string()),
                Ok(Err(e)) => saved.push(format!("{name}: writing {}: {e}", html.display())),
                Err(e) => saved.push(format!("{name}: no page source: {e}")),
            }
            let _ = session.quit().await;
        }
        panic!("{message}\n\nscreenshots and page sources of each browser session:\n  {}", saved.join("\n  "));
    }
}

/// `target/browser-failures`, in the workspace's target directory (or `CARGO_TARGET_DIR`).
fn failures_dir() -> PathBuf {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.ancestors().nth(2).unwrap_or(crate_dir).to_path_buf();
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("browser-failures")
}

/// Runs `script` in the page and returns what it returned, as JSON.
pub(crate) async fn js(session: &WebDriver, script: &str) -> Value {
    session.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("running {script:?}: {e}")).json().clone()
}

/// Polls `script` until it returns an element; fails with `what` and the text of `context` (a CSS
/// selector) as last seen.
pub(crate) async fn element(session: &WebDriver, what: &str, script: &str, context: &str) -> WebElement {
    eventually(what, || async {
        let ret = session.execute(script, Vec::new()).await.map_err(|e| e.to_string())?;
        if ret.json().is_null() {
            return Err(text_of(session, context).await);
        }
        ret.element().map_err(|e| e.to_string())
    })
    .await
}

/// Polls `script` until it returns an element and clicking it works. The console redraws its lists
/// on every event, so an element found a moment ago may be gone by the click: then it is found again.
pub(crate) async fn click_when(session: &WebDriver, what: &str, script: &str, context: &str) {
    eventually(what, || async {
        let ret = session.execute(script, Vec::new()).await.map_err(|e| e.to_string())?;
        if ret.json().is_null() {
            return Err(text_of(session, context).await);
        }
        let found = ret.element().map_err(|e| e.to_string())?;
        found.click().await.map_err(|e| format!("clicking it: {e}"))
    })
    .await;
}

/// Polls `script` until it returns true; fails with `what` and the text of `context` as last seen.
pub(crate) async fn until(session: &WebDriver, what: &str, script: &str, context: &str) {
    eventually(what, || async {
        match session.execute(script, Vec::new()).await {
            Ok(ret) if ret.json() == &Value::Bool(true) => Ok(()),
            Ok(_) => Err(text_of(session, context).await),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
}

/// The visible text of the first element matching `selector`, for failure messages.
async fn text_of(session: &WebDriver, selector: &str) -> String {
    let script = format!(
        "const e = document.querySelector({}); return e ? e.innerText : '(no ' + {0} + ' on ' + location.pathname + ')';",
        serde_json::to_string(selector).unwrap_or_default()
    );
    match session.execute(script, Vec::new()).await {
        Ok(ret) => ret.json().as_str().unwrap_or_default().to_owned(),
        Err(e) => format!("(could not read {selector}: {e})"),
    }
}

/// What the browser's console reported since the last call, at warning level and above: script errors,
/// failed loads and content-policy refusals. Each call drains the log.
pub(crate) async fn console_problems(session: &WebDriver) -> Vec<String> {
    let entries = session.get_log("browser").await.unwrap_or_else(|e| panic!("reading the browser's log: {e}"));
    entries.into_iter().map(|e| format!("{}: {}", e.level, e.message)).collect()
}

/// A string as a JavaScript literal, to put test data into scripts.
pub(crate) fn lit(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}
