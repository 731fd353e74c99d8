//! `scripts/flash` (make flash) refuses what it must, without a real
//! disk: a missing path, a regular file, a partition, a mounted disk, one
//! held by device mapper, one smaller than the image, a wrong or missing
//! confirmation. The disks are block device nodes of major 241 (reserved
//! for local use: no driver, so opening one fails and nothing can be
//! written even if the script were wrong) described by a fake /sys and
//! /proc (FERRITE_FLASH_SYS, FERRITE_FLASH_PROC).

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/flash")
}

struct Fake {
    dir: TempDir,
    image: PathBuf,
}

impl Fake {
    /// An image of `image_bytes` and fake /sys, /proc (empty mounts).
    fn new(tag: &str, image_bytes: usize) -> Fake {
        let dir = TempDir::new(tag);
        let image = dir.join("sdcard.img");
        std::fs::write(&image, vec![0x5a; image_bytes]).unwrap();
        std::fs::create_dir_all(dir.join("sys/dev/block")).unwrap();
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        std::fs::write(dir.join("proc/mounts"), "proc /proc proc rw 0 0\n").unwrap();
        Fake { dir, image }
    }

    /// A whole disk NAME of `sectors` (its node /dev-like in the temp
    /// dir), with `parts` partitions NAME1.. ; returns the node's path.
    fn disk(&self, name: &str, minor: u32, sectors: u64, parts: u32) -> Option<PathBuf> {
        let node = self.dir.join(name);
        let made = Command::new("mknod")
            .arg(&node)
            .args(["b", "241", &minor.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            return None;
        }
        let d = self.dir.join(&format!("sys/devices/fake/block/{name}"));
        std::fs::create_dir_all(d.join("device")).unwrap();
        std::fs::create_dir_all(d.join("holders")).unwrap();
        std::fs::write(d.join("size"), format!("{sectors}\n")).unwrap();
        std::fs::write(d.join("ro"), "0\n").unwrap();
        std::fs::write(d.join("device/vendor"), "Fake    \n").unwrap();
        std::fs::write(d.join("device/model"), "SD Card Reader  \n").unwrap();
        std::os::unix::fs::symlink(&d, self.dir.join(&format!("sys/dev/block/241:{minor}")))
            .unwrap();
        for p in 1..=parts {
            let pd = d.join(format!("{name}{p}"));
            std::fs::create_dir_all(pd.join("holders")).unwrap();
            std::fs::write(pd.join("partition"), format!("{p}\n")).unwrap();
            std::fs::write(pd.join("size"), "2048\n").unwrap();
            let pnode = self.dir.join(&format!("{name}{p}"));
            Command::new("mknod")
                .arg(&pnode)
                .args(["b", "241", &(minor + p).to_string()])
                .status()
                .unwrap();
            std::os::unix::fs::symlink(
                &pd,
                self.dir.join(&format!("sys/dev/block/241:{}", minor + p)),
            )
            .unwrap();
        }
        Some(node)
    }

    /// Run the script on `dev` with `answer` typed; (exit code, output).
    fn flash(&self, dev: &Path, answer: &str) -> (i32, String) {
        let mut child = Command::new(script())
            .arg(&self.image)
            .arg(dev)
            .env("FERRITE_FLASH_SYS", self.dir.join("sys"))
            .env("FERRITE_FLASH_PROC", self.dir.join("proc"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(answer.as_bytes());
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }
}

#[test]
fn flash_refuses_a_missing_path_and_a_regular_file() {
    let f = Fake::new("flash-file", 4096);
    let (code, out) = f.flash(&f.dir.join("no-such-disk"), "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not exist; nothing written"), "{out}");
    // a regular file (a typo'd /dev/sdb that became a file): untouched
    let file = f.dir.join("disk-file");
    std::fs::write(&file, b"precious").unwrap();
    let (code, out) = f.flash(&file, "disk-file\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not a block device"), "{out}");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    // no image
    let (code, out) = Command::new(script())
        .arg(f.dir.join("none.img"))
        .arg(&file)
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 1);
    assert!(out.contains("no such image"), "{out}");
    // no arguments: the usage, exit 2
    let o = Command::new(script()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("DEVICE"));
}

#[test]
fn flash_shows_the_disk_and_writes_nothing_without_its_name_typed_back() {
    let f = Fake::new("flash-confirm", 4096);
    let Some(disk) = f.disk("sdq", 0, 2 * 1024 * 1024, 2) else {
        require("mknod of a block device node (root)", false);
        return;
    };
    for answer in ["", "yes\n", "sdb\n", "sdq1\n"] {
        let (code, out) = f.flash(&disk, answer);
        assert_eq!(code, 1, "{answer:?}: {out}");
        assert!(
            out.contains("Fake SD Card Reader, 1.1 GB (1.0 GiB)"),
            "{out}"
        );
        assert!(
            out.contains("EVERYTHING on /dev/sdq will be overwritten"),
            "{out}"
        );
        assert!(out.contains("Type the device name (sdq)"), "{out}");
        assert!(
            out.contains("is not sdq; nothing written"),
            "{answer:?}: {out}"
        );
        assert!(!out.contains("records"), "dd ran: {out}");
    }
    // the right name reaches dd, which cannot open this driverless node
    let (code, out) = f.flash(&disk, "sdq\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("dd failed"), "{out}");
}

#[test]
fn flash_refuses_a_partition_a_mounted_or_held_disk_and_a_small_one() {
    let f = Fake::new("flash-in-use", 4096);
    let Some(disk) = f.disk("sdq", 0, 2 * 1024 * 1024, 2) else {
        require("mknod of a block device node (root)", false);
        return;
    };
    let (code, out) = f.flash(&f.dir.join("sdq2"), "sdq2\n");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is a partition (sdq2): give the whole disk"),
        "{out}"
    );
    // a partition of it mounted (the desktop's automounter)
    let mounts = f.dir.join("proc/mounts");
    std::fs::write(&mounts, "/dev/sdq1 /media/card vfat rw 0 0\n").unwrap();
    let (code, out) = f.flash(&disk, "sdq\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/dev/sdq1 is mounted on /media/card"), "{out}");
    assert!(!out.contains("Type the device name"), "{out}");
    std::fs::write(&mounts, "").unwrap();
    // held by device mapper (an open dm-crypt volume on it)
    let held = f.dir.join("sys/devices/fake/block/sdq/sdq2/holders/dm-0");
    std::fs::create_dir_all(&held).unwrap();
    let (code, out) = f.flash(&disk, "sdq\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("/dev/sdq2 is held by dm-0"), "{out}");
    std::fs::remove_dir(&held).unwrap();
    // a disk smaller than the image (8 sectors, 4096 bytes, for 4097)
    let small = Fake::new("flash-small", 4096 + 1);
    let Some(tiny) = small.disk("sdr", 16, 8, 0) else {
        return;
    };
    let (code, out) = small.flash(&tiny, "sdr\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is larger than"), "{out}");
}
