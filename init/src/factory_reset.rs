//! `factory-reset`: the next boot of a disk image gives `/etc` back as the
//! image has it. It only leaves a mark on the data partition; early boot
//! (`early`) wipes the overlay's upper directory when it sees the mark, so
//! a power cut between the two changes nothing half-way.

use std::ffi::OsString;

/// Where early boot mounts the data partition, and the mark it looks for.
pub const DATA: &str = "/data";
pub const MARK: &str = "factory-reset";

const USAGE: &str = "usage: factory-reset\n\
  The next boot of the disk image discards every change made to /etc\n\
  (the overlay on the data partition) and starts from the image's files.\n\
  --help   this text\n";

pub fn main(args: &[OsString]) -> i32 {
    match common::argv::words(args).first().map(String::as_str) {
        None => {}
        Some("--help") => return common::getopt::help(USAGE),
        Some(w) => {
            common::out::err(&format!("factory-reset: unknown argument {w}\n{USAGE}"));
            return 100;
        }
    }
    if !crate::boot::is_mountpoint(DATA) {
        common::out::err("factory-reset: no data partition on /data: this box does not boot from a disk image, nothing to reset\n");
        return 111;
    }
    let mark = std::path::Path::new(DATA).join(MARK);
    match common::fsutil::atomic_write(&mark, b"requested\n", 0o600, true) {
        Ok(()) => {
            let _ =
                common::out::out("factory-reset: done at the next boot (reboot now to have it)\n");
            0
        }
        Err(e) => {
            common::out::err(&format!(
                "factory-reset: {}: {}\n",
                mark.display(),
                common::errtext::describe(&e)
            ));
            111
        }
    }
}
