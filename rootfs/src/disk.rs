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
    root_and_data(tree, data_bytes, out)?;
    disk(
        board,
        &out.join("root.img"),
        &out.join("data.img"),
        &out.join("disk.img"),
    )
}

/// root.img from the tree and data.img of `data_bytes`, in `out` (the
/// partitions of disk.img and of the Pi's sdcard.img).
pub fn root_and_data(tree: &Tree, data_bytes: u64, out: &Path) -> Result<(), String> {
    let staged = out.join("root.staged");
    let pseudo = stage(tree, &staged)?;
    squashfs(&staged, &pseudo, &out.join("root.img"))?;
    let _ = fs::remove_dir_all(&staged);
    let empty = out.join("data.staged");
    let _ = fs::remove_dir_all(&empty);
    fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
    ext4(data_bytes, DATA_NAME, &empty, &out.join("data.img"))?;
    let _ = fs::remove_dir_all(&empty);
    Ok(())
}

/// The most one logger keeps under svlogd's `s`/`n` policy: the current
/// file and `n` old ones of at most `s` bytes (svlogd's defaults: 1 MB, 10).
fn log_bytes(config: &str) -> u64 {
    let (mut size, mut num) = (1_000_000u64, 10u64);
    for line in config.lines() {
        let mut chars = line.chars();
        match (chars.next(), chars.as_str().trim().parse::<u64>()) {
            (Some('s'), Ok(v)) => size = v,
            (Some('n'), Ok(v)) => num = v,
            _ => {}
        }
    }
    size.saturating_mul(num.saturating_add(1))
}

/// Old files each logger keeps when the board caps the logs.
const CAPPED_OLD_FILES: u64 = 3;
/// svlogd's smallest useful file.
const MIN_LOG_FILE: u64 = 4096;

/// Logs on the data partition (`[disk] logs_mib`): give every service's
/// logger that has no policy of its own (`log/config`) an equal share of
/// `budget` bytes, after what the loggers with a policy may keep. Returns
/// each logger's most bytes; an error when the budget cannot hold them.
pub fn cap_logs(tree: &mut Tree, budget: u64) -> Result<Vec<(String, u64)>, String> {
    let loggers: Vec<String> = tree
        .nodes
        .keys()
        .filter_map(|k| k.strip_prefix("etc/service/")?.strip_suffix("/log/run"))
        .filter(|name| !name.contains('/'))
        .map(String::from)
        .collect();
    let mut fixed = 0u64;
    let mut free = Vec::new();
    let mut caps = Vec::new();
    for name in &loggers {
        match tree.nodes.get(&format!("etc/service/{name}/log/config")) {
            Some(Node::File(_, text)) => {
                let most = log_bytes(&String::from_utf8_lossy(text));
                fixed = fixed.saturating_add(most);
                caps.push((name.clone(), most));
            }
            _ => free.push(name.clone()),
        }
    }
    let left = budget.checked_sub(fixed).ok_or_else(|| {
        format!("[disk] logs_mib: the loggers with their own log/config alone keep {fixed} bytes, more than the {budget} given")
    })?;
    if !free.is_empty() {
        let share = left / free.len() as u64;
        let size = share / (CAPPED_OLD_FILES + 1);
        if size < MIN_LOG_FILE {
            return Err(format!(
                "[disk] logs_mib: {budget} bytes leave {size} bytes per log file for {} loggers (at least {MIN_LOG_FILE})",
                free.len()
            ));
        }
        for name in free {
            let text = format!(
                "# [disk] logs_mib: this logger's share of the data partition\ns{size}\nn{CAPPED_OLD_FILES}\n"
            );
            tree.file(
                &format!("etc/service/{name}/log/config"),
                0o644,
                text.into_bytes(),
            );
            caps.push((name, size * (CAPPED_OLD_FILES + 1)));
        }
    }
    caps.sort();
    Ok(caps)
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
    fn capped_logs_share_the_budget_and_keep_their_own_policies() {
        let mut t = Tree::default();
        t.link("etc/service/a/log/run", "/bin/ferrite");
        t.link("etc/service/b/log/run", "/bin/ferrite");
        t.link("etc/service/c/log/run", "/bin/ferrite");
        t.file("etc/service/c/log/config", 0o644, b"s65536\nn2\n".to_vec());
        t.link("etc/service/nolog/run", "/bin/ferrite");
        let caps = cap_logs(&mut t, 4 << 20).unwrap();
        let share = ((4u64 << 20) - 3 * 65536) / 2 / 4;
        assert_eq!(
            caps,
            vec![
                ("a".into(), share * 4),
                ("b".into(), share * 4),
                ("c".into(), 3 * 65536)
            ]
        );
        assert!(caps.iter().map(|c| c.1).sum::<u64>() <= 4 << 20);
        match t.nodes.get("etc/service/a/log/config") {
            Some(Node::File(_, text)) => {
                assert!(String::from_utf8_lossy(text).contains(&format!("s{share}\nn3\n")))
            }
            other => panic!("{other:?}"),
        }
        assert!(!t.nodes.contains_key("etc/service/nolog/log/config"));
        let err = cap_logs(&mut t, 65536).unwrap_err();
        assert!(err.contains("logs_mib"), "{err}");
        assert_eq!(log_bytes(""), 11_000_000, "svlogd's defaults");
    }

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
