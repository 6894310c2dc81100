//! Envelope values recovered from the message itself, as `dccproc` does
//! when it is not told the envelope sender with `-f`: a UNIX mailbox
//! `From ` line at the top of the message, or a `Return-Path:` header.
//! Also the `mail_host` value derived from the envelope sender.

use super::util::{cap, find_any, span, starts_with_ci};
use super::HDR_CK_MAX;

/// Longest host name kept (`DCC_MAXDOMAINLEN` less the C string's NUL).
const MAX_DOMAIN: usize = 255;

/// The sender of a `Return-Path:` header field (the whole field, name
/// included): the value after blanks, without the final line ending, at most
/// 1024 bytes. `None` for another field or an empty value.
pub fn parse_return_path(field: &[u8]) -> Option<&[u8]> {
    const NAME: &[u8] = b"Return-Path:";
    if !starts_with_ci(field, NAME) {
        return None;
    }
    let v = &field[NAME.len()..];
    let v = &v[span(v, b" \t")..];
    let mut end = v.len();
    while end > 0 && matches!(v[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let v = cap(&v[..end], HDR_CK_MAX);
    (!v.is_empty()).then_some(v)
}

/// The sender of a UNIX mailbox separator line, `From sender date...`
/// (case-sensitive "From ", the address ends at the next space), at most
/// 1024 bytes. `None` when the line does not have that form.
pub fn parse_unix_from(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"From ")?;
    let rest = &rest[span(rest, b" ")..];
    let end = rest.iter().position(|&b| b == b' ')?;
    let v = cap(&rest[..end], HDR_CK_MAX);
    (!v.is_empty()).then_some(v)
}

/// The domain of an envelope sender, as sendmail's `{mail_host}` would be:
/// the text after the first `@` up to a `>` or the end. Source routes and
/// lists (a `;`, `@` or `,` before that end) give nothing.
pub fn parse_mail_host(env_from: &[u8]) -> Option<&[u8]> {
    // The value is a C string in the original.
    let s = match env_from.iter().position(|&b| b == 0) {
        Some(n) => &env_from[..n],
        None => env_from,
    };
    let at = s.iter().position(|&b| b == b'@')?;
    let host = &s[at + 1..];
    let end = host.iter().position(|&b| b == b'>').unwrap_or(host.len());
    if let Some(bad) = find_any(host, b";@,") {
        if bad < end {
            return None;
        }
    }
    let v = cap(&host[..end], MAX_DOMAIN);
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path() {
        assert_eq!(
            parse_return_path(b"Return-Path: <a@b.c>\r\n"),
            Some(&b"<a@b.c>"[..])
        );
        assert_eq!(parse_return_path(b"return-path:\t\t<>\n"), Some(&b"<>"[..]));
        assert_eq!(parse_return_path(b"Return-Path:  \r\n"), None);
        assert_eq!(parse_return_path(b"Return-Path:"), None);
        assert_eq!(parse_return_path(b"Return-Path : <a@b>\n"), None);
        assert_eq!(
            parse_return_path(b"Return-Path: <a\n @b>\n"),
            Some(&b"<a\n @b>"[..])
        );
        let long = [b"Return-Path: ".as_slice(), &[b'x'; 3000], b"\n"].concat();
        assert_eq!(parse_return_path(&long).map(|v| v.len()), Some(1024));
    }

    #[test]
    fn unix_from() {
        assert_eq!(
            parse_unix_from(b"From user@example.com  Thu Dec  2 10:55:56 2004\n"),
            Some(&b"user@example.com"[..])
        );
        assert_eq!(parse_unix_from(b"From   x@y Mon\n"), Some(&b"x@y"[..]));
        assert_eq!(parse_unix_from(b"From x@y\n"), None);
        assert_eq!(parse_unix_from(b"From: x@y z\n"), None);
        assert_eq!(parse_unix_from(b"from x@y z\n"), None);
        assert_eq!(parse_unix_from(b"From \n"), None);
    }

    #[test]
    fn mail_host() {
        assert_eq!(
            parse_mail_host(b"alice@example.com"),
            Some(&b"example.com"[..])
        );
        assert_eq!(
            parse_mail_host(b"\"J. Smith\" <jsmith@example.org>"),
            Some(&b"example.org"[..])
        );
        assert_eq!(parse_mail_host(b"<>"), None);
        assert_eq!(parse_mail_host(b"<a@>"), None);
        assert_eq!(parse_mail_host(b"<@relay:a@b>"), None);
        assert_eq!(parse_mail_host(b"a@b;c"), None);
        assert_eq!(parse_mail_host(b"<a@b> x,y"), Some(&b"b"[..]));
        assert_eq!(parse_mail_host(b"a@b\0@c"), Some(&b"b"[..]));
    }
}
