//! The per-user `option` lines of dcc(8) that a user may change from the
//! web pages: DCC filtering on or off, greylisting on or off, logging of
//! all messages or only the interesting ones, spam-trap, and the reject
//! thresholds of the common checksums. Nothing else is offered (log
//! subdirectories, DNSBL, MTA order, forced discard stay with the site).
//!
//! As with [`crate::whiteedit`], the file is edited as text: a changed
//! setting replaces its first line in place, other lines of the same
//! setting are dropped, a new setting goes at the end, and "default"
//! removes the setting's lines.

use std::collections::HashMap;

/// One setting: its form name, what the user reads, and its choices
/// (form value, option word).
pub struct Choice {
    pub key: &'static str,
    pub label: &'static str,
    pub values: &'static [(&'static str, &'static str)],
}

/// The settings offered.
pub const CHOICES: &[Choice] = &[
    Choice {
        key: "dcc",
        label: "DCC filtering",
        values: &[("on", "DCC-on"), ("off", "DCC-off")],
    },
    Choice {
        key: "greylist",
        label: "Greylisting",
        values: &[("on", "greylist-on"), ("off", "greylist-off")],
    },
    Choice {
        key: "log",
        label: "Logging",
        values: &[("all", "log-all"), ("normal", "log-normal")],
    },
    Choice {
        key: "spamtrap",
        label: "Spam trap",
        values: &[
            ("discard", "spam-trap-discard"),
            ("reject", "spam-trap-reject"),
            ("no", "not-spam-trap"),
        ],
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
    for c in CHOICES {
        for (v, opt) in c.values {
            if word.eq_ignore_ascii_case(opt) {
                return Some((c.key.to_string(), v.to_string()));
            }
        }
    }
    None
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
        assert!(apply(old, &form(&[("mta", "first")])).is_err());
    }
}
