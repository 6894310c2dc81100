//! Small files replaced atomically (flooding positions, whitelist) and
//! directory utilities.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::types::Ck;
use crate::{Error, Result};

/// Flush a directory so a rename or a new file in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Replace `path` with `bytes`: write a temporary file, flush it, rename it
/// over the old one and flush the directory. A crash leaves the old or the
/// new contents, never a mixture.
pub fn atomic_write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Total bytes of the files directly in `dir`.
pub fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for e in fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            n += m.len();
        }
    }
    Ok(n)
}

/// Wrap `body` with a magic string and a trailing CRC-32.
fn seal(magic: &[u8; 8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(magic);
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The body of a sealed file, or `Corrupt`.
fn unseal<'a>(magic: &[u8; 8], bytes: &'a [u8], what: &str) -> Result<&'a [u8]> {
    let bad = || Error::Corrupt(format!("{what} file damaged"));
    let split = bytes.len().checked_sub(4).ok_or_else(bad)?;
    let (data, crc) = bytes.split_at(split);
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| bad())?);
    if crc32fast::hash(data) != crc || !data.starts_with(magic) {
        return Err(bad());
    }
    data.get(8..).ok_or_else(bad)
}

const PEERS_MAGIC: &[u8; 8] = b"TLPEERS1";
const WHITE_MAGIC: &[u8; 8] = b"TLWHITE1";

/// The byte form of the flooding positions.
pub fn encode_peers(peers: &BTreeMap<u16, u64>) -> Vec<u8> {
    let mut body = Vec::with_capacity(peers.len() * 10);
    for (id, pos) in peers {
        body.extend_from_slice(&id.to_le_bytes());
        body.extend_from_slice(&pos.to_le_bytes());
    }
    seal(PEERS_MAGIC, &body)
}

/// Read the flooding positions back.
pub fn decode_peers(bytes: &[u8]) -> Result<BTreeMap<u16, u64>> {
    let body = unseal(PEERS_MAGIC, bytes, "flooding positions")?;
    if body.len() % 10 != 0 {
        return Err(Error::Corrupt("flooding positions file length".into()));
    }
    Ok(body
        .chunks_exact(10)
        .map(|c| {
            let (id, pos) = c.split_at(2);
            let id = u16::from_le_bytes([id[0], id[1]]);
            let mut p = [0u8; 8];
            p.copy_from_slice(pos);
            (id, u64::from_le_bytes(p))
        })
        .collect())
}

/// The byte form of the whitelist.
pub fn encode_white(white: &BTreeMap<Ck, u32>) -> Vec<u8> {
    let mut body = Vec::with_capacity(white.len() * 21);
    for (ck, v) in white {
        body.extend_from_slice(&ck.key());
        body.extend_from_slice(&v.to_le_bytes());
    }
    seal(WHITE_MAGIC, &body)
}

/// Read the whitelist back.
pub fn decode_white(bytes: &[u8]) -> Result<BTreeMap<Ck, u32>> {
    let body = unseal(WHITE_MAGIC, bytes, "whitelist")?;
    if body.len() % 21 != 0 {
        return Err(Error::Corrupt("whitelist file length".into()));
    }
    body.chunks_exact(21)
        .map(|c| {
            let (k, v) = c.split_at(17);
            let ck =
                Ck::from_key(k).ok_or_else(|| Error::Corrupt("whitelist checksum type".into()))?;
            let mut b = [0u8; 4];
            b.copy_from_slice(v);
            Ok((ck, u32::from_le_bytes(b)))
        })
        .collect()
}

/// Read an optional sealed file.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}
