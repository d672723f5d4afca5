//! A headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`), for tests that click and type in the portal: each
//! [`Browser`] starts its own chromedriver on a free port and its own
//! browser profile, and ends both, by their process IDs, when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long a page has to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// chromedriver: `CHROMEDRIVER`, else `chromedriver` on the PATH.
fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A browser session and the chromedriver behind it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of 1280 × 900 pixels.
    pub async fn start() -> Browser {
        let port = free_port();
        let binary = chromedriver();
        let driver = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run `{binary}` ({err}): install Debian's chromium-driver \
                     (`apt-get install chromium chromium-driver`) or point CHROMEDRIVER at one"
                )
            });
        let profile =
            std::env::temp_dir().join(format!("fupin-webdriver-{}", uuid::Uuid::new_v4()));
        let mut options = json!({ "args": [
            "--headless",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1280,900",
            format!("--user-data-dir={}", profile.display()),
        ] });
        if let Ok(chromium) = std::env::var("CHROMIUM") {
            options["binary"] = json!(chromium);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let mut browser = None;
        // chromedriver listens a moment after it starts.
        while browser.is_none() {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => browser = Some(client),
                Err(err) if started.elapsed() > PATIENCE => {
                    panic!("no chromedriver session within {PATIENCE:?}: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        Browser {
            client: browser.expect("a session"),
            driver,
            profile,
        }
    }

    /// Opens `url` and waits until the portal has drawn the view of its fragment.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
        let fragment = url.split_once('#').map_or("/", |(_, f)| f);
        self.shown(&format!("#{fragment}")).await;
    }

    /// Waits until the portal has drawn the view of `fragment` (`#/projects`).
    pub async fn shown(&self, fragment: &str) {
        let selector = format!(
            "main#view[data-shown=\"{}\"]",
            fragment.replace('"', "\\\"")
        );
        self.element(&selector).await;
    }

    /// The first element `selector` finds, waiting for it to appear.
    pub async fn element(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|err| panic!("no `{selector}` within {PATIENCE:?}: {err}"))
    }

    /// The text of the view as it is shown.
    pub async fn view_text(&self) -> String {
        self.element("main#view")
            .await
            .text()
            .await
            .expect("the view's text")
    }

    /// The text of every element `selector` finds, now.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(selector))
            .await
            .expect("find elements")
        {
            texts.push(element.text().await.expect("an element's text"));
        }
        texts
    }

    /// Types `text` into the field `selector` finds, after clearing it.
    pub async fn fill(&self, selector: &str, text: &str) {
        let field = self.element(selector).await;
        field.clear().await.expect("clear a field");
        field.send_keys(text).await.expect("type into a field");
    }

    /// Chooses the option of value `value` in the `<select>` `selector` finds.
    pub async fn choose(&self, selector: &str, value: &str) {
        self.element(selector)
            .await
            .select_by_value(value)
            .await
            .expect("choose an option");
    }

    /// Clicks what `selector` finds.
    pub async fn click(&self, selector: &str) {
        self.element(selector).await.click().await.expect("click");
    }

    /// Follows the link whose text is `text`.
    pub async fn follow(&self, text: &str) {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::LinkText(text))
            .await
            .unwrap_or_else(|err| panic!("no link `{text}` within {PATIENCE:?}: {err}"))
            .click()
            .await
            .expect("click");
    }

    /// With `FUPIN_SCREENSHOTS=<folder>` (relative to the workspace), saves
    /// the page as `<folder>/<name>.png`, `height` pixels tall.
    pub async fn screenshot(&self, name: &str, height: u32) {
        let Ok(folder) = std::env::var("FUPIN_SCREENSHOTS") else {
            return;
        };
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(folder);
        std::fs::create_dir_all(&folder).expect("the screenshot folder");
        self.client
            .set_window_size(1280, height)
            .await
            .expect("resize the window");
        let png = self.client.screenshot().await.expect("a screenshot");
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("resize the window");
        std::fs::write(folder.join(format!("{name}.png")), png).expect("write the screenshot");
    }

    /// Ends the session (chromedriver closes the browser), then chromedriver.
    pub async fn close(self) {
        self.client.clone().close().await.expect("end the session");
    }
}

impl Drop for Browser {
    /// Ends chromedriver, and any browser process of this profile still
    /// running (a test that panicked never closed its session), by their IDs.
    fn drop(&mut self) {
        self.driver.kill().ok();
        self.driver.wait().ok();
        let profile = self.profile.display().to_string();
        let mut ours = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(command) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            if String::from_utf8_lossy(&command).contains(&profile) {
                ours.push(pid.to_string());
            }
        }
        if !ours.is_empty() {
            Command::new("kill").arg("-9").args(&ours).status().ok();
        }
        std::fs::remove_dir_all(&self.profile).ok();
    }
}
