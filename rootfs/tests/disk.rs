//! disk.img checked by the real tools: util-linux's sfdisk reads the GPT
//! ferrite wrote (names, starts, sizes), squashfs-tools' unsquashfs lists
//! the root partition straight from the disk image (modes, a device node,
//! links), e2fsprogs' e2fsck finds the data partition clean; and
//! common::partition reads the same table sfdisk does.

use rootfs::image::Tree;
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg = format!("{tool} missing (scripts/deps image installs it)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("SKIP: {msg}");
    }
    ok
}

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrite-disk-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn field<'a>(json: &'a str, after: &str, key: &str) -> &'a str {
    let at = json
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {json}"));
    let rest = &json[at..];
    let k = rest.find(&format!("\"{key}\":")).unwrap();
    let v = rest[k + key.len() + 3..].trim_start();
    v.split([',', '\n', '}'])
        .next()
        .unwrap()
        .trim()
        .trim_matches('"')
}

#[test]
fn disk_image_read_by_sfdisk_unsquashfs_and_e2fsck() {
    if !(have("sfdisk") && have("unsquashfs") && have("mksquashfs") && have("e2fsck")) {
        return;
    }
    let mut t = Tree::default();
    t.dir("etc", 0o755);
    t.file("etc/hostname", 0o644, b"box\n".to_vec());
    t.file("bin/tool", 0o755, vec![0x7f; 300_000]);
    t.link("sbin/init", "../bin/tool");
    t.char_dev("dev/console", 0o600, 5, 1);
    t.dir("tmp", 0o1777);
    let out = out_dir("read");
    rootfs::disk::images(&t, "test-board", 8 << 20, &out).unwrap();
    let disk = out.join("disk.img");
    let json = run(Command::new("sfdisk").arg("--json").arg(&disk));
    assert_eq!(field(&json, "partitiontable", "label"), "gpt", "{json}");
    assert_eq!(field(&json, "disk.img1", "name"), "ferrite-root", "{json}");
    assert_eq!(field(&json, "disk.img2", "name"), "ferrite-data", "{json}");
    let start = |n: &str| field(&json, n, "start").parse::<u64>().unwrap();
    let size = |n: &str| field(&json, n, "size").parse::<u64>().unwrap();
    assert_eq!(start("disk.img1"), 2048, "1 MiB aligned");
    assert_eq!(start("disk.img2") % 2048, 0, "1 MiB aligned");
    assert_eq!(size("disk.img2") * 512, 8 << 20);

    // our own reader sees what sfdisk sees
    let bytes = std::fs::read(&disk).unwrap();
    let last = bytes.len() as u64 / 512 - 1;
    let mut read = |lba: u64, n: u64| {
        bytes
            .get((lba * 512) as usize..((lba + n) * 512) as usize)
            .map(|s| s.to_vec())
    };
    let parts = common::partition::gpt(&mut read, last).unwrap();
    assert_eq!(parts[0].name, "ferrite-root");
    assert_eq!(parts[1].first_lba, start("disk.img2"));
    assert_eq!(
        parts[0].uuid.to_uppercase(),
        field(&json, "disk.img1", "uuid")
    );

    // the root partition, straight from the disk image
    let offset = (start("disk.img1") * 512).to_string();
    let list = run(Command::new("unsquashfs")
        .args(["-o", &offset, "-ll"])
        .arg(&disk));
    let line = |name: &str| {
        list.lines()
            .find(|l| l.ends_with(name) || l.contains(&format!("{name} ->")))
            .unwrap_or_else(|| panic!("{name} not in\n{list}"))
            .to_string()
    };
    for (name, shown) in [
        ("dev/console", "crw------- root/root"),
        ("bin/tool", "-rwxr-xr-x root/root"),
        ("tmp", "drwxrwxrwt"),
        ("sbin/init", "lrwxrwxrwx root/root"),
    ] {
        let l = line(&format!("squashfs-root/{name}"));
        assert!(l.starts_with(shown), "{name}: {l}\n{list}");
    }
    assert!(
        line("squashfs-root/sbin/init").contains("-> ../bin/tool"),
        "{list}"
    );

    // the data partition: a clean ext4 with its label
    let data = out.join("data-from-disk.img");
    let part = &bytes[(start("disk.img2") * 512) as usize..][..(size("disk.img2") * 512) as usize];
    std::fs::write(&data, part).unwrap();
    let fsck = Command::new("e2fsck")
        .arg("-fn")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    assert!(String::from_utf8_lossy(&fsck.stdout).contains("ferrite-data"));
    let _ = std::fs::remove_dir_all(out_dir_of(&disk));
}

fn out_dir_of(p: &Path) -> PathBuf {
    p.parent().unwrap().to_path_buf()
}

#[test]
fn a_rebuilt_image_rewrites_only_the_root_of_the_kept_disk() {
    if !(have("mksquashfs") && have("mke2fs")) {
        return;
    }
    let out = out_dir("live");
    let tree = |text: &str| {
        let mut t = Tree::default();
        t.file("etc/version", 0o644, text.as_bytes().to_vec());
        t
    };
    rootfs::disk::images(&tree("one"), "b", 8 << 20, &out).unwrap();
    let live = rootfs::disk::live_copy(&out).unwrap();
    // the guest writes on its data partition
    let mut bytes = std::fs::read(&live).unwrap();
    let last = bytes.len() as u64 / 512 - 1;
    let table = {
        let b = bytes.clone();
        let mut read = |lba: u64, n: u64| {
            b.get((lba * 512) as usize..((lba + n) * 512) as usize)
                .map(|s| s.to_vec())
        };
        common::partition::gpt(&mut read, last).unwrap()
    };
    let data_at = (table[1].first_lba * 512 + (3 << 20)) as usize;
    bytes[data_at..data_at + 11].copy_from_slice(b"guest-state");
    std::fs::write(&live, &bytes).unwrap();
    // a rebuild with another root
    rootfs::disk::images(&tree("two, longer"), "b", 8 << 20, &out).unwrap();
    let again = rootfs::disk::live_copy(&out).unwrap();
    assert_eq!(again, live);
    let bytes = std::fs::read(&live).unwrap();
    assert_eq!(&bytes[data_at..data_at + 11], b"guest-state", "data kept");
    let root = std::fs::read(out.join("root.img")).unwrap();
    let root_at = (table[0].first_lba * 512) as usize;
    assert_eq!(&bytes[root_at..root_at + root.len()], &root[..], "new root");
    let _ = std::fs::remove_dir_all(&out);
}
