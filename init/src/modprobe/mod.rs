//! `modprobe [-qnvabf] [-r] [-d DIR] [-S VERSION] [-C CONFIG] MODULE [PARAM=VALUE...]`:
//! kmod's command line where it matters to the kernel and to scripts. It
//! reads `/lib/modules/RELEASE/modules.dep`, `modules.alias`,
//! `modules.softdep` and `modules.builtin` (the text files the image tool
//! writes for the modules it ships, in depmod's formats) and the
//! `modprobe.d` configuration, finds a module by name (`-` and `_` alike)
//! or by alias (shell globs, as kmod's fnmatch), and loads what it needs,
//! its soft dependencies and the module with `finit_module(2)`. A module
//! loaded already or compiled in is success. The kernel runs it as
//! `/sbin/modprobe -q -- NAME` for its own requests (init writes that
//! path to `/proc/sys/kernel/modprobe`). `-r` removes a module and what it
//! needed when nothing else uses it.

pub mod cli;
pub mod core;
pub mod shell;

use std::ffi::OsString;

pub fn main(args: &[OsString]) -> i32 {
    shell::run(args)
}
