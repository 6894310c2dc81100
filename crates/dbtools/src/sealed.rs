//! The store's two small files, read without the store: the compiled
//! whitelist (`whitelist`: magic `TLWHITE1`, 21 bytes per entry: the
//! 17-byte checksum key and the u32 value) and the flooding positions
//! (`flood.map`: magic `TLPEERS1`, 10 bytes per peer: u16 server-ID and u64
//! position), each followed by a CRC-32 of everything before it.

use std::collections::BTreeMap;

use tally_store::Ck;

/// Check the magic and the trailing CRC; the body between them.
fn unseal<'a>(magic: &[u8; 8], bytes: &'a [u8]) -> Result<&'a [u8], String> {
    let split = bytes
        .len()
        .checked_sub(4)
        .ok_or_else(|| "file too short".to_string())?;
    let (data, crc) = bytes.split_at(split);
    let crc = crc
        .try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| "file too short".to_string())?;
    if !data.starts_with(magic) {
        return Err("wrong magic".into());
    }
    if crc32fast::hash(data) != crc {
        return Err("checksum mismatch (damaged)".into());
    }
    data.get(8..).ok_or_else(|| "file too short".into())
}

/// Decode a compiled whitelist file.
pub fn decode_white(bytes: &[u8]) -> Result<BTreeMap<Ck, u32>, String> {
    let body = unseal(b"TLWHITE1", bytes)?;
    if body.len() % 21 != 0 {
        return Err("length is not a whole number of entries".into());
    }
    body.chunks_exact(21)
        .map(|c| {
            let (k, v) = c.split_at(17);
            let ck = Ck::from_key(k).ok_or_else(|| "unknown checksum type".to_string())?;
            let v = v
                .try_into()
                .map(u32::from_le_bytes)
                .map_err(|_| "short entry".to_string())?;
            Ok((ck, v))
        })
        .collect()
}

/// Decode a flooding positions file.
pub fn decode_peers(bytes: &[u8]) -> Result<BTreeMap<u16, u64>, String> {
    let body = unseal(b"TLPEERS1", bytes)?;
    if body.len() % 10 != 0 {
        return Err("length is not a whole number of entries".into());
    }
    body.chunks_exact(10)
        .map(|c| {
            let (id, pos) = c.split_at(2);
            let id = id.try_into().map(u16::from_le_bytes);
            let pos = pos.try_into().map(u64::from_le_bytes);
            match (id, pos) {
                (Ok(i), Ok(p)) => Ok((i, p)),
                _ => Err("short entry".to_string()),
            }
        })
        .collect()
}
