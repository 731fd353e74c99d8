//! The QEMU command line for a board's image.

use crate::board::Board;
use std::path::Path;
use std::process::Command;

/// `qemu-system-* ... -kernel vmlinuz -initrd initramfs.cpio.gz`, serial
/// console on stdio, monitor on a unix socket, user-mode network on `n0`.
/// With `disk` (an image file, written to by the guest): the small
/// `initrd.cpio.gz`, the disk on virtio-blk and the command line of the
/// image's `cmdline` file.
pub fn command(
    board: &Board,
    image_dir: &Path,
    monitor: &Path,
    no_reboot: bool,
    disk: Option<&Path>,
) -> Result<Command, String> {
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
        "-serial",
        "stdio",
    ]);
    c.arg("-monitor")
        .arg(format!("unix:{},server=on,wait=off", monitor.display()));
    let vmlinux = image_dir.join("vmlinux");
    let kernel = if q.pvh && vmlinux.exists() {
        vmlinux
    } else {
        image_dir.join("vmlinuz")
    };
    c.arg("-kernel").arg(kernel);
    match disk {
        None => {
            c.arg("-initrd").arg(image_dir.join("initramfs.cpio.gz"));
            c.args([
                "-append",
                &format!("console={},{}", board.console.tty, board.console.baud),
            ]);
        }
        Some(d) => {
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
    c.args([
        "-netdev",
        "user,id=n0",
        "-device",
        &format!("{},netdev=n0", q.nic),
    ]);
    if no_reboot {
        c.arg("-no-reboot");
    }
    c.args(&q.extra_args);
    Ok(c)
}
