//! The QEMU command line for a board's image.

use crate::board::{Board, Qemu};
use std::path::Path;
use std::process::Command;

/// `qemu-system-* ... -kernel vmlinuz -initrd initramfs.cpio.gz`, serial
/// console on stdio, monitor on a unix socket, user-mode network on `n0`.
/// With `disk` (an image file, written to by the guest): the small
/// `initrd.cpio.gz`, the disk on virtio-blk and the command line of the
/// image's `cmdline` file. A board that boots from its SD card
/// (`boot = "sd"`) gets the card's U-Boot as `-kernel` and `disk` on
/// `-drive if=sd` instead; U-Boot reads the rest from the card. Without a
/// disk such a board boots the initramfs with its DTB (`-dtb`).
pub fn command(
    board: &Board,
    image_dir: &Path,
    monitor: &Path,
    no_reboot: bool,
    disk: Option<&Path>,
) -> Result<Command, String> {
    command_with(board, image_dir, monitor, no_reboot, disk, &[])
}

/// A QEMU user-network port forward (`hostfwd=`): `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`,
/// e.g. `tcp:127.0.0.1:2222-:22`. No comma: it would start another option.
pub fn check_hostfwd(rule: &str) -> Result<(), String> {
    let bad = || {
        format!("--hostfwd {rule:?}: want [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. tcp:127.0.0.1:2222-:22")
    };
    let (host, guest) = rule.split_once('-').ok_or_else(bad)?;
    let port = |s: &str| s.parse::<u16>().is_ok();
    let host_port = host.rsplit(':').next().unwrap_or("");
    let guest_port = guest.rsplit(':').next().unwrap_or("");
    let proto_ok =
        host.matches(':').count() < 2 || host.starts_with("tcp:") || host.starts_with("udp:");
    if rule.contains(',')
        || rule.contains(char::is_whitespace)
        || !port(host_port)
        || !port(guest_port)
        || !proto_ok
    {
        return Err(bad());
    }
    Ok(())
}

/// A tap interface name for `--tap`: what the kernel takes (1 to 15
/// bytes, no `/`, no white space) and no comma, which would start another
/// QEMU option.
pub fn check_tap(name: &str) -> Result<(), String> {
    let ok = (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--tap {name:?}: want an interface name of 1 to 15 letters, digits, -, _ or ."
        ))
    }
}

/// `command` with port forwards from the host into the guest's user
/// network (`hostfwd`, each checked by `check_hostfwd`).
pub fn command_with(
    board: &Board,
    image_dir: &Path,
    monitor: &Path,
    no_reboot: bool,
    disk: Option<&Path>,
    hostfwd: &[String],
) -> Result<Command, String> {
    command_with_taps(board, image_dir, monitor, no_reboot, disk, hostfwd, &[])
}

/// `command_with`, the board's NIC N (`[qemu] nics`, in order: eth0,
/// eth1, ...) on the existing tap device `taps[N]` instead of QEMU's user
/// network (no script: the caller made the tap and puts it where it
/// belongs, a bridge or a network namespace). NICs without a tap get a
/// user network of their own; port forwards go to the first NIC only, and
/// only when it is a user network.
pub fn command_with_taps(
    board: &Board,
    image_dir: &Path,
    monitor: &Path,
    no_reboot: bool,
    disk: Option<&Path>,
    hostfwd: &[String],
    taps: &[String],
) -> Result<Command, String> {
    for r in hostfwd {
        check_hostfwd(r)?;
    }
    for t in taps {
        check_tap(t)?;
    }
    let q = board.qemu.as_ref().ok_or_else(|| {
        format!(
            "board {} has no [qemu] section: it cannot be booted here",
            board.name
        )
    })?;
    let mut c = Command::new(&q.binary);
    if let Some(m) = &q.machine {
        c.args(["-M", m]);
    }
    if let Some(cpu) = &q.cpu {
        c.args(["-cpu", cpu]);
    }
    c.args([
        "-accel",
        "tcg",
        "-m",
        &q.memory_mb.to_string(),
        "-display",
        "none",
    ]);
    // the console is serial port N: the ports before it are not connected
    for _ in 0..q.console_serial {
        c.args(["-serial", "null"]);
    }
    c.args(["-serial", "stdio"]);
    c.arg("-monitor")
        .arg(format!("unix:{},server=on,wait=off", monitor.display()));
    let vmlinux = image_dir.join("vmlinux");
    let kernel = if q.pvh && vmlinux.exists() {
        vmlinux
    } else {
        image_dir.join("vmlinuz")
    };
    let sd_boot = q.boot.as_deref() == Some("sd");
    let card = board.disk.as_ref().and_then(|d| d.sdcard.as_ref());
    match disk {
        Some(d) if sd_boot => {
            c.arg("-kernel").arg(image_dir.join("u-boot.bin"));
            c.arg("-drive")
                .arg(format!("file={},if=sd,format=raw", d.display()));
        }
        None => {
            c.arg("-kernel").arg(kernel);
            c.arg("-initrd").arg(image_dir.join("initramfs.cpio.gz"));
            c.args([
                "-append",
                &format!("console={},{}", board.console.tty, board.console.baud),
            ]);
            if let Some(card) = card.filter(|_| sd_boot) {
                c.arg("-dtb").arg(image_dir.join(&card.dtb));
            }
        }
        Some(d) => {
            c.arg("-kernel").arg(kernel);
            let line = std::fs::read_to_string(image_dir.join("cmdline")).map_err(|e| {
                format!(
                    "{}/cmdline: {e} (a board with [disk] writes it)",
                    image_dir.display()
                )
            })?;
            c.arg("-initrd").arg(image_dir.join("initrd.cpio.gz"));
            c.args(["-append", line.trim()]);
            c.arg("-drive")
                .arg(format!("file={},if=virtio,format=raw", d.display()));
        }
    }
    let nics = q.nics.max(1);
    if taps.len() > nics as usize {
        return Err(format!(
            "{} --tap for a board with {nics} NIC(s) ([qemu] nics)",
            taps.len()
        ));
    }
    for n in 0..nics {
        let netdev = match taps.get(n as usize) {
            Some(tap) => format!("tap,id=n{n},ifname={tap},script=no,downscript=no"),
            None => {
                let mut user = format!("user,id=n{n}");
                for r in hostfwd.iter().filter(|_| n == 0) {
                    user.push_str(",hostfwd=");
                    user.push_str(r);
                }
                user
            }
        };
        c.args(["-netdev", &netdev]);
        // a hotplugged NIC (the first only) is added later by the monitor
        if n > 0 || !q.nic_hotplug {
            c.args(["-device", &nic_device(q, n)]);
        }
    }
    if no_reboot {
        c.arg("-no-reboot");
    }
    c.args(&q.extra_args);
    Ok(c)
}

/// NIC N on network `nN`, as `-device` or `device_add` takes it.
pub fn nic_device(q: &Qemu, n: u32) -> String {
    format!("{},netdev=n{n},id=nic{n}", q.nic)
}

/// The monitor command that plugs the NIC in, for a board with
/// `nic_hotplug` (after the guest's USB host is up: at its login prompt).
pub fn nic_hotplug_command(board: &Board) -> Option<String> {
    let q = board.qemu.as_ref()?;
    q.nic_hotplug
        .then(|| format!("device_add {}", nic_device(q, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forwards_are_checked_before_they_reach_qemu() {
        for ok in [
            "tcp:127.0.0.1:2222-:22",
            "tcp::2222-:22",
            ":2222-10.0.2.15:22",
            "udp:127.0.0.1:5353-:53",
        ] {
            check_hostfwd(ok).unwrap();
        }
        for bad in [
            "2222",
            "tcp:127.0.0.1:2222-:22,smb=/",
            "tcp::x-:22",
            "tcp::2222-:99999",
            "icmp:1.2.3.4:1-:2",
            "tcp::1 -:2",
        ] {
            assert!(check_hostfwd(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tap_names_are_checked_before_they_reach_qemu() {
        for ok in ["tap0", "rt-wan.1", "a_b"] {
            check_tap(ok).unwrap();
        }
        for bad in ["", "tap0,script=/x", "a/b", "tap 0", "x123456789012345"] {
            assert!(check_tap(bad).is_err(), "{bad}");
        }
    }
}
