//! The image builder: a board config (TOML) becomes a root tree, an
//! initramfs (cpio newc, gzip), disk and SD-card images and a QEMU
//! command line.

pub mod board;
pub mod cpio;
pub mod disk;
pub mod fetch;
pub mod image;
pub mod packages;
pub mod qemu;
pub mod sdcard;
