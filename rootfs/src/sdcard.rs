//! The Raspberry Pi's SD card (issue 14): `sdcard.img`, an MBR (the Pi's
//! boot ROM and GPU firmware look for a FAT first partition there) with
//!   1. `boot`, FAT32 (type 0x0c, flagged bootable): `config.txt`, U-Boot
//!      from Debian's `u-boot-rpi`, `extlinux/extlinux.conf`, Debian's
//!      kernel, the Pi's DTBs, the small initramfs and, when given, the
//!      GPU firmware;
//!   2. the read-only squashfs root (`root.img`);
//!   3. the ext4 data partition (`data.img`).
//!
//! Early boot finds 2 and 3 by PARTUUID (`SIGNATURE-02`, `-03`, as the
//! kernel names MBR partitions). The FAT is made by mtools in a file of its
//! own (`boot.img`) and copied in: no loop device, no mounting.

use crate::board::SdCard;
use common::partition::{mbr, mbr_write, NewMbrPartition, SECTOR};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The GPU firmware files `--firmware DIR` copies when DIR has them: the
/// Pi 4's (`start4*.elf`, `fixup4*.dat`) and the Pi 3's (`bootcode.bin`,
/// `start*.elf`, `fixup*.dat`).
pub const FIRMWARE: &[&str] = &[
    "bootcode.bin",
    "start.elf",
    "fixup.dat",
    "start_cd.elf",
    "fixup_cd.dat",
    "start_x.elf",
    "fixup_x.dat",
    "start_db.elf",
    "fixup_db.dat",
    "start4.elf",
    "fixup4.dat",
    "start4cd.elf",
    "fixup4cd.dat",
    "start4x.elf",
    "fixup4x.dat",
    "start4db.elf",
    "fixup4db.dat",
];

/// The firmware a Pi needs at least, by the U-Boot the card boots.
pub fn firmware_needed(uboot: &str) -> &'static [&'static str] {
    match uboot {
        "rpi_4" => &["start4.elf", "fixup4.dat"],
        "rpi_3" => &["bootcode.bin", "start.elf", "fixup.dat"],
        _ => &[
            "bootcode.bin",
            "start.elf",
            "fixup.dat",
            "start4.elf",
            "fixup4.dat",
        ],
    }
}

/// `config.txt`, read by the Pi's GPU firmware: 64-bit, the UART on, and
/// U-Boot as the "kernel" it starts.
pub const CONFIG_TXT: &str = "# written by ferrite-rootfs: read by the Pi's GPU firmware\n\
arm_64bit=1\n\
enable_uart=1\n\
kernel=u-boot.bin\n";

/// `extlinux/extlinux.conf`, which U-Boot's distro boot finds on the
/// first (or bootable) partition.
pub fn extlinux(dtb: &str, cmdline: &str) -> String {
    format!(
        "# written by ferrite-rootfs: U-Boot (distro boot) reads this\n\
default ferrite\n\
label ferrite\n\
\tkernel /vmlinuz\n\
\tfdt /{dtb}\n\
\tinitrd /initrd.cpio.gz\n\
\tappend {cmdline}\n"
    )
}

/// The MBR disk signature of `board`'s card (stable, never 0).
pub fn signature(board: &str) -> u32 {
    let g = crate::disk::guid(board, "sdcard");
    u32::from_le_bytes([g[0], g[1], g[2], g[3]]) | 1
}

/// Where early boot finds root and data: partitions 2 and 3 by PARTUUID.
pub fn root_words(board: &str) -> String {
    let s = signature(board);
    format!("root=PARTUUID={s:08x}-02 ferrite.data=PARTUUID={s:08x}-03")
}

/// The kernel command line: the console, root and data.
pub fn cmdline(board: &str, tty: &str, baud: u32) -> String {
    format!("console={tty},{baud} {}", root_words(board))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .map_err(|e| format!("{what}: {e} (scripts/deps image installs mtools)"))?;
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

/// `boot.img`: a FAT32 of `bytes` with the files under `staged` in its
/// root (mtools; `hidden` = the partition's first sector, as FAT's boot
/// sector records it).
pub fn fat32(
    bytes: u64,
    hidden: u64,
    serial: u32,
    staged: &Path,
    out: &Path,
) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", out.display());
    let _ = fs::remove_file(out);
    fs::File::create(out)
        .and_then(|f| f.set_len(bytes))
        .map_err(err)?;
    let img = out.as_os_str();
    run(
        Command::new("mformat")
            .arg("-i")
            .arg(img)
            .args(["-F", "-v", "BOOT", "-N", &format!("{serial:08x}")])
            .args(["-H", &hidden.to_string(), "::"]),
        "mformat",
    )?;
    let mut entries: Vec<PathBuf> = fs::read_dir(staged)
        .map_err(|e| format!("{}: {e}", staged.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    if entries.is_empty() {
        return Ok(());
    }
    run(
        Command::new("mcopy")
            .arg("-i")
            .arg(img)
            .arg("-s")
            .args(&entries)
            .arg("::/"),
        "mcopy",
    )
}

/// The sectors of an image file, rounded up to whole MiB.
fn mib_sectors(p: &Path) -> Result<u64, String> {
    let b = fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", p.display()))?;
    let mib = 1u64 << 20;
    Ok(b.div_ceil(mib).max(1) * mib / SECTOR)
}

/// `sdcard.img`: the MBR, then boot, root and data copied in.
pub fn sdcard(
    signature: u32,
    boot: &Path,
    root: &Path,
    data: &Path,
    out: &Path,
) -> Result<(), String> {
    let sizes = [mib_sectors(boot)?, mib_sectors(root)?, mib_sectors(data)?];
    let parts = [
        NewMbrPartition {
            kind: 0x0c,
            sectors: sizes[0],
            bootable: true,
        },
        NewMbrPartition {
            kind: 0x83,
            sectors: sizes[1],
            bootable: false,
        },
        NewMbrPartition {
            kind: 0x83,
            sectors: sizes[2],
            bootable: false,
        },
    ];
    let total = (1 << 20) / SECTOR + sizes.iter().sum::<u64>();
    let (sector0, starts) = mbr_write(total, signature, &parts)
        .ok_or("sdcard.img: the partitions do not fit an MBR")?;
    let err = |e: std::io::Error| format!("{}: {e}", out.display());
    let _ = fs::remove_file(out);
    let mut f = fs::File::create(out).map_err(err)?;
    f.set_len(total * SECTOR).map_err(err)?;
    f.write_all(&sector0).map_err(err)?;
    for (image, start) in [boot, root, data].iter().zip(&starts) {
        f.seek(SeekFrom::Start(start * SECTOR)).map_err(err)?;
        let mut src = fs::File::open(image).map_err(|e| format!("{}: {e}", image.display()))?;
        std::io::copy(&mut src, &mut f).map_err(err)?;
    }
    f.sync_all().map_err(err)
}

/// What the boot partition is made of.
pub struct Inputs<'a> {
    /// Debian's kernel image
    pub kernel: &'a Path,
    /// the kernel package's `broadcom/` directory of DTBs
    pub dtbs: &'a Path,
    /// the unpacked `u-boot-rpi`
    pub uboot_root: &'a Path,
    /// a directory with the GPU firmware, if the user has it
    pub firmware: Option<&'a Path>,
}

/// The Pi's DTBs in the kernel's `broadcom/` directory.
fn pi_dtbs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .is_some_and(|n| n.contains("-rpi-") && n.ends_with(".dtb"))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// `boot.img` and `sdcard.img` in `out`, from root.img, data.img and
/// initrd.cpio.gz already there; `u-boot.bin` and the named DTB beside
/// them (what QEMU boots). Returns the firmware files that went in.
pub fn images(
    board: &crate::board::Board,
    card: &SdCard,
    inputs: &Inputs,
    out: &Path,
) -> Result<Vec<String>, String> {
    let cp = |from: &Path, to: &Path| {
        fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
    };
    let staged = out.join("boot.staged");
    let _ = fs::remove_dir_all(&staged);
    fs::create_dir_all(staged.join("extlinux"))
        .map_err(|e| format!("{}: {e}", staged.display()))?;
    let write = |name: &str, text: &str| {
        fs::write(staged.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    let line = cmdline(&board.name, &board.console.tty, board.console.baud);
    write("config.txt", CONFIG_TXT)?;
    write("extlinux/extlinux.conf", &extlinux(&card.dtb, &line))?;
    fs::write(out.join("cmdline"), format!("{line}\n")).map_err(|e| format!("cmdline: {e}"))?;
    let uboot = inputs
        .uboot_root
        .join("usr/lib/u-boot")
        .join(&card.uboot)
        .join("u-boot.bin");
    if !uboot.exists() {
        return Err(format!(
            "disk.sdcard.uboot {:?}: no {} (u-boot-rpi has rpi_3, rpi_4, rpi_arm64)",
            card.uboot,
            uboot.display()
        ));
    }
    cp(&uboot, &staged.join("u-boot.bin"))?;
    cp(&uboot, &out.join("u-boot.bin"))?;
    cp(inputs.kernel, &staged.join("vmlinuz"))?;
    cp(&out.join("initrd.cpio.gz"), &staged.join("initrd.cpio.gz"))?;
    let dtbs = pi_dtbs(inputs.dtbs)?;
    let Some(named) = dtbs.iter().find(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy() == card.dtb)
    }) else {
        return Err(format!(
            "disk.sdcard.dtb {:?} is not in {}",
            card.dtb,
            inputs.dtbs.display()
        ));
    };
    cp(named, &out.join(&card.dtb))?;
    for d in &dtbs {
        if let Some(n) = d.file_name() {
            cp(d, &staged.join(n))?;
        }
    }
    let mut firmware = Vec::new();
    if let Some(dir) = inputs.firmware {
        if !dir.is_dir() {
            return Err(format!("--firmware {}: not a directory", dir.display()));
        }
        for name in FIRMWARE {
            let p = dir.join(name);
            if p.is_file() {
                cp(&p, &staged.join(name))?;
                firmware.push(name.to_string());
            }
        }
        if firmware.is_empty() {
            return Err(format!(
                "--firmware {}: none of the Pi's firmware files is there ({})",
                dir.display(),
                FIRMWARE.join(", ")
            ));
        }
    }
    let boot = out.join("boot.img");
    let hidden = (1 << 20) / SECTOR;
    let sig = signature(&board.name);
    fat32(u64::from(card.boot_mib) << 20, hidden, sig, &staged, &boot)?;
    let _ = fs::remove_dir_all(&staged);
    sdcard(
        sig,
        &boot,
        &out.join("root.img"),
        &out.join("data.img"),
        &out.join("sdcard.img"),
    )?;
    Ok(firmware)
}

/// A copy of the card at `to`, padded to a power of two (QEMU's SD card
/// wants one; the MBR has nothing at the end to move).
pub fn qemu_copy(card: &Path, to: &Path) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", to.display());
    fs::copy(card, to).map_err(err)?;
    let f = fs::OpenOptions::new().write(true).open(to).map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    f.set_len(len.next_power_of_two()).map_err(err)
}

/// The card `ferrite-rootfs qemu` boots: `qemu-sdcard.img` next to the
/// image, padded to a power of two (QEMU's SD card wants one). Made from
/// `sdcard.img` the first time; after a rebuild only its boot and root
/// partitions are rewritten, so what the guest wrote on data stays.
pub fn live_copy(out: &Path) -> Result<PathBuf, String> {
    let live = out.join("qemu-sdcard.img");
    let err = |e: std::io::Error| format!("{}: {e}", live.display());
    let fresh = || qemu_copy(&out.join("sdcard.img"), &live);
    if !live.exists() {
        fresh()?;
        return Ok(live);
    }
    let images = [out.join("boot.img"), out.join("root.img")];
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&live)
        .map_err(err)?;
    let mut sector0 = vec![0u8; SECTOR as usize];
    let table = f.read_exact(&mut sector0).ok().and_then(|_| mbr(&sector0));
    let mut fits = table.as_ref().is_some_and(|t| t.len() == 3);
    for (i, image) in images.iter().enumerate() {
        let len = fs::metadata(image)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", image.display()))?;
        fits &= table
            .as_ref()
            .and_then(|t| t.get(i))
            .is_some_and(|p| p.number == i as u32 + 1 && p.bytes() >= len);
    }
    match table {
        Some(t) if fits => {
            for (image, p) in images.iter().zip(&t) {
                let mut src =
                    fs::File::open(image).map_err(|e| format!("{}: {e}", image.display()))?;
                f.seek(SeekFrom::Start(p.first_lba * SECTOR)).map_err(err)?;
                std::io::copy(&mut src, &mut f).map_err(err)?;
            }
            f.sync_all().map_err(err)?;
        }
        _ => {
            drop(f);
            eprintln!(
                "ferrite-rootfs: {}: the new boot or root does not fit its partition: a fresh copy of sdcard.img (its data partition is empty)",
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
    fn the_command_line_names_partitions_2_and_3_of_the_cards_signature() {
        let line = cmdline("rpi4", "ttyS1", 115200);
        let s = format!("{:08x}", signature("rpi4"));
        assert_eq!(
            line,
            format!("console=ttyS1,115200 root=PARTUUID={s}-02 ferrite.data=PARTUUID={s}-03")
        );
        assert_ne!(signature("rpi4"), signature("rpi3-qemu"));
        let e = extlinux("bcm2711-rpi-4-b.dtb", &line);
        assert!(e.contains("\tfdt /bcm2711-rpi-4-b.dtb\n"), "{e}");
        assert!(e.contains(&format!("\tappend {line}\n")), "{e}");
        for l in ["arm_64bit=1", "enable_uart=1", "kernel=u-boot.bin"] {
            assert!(CONFIG_TXT.lines().any(|x| x == l), "{l}");
        }
        assert!(firmware_needed("rpi_4").contains(&"start4.elf"));
        assert!(firmware_needed("rpi_3").contains(&"bootcode.bin"));
    }
}
