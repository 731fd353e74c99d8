//! PID 1 (boot, supervise, shutdown stages), reboot/poweroff/halt and getty.
//! Not built yet: see the issue "PID 1, serial getty, rootfs builder and a
//! QEMU boot". The crate exists so the workspace shows the architecture.
