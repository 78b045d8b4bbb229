//! Backup encryption: ChaCha20-Poly1305 in 1 MiB sealed chunks.
//!
//! Why this cipher and crate: `ring` is already in the build (rustls uses
//! it), so no new dependency; ChaCha20-Poly1305 is an AEAD that is fast
//! and constant-time without AES instructions. Why chunks: a backup of a
//! million cases is gigabytes, and a chunked stream is encrypted and
//! checked in constant memory.
//!
//! Format: `LXBK1\n`, a random 7-byte nonce prefix, then chunks of
//! `u32 length (big-endian) | sealed bytes`. Chunk `i` is sealed with the
//! nonce `prefix | i (u32, big-endian) | last (0 or 1)`, so chunks cannot
//! be reordered, dropped or cut off at the end without the open failing.
//! The key file holds 32 bytes, raw or as 64 hexadecimal digits
//! (`head -c 32 /dev/urandom > backup.key`).
use std::{
    io::{BufRead, Read, Write},
    path::Path,
};

use anyhow::{bail, Context, Result};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

pub const MAGIC: &[u8; 6] = b"LXBK1\n";
const CHUNK: usize = 1024 * 1024;
const PREFIX: usize = 7;

/// Read a key file: 32 raw bytes or 64 hex digits (whitespace ignored).
pub fn load_key(path: &Path) -> Result<LessSafeKey> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read key {}", path.display()))?;
    let text: String = String::from_utf8_lossy(&raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = if raw.len() == 32 {
        raw
    } else if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()?
    } else {
        bail!(
            "key file {} must hold 32 bytes or 64 hex digits",
            path.display()
        );
    };
    let key =
        UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| anyhow::anyhow!("unusable key"))?;
    Ok(LessSafeKey::new(key))
}

fn nonce(prefix: &[u8; PREFIX], index: u32, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[..PREFIX].copy_from_slice(prefix);
    n[PREFIX..PREFIX + 4].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Fill `buf` from `r` as far as it goes; returns the bytes read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Encrypt `src` into `dst`.
pub fn encrypt(key: &LessSafeKey, src: &Path, dst: &Path) -> Result<()> {
    let mut input = std::io::BufReader::new(std::fs::File::open(src)?);
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst)?);
    let mut prefix = [0u8; PREFIX];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut prefix);
    out.write_all(MAGIC)?;
    out.write_all(&prefix)?;
    let mut buf = vec![0u8; CHUNK];
    let mut pending = fill(&mut input, &mut buf)?;
    let mut index = 0u32;
    loop {
        let mut next = vec![0u8; CHUNK];
        let more = fill(&mut input, &mut next)?;
        let mut sealed = buf[..pending].to_vec();
        key.seal_in_place_append_tag(nonce(&prefix, index, more == 0), Aad::empty(), &mut sealed)
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        out.write_all(&u32::try_from(sealed.len())?.to_be_bytes())?;
        out.write_all(&sealed)?;
        if more == 0 {
            break;
        }
        (buf, pending) = (next, more);
        index = index.checked_add(1).context("backup too large")?;
    }
    out.flush()?;
    out.into_inner()?.sync_all()?;
    Ok(())
}

/// Decrypt `src` (written by [`encrypt`]) into `dst`; fails on a wrong
/// key or any change to the file.
pub fn decrypt(key: &LessSafeKey, src: &Path, dst: &Path) -> Result<()> {
    let mut input = std::io::BufReader::new(std::fs::File::open(src)?);
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst)?);
    let mut head = [0u8; 6 + PREFIX];
    if fill(&mut input, &mut head)? != head.len() || &head[..6] != MAGIC {
        bail!("{} is not an encrypted Lianxin backup", src.display());
    }
    let mut prefix = [0u8; PREFIX];
    prefix.copy_from_slice(&head[6..]);
    let mut index = 0u32;
    loop {
        let mut len = [0u8; 4];
        if fill(&mut input, &mut len)? != 4 {
            bail!("the backup is cut short (chunk {index})");
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + 16 {
            bail!("the backup is damaged (chunk {index})");
        }
        let mut sealed = vec![0u8; len];
        if fill(&mut input, &mut sealed)? != len {
            bail!("the backup is cut short (chunk {index})");
        }
        let last = input.fill_buf()?.is_empty();
        let plain = key
            .open_in_place(nonce(&prefix, index, last), Aad::empty(), &mut sealed)
            .map_err(|_| anyhow::anyhow!("wrong key, or the backup was changed (chunk {index})"))?;
        out.write_all(plain)?;
        if last {
            break;
        }
        index = index.checked_add(1).context("backup too large")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(len: usize) -> (tempdir::Dir, LessSafeKey, Vec<u8>) {
        let dir = tempdir::Dir::new();
        std::fs::write(dir.0.join("key"), "ab".repeat(32)).unwrap();
        let key = load_key(&dir.0.join("key")).unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.0.join("plain"), &data).unwrap();
        (dir, key, data)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!("lxbk-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn round_trip_of_empty_small_and_multi_chunk_files() {
        for len in [0, 10, CHUNK, 2 * CHUNK + 5] {
            let (dir, key, data) = setup(len);
            let (p, e, d) = (dir.0.join("plain"), dir.0.join("enc"), dir.0.join("dec"));
            encrypt(&key, &p, &e).unwrap();
            let sealed = std::fs::read(&e).unwrap();
            assert!(sealed.starts_with(MAGIC));
            decrypt(&key, &e, &d).unwrap();
            assert_eq!(std::fs::read(&d).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn a_changed_cut_or_wrongly_keyed_file_is_refused() {
        let (dir, key, _) = setup(2 * CHUNK + 5);
        let (p, e, d) = (dir.0.join("plain"), dir.0.join("enc"), dir.0.join("dec"));
        encrypt(&key, &p, &e).unwrap();
        let sealed = std::fs::read(&e).unwrap();

        let mut flipped = sealed.clone();
        flipped[100] ^= 1;
        std::fs::write(&e, &flipped).unwrap();
        assert!(decrypt(&key, &e, &d).is_err());

        // Whole chunks dropped from the end: the new last chunk was not
        // sealed as the last one.
        let first = 6 + PREFIX + 4 + CHUNK + 16;
        std::fs::write(&e, &sealed[..first]).unwrap();
        let err = decrypt(&key, &e, &d).unwrap_err().to_string();
        assert!(err.contains("wrong key"), "{err}");

        std::fs::write(&e, &sealed).unwrap();
        std::fs::write(dir.0.join("other"), [7u8; 32]).unwrap();
        let other = load_key(&dir.0.join("other")).unwrap();
        assert!(decrypt(&other, &e, &d).is_err());
        assert!(load_key(&dir.0.join("plain")).is_err());
    }
}
