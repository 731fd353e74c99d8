//! `svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] DIR...`: reads lines
//! on stdin and appends them to `DIR/current`, rotating by size and age,
//! with runit's `config` directives. It never drops a line it has read: on
//! a write error (full disk, unwritable directory) it stops reading, says so
//! once, retries every second and resumes by itself. Everything read is
//! written before it waits for more input.
//!
//! As `log/run` linked to ferrite (`svlogd --service`), it is the standard
//! per-service logger: `/var/log/service/NAME` for the service `NAME/log`.
//!
//! `cli` is the command line, `core` the pure part (config, patterns,
//! stamps, rotation policy, the line router), `shell` the log directories,
//! the service setup and the poll loop.

pub mod cli;
pub mod core;
pub mod shell;

use common::out;
use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    let mut words = common::argv::words(args);
    let service = cli::is_service(&words) || common::service::is_run_link(args);
    if service {
        match shell::setup::service(&words[words.len().min(1)..]) {
            Ok(w) => words = w,
            Err(e) => {
                out::fatal(shell::PROG, &e);
                return 111;
            }
        }
    }
    let mut opts = match cli::parse(&words) {
        Ok(cli::Command::Run(o)) => o,
        Ok(cli::Command::Help) => return common::getopt::help(cli::HELP),
        Err(e) => {
            out::err(&format!("{}: {e}\n{}", shell::PROG, cli::USAGE));
            return 111;
        }
    };
    opts.refuse_processor = service && shell::setup::is_root();
    shell::run(opts)
}
