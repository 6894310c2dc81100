//! The `header` and `footer` HTML files through HTTP on loopback: the
//! user's own before the site's (`cgi-bin` in the DCC home), as they
//! are (not escaped), on every HTML page; a link out of the user's
//! directory, an oversize file and a directory are not included. The
//! files are kept while unchanged: an edit shows on the next page, a
//! file removed is left out, an unchanged file is not read again.

mod common;

use common::*;
use tally_web::client::Client;
use tally_web::frame::MAX_FRAME;

const SITE_TOP: &str = "<div id=\"site-top\">Example site</div>";
const SITE_END: &str = "<div id=\"site-end\">Ask postmaster@example.com</div>";
const BOB_TOP: &str = "<div id=\"bob-top\"><b>Bob's own</b></div>";

#[test]
fn header_and_footer() {
    let h = home("frame");
    let bob = add_user(&h, "bob", "# bob\n");
    let carol = add_user(&h, "carol", "# carol\n");
    let dave = add_user(&h, "dave", "# dave\n");
    htpasswd(&h, &["bob", "carol", "dave"], "");
    add_log(
        &bob,
        "msg.AAAAAA",
        1_000,
        &log_text(
            "01/01/26 10:00:00 UTC",
            "a@example.com",
            "hello",
            "hi",
            "accept",
        ),
    );
    std::fs::create_dir(h.join("cgi-bin")).unwrap();
    std::fs::write(h.join("cgi-bin/header"), SITE_TOP).unwrap();
    std::fs::write(h.join("cgi-bin/footer"), SITE_END).unwrap();
    // bob: his own header, the site's footer
    std::fs::write(bob.join("header"), BOB_TOP).unwrap();
    // carol: a header that is a link out of her directory, and a footer
    // one byte too large
    std::fs::write(h.join("secret.html"), "<p>SECRET of the DCC home</p>").unwrap();
    std::os::unix::fs::symlink(h.join("secret.html"), carol.join("header")).unwrap();
    let mut big = b"<p>BIG footer</p>".to_vec();
    big.resize(MAX_FRAME as usize + 1, b' ');
    std::fs::write(carol.join("footer"), big).unwrap();
    // dave: a header that is a directory, a footer of exactly the limit
    std::fs::create_dir(dave.join("header")).unwrap();
    let mut full = b"<p>FULL footer</p>".to_vec();
    full.resize(MAX_FRAME as usize, b' ');
    std::fs::write(dave.join("footer"), full).unwrap();

    let w = start(&h, &["-S"]);
    let top_end = |body: &str, top: &str, end: &str| {
        let b = body.find("<body>").expect("a body") + "<body>".len();
        assert!(body[b..].starts_with(top), "header first: {body}");
        let e = body.rfind("</body>").unwrap();
        assert!(body[..e].ends_with(end), "footer last: {body}");
    };

    // no one signed in: the site's files
    let mut anon = Client::new(w.addr);
    let p = anon.get("/signin").unwrap();
    assert_eq!(p.status, 200);
    top_end(&p.body, SITE_TOP, SITE_END);
    assert!(p.body.contains("id=\"signin\""), "the page itself");

    // bob: his header on every page, the site's footer
    let (mut c, _) = signed_in(w.addr, "bob");
    for path in [
        "/log",
        "/msg?id=msg.AAAAAA",
        "/whiteclnt",
        "/options",
        "/password",
    ] {
        let p = c.get(path).unwrap();
        assert_eq!(p.status, 200, "{path}");
        top_end(&p.body, BOB_TOP, SITE_END);
        assert!(!p.body.contains("site-top"), "{path}: only bob's header");
        assert_eq!(p.body.matches("bob-top").count(), 1, "{path}");
    }
    // refusals too
    let p = c.get("/msg?id=msg.NOSUCH").unwrap();
    assert_eq!(p.status, 404);
    top_end(&p.body, BOB_TOP, SITE_END);
    // not the log file as it is
    let r = c.get("/raw?id=msg.AAAAAA").unwrap();
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert!(!r.body.contains("bob-top") && !r.body.contains("site-end"));
    // an edit shows on the next page
    std::fs::write(bob.join("header"), "<p id=\"bob-new\">new</p>").unwrap();
    let p = c.get("/log").unwrap();
    top_end(&p.body, "<p id=\"bob-new\">new</p>", SITE_END);

    // carol: neither the link out of her directory nor the oversize file
    let (mut c, _) = signed_in(w.addr, "carol");
    let p = c.get("/log").unwrap();
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("SECRET"), "link out of the directory");
    assert!(!p.body.contains("BIG footer"), "oversize file");
    top_end(&p.body, SITE_TOP, SITE_END);

    // dave: the directory is not read, the file of the limit is
    let (mut c, _) = signed_in(w.addr, "dave");
    let p = c.get("/log").unwrap();
    assert!(p.body.contains("FULL footer"));
    top_end(&p.body, SITE_TOP, "");
    assert!(!p.body.contains("site-end"));

    let errors = std::fs::read_to_string(h.join("web-stderr.txt")).unwrap();
    assert!(errors.contains("outside"), "{errors}");
    assert!(errors.contains("larger than"), "{errors}");
    assert!(errors.contains("not a regular file"), "{errors}");
}

/// Without any `header` or `footer` file the pages are as before.
#[test]
fn no_files() {
    let h = home("noframe");
    add_user(&h, "bob", "# bob\n");
    htpasswd(&h, &["bob"], "");
    let w = start(&h, &["-S"]);
    let (mut c, _) = signed_in(w.addr, "bob");
    let p = c.get("/log").unwrap();
    assert!(p.body.contains("<body><nav>"), "{}", p.body);
    assert!(p.body.contains("</p></body></html>"), "{}", p.body);
}

/// Edits, removals and new files show on the very next page, also when
/// made within the same clock tick and of the same size.
#[test]
fn edits_and_removals() {
    let h = home("frame-edit");
    add_user(&h, "bob", "# bob\n");
    htpasswd(&h, &["bob"], "");
    let site = h.join("cgi-bin");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("header"), "<p id=\"t1\">top</p>").unwrap();
    std::fs::write(site.join("footer"), SITE_END).unwrap();
    let w = start(&h, &["-S"]);
    let mut anon = Client::new(w.addr);
    let page = |c: &mut Client| {
        let p = c.get("/signin").unwrap();
        assert_eq!(p.status, 200);
        p.body
    };
    let b = page(&mut anon);
    assert!(b.contains("<body><p id=\"t1\">top</p>"), "{b}");
    assert!(b.contains(&format!("{SITE_END}</body>")), "{b}");
    // the same size, at once, several times
    for n in 2..6 {
        std::fs::write(site.join("header"), format!("<p id=\"t{n}\">top</p>")).unwrap();
        let b = page(&mut anon);
        assert!(b.contains(&format!("<body><p id=\"t{n}\">top</p>")), "{b}");
    }
    // the footer removed, then back
    std::fs::remove_file(site.join("footer")).unwrap();
    let b = page(&mut anon);
    assert!(!b.contains("site-end"), "{b}");
    std::fs::write(site.join("footer"), SITE_END).unwrap();
    assert!(page(&mut anon).contains(&format!("{SITE_END}</body>")));
    // both removed: the page as without them
    std::fs::remove_file(site.join("footer")).unwrap();
    std::fs::remove_file(site.join("header")).unwrap();
    let b = page(&mut anon);
    assert!(!b.contains("site-end") && !b.contains("id=\"t5\""), "{b}");
}

/// Through the server in this process, its counter of reads: unchanged
/// files are not read again, a changed one once.
#[test]
fn unchanged_files_not_read_again() {
    use std::sync::Arc;
    use std::time::Duration;
    use tally_web::frame::Frames;
    use tally_web::server::{serve, App};

    let h = home("frame-reads");
    let site = h.join("cgi-bin");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("header"), SITE_TOP).unwrap();
    std::fs::write(site.join("footer"), SITE_END).unwrap();
    let args: Vec<String> = ["-S", "-h", &h.display().to_string(), "-p", "0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut app = App::new(tally_web::opts::parse(&args).unwrap());
    // trust a stamp at once (the service waits a little, see SETTLE)
    app.frames = Frames::with_settle(Duration::ZERO);
    let app = Arc::new(app);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let served = app.clone();
    rt.spawn(async move {
        let _ = serve(served, listener).await;
    });
    let mut c = Client::new(addr);
    for _ in 0..5 {
        let p = c.get("/signin").unwrap();
        assert!(p.body.contains(SITE_TOP) && p.body.contains(SITE_END));
    }
    assert_eq!(app.frames.reads(), 2, "each file read once");
    std::fs::write(site.join("header"), "<p id=\"edited\">edited top</p>").unwrap();
    for _ in 0..3 {
        let p = c.get("/signin").unwrap();
        assert!(p.body.contains("edited top"), "{}", p.body);
    }
    assert_eq!(app.frames.reads(), 3, "the edited file read once more");
    rt.shutdown_timeout(Duration::from_secs(1));
    let _ = std::fs::remove_dir_all(&h);
}
