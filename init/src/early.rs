//! Early boot from a disk (issue 14). When the kernel command line names a
//! root partition (`root=PARTLABEL=ferrite-root` or `root=PARTUUID=...`),
//! init in the small initramfs finds it by reading the disks' partition
//! tables itself (no udev, no blkid: `common::partition`), mounts it
//! read-only, mounts the data partition (`ferrite.data=PARTLABEL=...`,
//! default `ferrite-data`) with its journal, lays an overlay over `/etc`
//! (upper directory on data) unless `ferrite.failsafe` is given, binds
//! `/var/lib/ferrite` to data, puts tmpfs on `/tmp` and `/var/log`, moves
//! `/dev`, `/proc`, `/sys` and `/run` over and becomes the root's own init.
//! Before it mounts data it checks it with the root's `e2fsck -p` (then
//! `-y`), and a partition with no file system (new, zeroed) or one that
//! cannot be repaired is made anew with the root's `mke2fs`: the box boots
//! with the image's defaults and the console says so. Without e2fsprogs in
//! the root, or when even that fails, the boot goes on without persistence.

use common::partition::{gpt, mbr, Partition, SECTOR};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A partition named on the kernel command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    PartLabel(String),
    PartUuid(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub root: Spec,
    pub data: Spec,
    /// `ferrite.failsafe`: no overlay, the image's /etc as it is
    pub failsafe: bool,
    /// `ferrite.logs=data`: /var/log on the data partition, not tmpfs
    pub logs_on_data: bool,
}

fn spec(v: &str) -> Option<Spec> {
    if let Some(l) = v.strip_prefix("PARTLABEL=") {
        return (!l.is_empty()).then(|| Spec::PartLabel(l.to_string()));
    }
    let u = v.strip_prefix("PARTUUID=")?;
    (!u.is_empty()).then(|| Spec::PartUuid(u.to_ascii_lowercase()))
}

/// What the command line asks for; `None` for a boot from the initramfs
/// alone (no `root=`, or a `root=` this init does not handle, such as
/// `/dev/vda1`: the kernel's own root= is not for an initramfs' init).
pub fn plan(cmdline: &str) -> Option<Plan> {
    let mut root = None;
    let mut data = Spec::PartLabel("ferrite-data".into());
    let mut failsafe = false;
    let mut logs_on_data = false;
    for w in cmdline.split_ascii_whitespace() {
        if let Some(v) = w.strip_prefix("root=") {
            root = spec(v);
        } else if let Some(v) = w.strip_prefix("ferrite.data=") {
            if let Some(s) = spec(v) {
                data = s;
            }
        } else if w == "ferrite.failsafe" {
            failsafe = true;
        } else if let Some(v) = w.strip_prefix("ferrite.logs=") {
            logs_on_data = v == "data";
        }
    }
    Some(Plan {
        root: root?,
        data,
        failsafe,
        logs_on_data,
    })
}

/// The device name of partition `n` of `disk`: `vda` → `vda1`, but
/// `mmcblk0` → `mmcblk0p1` and `nvme0n1` → `nvme0n1p1` (a disk name ending
/// in a digit takes a `p`), as the kernel names them.
pub fn partition_device(disk: &str, n: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{n}")
    } else {
        format!("{disk}{n}")
    }
}

/// The device of the partition `spec` names, among `disks` (name, table).
pub fn find(spec: &Spec, disks: &[(String, Vec<Partition>)]) -> Option<String> {
    disks.iter().find_map(|(disk, parts)| {
        parts
            .iter()
            .find(|p| match spec {
                Spec::PartLabel(l) => p.name == *l,
                Spec::PartUuid(u) => p.uuid.eq_ignore_ascii_case(u),
            })
            .map(|p| partition_device(disk, p.number))
    })
}

/// The partition tables of the whole disks in /sys/block (GPT, else MBR).
fn read_disks() -> Vec<(String, Vec<Partition>)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/sys/block") else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("loop") || name.starts_with("ram") {
            continue;
        }
        let sectors: u64 = std::fs::read_to_string(e.path().join("size"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let Ok(mut dev) = std::fs::File::open(format!("/dev/{name}")) else {
            continue;
        };
        // at most the first and last 64 sectors are read: a table is there
        let mut read = |lba: u64, n: u64| -> Option<Vec<u8>> {
            if n > 64 || lba.checked_add(n)? > sectors {
                return None;
            }
            let mut buf = vec![0u8; (n * SECTOR) as usize];
            dev.seek(SeekFrom::Start(lba.checked_mul(SECTOR)?)).ok()?;
            dev.read_exact(&mut buf).ok()?;
            Some(buf)
        };
        let table = match sectors.checked_sub(1).and_then(|last| gpt(&mut read, last)) {
            Some(t) => t,
            None => match read(0, 1).and_then(|s| mbr(&s)) {
                Some(t) => t,
                None => continue,
            },
        };
        out.push((name, table));
    }
    out
}

fn log(msg: &str) {
    crate::boot::log(msg);
}

/// The disk may appear a little after its driver was loaded: look again
/// every 50 ms, for at most 10 s (early boot, once; nothing else to do).
fn wait_for(spec: &Spec) -> Option<String> {
    for _ in 0..200 {
        if let Some(dev) = find(spec, &read_disks()) {
            return Some(dev);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

fn mount(
    src: &str,
    target: &str,
    fs: &str,
    flags: rustix::mount::MountFlags,
    data: &str,
) -> Result<(), String> {
    let data =
        std::ffi::CString::new(data).map_err(|_| format!("mount {target}: NUL in its options"))?;
    crate::boot::mount(src, target, fs, flags, data.as_c_str())
        .map_err(|e| format!("mount {src} on {target} ({fs}): {e}"))
}

const NEW: &str = "/newroot";

/// The disk image's own early-boot words in its initramfs (`root=` and the
/// board's `ferrite.failsafe`), read before the kernel command line's.
pub const IMAGE_WORDS: &str = "/etc/ferrite/early";

/// ext2/3/4: the superblock starts 1024 bytes in; its magic 0xEF53 (little
/// endian) is at byte 56 of it. No magic: a new, zeroed or foreign
/// partition, which nothing could check.
pub fn has_ext_superblock(head: &[u8]) -> bool {
    head.get(1024 + 56..1024 + 58) == Some(&[0x53, 0xef][..])
}

/// What `e2fsck -p`'s exit status means for the boot (its bits, e2fsck(8)).
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// 0: clean
    Clean,
    /// 1, 2, 3: errors found and fixed
    Fixed,
    /// 4 and up (left uncorrected, operational error, cancelled), or killed
    NotFixed,
}

pub fn checked(status: Option<i32>) -> Checked {
    match status {
        Some(0) => Checked::Clean,
        Some(1..=3) => Checked::Fixed,
        _ => Checked::NotFixed,
    }
}

/// The root's e2fsprogs (`[disk] packages = ["e2fsprogs"]` in the board):
/// they run inside the new root, where their libraries are, through
/// `chpst -/` (this binary, found before /proc moved).
struct Tools {
    exe: Option<std::path::PathBuf>,
}

impl Tools {
    fn path(&self, prog: &str) -> Option<String> {
        self.exe.as_ref()?;
        ["/sbin", "/usr/sbin"]
            .iter()
            .map(|d| format!("{d}/{prog}"))
            .find(|p| Path::new(&format!("{NEW}{p}")).is_file())
    }

    /// Run `prog` of the new root; None when it is not there or did not run.
    fn run(&self, prog: &str, args: &[&str]) -> Option<Option<i32>> {
        use std::os::unix::process::CommandExt;
        let (exe, path) = (self.exe.as_ref()?, self.path(prog)?);
        let status = std::process::Command::new(exe)
            .arg0("chpst")
            .args(["-/", NEW, &path])
            .args(args)
            .status();
        match status {
            Ok(s) => Some(s.code()),
            Err(e) => {
                log(&format!("cannot run {path}: {e}"));
                None
            }
        }
    }

    /// A new, empty ext4 file system on `dev` (a path inside the new root).
    fn make(&self, dev: &str) -> bool {
        let label = "ferrite-data";
        matches!(
            self.run("mke2fs", &["-q", "-F", "-t", "ext4", "-L", label, dev]),
            Some(Some(0))
        )
    }
}

/// Check the data partition `dev` (e2fsck -p, then -y if that could not
/// fix it), or make it anew when it reads but holds no file system, or one
/// that cannot be repaired. Err when it is unusable (unreadable, or it
/// cannot be made).
fn prepare_data(tools: &Tools, dev: &str) -> Result<(), String> {
    use std::os::unix::fs::FileExt;
    // a device that cannot be read is never formatted: that needs a
    // partition that reads and holds no file system
    let f =
        std::fs::File::open(format!("{NEW}{dev}")).map_err(|e| format!("cannot read it: {e}"))?;
    let mut head = vec![0u8; 2048];
    f.read_exact_at(&mut head, 0)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let primary = has_ext_superblock(&head);
    // the primary superblock is the block most often written, so the one
    // a power cut tears: the backups of block group 1 tell a damaged file
    // system from an empty partition
    let backup = BACKUP_SUPERBLOCKS.iter().any(|&at| {
        let mut sb = vec![0u8; 2048];
        // laid out as the primary would be at 1024
        f.read_exact_at(&mut sb[1024..], at).is_ok() && has_ext_superblock(&sb)
    });
    if !primary && !backup {
        if tools.path("mke2fs").is_none() {
            return Err("it holds no file system and the image has no mke2fs to make one".into());
        }
        if !tools.make(dev) {
            return Err("it holds no file system and mke2fs failed".into());
        }
        log(&format!("data partition {dev} held no file system (new or wiped): made an empty ext4 one; booting with the image's defaults"));
        return Ok(());
    }
    if tools.path("e2fsck").is_none() {
        return if primary {
            Ok(())
        } else {
            Err("its superblock is damaged and the image has no e2fsck: left as it is".into())
        };
    }
    if primary {
        match tools.run("e2fsck", &["-p", dev]).map(checked) {
            Some(Checked::Clean) | None => return Ok(()),
            Some(Checked::Fixed) => {
                log(&format!("data partition {dev}: e2fsck fixed errors"));
                return Ok(());
            }
            Some(Checked::NotFixed) => log(&format!(
                "data partition {dev}: e2fsck -p could not fix it; trying e2fsck -y"
            )),
        }
    } else {
        log(&format!(
            "data partition {dev}: its superblock is damaged; e2fsck -y from a backup"
        ));
    }
    match tools.run("e2fsck", &["-y", "-f", dev]).flatten() {
        Some(0..=3) => return Ok(()),
        // errors left uncorrected by a run that worked: nothing to save
        Some(code) if code & 4 != 0 && code & 8 == 0 => {}
        // e2fsck itself failed (killed, out of memory, a feature it does
        // not know): the partition may be fine, so it is left as it is
        other => {
            return Err(format!(
                "e2fsck -y did not finish ({}): left as it is",
                other.map_or("no exit code".to_string(), |c| format!("exit {c}"))
            ))
        }
    }
    if !tools.make(dev) {
        return Err("it cannot be repaired, and mke2fs failed".into());
    }
    log(&format!("data partition {dev} could not be repaired: made an empty ext4 one, its old contents are lost; booting with the image's defaults"));
    Ok(())
}

/// Where block group 1's superblock copy starts, for 1, 2 and 4 KiB blocks
/// (a file system of one group has none).
const BACKUP_SUPERBLOCKS: [u64; 3] = [8193 * 1024, 16384 * 2048, 32768 * 4096];

/// The data partition's part: overlay on /etc, /var/lib/ferrite, the logs
/// when asked for. Whether /var/log is on it now (false also when data
/// could not be mounted: the image's defaults then). `dev` is its device
/// inside the new root (/dev has moved there).
fn mount_data(plan: &Plan, dev: &str, tools: &Tools) -> bool {
    use rustix::mount::MountFlags;
    let defaults = "running with the image's defaults, nothing persists";
    if let Err(e) = prepare_data(tools, dev) {
        log(&format!("data partition {dev}: {e}: {defaults}"));
        return false;
    }
    let data = format!("{NEW}{}", crate::factory_reset::DATA);
    let mount_it = || {
        mount(
            &format!("{NEW}{dev}"),
            &data,
            "ext4",
            // no access-time writes: flash wears by what is written
            MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOATIME,
            "",
        )
    };
    // A file system that passed its check and still does not mount is
    // left as it is: the kernel lacks something (its ext4 module, a
    // feature), and making it anew would throw the box's state away.
    if let Err(e) = mount_it() {
        log(&format!("data partition {dev}: {e}: {defaults}"));
        return false;
    }
    // `ferrite factory-reset` left a mark: the changes to /etc go
    let mark = format!("{data}/{}", crate::factory_reset::MARK);
    if Path::new(&mark).exists() {
        let _ = std::fs::remove_dir_all(format!("{data}/etc.upper"));
        let _ = std::fs::remove_dir_all(format!("{data}/etc.work"));
        let _ = std::fs::remove_file(&mark);
        log("factory reset: /etc is the image's again");
    }
    let lib = format!("{data}/lib-ferrite");
    let _ = std::fs::create_dir_all(&lib);
    if let Err(e) =
        rustix::mount::mount_bind(lib.as_str(), format!("{NEW}/var/lib/ferrite").as_str())
    {
        log(&format!("/var/lib/ferrite: {e}"));
    }
    let mut logs_bound = false;
    if plan.logs_on_data {
        let logs = format!("{data}/log");
        let _ = std::fs::create_dir_all(&logs);
        match rustix::mount::mount_bind(logs.as_str(), format!("{NEW}/var/log").as_str()) {
            Ok(()) => {
                logs_bound = true;
                log("logs kept on the data partition");
            }
            Err(e) => log(&format!("/var/log on data: {e}: logs in RAM")),
        }
    }
    if plan.failsafe {
        log("failsafe: /etc is the image's, changes go nowhere");
        return logs_bound;
    }
    let (upper, work) = (format!("{data}/etc.upper"), format!("{data}/etc.work"));
    let _ = std::fs::create_dir_all(&upper);
    let _ = std::fs::create_dir_all(&work);
    let opts = format!("lowerdir={NEW}/etc,upperdir={upper},workdir={work}");
    if let Err(e) = mount(
        "overlay",
        &format!("{NEW}/etc"),
        "overlay",
        MountFlags::empty(),
        &opts,
    ) {
        log(&format!("/etc overlay: {e}: /etc is the image's"));
    }
    logs_bound
}

/// Mount the disk's root and become its init. Returns only on failure
/// (then boot goes on from the initramfs, and the console says why).
pub fn switch_root(plan: &Plan) -> String {
    use rustix::mount::MountFlags;
    let Some(root) = wait_for(&plan.root) else {
        return format!("no root partition {:?} on any disk", plan.root);
    };
    if let Err(e) = mount(
        &format!("/dev/{root}"),
        NEW,
        "squashfs",
        MountFlags::RDONLY,
        "",
    ) {
        return e;
    }
    log(&format!("root /dev/{root} mounted read-only"));
    let tools = Tools {
        exe: std::env::current_exe().ok(),
    };
    let data = wait_for(&plan.data);
    if data.is_none() {
        log(&format!(
            "no data partition {:?}: running with the image's defaults, nothing persists",
            plan.data
        ));
    }
    // /dev, /proc, /sys and /run go over first: the data partition's
    // checker runs inside the new root and needs them there
    for m in ["/dev", "/proc", "/sys", "/run"] {
        if let Err(e) = rustix::mount::mount_move(m, format!("{NEW}{m}").as_str()) {
            log(&format!("moving {m}: {e}"));
        }
    }
    let logs_on_data = data.is_some_and(|dev| mount_data(plan, &format!("/dev/{dev}"), &tools));
    let mut tmpfs = vec![("/tmp", "mode=1777")];
    if !logs_on_data {
        tmpfs.push(("/var/log", "mode=0755"));
    }
    for (target, opts) in tmpfs {
        if let Err(e) = mount(
            "tmpfs",
            &format!("{NEW}{target}"),
            "tmpfs",
            MountFlags::NOSUID | MountFlags::NODEV,
            opts,
        ) {
            log(&e);
        }
    }
    // the new root becomes / (what switch_root does; the initramfs' files
    // stay in memory: a few MB, not worth a recursive delete in PID 1)
    let switched = rustix::process::chdir(NEW)
        .and_then(|()| rustix::mount::mount_move(".", "/"))
        .and_then(|()| rustix::process::chroot("."))
        .and_then(|()| rustix::process::chdir("/"));
    if let Err(e) = switched {
        return format!("switching to the new root: {e}");
    }
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new("/sbin/init").arg0("init").exec();
    format!("exec /sbin/init on the new root: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        assert_eq!(plan("console=ttyS0 quiet"), None);
        assert_eq!(plan("root=/dev/vda1"), None, "the kernel's own kind");
        let p = plan("console=ttyS0 root=PARTLABEL=ferrite-root").unwrap();
        assert_eq!(p.root, Spec::PartLabel("ferrite-root".into()));
        assert_eq!(p.data, Spec::PartLabel("ferrite-data".into()));
        assert!(!p.failsafe);
        let p =
            plan("root=PARTUUID=ABCD-01 ferrite.data=PARTUUID=abcd-02 ferrite.failsafe").unwrap();
        assert_eq!(p.root, Spec::PartUuid("abcd-01".into()));
        assert_eq!(p.data, Spec::PartUuid("abcd-02".into()));
        assert!(p.failsafe);
        assert!(!p.logs_on_data);
        assert!(
            plan("root=PARTLABEL=r ferrite.logs=data")
                .unwrap()
                .logs_on_data
        );
        assert!(
            !plan("root=PARTLABEL=r ferrite.logs=data ferrite.logs=ram")
                .unwrap()
                .logs_on_data
        );
        assert_eq!(plan("root=PARTLABEL="), None);
        assert_eq!(
            plan("root=PARTLABEL=é root=x"),
            None,
            "the last root= counts"
        );
    }

    #[test]
    fn an_ext_superblock_is_known_by_its_magic() {
        let mut head = vec![0u8; 2048];
        assert!(!has_ext_superblock(&head), "zeroed");
        head[1024 + 56] = 0x53;
        head[1024 + 57] = 0xef;
        assert!(has_ext_superblock(&head));
        assert!(!has_ext_superblock(&head[..1070]), "short read");
    }

    #[test]
    fn e2fsck_exit_codes() {
        assert_eq!(checked(Some(0)), Checked::Clean);
        assert_eq!(checked(Some(1)), Checked::Fixed);
        assert_eq!(checked(Some(2)), Checked::Fixed);
        assert_eq!(checked(Some(4)), Checked::NotFixed);
        assert_eq!(checked(Some(8)), Checked::NotFixed);
        assert_eq!(checked(Some(12)), Checked::NotFixed);
        assert_eq!(checked(None), Checked::NotFixed, "killed by a signal");
    }

    #[test]
    fn partitions_are_found_and_named_as_the_kernel_does() {
        assert_eq!(partition_device("vda", 1), "vda1");
        assert_eq!(partition_device("mmcblk0", 2), "mmcblk0p2");
        assert_eq!(partition_device("nvme0n1", 3), "nvme0n1p3");
        let part = |n, name: &str, uuid: &str| Partition {
            number: n,
            first_lba: 2048,
            last_lba: 4095,
            name: name.into(),
            uuid: uuid.into(),
            kind: [0; 16],
        };
        let disks = vec![
            ("sda".to_string(), vec![part(1, "other", "1111")]),
            (
                "mmcblk0".to_string(),
                vec![
                    part(1, "boot", "aaaa-01"),
                    part(2, "ferrite-root", "aaaa-02"),
                ],
            ),
        ];
        assert_eq!(
            find(&Spec::PartLabel("ferrite-root".into()), &disks).as_deref(),
            Some("mmcblk0p2")
        );
        assert_eq!(
            find(&Spec::PartUuid("AAAA-01".into()), &disks).as_deref(),
            Some("mmcblk0p1")
        );
        assert_eq!(find(&Spec::PartLabel("none".into()), &disks), None);
    }
}
