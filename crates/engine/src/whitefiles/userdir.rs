//! Per-user directory names under `-U userdirs`, made safe the way dccm
//! and dccifd make them.

/// The directory of a recipient's files below userdirs, from its parts
/// (dccm: `{rcpt_mailer}` and `{rcpt_addr}`, or `{dcc_userdir}`; dccifd:
/// the user name): parts joined with `/`, ASCII letters lower-cased.
/// A component that is exactly `..` is refused with the original's
/// message `path "userdirs/..." is insecure`.
pub fn user_dir(userdirs: &str, parts: &[&str]) -> Result<String, String> {
    let joined = parts.join("/");
    let mut out = String::with_capacity(joined.len());
    let mut at_start = true;
    let mut dots = 0;
    for c in joined.chars().chain(std::iter::once('\0')) {
        if c == '/' || c == '\\' || c == '\0' {
            if dots == 2 {
                let base = userdirs.trim_end_matches('/');
                return Err(format!("path \"{base}/{joined}\" is insecure"));
            }
            if c == '\0' {
                break;
            }
            out.push(c);
            at_start = true;
            dots = 0;
        } else if c == '.' && at_start && dots <= 1 {
            out.push(c);
            dots += 1;
        } else {
            out.push(c.to_ascii_lowercase());
            at_start = false;
            dots = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs() {
        assert_eq!(
            user_dir("userdirs", &["local", "Bob"]).unwrap(),
            "local/bob"
        );
        assert_eq!(user_dir("userdirs", &["local/BOB"]).unwrap(), "local/bob");
        let e = user_dir("userdirs", &["local/../local/bob"]).unwrap_err();
        assert_eq!(e, "path \"userdirs/local/../local/bob\" is insecure");
        assert!(user_dir("u", &["a/.."]).is_err());
        assert_eq!(user_dir("u", &["a/...b"]).unwrap(), "a/...b");
    }
}
