//! Looking up system users and groups (Postfix's `postfix`, `nobody`).

/// The numeric id of `name` in a passwd- or group-style file.
fn lookup(file: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != name {
            return None;
        }
        f.nth(1)?.parse().ok()
    })
}

/// The uid of a user.
pub fn uid(name: &str) -> Option<u32> {
    lookup("/etc/passwd", name)
}

/// The gid of a group.
pub fn gid(name: &str) -> Option<u32> {
    lookup("/etc/group", name)
}
