//! `-L ltype,facility.level`: where the DCC clients send their system log
//! messages. Parsed and checked as the original does.

/// syslog facility codes (already shifted, as in `<syslog.h>`).
const FACILITIES: &[(&str, i32)] = &[
    ("AUTH", 4 << 3),
    ("AUTHPRIV", 10 << 3),
    ("CRON", 9 << 3),
    ("DAEMON", 3 << 3),
    ("FTP", 11 << 3),
    ("KERN", 0),
    ("LPR", 6 << 3),
    ("MAIL", 2 << 3),
    ("NEWS", 7 << 3),
    ("USER", 1 << 3),
    ("UUCP", 8 << 3),
    ("LOCAL0", 16 << 3),
    ("LOCAL1", 17 << 3),
    ("LOCAL2", 18 << 3),
    ("LOCAL3", 19 << 3),
    ("LOCAL4", 20 << 3),
    ("LOCAL5", 21 << 3),
    ("LOCAL6", 22 << 3),
    ("LOCAL7", 23 << 3),
];

/// syslog levels.
const LEVELS: &[(&str, i32)] = &[
    ("EMERG", 0),
    ("ALERT", 1),
    ("CRIT", 2),
    ("ERR", 3),
    ("WARNING", 4),
    ("NOTICE", 5),
    ("INFO", 6),
    ("DEBUG", 7),
];

fn lookup(tbl: &[(&str, i32)], s: &str) -> Option<i32> {
    tbl.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|&(_, v)| v)
}

/// What a `-L` option asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOpt {
    /// `-L off`: no system log messages.
    Off,
    /// Priority (facility | level) of informational messages.
    Info(i32),
    /// Priority of error messages.
    Error(i32),
}

/// Parse a `-L` argument; `Err` is the complaint the original prints.
pub fn parse_log_opt(arg: &str) -> Result<LogOpt, String> {
    if arg.starts_with("off") {
        return Ok(LogOpt::Off);
    }
    let Some(p) = arg.find(['.', ',']) else {
        return Err(format!("missing syslog facility in \"-L {arg}\""));
    };
    let (ltype, rest) = (&arg[..p], &arg[p + 1..]);
    let info = if ltype.eq_ignore_ascii_case("info") {
        true
    } else if ltype.eq_ignore_ascii_case("error") {
        false
    } else {
        return Err(format!(
            "\"{ltype}\" in \"-L {arg}\" is neither \"info\" nor \"error\""
        ));
    };
    let Some(q) = rest.find(['.', ',']) else {
        return Err(format!("missing syslog level in \"-L {arg}\""));
    };
    let (a, b) = (&rest[..q], &rest[q + 1..]);
    // facility.level or level.facility
    let prio = match lookup(FACILITIES, a) {
        Some(f) => lookup(LEVELS, b).map(|l| f | l),
        None => {
            let Some(f) = lookup(FACILITIES, b) else {
                return Err(format!("unrecognized facility in \"{arg}\""));
            };
            lookup(LEVELS, a).map(|l| f | l)
        }
    };
    match prio {
        None => Err(format!("unrecognized level in \"{arg}\"")),
        Some(p) if info => Ok(LogOpt::Info(p)),
        Some(p) => Ok(LogOpt::Error(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_log_opt("off"), Ok(LogOpt::Off));
        assert_eq!(
            parse_log_opt("info,MAIL.NOTICE"),
            Ok(LogOpt::Info((2 << 3) | 5))
        );
        assert_eq!(
            parse_log_opt("error,err.local0"),
            Ok(LogOpt::Error((16 << 3) | 3))
        );
        assert_eq!(
            parse_log_opt("info"),
            Err("missing syslog facility in \"-L info\"".to_string())
        );
        assert_eq!(
            parse_log_opt("x,MAIL.ERR"),
            Err("\"x\" in \"-L x,MAIL.ERR\" is neither \"info\" nor \"error\"".to_string())
        );
        assert_eq!(
            parse_log_opt("info,MAIL"),
            Err("missing syslog level in \"-L info,MAIL\"".to_string())
        );
        assert_eq!(
            parse_log_opt("info,X.Y"),
            Err("unrecognized facility in \"info,X.Y\"".to_string())
        );
        assert_eq!(
            parse_log_opt("info,MAIL.LOUD"),
            Err("unrecognized level in \"info,MAIL.LOUD\"".to_string())
        );
    }
}
