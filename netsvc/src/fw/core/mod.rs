//! fw's pure part: the ipconf grammar, what the files ask for (`wanted`),
//! the TunnelVision screen (`shadow`), the difference to apply (`plan`),
//! the `/etc` templates (`etc`) and the state file's text (`state`). No
//! syscall, no file, no clock: the shell reads and applies.

pub mod etc;
pub mod ipconf;
pub mod plan;
pub mod shadow;
pub mod state;
pub mod wanted;
