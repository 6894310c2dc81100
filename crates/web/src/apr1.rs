//! Apache's `$apr1$` password hashes (the MD5-based crypt of FreeBSD with
//! the magic string `$apr1$`), and the same with `$1$`, computed with the
//! `md-5` crate.

use md5::{Digest, Md5};

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The hash of `password` with `salt` (at most 8 characters are used) and
/// `magic` (`$apr1$` or `$1$`), in the form `magic salt $ hash`.
pub fn md5_crypt(password: &[u8], salt: &[u8], magic: &[u8]) -> String {
    let salt = &salt[..salt.len().min(8)];
    let mut alt = Md5::new();
    alt.update(password);
    alt.update(salt);
    alt.update(password);
    let alt = alt.finalize();

    let mut ctx = Md5::new();
    ctx.update(password);
    ctx.update(magic);
    ctx.update(salt);
    let mut left = password.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alt[..n]);
        left -= n;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut fin = ctx.finalize();
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(password);
        } else {
            c.update(fin);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round & 1 == 1 {
            c.update(fin);
        } else {
            c.update(password);
        }
        fin = c.finalize();
    }
    let mut out = String::with_capacity(magic.len() + salt.len() + 23);
    out.push_str(&String::from_utf8_lossy(magic));
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    let groups = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)];
    for (a, b, c) in groups {
        let v = (u32::from(fin[a]) << 16) | (u32::from(fin[b]) << 8) | u32::from(fin[c]);
        to64(&mut out, v, 4);
    }
    to64(&mut out, u32::from(fin[11]), 2);
    out
}

fn to64(out: &mut String, mut v: u32, n: usize) {
    for _ in 0..n {
        out.push(char::from(ITOA64[(v & 0x3f) as usize]));
        v >>= 6;
    }
}

/// Whether `hash` (`$apr1$salt$...` or `$1$salt$...`) is the hash of
/// `password`.
pub fn verify(hash: &str, password: &[u8]) -> bool {
    let (magic, rest) = if let Some(r) = hash.strip_prefix("$apr1$") {
        ("$apr1$", r)
    } else if let Some(r) = hash.strip_prefix("$1$") {
        ("$1$", r)
    } else {
        return false;
    };
    let Some((salt, _)) = rest.split_once('$') else {
        return false;
    };
    let mine = md5_crypt(password, salt.as_bytes(), magic.as_bytes());
    crate::auth::same(mine.as_bytes(), hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hashes() {
        // as printed by `openssl passwd -apr1 -salt xxxxxxxx password`
        assert_eq!(
            md5_crypt(b"password", b"xxxxxxxx", b"$apr1$"),
            "$apr1$xxxxxxxx$dxHfLAsjHkDRmG83UXe8K0"
        );
        assert!(verify("$apr1$xxxxxxxx$dxHfLAsjHkDRmG83UXe8K0", b"password"));
        assert!(!verify(
            "$apr1$xxxxxxxx$dxHfLAsjHkDRmG83UXe8K0",
            b"passwore"
        ));
        assert!(!verify("$apr1$nodollar", b"password"));
    }
}
