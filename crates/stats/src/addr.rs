//! The argument of `-M [addr,]port`: the listener's address, which must be
//! a loopback address (127.0.0.0/8 or ::1); 127.0.0.1 when omitted.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Parse `-M [addr,]port`. The error names the option and says why.
pub fn parse_listen(v: &str) -> Result<SocketAddr, String> {
    let (host, port) = match v.rsplit_once(',') {
        Some((h, p)) => (h, p),
        None => ("", v),
    };
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| format!("invalid \"-M {v}\": the port {port:?} is not a number 0-65535"))?;
    let host = host.trim();
    let ip = if host.is_empty() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match bare {
            "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            _ => bare.parse::<IpAddr>().map_err(|_| {
                format!("invalid \"-M {v}\": {host:?} is not an IP address (127.0.0.1 or ::1)")
            })?,
        }
    };
    if !ip.is_loopback() {
        return Err(format!(
            "-M {v}: {ip} is not a loopback address; the statistics listener \
             only listens on 127.0.0.0/8 or ::1"
        ));
    }
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse_listen("9100").unwrap(),
            "127.0.0.1:9100".parse().unwrap()
        );
        assert_eq!(
            parse_listen("127.0.0.1,0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_listen("127.3.4.5,80").unwrap(),
            "127.3.4.5:80".parse().unwrap()
        );
        assert_eq!(
            parse_listen("::1,9100").unwrap(),
            "[::1]:9100".parse().unwrap()
        );
        assert_eq!(
            parse_listen("[::1],9100").unwrap(),
            "[::1]:9100".parse().unwrap()
        );
        assert_eq!(
            parse_listen("localhost,1").unwrap(),
            "127.0.0.1:1".parse().unwrap()
        );
    }

    #[test]
    fn refusals() {
        let e = parse_listen("192.0.2.1,80").unwrap_err();
        assert!(
            e.starts_with("-M 192.0.2.1,80: 192.0.2.1 is not a loopback address"),
            "{e}"
        );
        assert!(parse_listen("0.0.0.0,80")
            .unwrap_err()
            .contains("not a loopback"));
        assert!(parse_listen("::,80")
            .unwrap_err()
            .contains("not a loopback"));
        assert!(parse_listen("127.0.0.1,x").unwrap_err().contains("port"));
        assert!(parse_listen("127.0.0.1,70000").is_err());
        assert!(parse_listen("host.example,80")
            .unwrap_err()
            .contains("not an IP"));
        assert!(parse_listen("").is_err());
    }
}
