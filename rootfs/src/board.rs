//! Board configuration: one TOML file per board in `board-configs/`.
//! Unknown keys and missing fields are errors that name the key.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Board name (e.g. `qemu-x86_64`).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Rust target triple ferrite is built for.
    pub target: String,
    pub hostname: String,
    pub kernel: Kernel,
    pub console: Console,
    /// Kernel modules to include and load at boot, in order (names, no `.ko`).
    #[serde(default)]
    pub modules: Vec<String>,
    /// Kernel modules shipped in the image (with what they need) but not
    /// loaded at boot: `modprobe` loads them when the kernel asks for one
    /// (`ip link add d0 type dummy` asks for `rtnl-link-dummy`) or a user
    /// does. Names or aliases, as `modules`.
    #[serde(default)]
    pub modules_on_demand: Vec<String>,
    /// Include Debian's busybox-static so a human can log in and look around.
    #[serde(default)]
    pub busybox: bool,
    /// How to boot the image in QEMU, when the board is a QEMU machine.
    pub qemu: Option<Qemu>,
    /// Service directories to install from `rootfs/templates/`.
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
    /// Extra files to put into the image.
    #[serde(default, rename = "file")]
    pub files: Vec<ExtraFile>,
    /// Printed after the image is built: how to install it on the board.
    #[serde(default)]
    pub install_notes: Option<String>,
    /// A flashable `disk.img` as well: read-only root, data partition.
    #[serde(default)]
    pub disk: Option<Disk>,
    /// Debian packages (of `[kernel] arch`) in the initramfs and the disk's
    /// root alike, e.g. `["dropbear-bin", "nftables"]`: their files less
    /// documentation, and the shared libraries their programs load from
    /// the packages they depend on (`rootfs::packages`). Maintainer
    /// scripts are not run.
    #[serde(default)]
    pub packages: Vec<String>,
}

/// `disk.img` (issue 14): a GPT with `ferrite-root` (squashfs) and
/// `ferrite-data` (ext4), booted through a small initramfs
/// (`initrd.cpio.gz`) that mounts them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// Modules early boot needs to reach root and data (the disk's driver,
    /// squashfs, ext4, overlay); their dependencies come along.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Size of the data partition, MiB (8 to 65536).
    #[serde(default = "default_data_mib")]
    pub data_mib: u32,
    /// Boot with the overlay off: `/etc` is the image's and changes to it
    /// go nowhere (the kernel command line's `ferrite.failsafe` does the
    /// same for one boot). The lease state still persists.
    #[serde(default)]
    pub failsafe: bool,
    /// Keep the services' logs on the data partition in at most this many
    /// MiB together (each logger without its own `log/config` gets an
    /// equal share); 0, the default, keeps them in RAM (tmpfs), which
    /// spares the flash.
    #[serde(default)]
    pub logs_mib: u32,
    /// Debian packages in the disk's read-only root only, not in the
    /// initramfs (e.g. `["e2fsprogs"]`); as the top-level `packages`.
    #[serde(default)]
    pub packages: Vec<String>,
    /// `[disk.sdcard]`: the Raspberry Pi's `sdcard.img` instead of
    /// `disk.img` (MBR; a FAT32 boot partition with U-Boot, the kernel,
    /// DTBs and the small initramfs; then root and data).
    #[serde(default)]
    pub sdcard: Option<SdCard>,
}

/// The SD card's boot partition (`sdcard.img`, partition 1, FAT32).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdCard {
    /// The U-Boot of Debian's `u-boot-rpi` to boot: its directory under
    /// `/usr/lib/u-boot` (`rpi_3`, `rpi_4`, `rpi_arm64`).
    pub uboot: String,
    /// The device tree `extlinux.conf` names (a file of the kernel's
    /// `broadcom/` directory; all the Pi's are copied, where the GPU
    /// firmware looks for them).
    pub dtb: String,
    /// Size of the boot partition, MiB (40 to 1024; FAT32 needs 65,525 clusters).
    #[serde(default = "default_boot_mib")]
    pub boot_mib: u32,
    /// A directory with the Pi's GPU firmware (`start4.elf`, `fixup4.dat`,
    /// `bootcode.bin`, ...), relative to the board file; `--firmware`
    /// overrides it. Without it the card does not boot a real Pi.
    #[serde(default)]
    pub firmware: Option<String>,
}

fn default_nics() -> u32 {
    1
}

fn default_boot_mib() -> u32 {
    64
}

fn default_data_mib() -> u32 {
    64
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    /// Debian architecture (`amd64`, `arm64`) of the kernel and packages.
    /// A board whose firmware brings its own kernel (Raspberry Pi) may name
    /// neither `debian_package` nor `path`: the image is then the initramfs.
    pub arch: String,
    /// Debian package with the kernel (a metapackage such as
    /// `linux-image-amd64` is resolved to the versioned package it depends on).
    pub debian_package: Option<String>,
    /// A kernel image on disk instead (e.g. a vendor kernel); `--kernel` overrides it.
    pub path: Option<String>,
    /// Directory with that kernel's modules (`lib/modules/VERSION` inside it).
    pub modules_dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Console {
    pub tty: String,
    pub baud: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qemu {
    pub binary: String,
    #[serde(default)]
    pub machine: Option<String>,
    #[serde(default)]
    pub cpu: Option<String>,
    pub memory_mb: u32,
    pub nic: String,
    /// x86: boot the uncompressed kernel through its PVH entry point. The
    /// XZ decompressor of a bzImage costs about 3 s under TCG.
    #[serde(default)]
    pub pvh: bool,
    /// `kernel` (default): QEMU loads the kernel and initramfs itself.
    /// `sd`: the board's firmware stage boots the SD card: `-kernel` is
    /// the card's U-Boot and the card (`sdcard.img`, padded to a power of
    /// two as QEMU wants) is on `-drive if=sd`. Needs `[disk.sdcard]`.
    #[serde(default)]
    pub boot: Option<String>,
    /// The console is the machine's serial port N (0 first); the ports
    /// before it get `-serial null` (raspi3b: 1 is the mini UART, where
    /// U-Boot and the kernel's `ttyS1` print).
    #[serde(default)]
    pub console_serial: u32,
    /// Plug the NIC in (`device_add` through the monitor) when the console
    /// shows the login prompt, not at start: QEMU 7.2's raspi3b USB host
    /// (dwc2) loses a device U-Boot already enumerated, and Linux then
    /// never sees it; plugged in later it comes up as `usb0`.
    #[serde(default)]
    pub nic_hotplug: bool,
    /// How many NICs of kind `nic` (1 to 8, default 1): eth0, eth1, ...
    /// in order, each on a QEMU user network `nN` of its own, or on a tap
    /// device (`ferrite-rootfs qemu --tap IF`, one per NIC in order).
    #[serde(default = "default_nics")]
    pub nics: u32,
    #[serde(default)]
    pub extra_args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Directory name under `rootfs/templates/`.
    pub template: String,
    /// Service directory name in the image (e.g. `getty_ttyS0`).
    pub name: String,
    /// Written to the service's `args` file (options for a native applet).
    #[serde(default)]
    pub args: Option<String>,
    /// Install with a `down` file (not started at boot).
    #[serde(default)]
    pub down: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFile {
    /// Absolute path in the image.
    pub path: String,
    #[serde(default)]
    pub content: Option<String>,
    /// A file on the build machine, relative to the board file.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default = "default_mode")]
    pub mode: u32,
}

/// The largest board file read: a board is a page of TOML.
pub const MAX_BOARD: u64 = 256 * 1024;

fn default_mode() -> u32 {
    0o644
}

impl Board {
    pub fn parse(text: &str, origin: &str) -> Result<Board, String> {
        let b: Board =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))?;
        b.check().map_err(|e| format!("{origin}: {e}"))?;
        Ok(b)
    }

    /// Read and parse a board file. Not a regular file, larger than
    /// `MAX_BOARD`, NUL bytes or not UTF-8 is an error naming the file (a
    /// parse error would quote the line: a huge one whole); a UTF-8
    /// byte-order mark is allowed.
    pub fn load(path: &Path) -> Result<Board, String> {
        use std::io::Read;
        let fail = |why: String| format!("{}: {why}", path.display());
        let f = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
        let meta = f.metadata().map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        let mut bytes = Vec::new();
        f.take(MAX_BOARD + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(e.to_string()))?;
        if bytes.len() as u64 > MAX_BOARD {
            return Err(fail(format!("larger than {MAX_BOARD} bytes")));
        }
        if bytes.contains(&0) {
            return Err(fail("holds NUL bytes".into()));
        }
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8".into()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        Board::parse(text, &path.display().to_string())
    }

    fn check(&self) -> Result<(), String> {
        if self.qemu.is_some() && self.kernel.debian_package.is_none() && self.kernel.path.is_none()
        {
            return Err("kernel: a QEMU board needs `debian_package` or `path`".into());
        }
        if let Some(d) = &self.disk {
            if !(8..=65536).contains(&d.data_mib) {
                return Err(format!(
                    "disk.data_mib {} is out of range (8 to 65536)",
                    d.data_mib
                ));
            }
            if let Some(sd) = &d.sdcard {
                if !(40..=1024).contains(&sd.boot_mib) {
                    return Err(format!(
                        "disk.sdcard.boot_mib {} is out of range (40 to 1024; FAT32 needs 65,525 clusters)",
                        sd.boot_mib
                    ));
                }
                for (key, v) in [("uboot", &sd.uboot), ("dtb", &sd.dtb)] {
                    if v.is_empty() || v.contains('/') || v.starts_with('.') {
                        return Err(format!("disk.sdcard.{key} {v:?} is not a file name"));
                    }
                }
            }
        }
        if let Some(q) = &self.qemu {
            match q.boot.as_deref() {
                None | Some("kernel") => {}
                Some("sd") => {
                    if self.disk.as_ref().is_none_or(|d| d.sdcard.is_none()) {
                        return Err("qemu.boot = \"sd\" needs a [disk.sdcard] section".into());
                    }
                }
                Some(other) => return Err(format!("qemu.boot {other:?}: `kernel` or `sd`")),
            }
            if !(1..=8).contains(&q.nics) {
                return Err(format!("qemu.nics {} is out of range (1 to 8)", q.nics));
            }
            if q.console_serial > 3 {
                return Err(format!(
                    "qemu.console_serial {} is out of range (0 to 3)",
                    q.console_serial
                ));
            }
        }
        let disk_packages = self.disk.iter().flat_map(|d| &d.packages);
        for p in self.packages.iter().chain(disk_packages) {
            if !package_name(p) {
                return Err(format!("package {p:?} is not a Debian package name"));
            }
        }
        for s in &self.services {
            if s.name.is_empty() || s.name.contains('/') || s.name.starts_with('.') {
                return Err(format!("service name {:?} is not a directory name", s.name));
            }
        }
        for f in &self.files {
            if !f.path.starts_with('/') {
                return Err(format!("file path {:?} must be absolute", f.path));
            }
            if f.content.is_some() == f.source.is_some() {
                return Err(format!(
                    "file {}: give exactly one of `content` and `source`",
                    f.path
                ));
            }
        }
        Ok(())
    }
}

/// A Debian package name (policy 5.6.7: lower case letters, digits, `+`,
/// `-`, `.`, at least two characters, starting with a letter or digit),
/// optionally `:ARCH`: never anything apt would read as an option.
fn package_name(p: &str) -> bool {
    let (name, arch) = match p.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (p, None),
    };
    let ok_name = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let ok_arch = arch.is_none_or(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    ok_name && ok_arch
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
target = "x86_64-unknown-linux-musl"
hostname = "h"
[kernel]
arch = "amd64"
debian_package = "linux-image-amd64"
[console]
tty = "ttyS0"
baud = 115200
"#;

    #[test]
    fn minimal_board_parses() {
        let b = Board::parse(MINIMAL, "t.toml").unwrap();
        assert_eq!(b.console.tty, "ttyS0");
        assert!(b.services.is_empty());
    }

    #[test]
    fn unknown_key_is_named() {
        let e = Board::parse(&format!("{MINIMAL}colour = \"red\"\n"), "t.toml").unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = Board::parse(
            &MINIMAL.replace("baud = 115200", "baud = 115200\nparity = 1"),
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("parity"), "{e}");
    }

    #[test]
    fn missing_field_is_named() {
        let e = Board::parse(&MINIMAL.replace("hostname = \"h\"\n", ""), "t.toml").unwrap_err();
        assert!(e.contains("hostname"), "{e}");
        let qemu = "[qemu]\nbinary = \"q\"\nmemory_mb = 64\nnic = \"e1000\"\n";
        let no_kernel = MINIMAL.replace("debian_package = \"linux-image-amd64\"\n", "");
        let e = Board::parse(&format!("{no_kernel}{qemu}"), "t.toml").unwrap_err();
        assert!(e.contains("debian_package"), "{e}");
        // a board whose firmware brings the kernel needs none
        Board::parse(&no_kernel, "t.toml").unwrap();
    }

    #[test]
    fn packages_are_listed_at_the_top_and_for_the_disk() {
        let b = Board::parse(
            &format!("packages = [\"dropbear-bin\", \"nftables\"]\n{MINIMAL}[disk]\npackages = [\"e2fsprogs\"]\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(b.packages, ["dropbear-bin", "nftables"]);
        assert_eq!(b.disk.unwrap().packages, ["e2fsprogs"]);
        for bad in ["-o", "Foo", "a", "x y", "libc6:", "lib/c"] {
            let e =
                Board::parse(&format!("packages = [{bad:?}]\n{MINIMAL}"), "t.toml").unwrap_err();
            assert!(e.contains("not a Debian package name"), "{bad}: {e}");
        }
        Board::parse(
            &format!("packages = [\"libstdc++6:arm64\", \"g++\"]\n{MINIMAL}"),
            "t.toml",
        )
        .unwrap();
    }

    #[test]
    fn sdcard_and_sd_boot_are_checked() {
        let sd = "[disk]\n[disk.sdcard]\nuboot = \"rpi_3\"\ndtb = \"bcm2837-rpi-3-b.dtb\"\n";
        let qemu = "[qemu]\nbinary = \"q\"\nmemory_mb = 1024\nnic = \"usb-net\"\nboot = \"sd\"\nconsole_serial = 1\n";
        let b = Board::parse(&format!("{MINIMAL}{qemu}{sd}"), "t.toml").unwrap();
        let card = b.disk.unwrap().sdcard.unwrap();
        assert_eq!((card.uboot.as_str(), card.boot_mib), ("rpi_3", 64));
        assert_eq!(b.qemu.unwrap().console_serial, 1);
        let e = Board::parse(&format!("{MINIMAL}{qemu}"), "t.toml").unwrap_err();
        assert!(e.contains("[disk.sdcard]"), "{e}");
        let e = Board::parse(
            &format!("{MINIMAL}{}", qemu.replace("\"sd\"", "\"floppy\"")),
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("floppy"), "{e}");
        let e = Board::parse(&format!("{MINIMAL}{sd}boot_mib = 8\n"), "t.toml").unwrap_err();
        assert!(e.contains("boot_mib"), "{e}");
        let e = Board::parse(
            &format!("{MINIMAL}{}", sd.replace("bcm2837", "../x")),
            "t.toml",
        )
        .unwrap_err();
        assert!(e.contains("dtb"), "{e}");
    }
}
