//! The whole path in a real browser: dccm (the real binary, `-U
//! userdirs`, a fake DCC server that counts the message as bulk) rejects
//! a message and logs it for bob; headless Chromium, driven through
//! chromedriver with WebDriver, signs bob in to dcc-web, opens the logged
//! message and clicks "whitelist sender"; the same message sent through
//! dccm again passes; then it sets `log-all` in the options form.
//! Screenshots of each step are saved in
//! `<target>/test-output/web/`.
//!
//! Without chromium and chromedriver the test prints why and passes,
//! unless `CI` is set (CI installs them with scripts/e2e-deps.sh).

mod common;

use common::mail::{send, start_dccm, until_accepted, Kill};
use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tally_testkit::FakeDccd;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `<target>/test-output/web`, from this test's own path
/// (`<target>/<profile>/deps/browser-...`).
fn shots_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let d = target.join("test-output/web");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The element `l` finds, waiting up to 10 s for it: after a click that
/// submits a form or follows a link, the next page may still be loading
/// (the element is looked for again every 50 ms; ids are not shared
/// between the pages, so the old page never matches).
async fn element(c: &Client, l: Locator<'_>) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .every(Duration::from_millis(50))
        .for_element(l)
        .await
        .unwrap()
}

/// Click the element `l` finds.
async fn click(c: &Client, l: Locator<'_>) {
    element(c, l).await.click().await.unwrap();
}

/// The text of the element `l` finds.
async fn text_of(c: &Client, l: Locator<'_>) -> String {
    element(c, l).await.text().await.unwrap()
}

/// Type `keys` into the element `l` finds.
async fn type_into(c: &Client, l: Locator<'_>, keys: &str) {
    element(c, l).await.send_keys(keys).await.unwrap();
}

fn absent() -> Option<String> {
    for p in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(p).exists() {
            return Some(format!("{p} is not installed"));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitelist_sender_in_chromium() {
    if let Some(why) = absent() {
        assert!(std::env::var_os("CI").is_none(), "CI: {why}");
        eprintln!("SKIPPED browser test: {why} (apt-get install chromium chromium-driver)");
        return;
    }
    let dccm_bin = match tally_e2e::bins::binary("dccm") {
        Ok(b) => b,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "CI: no dccm: {e}");
            eprintln!("SKIPPED browser test: dccm: {e}");
            return;
        }
    };
    let h = home("browser");
    std::fs::create_dir_all(h.join("run")).unwrap();
    std::fs::create_dir_all(h.join("logs")).unwrap();
    let bob = add_user(&h, "bob", "# bob's own whitelist\n");
    htpasswd(&h, &["bob"], "");
    let srv = FakeDccd::start(1200, "webtest");
    let (dccm, sock) = start_dccm(&dccm_bin, &h, &srv);

    // 1. dccm rejects the bulk message and logs it for bob
    let (code, reply) = send(&sock, 1);
    assert!(
        code == b'y' && reply.starts_with("550") || code == b'r',
        "first message not rejected: {} {reply}",
        code as char
    );
    let logs: Vec<_> = std::fs::read_dir(bob.join("log"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(logs.len(), 1, "one log file for bob");

    // 2. dcc-web and chromedriver
    let web = start(&h, &["-S"]);
    let base = format!("http://{}", web.addr);
    let port = free_port();
    let _driver = Kill(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = h.join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1100,1000",
                     format!("--user-data-dir={}", profile.display())],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let c = client.expect("WebDriver session with chromium");
    let shots = shots_dir();
    let shot = |name: &'static str| {
        let c = c.clone();
        let p = shots.join(name);
        async move {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(&p, png).expect("write screenshot");
        }
    };

    // 3. sign in
    c.goto(&format!("{base}/signin")).await.unwrap();
    type_into(&c, Locator::Id("user"), "bob").await;
    type_into(&c, Locator::Id("password"), PASSWORD).await;
    shot("1-signin.png").await;
    click(&c, Locator::Id("signin")).await;
    let list = element(&c, Locator::Id("log")).await;
    let text = list.text().await.unwrap();
    assert!(
        text.contains("alice@example.com") && text.contains("Quarterly <b>planning</b> notes"),
        "{text}"
    );
    assert!(text.contains("reject"), "{text}");
    shot("2-listing.png").await;

    // 4. open the message; the markup in it is shown as text
    click(&c, Locator::Css("#log a")).await;
    let body = text_of(&c, Locator::Id("body")).await;
    assert!(body.contains("<script>alert(1)</script>"), "{body}");
    let cks = text_of(&c, Locator::Id("cks")).await;
    assert!(cks.contains("Body:") && cks.contains("Fuz2:"), "{cks}");
    shot("3-message.png").await;

    // 5. one click: whitelist the sender
    click(&c, Locator::Id("add-ok-env_from")).await;
    let note = text_of(&c, Locator::Id("note")).await;
    assert!(note.starts_with("Whitelisted"), "{note}");
    shot("4-whitelisted.png").await;
    let white = std::fs::read_to_string(bob.join("whiteclnt")).unwrap();
    assert_eq!(
        white,
        "# bob's own whitelist\nok\tenv_From\talice@example.com\n"
    );

    // 6. the same message through dccm again passes once dccm has looked
    // at the file again (it checks whiteclnt files' times every 10 s)
    let sock2 = sock.clone();
    let took = tokio::task::spawn_blocking(move || until_accepted(&sock2, 2))
        .await
        .unwrap()
        .expect("the whitelisted sender's message was still rejected after 30 s");
    eprintln!("passed after {:.1} s", took.as_secs_f64());
    c.goto(&format!("{base}/whiteclnt")).await.unwrap();
    shot("5-whiteclnt.png").await;

    // 7. the options form: log all of bob's mail
    c.goto(&format!("{base}/options")).await.unwrap();
    click(&c, Locator::Css("#log option[value=all]")).await;
    click(&c, Locator::Id("save")).await;
    let note = text_of(&c, Locator::Id("note")).await;
    assert_eq!(note, "Options saved.");
    shot("6-options.png").await;
    let white = std::fs::read_to_string(bob.join("whiteclnt")).unwrap();
    assert_eq!(
        white,
        "# bob's own whitelist\nok\tenv_From\talice@example.com\noption log-all\n"
    );

    // 8. a new password, through the navigation's link
    click(&c, Locator::LinkText("Password")).await;
    type_into(&c, Locator::Id("current"), PASSWORD).await;
    type_into(&c, Locator::Id("new"), "a browser's new secret").await;
    type_into(&c, Locator::Id("again"), "a browser's new secret").await;
    click(&c, Locator::Id("change")).await;
    let note = text_of(&c, Locator::Id("note")).await;
    assert!(note.starts_with("Password changed."), "{note}");
    shot("7-password.png").await;
    let pw = std::fs::read_to_string(h.join("userdirs/webusers")).unwrap();
    let hash = pw.lines().find_map(|l| l.strip_prefix("bob:")).unwrap();
    assert!(tally_web::auth::verify(hash, "a browser's new secret"));
    c.close().await.unwrap();
    drop(dccm);
    eprintln!("screenshots in {}", shots.display());
}
