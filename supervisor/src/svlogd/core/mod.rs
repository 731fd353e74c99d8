//! svlogd's pure part: no syscalls, no clock, no files. The shell reads the
//! clock once per turn of its loop and passes it in as [`Now`].

pub mod config;
pub mod lines;
pub mod pattern;
pub mod rotate;
pub mod router;
pub mod stamp;

use std::time::Duration;

/// The clock, as the shell read it for one turn of its loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Now {
    /// The monotonic clock: ages of `current` and deadlines.
    pub mono: Duration,
    /// Since the Unix epoch: line stamps and the names of rotated files.
    pub wall: Duration,
}
