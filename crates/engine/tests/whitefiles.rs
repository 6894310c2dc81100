//! Whiteclnt files on disk: loading, reloading after edits (an edit with
//! errors is used at once without its bad lines, as the original uses
//! it), keeping the previous version only when the file cannot be read,
//! included files, host names and per-user files.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_ck::simple::{ip_sum, str_sum};
use tally_ck::CkType;
use tally_engine::whitefiles::{user_dir, HostResolver, Refresh, Timing, WhiteFiles};
use tally_white::{Listing, Tgts, WhiteList};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("tally-wf-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// Write a file through a new inode, so that every edit is noticed
    /// even within one tick of the file system clock.
    fn write(&self, name: &str, text: &str) {
        let path = self.0.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let tmp = path.with_extension("tmp-edit");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Default)]
struct FakeDns(Mutex<HashMap<String, Vec<IpAddr>>>);

impl FakeDns {
    fn set(&self, host: &str, addrs: &[&str]) {
        let v = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.0.lock().unwrap().insert(host.to_string(), v);
    }
}

impl HostResolver for FakeDns {
    fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        self.0
            .lock()
            .unwrap()
            .get(host)
            .cloned()
            .ok_or_else(|| "Unknown host".to_string())
    }
}

fn now_timing() -> Timing {
    Timing {
        stat_delay: Duration::ZERO,
        resolve_every: Duration::from_secs(3600),
        reparse_errors: Duration::from_secs(3600),
        missing_grace: Duration::ZERO,
    }
}

fn env_from(l: &WhiteList, addr: &str) -> Listing {
    l.check(&[(CkType::EnvFrom, str_sum(None, addr.as_bytes()))], None)
        .listing
}

#[test]
fn load_edit_break_fix_and_includes() {
    let home = TempDir::new();
    home.write(
        "whiteclnt",
        "ok env_from alice@example.com\ninclude extra\n",
    );
    home.write("extra", "many env_from spammer@example.com\n");
    let dns = Arc::new(FakeDns::default());
    let mut wf = WhiteFiles::new(home.path(), Some("whiteclnt"), None, dns, now_timing());

    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    let l = l.unwrap();
    assert_eq!(env_from(&l, "alice@example.com"), Listing::Listed);
    assert_eq!(env_from(&l, "spammer@example.com"), Listing::Black);
    assert_eq!(wf.global().1, Refresh::Unchanged);

    // an edit gives a new verdict
    home.write(
        "whiteclnt",
        "many env_from alice@example.com\ninclude extra\n",
    );
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    assert_eq!(env_from(&l.unwrap(), "alice@example.com"), Listing::Black);

    // an edit with a bad line is used at once without that line, and the
    // problem is reported with the file and line
    home.write(
        "whiteclnt",
        "ok env_from bob@example.com\nmany env_frm alice@example.com\n",
    );
    let (l, r) = wf.global();
    let Refresh::Reloaded(errors) = r else {
        panic!("{r:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].file(), "whiteclnt");
    assert_eq!(errors[0].line(), 2);
    assert_eq!(
        errors[0].to_string(),
        "unrecognized checksum type \"env_frm\" in line 2 of whiteclnt"
    );
    let l = l.unwrap();
    assert_eq!(env_from(&l, "bob@example.com"), Listing::Listed);
    assert_eq!(env_from(&l, "alice@example.com"), Listing::Unlisted);
    assert_eq!(wf.global().1, Refresh::Unchanged);
    assert_eq!(wf.global_file().unwrap().errors().len(), 1);

    // fixed again
    home.write("whiteclnt", "ok env_from bob@example.com\ninclude extra\n");
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    let l = l.unwrap();
    assert_eq!(env_from(&l, "bob@example.com"), Listing::Listed);
    assert_eq!(env_from(&l, "alice@example.com"), Listing::Unlisted);
    assert!(wf.global_file().unwrap().errors().is_empty());

    // an edit of the included file alone is noticed
    home.write(
        "extra",
        "many env_from spammer@example.com\nmany env_from other@example.com\n",
    );
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    assert_eq!(env_from(&l.unwrap(), "other@example.com"), Listing::Black);

    // a broken included file names itself and the main file; its good
    // lines are used
    home.write("extra", "many env_from spammer@example.com\nmany\n");
    let (l, r) = wf.global();
    let Refresh::Reloaded(errors) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        errors[0].to_string(),
        "missing type in \"many\" in line 2 of extra included in whiteclnt"
    );
    let l = l.unwrap();
    assert_eq!(env_from(&l, "other@example.com"), Listing::Unlisted);
    assert_eq!(env_from(&l, "spammer@example.com"), Listing::Black);

    // a missing included file is a problem of the new version, which is
    // used without it
    std::fs::remove_file(home.path().join("extra")).unwrap();
    let (l, r) = wf.global();
    let Refresh::Reloaded(errors) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        errors[0].to_string(),
        "\"include extra\": No such file or directory in line 2 of whiteclnt"
    );
    let l = l.unwrap();
    assert_eq!(env_from(&l, "bob@example.com"), Listing::Listed);
    assert_eq!(env_from(&l, "spammer@example.com"), Listing::Unlisted);

    // the main file disappears: no list
    std::fs::remove_file(home.path().join("whiteclnt")).unwrap();
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Missing);
    assert!(l.is_none());
    // and comes back
    home.write("whiteclnt", "ok env_from carol@example.com\n");
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    assert_eq!(env_from(&l.unwrap(), "carol@example.com"), Listing::Listed);
}

#[test]
fn checks_wait_for_the_stat_delay() {
    let home = TempDir::new();
    home.write("whiteclnt", "ok env_from alice@example.com\n");
    let timing = Timing {
        stat_delay: Duration::from_secs(3600),
        ..now_timing()
    };
    let dns = Arc::new(FakeDns::default());
    let mut wf = WhiteFiles::new(home.path(), Some("whiteclnt"), None, dns, timing);
    assert_eq!(wf.global().1, Refresh::Reloaded(vec![]));
    home.write("whiteclnt", "many env_from alice@example.com\n");
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Unchanged);
    assert_eq!(env_from(&l.unwrap(), "alice@example.com"), Listing::Listed);
}

#[test]
fn host_names_are_resolved_again() {
    let home = TempDir::new();
    home.write("whiteclnt", "mx ip relay.example.com\n");
    let dns = Arc::new(FakeDns::default());
    dns.set("relay.example.com", &["192.0.2.77"]);
    let timing = Timing {
        resolve_every: Duration::ZERO,
        ..now_timing()
    };
    let mut wf = WhiteFiles::new(home.path(), Some("whiteclnt"), None, dns.clone(), timing);
    let a: IpAddr = "192.0.2.77".parse().unwrap();
    let b: IpAddr = "192.0.2.78".parse().unwrap();
    let l = wf.global().0.unwrap();
    assert_eq!(l.relay(&ip_sum(a), a), Some(Tgts::MX));
    dns.set("relay.example.com", &["192.0.2.78"]);
    let (l, r) = wf.global();
    assert_eq!(r, Refresh::Reloaded(vec![]));
    let l = l.unwrap();
    assert_eq!(l.relay(&ip_sum(b), b), Some(Tgts::MX));
    assert_eq!(l.relay(&ip_sum(a), a), None);
}

#[test]
fn per_user_files() {
    let home = TempDir::new();
    home.write("whiteclnt", "ok env_to postmaster@example.net\n");
    home.write(
        "userdirs/local/bob/whiteclnt",
        "option log-all\nok env_from friend@example.com\n",
    );
    let dns = Arc::new(FakeDns::default());
    let mut wf = WhiteFiles::new(
        home.path(),
        Some("whiteclnt"),
        Some("userdirs"),
        dns,
        now_timing(),
    );

    let dir = user_dir("userdirs", &["local", "Bob"]).unwrap();
    let (bob, r) = wf.user(&dir);
    assert_eq!(r, Refresh::Reloaded(vec![]));
    let bob = bob.unwrap();
    assert_eq!(env_from(&bob, "friend@example.com"), Listing::Listed);
    assert!(bob.switches().has(tally_white::Switches::LOG_ALL));

    // dave has no file
    let (dave, r) = wf.user("local/dave");
    assert!(dave.is_none());
    assert_eq!(r, Refresh::Missing);

    // per-user files may not name hosts; the error names the file
    home.write(
        "userdirs/local/erin/whiteclnt",
        "ok ip relay.example.com\nok env_from x@y\n",
    );
    let (erin, r) = wf.user("local/erin");
    let Refresh::Reloaded(errs) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        errs[0].to_string(),
        "host name checksum illegal in per-user whitelist in line 1 of userdirs/local/erin/whiteclnt"
    );
    // the first version is used in spite of the bad line
    assert_eq!(env_from(&erin.unwrap(), "x@y"), Listing::Listed);
    assert_eq!(wf.user_file("local/erin").unwrap().errors().len(), 1);

    // an edit of bob's file is noticed
    home.write(
        "userdirs/local/bob/whiteclnt",
        "many env_from friend@example.com\n",
    );
    let (bob, _) = wf.user("local/bob");
    assert_eq!(
        env_from(&bob.unwrap(), "friend@example.com"),
        Listing::Black
    );

    // an edit with a bad line is used at once, without the bad line
    home.write(
        "userdirs/local/bob/whiteclnt",
        "ok env_from friend@example.com\nmx ip 192.0.2.1\n",
    );
    let (bob, r) = wf.user("local/bob");
    let Refresh::Reloaded(errs) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        errs[0].to_string(),
        "mx illegal in per-user whitelist in line 2 of userdirs/local/bob/whiteclnt"
    );
    assert_eq!(
        env_from(&bob.unwrap(), "friend@example.com"),
        Listing::Listed
    );
    assert_eq!(wf.user_file("local/bob").unwrap().errors().len(), 1);

    assert!(user_dir("userdirs", &["local/../local/bob"]).is_err());
}

#[test]
fn one_shot_load() {
    let home = TempDir::new();
    home.write("wl", "ok env_from a@b\nmany ip relay.example.com\n");
    let dns = FakeDns::default();
    dns.set("relay.example.com", &["192.0.2.1"]);
    let b =
        tally_engine::whitefiles::load_file(home.path(), "wl", tally_white::FileKind::Global, &dns)
            .unwrap();
    assert!(b.errors.is_empty());
    let a: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(b.list.relay(&ip_sum(a), a), Some(Tgts::MANY));
    let none = tally_engine::whitefiles::load_file(
        home.path(),
        "missing",
        tally_white::FileKind::Global,
        &dns,
    );
    assert!(none.is_none());
}

#[test]
fn problems_are_repeated_periodically() {
    let home = TempDir::new();
    home.write("whiteclnt", "ok env_from alice@example.com\n");
    let timing = Timing {
        reparse_errors: Duration::ZERO,
        ..now_timing()
    };
    let dns = Arc::new(FakeDns::default());
    let mut wf = WhiteFiles::new(home.path(), Some("whiteclnt"), None, dns, timing);
    assert_eq!(wf.global().1, Refresh::Reloaded(vec![]));
    home.write("whiteclnt", "ok env_from carol@example.com\nok\n");
    for _ in 0..2 {
        let (l, r) = wf.global();
        assert!(
            matches!(r, Refresh::Reloaded(ref e) if e.len() == 1),
            "{r:?}"
        );
        let l = l.unwrap();
        assert_eq!(env_from(&l, "carol@example.com"), Listing::Listed);
        assert_eq!(env_from(&l, "alice@example.com"), Listing::Unlisted);
    }
}

#[test]
fn unreadable_main_file_keeps_the_list() {
    let home = TempDir::new();
    home.write("whiteclnt", "ok env_from alice@example.com\n");
    let dns = Arc::new(FakeDns::default());
    let mut wf = WhiteFiles::new(home.path(), Some("whiteclnt"), None, dns, now_timing());
    assert_eq!(wf.global().1, Refresh::Reloaded(vec![]));
    // replaced by a directory: cannot be read as a file
    std::fs::remove_file(home.path().join("whiteclnt")).unwrap();
    std::fs::create_dir(home.path().join("whiteclnt")).unwrap();
    let (l, r) = wf.global();
    let Refresh::Unreadable(msg) = r else {
        panic!("{r:?}")
    };
    assert!(msg.starts_with("open("), "{msg}");
    assert_eq!(env_from(&l.unwrap(), "alice@example.com"), Listing::Listed);
}
