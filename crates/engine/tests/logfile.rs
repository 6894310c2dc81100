//! Per-message log files on disk: unique names, keeping or removing,
//! subdirectories, and the 32 KByte cut of the copied message.

use std::fs;
use std::path::PathBuf;
use tally_engine::logfile::{LogFile, LogMode, MAX_LOG_BYTES, TRUNC_MSG_CR};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tally-logfile-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("scratch");
    d
}

#[test]
fn keep_renames_to_msg() {
    let d = scratch("keep");
    let mut l = LogFile::create(&d, LogMode::Flat).expect("create");
    let id = l.id().to_string();
    assert!(l.path().ends_with(format!("tmp.{id}")));
    l.write(b"VERSION: 3\n").expect("write");
    let kept = l.finish(true).kept.expect("kept");
    assert!(kept.ends_with(format!("msg.{id}")));
    assert_eq!(fs::read(&kept).expect("read"), b"VERSION: 3\n");
    let l = LogFile::create(&d, LogMode::Flat).expect("create");
    let p = l.path().to_path_buf();
    assert_eq!(l.finish(false).kept, None);
    assert!(!p.exists());
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn message_is_cut_at_a_line_end() {
    let d = scratch("cut");
    let mut l = LogFile::create(&d, LogMode::Flat).expect("create");
    let line = [b'x'; 99]
        .iter()
        .copied()
        .chain([b'\n'])
        .collect::<Vec<u8>>();
    let mut body = Vec::new();
    while body.len() < 40_000 {
        body.extend_from_slice(&line);
    }
    for chunk in body.chunks(8000) {
        l.body_write(chunk).expect("write");
    }
    l.body_write(b"more\n").expect("write");
    let p = l.finish(true).kept.expect("kept");
    let text = fs::read(&p).expect("read");
    let marker = TRUNC_MSG_CR.as_bytes();
    assert!(text.ends_with(marker));
    let kept = &text[..text.len() - marker.len()];
    assert!(kept.len() <= MAX_LOG_BYTES);
    assert!(kept.len() > MAX_LOG_BYTES - 100);
    assert_eq!(kept.last(), Some(&b'\n'));
    assert_eq!(kept.len() % 100, 0);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn subdirectories() {
    let d = scratch("sub");
    let l = LogFile::create(&d, LogMode::Minute).expect("create");
    let rel = l.path().strip_prefix(&d).expect("inside").to_path_buf();
    let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy().len()).collect();
    assert_eq!(parts[..3], [3, 2, 2]);
    let _ = l.finish(false);
    let _ = fs::remove_dir_all(&d);
}

/// Threads creating log files at the same moment get distinct names: none
/// fails for want of a unique name.
#[test]
fn concurrent_names_are_unique() {
    let d = scratch("threads");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let mut open = Vec::new();
                for _ in 0..200 {
                    open.push(LogFile::create(&d, LogMode::Flat).expect("create"));
                }
                for l in open {
                    assert!(l.finish(true).kept.is_some());
                }
            });
        }
    });
    assert_eq!(fs::read_dir(&d).expect("read_dir").count(), 1600);
    let _ = fs::remove_dir_all(&d);
}
