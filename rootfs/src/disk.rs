//! Flashable images (issue 14): the tree as a compressed read-only
//! squashfs (`root.img`), an ext4 data partition with its journal
//! (`data.img`), and both behind a GPT (`disk.img`, partitions named
//! `ferrite-root` and `ferrite-data`, which early boot looks for). No loop
//! devices, no mounting, no root: the tree is staged in a directory with
//! its modes, device nodes and owners given to `mksquashfs` as pseudo
//! definitions, `mke2fs -d` fills the data partition, and the GPT is
//! written by `common::partition`.

use crate::image::{Node, Tree};
use common::partition::{gpt_write, NewPartition, SECTOR};
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

pub const ROOT_NAME: &str = "ferrite-root";
pub const DATA_NAME: &str = "ferrite-data";

/// Write the tree's directories, files and links under `dir`; returns the
/// pseudo definitions (`mksquashfs -pf`) for what a plain user cannot
/// create there: device nodes. Owners are all root (`-all-root`).
pub fn stage(tree: &Tree, dir: &Path) -> Result<String, String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let mut pseudo = String::new();
    // directories first, so that their modes are set after their contents
    let mut dirs = Vec::new();
    for (path, node) in &tree.nodes {
        let p = dir.join(path);
        match node {
            Node::Dir(perm) => {
                fs::create_dir_all(&p).map_err(|e| err(&p, e))?;
                dirs.push((p, *perm));
            }
            Node::File(perm, data) => {
                if let Some(parent) = p.parent() {
                    fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
                }
                fs::write(&p, data).map_err(|e| err(&p, e))?;
                fs::set_permissions(&p, fs::Permissions::from_mode(*perm))
                    .map_err(|e| err(&p, e))?;
            }
            Node::Link(target) => {
                if let Some(parent) = p.parent() {
                    fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
                }
                std::os::unix::fs::symlink(target, &p).map_err(|e| err(&p, e))?;
            }
            Node::Char(perm, major, minor) => {
                pseudo.push_str(&format!("{path} c {perm:o} 0 0 {major} {minor}\n"));
            }
        }
    }
    for (p, perm) in dirs.into_iter().rev() {
        fs::set_permissions(&p, fs::Permissions::from_mode(perm)).map_err(|e| err(&p, e))?;
    }
    Ok(pseudo)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: {e} (scripts/deps image installs it)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `root.img`: the staged tree as squashfs (xz, all files root's).
pub fn squashfs(staged: &Path, pseudo: &str, out: &Path) -> Result<(), String> {
    let pf = out.with_extension("pseudo");
    fs::write(&pf, pseudo).map_err(|e| format!("{}: {e}", pf.display()))?;
    let _ = fs::remove_file(out);
    run(
        Command::new("mksquashfs")
            .arg(staged)
            .arg(out)
            .args([
                "-comp",
                "xz",
                "-all-root",
                "-noappend",
                "-quiet",
                "-no-progress",
            ])
            .arg("-pf")
            .arg(&pf),
        "mksquashfs",
    )?;
    let _ = fs::remove_file(&pf);
    Ok(())
}

/// `data.img`: an empty ext4 with a journal, labelled for early boot.
pub fn ext4(bytes: u64, label: &str, content: &Path, out: &Path) -> Result<(), String> {
    let _ = fs::remove_file(out);
    let f = fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    f.set_len(bytes)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    drop(f);
    run(
        Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext4", "-L", label, "-d"])
            .arg(content)
            .arg(out),
        "mke2fs",
    )
}

/// A stable GUID for `what` of `board` (FNV-1a spread over 16 bytes, marked
/// as a version-4 GUID): the same image gets the same PARTUUIDs.
pub fn guid(board: &str, what: &str) -> [u8; 16] {
    let mut g = [0u8; 16];
    for (i, chunk) in g.chunks_mut(8).enumerate() {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ i as u64;
        for b in board.bytes().chain([0]).chain(what.bytes()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    g[7] = (g[7] & 0x0f) | 0x40;
    g[8] = (g[8] & 0x3f) | 0x80;
    g
}

/// `disk.img`: a GPT with root then data, each image copied in.
pub fn disk(board: &str, root: &Path, data: &Path, out: &Path) -> Result<(), String> {
    let size = |p: &Path| {
        fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let (root_bytes, data_bytes) = (size(root)?, size(data)?);
    let mib = 1u64 << 20;
    let sectors = |b: u64| b.div_ceil(mib) * mib / SECTOR;
    let parts = [
        NewPartition {
            name: ROOT_NAME,
            sectors: sectors(root_bytes),
            unique: guid(board, ROOT_NAME),
        },
        NewPartition {
            name: DATA_NAME,
            sectors: sectors(data_bytes),
            unique: guid(board, DATA_NAME),
        },
    ];
    // 1 MiB before the first partition, 1 MiB after the last for the backup table
    let total = (mib + sectors(root_bytes) * SECTOR + sectors(data_bytes) * SECTOR + mib) / SECTOR;
    let (head, tail, starts) = gpt_write(total, guid(board, "disk"), &parts)
        .ok_or("disk.img: the partitions do not fit")?;
    let err = |e: std::io::Error| format!("{}: {e}", out.display());
    let _ = fs::remove_file(out);
    let mut f = fs::File::create(out).map_err(err)?;
    f.set_len(total * SECTOR).map_err(err)?;
    f.write_all(&head).map_err(err)?;
    for (image, start) in [root, data].iter().zip(&starts) {
        f.seek(SeekFrom::Start(start * SECTOR)).map_err(err)?;
        let mut src = fs::File::open(image).map_err(|e| format!("{}: {e}", image.display()))?;
        std::io::copy(&mut src, &mut f).map_err(err)?;
    }
    f.seek(SeekFrom::Start(total * SECTOR - tail.len() as u64))
        .map_err(err)?;
    f.write_all(&tail).map_err(err)?;
    f.sync_all().map_err(err)
}

/// All three, in `out`: root.img from the tree, data.img of `data_bytes`,
/// disk.img of both.
pub fn images(tree: &Tree, board: &str, data_bytes: u64, out: &Path) -> Result<(), String> {
    let staged = out.join("root.staged");
    let pseudo = stage(tree, &staged)?;
    squashfs(&staged, &pseudo, &out.join("root.img"))?;
    let _ = fs::remove_dir_all(&staged);
    let empty = out.join("data.staged");
    let _ = fs::remove_dir_all(&empty);
    fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
    ext4(data_bytes, DATA_NAME, &empty, &out.join("data.img"))?;
    let _ = fs::remove_dir_all(&empty);
    disk(
        board,
        &out.join("root.img"),
        &out.join("data.img"),
        &out.join("disk.img"),
    )
}

/// The disk `ferrite-rootfs qemu` boots: `qemu-disk.img` next to the
/// image. Made from `disk.img` the first time; after a rebuild only its
/// root partition is rewritten with the new `root.img` (an upgrade as a box
/// would do it), so what the guest wrote on data stays. A root that no
/// longer fits its partition means a fresh copy (the console of the next
/// boot says the data partition is new).
pub fn live_copy(out: &Path) -> Result<std::path::PathBuf, String> {
    let live = out.join("qemu-disk.img");
    let fresh = || {
        fs::copy(out.join("disk.img"), &live)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", live.display()))
    };
    if !live.exists() {
        fresh()?;
        return Ok(live);
    }
    let root = fs::read(out.join("root.img")).map_err(|e| format!("root.img: {e}"))?;
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&live)
        .map_err(|e| format!("{}: {e}", live.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut read = |lba: u64, n: u64| {
        use std::io::Read;
        let mut buf = vec![0u8; (n * SECTOR) as usize];
        f.seek(SeekFrom::Start(lba * SECTOR)).ok()?;
        f.read_exact(&mut buf).ok()?;
        Some(buf)
    };
    let part = (len / SECTOR)
        .checked_sub(1)
        .and_then(|last| common::partition::gpt(&mut read, last))
        .and_then(|t| t.into_iter().find(|p| p.name == ROOT_NAME));
    match part {
        Some(p) if p.bytes() >= root.len() as u64 => {
            f.seek(SeekFrom::Start(p.first_lba * SECTOR))
                .and_then(|_| f.write_all(&root))
                .and_then(|_| f.sync_all())
                .map_err(|e| format!("{}: {e}", live.display()))?;
        }
        _ => {
            drop(f);
            eprintln!(
                "ferrite-rootfs: {}: the new root does not fit its partition: a fresh copy of disk.img (its data partition is empty)",
                live.display()
            );
            fresh()?;
        }
    }
    Ok(live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_distinct() {
        assert_eq!(
            guid("qemu-x86_64", ROOT_NAME),
            guid("qemu-x86_64", ROOT_NAME)
        );
        assert_ne!(
            guid("qemu-x86_64", ROOT_NAME),
            guid("qemu-x86_64", DATA_NAME)
        );
        assert_ne!(guid("qemu-x86_64", ROOT_NAME), guid("rpi4", ROOT_NAME));
        assert_eq!(guid("b", "x")[7] >> 4, 4);
    }
}
