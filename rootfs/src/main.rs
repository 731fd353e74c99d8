//! Host tool: board config -> rootfs tree, initramfs (cpio newc), QEMU run.
//! Not built yet: see the issue "PID 1, serial getty, rootfs builder and a QEMU boot".

fn main() {
    eprintln!("ferrite-rootfs: not implemented yet");
    std::process::exit(100);
}
