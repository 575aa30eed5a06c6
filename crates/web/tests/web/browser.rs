//! In a real browser (headless Chromium through chromedriver): an operator logs in to the
//! admin UI, adds a user, uploads a generated export for them, watches the import finish,
//! opens the user's page and sees the charts, links the user to a Spotify account; then a
//! listener signs in through the fake Spotify and reaches `/me` with their new token. A screenshot of each page goes to `target/browser-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; CHROMIUM / CHROMEDRIVER override). Without them the test is
//! skipped, unless `CI` is set: then it fails, since CI installs them.

use super::sign_in::{ann, start};
use fantoccini::{Client, ClientBuilder, Locator};
use spotify_history_collector::{Collector, CollectorConfig};
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_testkit::TestDb;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// chromedriver, stopped when the test ends however it ends.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn program(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// chromedriver on a free port, once it answers; `None` when it is not installed and this
/// is not CI.
async fn driver() -> Option<Driver> {
    let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    if !chromedriver.exists() || !chromium.exists() {
        let why = format!(
            "the browser test needs {} and {}: install them with `apt-get install -y chromium chromium-driver`",
            chromium.display(),
            chromedriver.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{why} (CI is set, so the test cannot be skipped)");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening on port {port} within 10 s");
}

async fn browser(driver: &Driver) -> Client {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let profile = std::env::temp_dir().join(format!("sph-chromium-{}", std::process::id()));
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,2200",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session in headless Chromium")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Types `text` into the element `css` finds.
async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the element `css` finds.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for an element, up to 60 s.
async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .every(Duration::from_millis(200))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
}

#[tokio::test]
async fn an_operator_and_a_listener_use_the_site_in_a_browser() {
    let Some(driver) = driver().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = start(&db.store, 1_000).await;
    let admin_token = db
        .store
        .create_api_token(None, "browser test")
        .await
        .unwrap();
    // The collector, as `serve` runs it: it takes the uploaded export and imports it.
    let collector = Collector::new(
        db.store.clone(),
        None,
        CollectorConfig::with_interval(Duration::from_millis(300)),
    );
    tokio::spawn(async move { collector.run(std::future::pending()).await });
    let export = tempfile::tempdir().unwrap();
    let zip = export.path().join("my_spotify_data.zip");
    SyntheticExport::generate(SyntheticConfig {
        plays: 1_500,
        seed: 11,
        start_year: 2023,
        years: 2,
        ..SyntheticConfig::default()
    })
    .write_zip(&zip)
    .unwrap();

    let client = browser(&driver).await;
    {
        // Not signed in: the admin pages send to the login form.
        client.goto(&format!("{}/admin", app.base)).await.unwrap();
        assert_eq!(client.current_url().await.unwrap().path(), "/admin/login");
        fill(&client, "input[name=token]", admin_token.plaintext.expose()).await;
        screenshot(&client, "01-admin-login").await;
        click(&client, "#login-form button[type=submit]").await;
        wait_for(&client, "svg#plays-per-day-chart").await;
        assert_eq!(client.current_url().await.unwrap().path(), "/admin");

        // Add the user whose export is uploaded next, on the Users page.
        client
            .goto(&format!("{}/admin/ui/users", app.base))
            .await
            .unwrap();
        fill(&client, "#add-user-name", "imported").await;
        fill(&client, "#add-user-display-name", "Imported Listener").await;
        screenshot(&client, "02a-admin-add-user").await;
        click(&client, "#add-user").await;
        wait_for(&client, ".notice").await;
        let listener = db
            .store
            .find_user_by_name("imported")
            .await
            .unwrap()
            .expect("the form added the user");
        assert_eq!(
            client.current_url().await.unwrap().path(),
            format!("/admin/ui/users/{}", listener.id)
        );
        client.goto(&format!("{}/admin", app.base)).await.unwrap();
        wait_for(&client, "svg#plays-per-day-chart").await;
        assert!(count(&client, "#users-table tbody tr").await >= 1);
        screenshot(&client, "02-admin-dashboard").await;

        // Upload the export for the user; htmx sends it and the page comes back.
        client
            .goto(&format!("{}/admin/ui/imports", app.base))
            .await
            .unwrap();
        client
            .find(Locator::Id("upload-user"))
            .await
            .unwrap()
            .select_by_value(&listener.id.to_string())
            .await
            .unwrap();
        fill(&client, "#upload-file", zip.to_str().unwrap()).await;
        click(&client, "#upload-button").await;
        wait_for(&client, ".notice").await;
        // The live table refreshes itself until the collector has imported the file.
        wait_for(&client, "#imports-live tr[data-status=succeeded]").await;
        let row = client
            .find(Locator::Css("#imports-live tr[data-status=succeeded]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(row.contains("my_spotify_data.zip"), "{row}");
        assert!(
            row.contains("Imported Listener") || row.contains("imported"),
            "{row}"
        );
        screenshot(&client, "03-admin-imports").await;

        // The user's page draws the history.
        client
            .goto(&format!("{}/admin/ui/users/{}", app.base, listener.id))
            .await
            .unwrap();
        wait_for(&client, "svg#listening-time-chart").await;
        assert!(count(&client, "svg#listening-time-chart rect.bar").await >= 12);
        assert_eq!(count(&client, "svg#heatmap-chart rect.cell").await, 7 * 24);
        assert_eq!(count(&client, "#top-artists tbody tr").await, 10);
        screenshot(&client, "04-admin-user").await;

        // Link the imported user to the Spotify account that signs in: the sign-in cookie set
        // by the admin page's form must come back to /auth/callback from Spotify.
        let account = app
            .spotify
            .add_user("imported-spotify", "Imported On Spotify");
        app.spotify.set_next_login(&account);
        click(&client, "#link-spotify").await;
        wait_for(&client, ".notice").await;
        assert_eq!(
            client.current_url().await.unwrap().path(),
            format!("/admin/ui/users/{}", listener.id)
        );
        wait_for(&client, "#unlink-spotify").await;
        let linked = db.store.get_user(listener.id).await.unwrap();
        assert_eq!(linked.spotify_user_id.as_deref(), Some("imported-spotify"));
        screenshot(&client, "04a-admin-user-linked").await;

        // A listener signs in with (fake) Spotify and lands on their own page with a token.
        ann(&app);
        client
            .goto(&format!("{}/auth/login", app.base))
            .await
            .unwrap();
        let token = wait_for(&client, "#new-token").await.text().await.unwrap();
        assert!(token.starts_with("sph_"), "{token}");
        assert_eq!(client.current_url().await.unwrap().path(), "/me");
        assert!(count(&client, "svg#listening-time-chart").await == 1);
        let claude = client
            .find(Locator::Id("connect-claude-code"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(claude.contains(&token), "{claude}");
        screenshot(&client, "05-me").await;

        // Shown once.
        client.refresh().await.unwrap();
        wait_for(&client, "#tokens-table").await;
        assert_eq!(count(&client, "#new-token").await, 0);
    }
    client.close().await.unwrap();
}
