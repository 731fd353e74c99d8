//! PID 1 and the console: `init` (boot, supervise, shutdown stages),
//! `reboot`/`poweroff`/`halt`, and `getty`.

pub mod boot;
pub mod early;
pub mod factory_reset;
pub mod getty;
pub mod pid1;
pub mod reboot;
pub mod shutdown;
