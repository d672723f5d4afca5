//! Headless Chromium from Debian's packages, for the pages the service serves:
//! what a page shows once its scripts ran, and what it prints.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium to test with: `CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Runs headless Chromium on `url` with `extra` arguments, in a profile of its
/// own, and returns what it wrote to standard output.
fn run(url: &str, extra: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!("fupin-chromium-{}", uuid::Uuid::new_v4()));
    let binary = chromium();
    let mut child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .args(extra)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `{binary}` ({err}): install Debian's chromium \
                 (`apt-get install chromium`) or point CHROMIUM at a Chromium"
            )
        });
    // Read while it runs: a DOM larger than the pipe's buffer would block it.
    let mut stdout = child.stdout.take().expect("chromium's output");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::fs::remove_dir_all(&profile).ok();
    assert!(status.success(), "chromium failed: {status}");
    reader
        .join()
        .expect("reader thread")
        .expect("chromium's output")
}

/// The DOM of `url` once its scripts ran, as headless Chromium sees it.
pub fn rendered_dom(url: &str) -> String {
    run(url, &["--dump-dom".to_owned()])
}

/// What Chromium prints of `url` once its scripts ran, as PDF, without the
/// browser's own header and footer.
pub fn printed_pdf(url: &str, pdf: &Path) -> Vec<u8> {
    run(
        url,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_owned(),
        ],
    );
    std::fs::read(pdf).expect("the printed PDF")
}
