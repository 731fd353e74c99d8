//! runsv's pure part: the supervision machine of one service and the
//! records it publishes in `supervise/`.

pub mod readiness;
pub mod service;
pub mod status;
pub mod timeline;
