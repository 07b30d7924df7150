//! Objects written as one pack and its index (version 2), without gix's
//! bundle writer.
//!
//! Creating a file is what a write costs most on a busy ext4 (allocating
//! its inode dominated `apply`'s profile), so a command's new objects go
//! to disk as one pack and one index instead of a loose file (and often a
//! directory) each. gix's bundle writer would re-read the pack it was
//! given, index it on two threads and leave a `.keep` file between two of
//! its steps; the objects here are whole (no deltas), so the index is
//! computed while the pack is built, on this thread.
//!
//! The pack and the index are written to temporary files (`tmp_pack_*`,
//! `tmp_idx_*`: names `git gc` removes when a kill leaves them) and renamed
//! into place, the index last: git and gix read a pack only through its
//! index, so a kill at any point leaves no pack either would read half of.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::Kind;
use gix::odb::pack;
use gix::zlib::stream::deflate::{Compress, FlushCompress};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most compressed bytes a pack is built of in memory.
pub(super) const MAX_PACK_BYTES: usize = 64 * 1024 * 1024;

/// One object to pack: its id, kind and data.
pub(super) type Entry<'a> = (ObjectId, Kind, &'a [u8]);

/// A pack's bytes and what its index needs of each object.
struct Built {
    data: Vec<u8>,
    /// Id, offset in the pack, CRC-32 of the entry's bytes; sorted by id.
    index: Vec<(ObjectId, u32, u32)>,
    checksum: ObjectId,
}

/// Builds the pack of `objects` in memory (each object whole, compressed).
fn build(objects: &[Entry<'_>], hash: gix::hash::Kind) -> Result<Built, BoxError> {
    let count = u32::try_from(objects.len())?;
    let mut data = Vec::new();
    data.extend_from_slice(&pack::data::header::encode(pack::data::Version::V2, count));
    let mut index = Vec::with_capacity(objects.len());
    let mut compress = Compress::new(gix::zlib::Compression::BEST_SPEED);
    for (id, kind, bytes) in objects {
        let offset = data.len();
        let header = match kind {
            Kind::Commit => pack::data::entry::Header::Commit,
            Kind::Tree => pack::data::entry::Header::Tree,
            Kind::Blob => pack::data::entry::Header::Blob,
            Kind::Tag => pack::data::entry::Header::Tag,
        };
        header.write_to(bytes.len() as u64, &mut data)?;
        deflate(&mut compress, bytes, &mut data)?;
        if data.len() > MAX_PACK_BYTES {
            return Err("too large to pack in memory".into());
        }
        let crc = crc32fast::hash(&data[offset..]);
        index.push((*id, u32::try_from(offset)?, crc));
    }
    let mut hasher = gix::hash::hasher(hash);
    hasher.update(&data);
    let checksum = hasher.try_finalize()?;
    data.extend_from_slice(checksum.as_slice());
    index.sort_unstable_by_key(|(id, _, _)| *id);
    index.dedup_by_key(|(id, _, _)| *id);
    if index.len() != objects.len() {
        return Err("an object is listed twice".into());
    }
    Ok(Built {
        data,
        index,
        checksum,
    })
}

/// Appends `input` to `out` as one zlib stream. One compressor serves
/// every object of a pack: making one clears some hundred KiB of tables,
/// which was most of the instructions of packing small objects.
fn deflate(compress: &mut Compress, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), BoxError> {
    compress.reset();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let (read, written) = (compress.total_in(), compress.total_out());
        let status = compress.compress(input, &mut buf, FlushCompress::Finish)?;
        let produced = usize::try_from(compress.total_out() - written)?;
        let consumed = usize::try_from(compress.total_in() - read)?;
        out.extend_from_slice(&buf[..produced]);
        input = &input[consumed..];
        match status {
            gix::zlib::Status::StreamEnd => return Ok(()),
            _ if produced == 0 && consumed == 0 => return Err("zlib made no progress".into()),
            _ => {}
        }
    }
}

/// The version 2 index of a built pack (offsets all fit in 31 bits: the
/// pack is at most [`MAX_PACK_BYTES`]).
fn index_bytes(built: &Built, hash: gix::hash::Kind) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\xfftOc");
    out.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for (id, _, _) in &built.index {
        fanout[usize::from(id.as_slice()[0])] += 1;
    }
    let mut total = 0u32;
    for n in fanout {
        total += n;
        out.extend_from_slice(&total.to_be_bytes());
    }
    for (id, _, _) in &built.index {
        out.extend_from_slice(id.as_slice());
    }
    for (_, _, crc) in &built.index {
        out.extend_from_slice(&crc.to_be_bytes());
    }
    for (_, offset, _) in &built.index {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(built.checksum.as_slice());
    let mut hasher = gix::hash::hasher(hash);
    hasher.update(&out);
    out.extend_from_slice(hasher.try_finalize()?.as_slice());
    Ok(out)
}

/// Writes `bytes` to a new temporary file in `dir` (read-only, as git
/// makes packs) and returns it, not yet in place.
fn temporary(dir: &Path, prefix: &str, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new().prefix(prefix).tempfile_in(dir)?;
    file.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o444))?;
    }
    Ok(file)
}

/// Writes `objects` as one pack and its index into `objects_dir/pack`;
/// returns the pack's path (`None` when there is nothing to write). A
/// pack with the same name already there holds the same objects and is
/// left as it is.
pub(super) fn write(
    objects_dir: &Path,
    hash: gix::hash::Kind,
    objects: &[Entry<'_>],
) -> Result<Option<PathBuf>, BoxError> {
    if objects.is_empty() {
        return Ok(None);
    }
    let built = build(objects, hash)?;
    let index = index_bytes(&built, hash)?;
    let dir = objects_dir.join("pack");
    std::fs::create_dir_all(&dir)?;
    let name = format!("pack-{}", built.checksum.to_hex());
    let pack_path = dir.join(format!("{name}.pack"));
    let index_path = dir.join(format!("{name}.idx"));
    if index_path.is_file() && pack_path.is_file() {
        return Ok(Some(pack_path));
    }
    let pack_file = temporary(&dir, "tmp_pack_", &built.data)?;
    let index_file = temporary(&dir, "tmp_idx_", &index)?;
    pack_file.persist(&pack_path)?;
    index_file.persist(&index_path)?;
    Ok(Some(pack_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::scratch_repo::ScratchRepo as Repo;

    fn blob(text: &str) -> (ObjectId, Kind, Vec<u8>) {
        let data = text.as_bytes().to_vec();
        let id = gix::objs::compute_hash(gix::hash::Kind::Sha1, Kind::Blob, &data).expect("hash");
        (id, Kind::Blob, data)
    }

    /// git reads the pack and its index (`verify-pack` checks both
    /// checksums, every CRC and offset), finds each object, and the pack
    /// directory holds the pack and its index only: no temporary file, no
    /// keep file.
    #[test]
    fn git_verifies_the_pack_and_finds_every_object() {
        let repo = Repo::new();
        // Enough objects that several share a first byte (the fan-out).
        let objects: Vec<_> = (0..300).map(|i| blob(&format!("x = {i}\n"))).collect();
        let entries: Vec<Entry<'_>> = objects
            .iter()
            .map(|(id, kind, data)| (*id, *kind, data.as_slice()))
            .collect();
        let objects_dir = repo.dir.path().join(".git/objects");
        let path = write(&objects_dir, gix::hash::Kind::Sha1, &entries)
            .expect("write")
            .expect("a pack");
        let idx = path.with_extension("idx");
        let out = repo.git(&["verify-pack", "-v", idx.to_str().expect("utf-8")]);
        assert!(out.contains("non delta: 300 objects"), "{out}");
        for (id, _, _) in &objects {
            assert!(out.contains(&format!("{id} blob")), "{id} not listed");
        }
        for (id, _, data) in objects.iter().step_by(97) {
            let shown = repo.git(&["cat-file", "-p", &id.to_string()]);
            assert_eq!(format!("{shown}\n").as_bytes(), data.as_slice());
        }
        let mut files: Vec<String> = std::fs::read_dir(objects_dir.join("pack"))
            .expect("pack dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(files[0].ends_with(".idx") && files[1].ends_with(".pack"));
        // Writing the same objects again finds the pack there.
        assert_eq!(
            write(&objects_dir, gix::hash::Kind::Sha1, &entries).expect("again"),
            Some(path)
        );
    }
}
