//! The per-user `option` lines of dcc(8) that a user may change from the
//! web pages, the settings the original's `edit-whiteclnt` offered: DCC
//! filtering on or off, greylisting on or off, logging of greylisted
//! mail, logging of all messages or only the interesting ones, the log
//! subdirectories, the four groups of DNS blacklists, whether the MTA's
//! opinion of a message comes first or last, forced discarding, spam
//! traps, and the reject thresholds of the common checksums. (The
//! original's DCC Reputation settings are not offered: tally computes no
//! reputations.)
//!
//! As with [`crate::whiteedit`], the file is edited as text: a changed
//! setting replaces its first line in place, other lines of the same
//! setting are dropped, a new setting goes at the end, and "default"
//! removes the setting's lines. Other spellings the white crate takes
//! for a setting (`DNSBL-on`, `forced-discard-nok`, ...) are read as that
//! setting, so that a change replaces them too.

use std::collections::HashMap;

/// One setting: its form name, what the user reads, its choices (form
/// value, option word as written) and other option words that mean a
/// choice (form value, word).
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
    pub values: &'static [(&'static str, &'static str)],
    pub aliases: &'static [(&'static str, &'static str)],
}

/// The settings offered.
pub const CHOICES: &[Choice] = &[
    Choice {
        key: "dcc",
        label: "DCC filtering",
        values: &[("on", "DCC-on"), ("off", "DCC-off")],
        aliases: &[],
    },
    Choice {
        key: "greylist",
        label: "Greylisting",
        values: &[("on", "greylist-on"), ("off", "greylist-off")],
        aliases: &[],
    },
    Choice {
        key: "greylog",
        label: "Logging of greylisted mail",
        values: &[("on", "greylist-log-on"), ("off", "greylist-log-off")],
        aliases: &[],
    },
    Choice {
        key: "log",
        label: "Logging",
        values: &[("all", "log-all"), ("normal", "log-normal")],
        aliases: &[],
    },
    Choice {
        key: "logsubdir",
        label: "Log subdirectories (by day, hour or minute)",
        values: &[
            ("day", "log-subdirectory-day"),
            ("hour", "log-subdirectory-hour"),
            ("minute", "log-subdirectory-minute"),
        ],
        aliases: &[],
    },
    Choice {
        key: "dnsbl1",
        label: "DNS blacklist checks, group 1",
        values: &[("on", "DNSBL1-on"), ("off", "DNSBL1-off")],
        aliases: &[("on", "DNSBL-on"), ("off", "DNSBL-off")],
    },
    Choice {
        key: "dnsbl2",
        label: "DNS blacklist checks, group 2",
        values: &[("on", "DNSBL2-on"), ("off", "DNSBL2-off")],
        aliases: &[],
    },
    Choice {
        key: "dnsbl3",
        label: "DNS blacklist checks, group 3",
        values: &[("on", "DNSBL3-on"), ("off", "DNSBL3-off")],
        aliases: &[],
    },
    Choice {
        key: "dnsbl4",
        label: "DNS blacklist checks, group 4",
        values: &[("on", "DNSBL4-on"), ("off", "DNSBL4-off")],
        aliases: &[],
    },
    Choice {
        key: "mta",
        label: "The mail system's own spam or not-spam opinion",
        values: &[("first", "MTA-first"), ("last", "MTA-last")],
        aliases: &[],
    },
    Choice {
        key: "discard",
        label: "Discard spam also addressed to others",
        values: &[("ok", "forced-discard-ok"), ("no", "no-forced-discard")],
        aliases: &[("no", "no_forced-discard"), ("no", "forced-discard-nok")],
    },
    Choice {
        key: "spamtrap",
        label: "Spam trap",
        values: &[
            ("discard", "spam-trap-discard"),
            ("reject", "spam-trap-reject"),
            ("no", "not-spam-trap"),
        ],
        aliases: &[("discard", "spam-trap-accept")],
    },
];

/// Checksum types whose reject threshold a user may set.
pub const THOLD_TYPES: &[&str] = &["CMN", "Body", "Fuz1", "Fuz2"];

/// Highest numeric threshold accepted (larger counts are `many`).
pub const MAX_THOLD: u32 = 16_777_200;

/// What a text line sets: (form key, form value).
fn setting_of(line: &str) -> Option<(String, String)> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let mut w = line.split_whitespace();
    if !w.next()?.eq_ignore_ascii_case("option") {
        return None;
    }
    let word = w.next()?;
    if word.eq_ignore_ascii_case("threshold") {
        let arg = w.next()?;
        let (ty, val) = arg.split_once(',')?;
        let ty = THOLD_TYPES.iter().find(|t| t.eq_ignore_ascii_case(ty))?;
        return Some((format!("thold_{ty}"), val.to_ascii_lowercase()));
    }
    CHOICES.iter().find_map(|c| {
        c.values
            .iter()
            .chain(c.aliases)
            .find(|(_, opt)| word.eq_ignore_ascii_case(opt))
            .map(|(v, _)| (c.key.to_string(), v.to_string()))
    })
}

/// The settings in a file: form key to form value (the last line wins,
/// as when the file is parsed).
pub fn current(text: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(setting_of)
        .collect()
}

/// The option line for a form key and value; `None` for the default.
fn option_line(key: &str, value: &str) -> Result<Option<String>, String> {
    if value.is_empty() || value == "default" {
        return Ok(None);
    }
    if let Some(ty) = key.strip_prefix("thold_") {
        let v = value.trim().to_ascii_lowercase();
        let ok = v == "never"
            || v == "many"
            || (v.len() <= 8 && v.parse::<u32>().is_ok_and(|n| n <= MAX_THOLD));
        if !ok {
            return Err(format!(
                "threshold for {ty}: {value:?} is not a count up to {MAX_THOLD}, never or many"
            ));
        }
        return Ok(Some(format!("option threshold {ty},{v}")));
    }
    let c = CHOICES
        .iter()
        .find(|c| c.key == key)
        .ok_or_else(|| format!("no setting {key:?} may be changed here"))?;
    let (_, word) = c
        .values
        .iter()
        .find(|(v, _)| *v == value)
        .ok_or_else(|| format!("{:?} is not a choice for {}", value, c.label))?;
    Ok(Some(format!("option {word}")))
}

/// All form keys.
pub fn keys() -> Vec<String> {
    CHOICES
        .iter()
        .map(|c| c.key.to_string())
        .chain(THOLD_TYPES.iter().map(|t| format!("thold_{t}")))
        .collect()
}

/// The file with the settings of `form` (keys not in the form stay as
/// they are; unknown keys other than the form's own fields are refused).
pub fn apply(text: &[u8], form: &HashMap<String, String>) -> Result<Vec<u8>, String> {
    let known = keys();
    for k in form.keys() {
        if !known.contains(k) && k != "csrf" {
            return Err(format!("no setting {k:?} may be changed here"));
        }
    }
    let mut want: HashMap<String, Option<String>> = HashMap::new();
    for k in &known {
        if let Some(v) = form.get(k) {
            want.insert(k.clone(), option_line(k, v)?);
        }
    }
    let mut done: Vec<String> = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(text.len() + 64);
    for l in text.split_inclusive(|&c| c == b'\n') {
        let s = String::from_utf8_lossy(l);
        let key = setting_of(s.trim_end()).map(|(k, _)| k);
        match key.and_then(|k| want.get(&k).map(|w| (k, w))) {
            None => out.extend_from_slice(l),
            Some((k, w)) => {
                if done.contains(&k) {
                    continue;
                }
                done.push(k);
                if let Some(line) = w {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
    for k in &known {
        if let Some(Some(line)) = want.get(k) {
            if !done.contains(k) {
                crate::whiteedit::append_line(&mut out, line);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(p: &[(&str, &str)]) -> HashMap<String, String> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn settings() {
        let old = b"# mine\noption DCC-off\nok env_from a@b.c\noption log-all\noption threshold body,10\n";
        let cur = current(old);
        assert_eq!(cur["dcc"], "off");
        assert_eq!(cur["log"], "all");
        assert_eq!(cur["thold_Body"], "10");
        let new = apply(
            old,
            &form(&[
                ("dcc", "on"),
                ("log", "default"),
                ("thold_Body", "many"),
                ("greylist", "off"),
                ("thold_CMN", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(new.clone()).unwrap(),
            "# mine\noption DCC-on\nok env_from a@b.c\noption threshold Body,many\noption greylist-off\n"
        );
        crate::whiteedit::check_edit(old, &new).unwrap();
        assert!(apply(old, &form(&[("thold_Body", "lots")])).is_err());
        assert!(apply(old, &form(&[("dcc", "maybe")])).is_err());
        assert!(apply(old, &form(&[("mta", "sometimes")])).is_err());
        assert!(apply(old, &form(&[("rep", "on")])).is_err());
    }

    #[test]
    fn site_settings() {
        // the other spellings of a setting are replaced by a change
        let old = b"option DNSBL-on\noption forced-discard-nok\noption log-subdirectory-day\n\
option spam-trap-accept\n";
        let cur = current(old);
        assert_eq!(cur["dnsbl1"], "on");
        assert_eq!(cur["discard"], "no");
        assert_eq!(cur["logsubdir"], "day");
        assert_eq!(cur["spamtrap"], "discard");
        let new = apply(
            old,
            &form(&[
                ("dnsbl1", "off"),
                ("discard", "ok"),
                ("logsubdir", "minute"),
                ("spamtrap", "default"),
                ("dnsbl3", "on"),
                ("mta", "first"),
                ("greylog", "off"),
            ]),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(new.clone()).unwrap(),
            "option DNSBL1-off\noption forced-discard-ok\noption log-subdirectory-minute\n\
option greylist-log-off\noption DNSBL3-on\noption MTA-first\n"
        );
        crate::whiteedit::check_edit(old, &new).unwrap();
        let cur = current(&new);
        for (k, v) in [
            ("dnsbl1", "off"),
            ("discard", "ok"),
            ("logsubdir", "minute"),
            ("dnsbl3", "on"),
            ("mta", "first"),
            ("greylog", "off"),
        ] {
            assert_eq!(cur[k], v, "{k}");
        }
        assert!(!cur.contains_key("spamtrap"));
        // every choice is an option word of the white crate
        for c in CHOICES {
            for (v, _) in c.values {
                let one = apply(b"", &form(&[(c.key, v)])).unwrap();
                crate::whiteedit::check_edit(b"", &one)
                    .unwrap_or_else(|e| panic!("{}={v}: {e}", c.key));
                assert_eq!(current(&one)[c.key], *v);
            }
        }
        // settings the white crate finds in conflict are refused
        for pair in [
            [("spamtrap", "discard"), ("discard", "no")],
            [("spamtrap", "reject"), ("dnsbl2", "on")],
        ] {
            let bad = apply(b"", &form(&pair)).unwrap();
            assert!(crate::whiteedit::check_edit(b"", &bad).is_err(), "{pair:?}");
        }
    }
}
