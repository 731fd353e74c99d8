//! The supervision suite: runsvdir, runsv, sv/svc/svok and the chpst family,
//! byte-compatible with runit's `supervise/` protocol. Pure cores
//! (`service`, `status`, `scan`, `svargs`) are kept apart from the I/O shells.

pub mod chpst;
pub mod runsv;
pub mod runsvdir;
pub mod scan;
pub mod service;
pub mod status;
pub mod supervise_dir;
pub mod sv;
pub mod svargs;
pub mod svc;
pub mod svlogd;
