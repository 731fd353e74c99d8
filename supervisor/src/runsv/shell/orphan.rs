//! What a runsv killed with -9 left running. Its service (and logger) live
//! on; the `status` it left names the pid and, in ferrite's extension, that
//! process's start time (`core::status::left_running`). When both still
//! match a live process it is the previous instance, and it is ended (TERM
//! and CONT, KILL after `GRACE`) before ours starts, so there are never
//! two. A recycled pid has another start time and is left alone.

use super::supervise_dir::SuperviseDir;
use crate::runsv::core::status::left_running;
use common::out;
use common::procfs;
use rustix::process::{kill_process, Pid, Signal};
use std::path::Path;
use std::time::Duration;

/// How long a service left running by a killed runsv gets between TERM and KILL.
const GRACE: Duration = Duration::from_secs(5);

/// End what the previous runsv of `base` left running (call holding its
/// lock, before our `status` replaces the old one). `what` names it in the
/// message: "service" or "log service".
pub fn end_previous_instance(prog: &str, what: &str, base: &Path) {
    let Some(record) = SuperviseDir::previous_status(base) else {
        return;
    };
    let Some((pid, start_time)) = left_running(&record, procfs::boot_id()) else {
        return;
    };
    let gone = || procfs::start_time(pid) != Some(start_time);
    let Some(id) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    if gone() {
        return;
    }
    out::err(&format!(
        "{prog}: {what} pid {pid} was left running by a previous runsv: ending it\n"
    ));
    // Errors mean it is gone already.
    let _ = kill_process(id, Signal::TERM);
    let _ = kill_process(id, Signal::CONT);
    if !common::sig::wait_exit(id.as_raw_pid(), GRACE, gone) {
        let _ = kill_process(id, Signal::KILL);
        let _ = common::sig::wait_exit(id.as_raw_pid(), Duration::from_secs(2), gone);
    }
}
