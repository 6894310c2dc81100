//! The Prometheus text exposition format, version 0.0.4: for each family
//! a `# HELP` line, one `# TYPE` line, then one line per series
//! (`name{label="value",...} value`). Pure: a snapshot in, text out.

use std::fmt::Write;

use crate::registry::Snapshot;

/// The `Content-Type` of the text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A help text escaped: backslash and line feed.
pub fn escape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// A label value escaped: backslash, double quote and line feed.
pub fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// A value as Prometheus reads it: whole numbers without a fraction,
/// `NaN`, `+Inf` and `-Inf` spelled its way.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

/// The text of a snapshot.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    for (i, f) in s.families.iter().enumerate() {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.word());
        for v in s.values.iter().filter(|v| v.family == i) {
            out.push_str(&f.name);
            if !f.label_names.is_empty() {
                out.push('{');
                for (j, (n, val)) in f.label_names.iter().zip(&v.labels).enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{n}=\"{}\"", escape_label(val));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", format_value(v.value));
        }
    }
    out
}

/// One sample line read back: name, labels (unescaped) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name.
    pub name: String,
    /// `(label, value)` pairs in their order on the line.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// Read the sample lines of an exposition back (comments skipped), for
/// tests and tools. The error names the line.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("line {n}: {why}: {line:?}");
        let end = line.find(['{', ' ']).ok_or_else(|| bad("no value"))?;
        let name = line[..end].to_string();
        let mut rest = &line[end..];
        let mut labels = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            rest = r;
            loop {
                if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                }
                let r = rest.strip_prefix(',').unwrap_or(rest);
                let (k, r) = r
                    .split_once("=\"")
                    .ok_or_else(|| bad("label without value"))?;
                let mut val = String::new();
                let mut chars = r.char_indices();
                let close = loop {
                    match chars.next() {
                        Some((i, '"')) => break i,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => val.push('\n'),
                            Some((_, c)) => val.push(c),
                            None => return Err(bad("escape at the end")),
                        },
                        Some((_, c)) => val.push(c),
                        None => return Err(bad("unterminated label value")),
                    }
                };
                labels.push((k.to_string(), val));
                rest = &r[close + 1..];
            }
        }
        let v = rest.trim();
        let value = match v {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            _ => v.parse().map_err(|_| bad("bad value"))?,
        };
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn layout() {
        let r = Registry::new();
        r.counter("tally_a_total", "Requests.\nSecond line \\ end.")
            .unwrap()
            .add(7);
        r.counter_with("tally_b_total", "By kind.", &["kind"], &["query"])
            .unwrap()
            .inc();
        r.counter_with("tally_b_total", "By kind.", &["kind"], &["a\"b\\c\nd"])
            .unwrap()
            .add(2);
        r.gauge("tally_c", "Now.").unwrap().set(-3);
        let t = render(&r.snapshot());
        assert_eq!(
            t,
            "# HELP tally_a_total Requests.\\nSecond line \\\\ end.\n\
             # TYPE tally_a_total counter\n\
             tally_a_total 7\n\
             # HELP tally_b_total By kind.\n\
             # TYPE tally_b_total counter\n\
             tally_b_total{kind=\"query\"} 1\n\
             tally_b_total{kind=\"a\\\"b\\\\c\\nd\"} 2\n\
             # HELP tally_c Now.\n\
             # TYPE tally_c gauge\n\
             tally_c -3\n"
        );
    }

    #[test]
    fn values() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(1e300), "1e300");
    }
}
