//! PID 1 and the console: `init` (boot, supervise, shutdown stages),
//! `reboot`/`poweroff`/`halt`, `getty`, and `modprobe` (which the kernel
//! runs for the modules it asks for).

pub mod boot;
pub mod early;
pub mod factory_reset;
pub mod getty;
pub mod modprobe;
pub mod pid1;
pub mod reboot;
pub mod shutdown;
