//! The Raspberry Pi's sdcard.img checked by the real tools: util-linux's
//! sfdisk reads the MBR ferrite wrote (a bootable FAT32 first partition,
//! then root and data), mtools' mdir and mtype read the boot partition
//! straight from the card (config.txt, U-Boot, extlinux.conf, kernel, DTB,
//! initramfs), and common::partition reads the same table sfdisk does.

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

fn require(what: &str, ok: bool) -> bool {
    if !ok {
        let msg = format!("{what} missing");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("SKIP: {msg}");
    }
    ok
}

fn run(cmd: &mut Command) -> String {
    let o = cmd.env("MTOOLS_SKIP_CHECK", "1").output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value of `key` in the JSON object that follows `after`.
fn field<'a>(json: &'a str, after: &str, key: &str) -> &'a str {
    let at = json
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {json}"));
    let rest = &json[at..];
    let k = rest
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} after {after} in {json}"));
    let v = rest[k + key.len() + 3..].trim_start();
    v.split([',', '\n', '}'])
        .next()
        .unwrap()
        .trim()
        .trim_matches('"')
}

fn images(board: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/images")
        .join(board)
}

#[test]
fn rpi4_sdcard_has_an_mbr_a_fat32_boot_partition_and_the_boot_files() {
    let dir = images("rpi4");
    let card = dir.join("sdcard.img");
    if !(require(
        "target/images/rpi4/sdcard.img (make image BOARD=rpi4)",
        card.exists(),
    ) && have("sfdisk")
        && have("mdir"))
    {
        return;
    }
    let json = run(Command::new("sfdisk").arg("--json").arg(&card));
    assert_eq!(field(&json, "partitiontable", "label"), "dos", "{json}");
    let start = |n: &str| field(&json, n, "start").parse::<u64>().unwrap();
    let size = |n: &str| field(&json, n, "size").parse::<u64>().unwrap();
    // the boot partition: FAT32 (LBA), flagged bootable, 64 MiB from 1 MiB
    assert_eq!(field(&json, "sdcard.img1", "type"), "c", "{json}");
    assert_eq!(field(&json, "sdcard.img1", "bootable"), "true", "{json}");
    assert_eq!(start("sdcard.img1"), 2048);
    assert_eq!(size("sdcard.img1") * 512, 64 << 20);
    // root and data: Linux, 1 MiB aligned, the sizes of root.img and data.img
    for (n, image) in [("sdcard.img2", "root.img"), ("sdcard.img3", "data.img")] {
        assert_eq!(field(&json, n, "type"), "83", "{json}");
        assert_eq!(start(n) % 2048, 0, "{n} 1 MiB aligned");
        let bytes = std::fs::metadata(dir.join(image)).unwrap().len();
        assert_eq!(size(n) * 512, bytes.div_ceil(1 << 20) * (1 << 20), "{n}");
    }
    let bytes = std::fs::read(&card).unwrap();
    let at = |n: &str| (start(n) * 512) as usize;
    assert_eq!(
        &bytes[at("sdcard.img2")..][..4],
        b"hsqs",
        "root is squashfs"
    );
    assert_eq!(
        &bytes[at("sdcard.img3") + 1080..][..2],
        &[0x53, 0xEF],
        "data is ext2/3/4"
    );
    // our reader agrees with sfdisk, and the command line names its PARTUUIDs
    let parts = common::partition::mbr(&bytes[..512]).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[1].first_lba, start("sdcard.img2"));
    let id = field(&json, "partitiontable", "id").trim_start_matches("0x");
    assert_eq!(parts[1].uuid, format!("{id}-02"));
    let cmdline = std::fs::read_to_string(dir.join("cmdline")).unwrap();
    assert!(
        cmdline.contains(&format!("root=PARTUUID={id}-02"))
            && cmdline.contains(&format!("ferrite.data=PARTUUID={id}-03"))
            && cmdline.contains("console=ttyS1,115200"),
        "{cmdline}"
    );

    // the boot partition, straight from the card
    let fat = format!("{}@@{}", card.display(), at("sdcard.img1"));
    let listing = run(Command::new("mdir").args(["-i", &fat, "-/", "-b", "::/"]));
    for f in [
        "config.txt",
        "u-boot.bin",
        "vmlinuz",
        "initrd.cpio.gz",
        "bcm2711-rpi-4-b.dtb",
        "extlinux/extlinux.conf",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("::/{f}")),
            "{f} not on the boot partition:\n{listing}"
        );
    }
    let mtype = |f: &str| run(Command::new("mtype").args(["-i", &fat, &format!("::/{f}")]));
    let config = mtype("config.txt");
    for l in ["arm_64bit=1", "enable_uart=1", "kernel=u-boot.bin"] {
        assert!(config.lines().any(|x| x.trim() == l), "{l} in\n{config}");
    }
    let ext = mtype("extlinux/extlinux.conf");
    for l in [
        "kernel /vmlinuz",
        "fdt /bcm2711-rpi-4-b.dtb",
        "initrd /initrd.cpio.gz",
        &format!("append {}", cmdline.trim()),
    ] {
        assert!(ext.lines().any(|x| x.trim() == l), "{l} in\n{ext}");
    }
    // the files are the image's own: U-Boot for the Pi 4, the kernel, the initramfs
    let copy = |f: &str| {
        let out = dir.join(format!("test-copy-{}", f.replace('/', "-")));
        run(Command::new("mcopy")
            .args(["-n", "-o", "-i", &fat, &format!("::/{f}")])
            .arg(&out));
        let b = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        b
    };
    assert_eq!(copy("vmlinuz"), std::fs::read(dir.join("vmlinuz")).unwrap());
    assert_eq!(
        copy("initrd.cpio.gz"),
        std::fs::read(dir.join("initrd.cpio.gz")).unwrap()
    );
    let uboot = copy("u-boot.bin");
    assert_eq!(uboot, std::fs::read(dir.join("u-boot.bin")).unwrap());
    let pi4 = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/cache/debian/arm64/u-boot-rpi/root/usr/lib/u-boot/rpi_4/u-boot.bin");
    assert_eq!(uboot, std::fs::read(pi4).unwrap(), "u-boot-rpi's rpi_4");
    let dtb = copy("bcm2711-rpi-4-b.dtb");
    assert_eq!(
        &dtb[..4],
        &[0xd0, 0x0d, 0xfe, 0xed],
        "a flattened device tree"
    );
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferrite-sdcard-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_rebuilt_card_rewrites_boot_and_root_of_the_kept_qemu_copy() {
    let out = scratch("live");
    let write = |name: &str, bytes: usize, fill: u8| {
        std::fs::write(out.join(name), vec![fill; bytes]).unwrap();
    };
    write("boot.img", 2 << 20, b'b');
    write("root.img", 300_000, b'r');
    write("data.img", 4 << 20, 0);
    let card = |out: &Path| {
        rootfs::sdcard::sdcard(
            0x1234_5678,
            &out.join("boot.img"),
            &out.join("root.img"),
            &out.join("data.img"),
            &out.join("sdcard.img"),
        )
        .unwrap()
    };
    card(&out);
    let live = rootfs::sdcard::live_copy(&out).unwrap();
    let len = std::fs::metadata(&live).unwrap().len();
    assert!(len.is_power_of_two(), "QEMU's SD card: {len} bytes");
    assert!(len >= std::fs::metadata(out.join("sdcard.img")).unwrap().len());
    // the guest writes on data
    let mut bytes = std::fs::read(&live).unwrap();
    let t = common::partition::mbr(&bytes[..512]).unwrap();
    let data_at = (t[2].first_lba * 512 + 4096) as usize;
    bytes[data_at..data_at + 11].copy_from_slice(b"guest-state");
    std::fs::write(&live, &bytes).unwrap();
    // a rebuild: new boot files, a new root
    write("boot.img", 2 << 20, b'B');
    write("root.img", 200_000, b'R');
    card(&out);
    assert_eq!(rootfs::sdcard::live_copy(&out).unwrap(), live);
    let bytes = std::fs::read(&live).unwrap();
    assert_eq!(&bytes[data_at..data_at + 11], b"guest-state", "data kept");
    assert_eq!(bytes[(t[0].first_lba * 512) as usize], b'B', "new boot");
    assert_eq!(bytes[(t[1].first_lba * 512) as usize], b'R', "new root");
    // a root that outgrew its partition: a fresh copy
    write("root.img", 3 << 20, b'X');
    card(&out);
    rootfs::sdcard::live_copy(&out).unwrap();
    let bytes = std::fs::read(&live).unwrap();
    let t = common::partition::mbr(&bytes[..512]).unwrap();
    assert_eq!(bytes[(t[1].first_lba * 512) as usize], b'X');
    assert_ne!(
        &bytes[(t[2].first_lba * 512 + 4096) as usize..][..11],
        b"guest-state"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_boot_partition_is_fat32_made_without_mounting() {
    if !(have("mformat") && have("minfo")) {
        return;
    }
    let out = scratch("fat");
    let staged = out.join("staged");
    std::fs::create_dir_all(staged.join("extlinux")).unwrap();
    std::fs::write(staged.join("config.txt"), rootfs::sdcard::CONFIG_TXT).unwrap();
    std::fs::write(staged.join("extlinux/extlinux.conf"), "default x\n").unwrap();
    let img = out.join("boot.img");
    rootfs::sdcard::fat32(64 << 20, 2048, 0xabcd_0123, &staged, &img).unwrap();
    let info = run(Command::new("minfo").arg("-i").arg(&img).arg("::"));
    assert!(info.contains("hidden sectors: 2048"), "{info}");
    assert!(info.contains("FAT32"), "{info}");
    let text = run(Command::new("mtype")
        .arg("-i")
        .arg(&img)
        .arg("::/extlinux/extlinux.conf"));
    assert_eq!(text, "default x\n");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn firmware_files_the_directory_has_go_onto_the_boot_partition_and_nothing_else() {
    if !(have("mformat") && have("mdir")) {
        return;
    }
    let out = scratch("firmware");
    let file = |p: &Path, bytes: &[u8]| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    // stand-ins for Debian's kernel, its DTBs and u-boot-rpi
    file(&out.join("in/vmlinuz"), b"kernel");
    file(
        &out.join("in/broadcom/bcm2711-rpi-4-b.dtb"),
        b"\xd0\x0d\xfe\xed",
    );
    file(&out.join("in/broadcom/bcm2835-not-a-pi-board.dtb"), b"x");
    file(
        &out.join("in/uboot/usr/lib/u-boot/rpi_4/u-boot.bin"),
        b"u-boot",
    );
    // what the user has: the Pi 4's firmware and a file that is not one
    file(&out.join("fw/start4.elf"), b"gpu");
    file(&out.join("fw/fixup4.dat"), b"fixup");
    file(&out.join("fw/LICENCE.broadcom"), b"licence");
    for (name, bytes) in [
        ("root.img", 1 << 20),
        ("data.img", 2 << 20),
        ("initrd.cpio.gz", 10),
    ] {
        file(&out.join(name), &vec![0u8; bytes]);
    }
    let board = rootfs::board::Board::parse(
        "name = \"fw-test\"\ntarget = \"aarch64-unknown-linux-musl\"\nhostname = \"h\"\n\
         [kernel]\narch = \"arm64\"\n[console]\ntty = \"ttyS1\"\nbaud = 115200\n\
         [disk]\n[disk.sdcard]\nuboot = \"rpi_4\"\ndtb = \"bcm2711-rpi-4-b.dtb\"\nboot_mib = 40\n",
        "test",
    )
    .unwrap();
    let card = board.disk.as_ref().unwrap().sdcard.as_ref().unwrap();
    let (kernel, dtbs, uboot) = (
        out.join("in/vmlinuz"),
        out.join("in/broadcom"),
        out.join("in/uboot"),
    );
    let inputs = |firmware: Option<PathBuf>| (firmware, &kernel, &dtbs, &uboot);
    let make = |firmware: Option<PathBuf>| {
        let (fw, kernel, dtbs, uboot) = inputs(firmware);
        let i = rootfs::sdcard::Inputs {
            kernel,
            dtbs,
            uboot_root: uboot,
            firmware: fw.as_deref(),
        };
        rootfs::sdcard::images(&board, card, &i, &out)
    };
    let found = make(Some(out.join("fw"))).unwrap();
    assert_eq!(found, ["start4.elf", "fixup4.dat"]);
    let fat = format!("{}@@{}", out.join("sdcard.img").display(), 1 << 20);
    let listing = run(Command::new("mdir").args(["-i", &fat, "-/", "-b", "::/"]));
    for f in [
        "start4.elf",
        "fixup4.dat",
        "bcm2711-rpi-4-b.dtb",
        "u-boot.bin",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("::/{f}")),
            "{f}:\n{listing}"
        );
    }
    assert!(!listing.contains("LICENCE"), "{listing}");
    assert!(!listing.contains("not-a-pi"), "{listing}");
    // a directory with none of the firmware is an error, not a silent card
    let e = make(Some(out.join("in"))).unwrap_err();
    assert!(e.contains("none of the Pi's firmware files"), "{e}");
    let e = make(Some(out.join("nope"))).unwrap_err();
    assert!(e.contains("not a directory"), "{e}");
    let _ = std::fs::remove_dir_all(&out);
}
