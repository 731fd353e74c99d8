//! fw's pure part: the ipconf grammar, what the files ask for (`wanted`),
//! the TunnelVision screen (`shadow`), the difference to apply (`plan`),
//! the `/etc` templates (`etc`), the state file's text (`state`) and IPv6
//! (`v6`: addresses, delegated prefixes for the LANs, routes). No
//! syscall, no file, no clock: the shell reads and applies.

pub mod etc;
pub mod ipconf;
pub mod plan;
pub mod shadow;
pub mod state;
pub mod v6;
pub mod wanted;
