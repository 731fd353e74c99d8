//! What an applet run as `SERVICE/run` (a link to ferrite) learns from its
//! service directory: its options from `./args`, its name from the directory.

use std::ffi::OsString;

/// The words of `./args` (none when there is no such file).
pub fn args_file() -> Vec<String> {
    std::fs::read_to_string("args")
        .map(|t| t.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The words after argv[0]; when there are none, those of `./args`.
pub fn words(args: &[OsString]) -> Vec<String> {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if words.is_empty() {
        args_file()
    } else {
        words
    }
}

/// Called as `SERVICE/run` with no arguments: a supervised service, which
/// must stay in the foreground whatever its options say.
pub fn is_run_link(args: &[OsString]) -> bool {
    args.len() == 1
        && std::path::Path::new(&args[0])
            .file_name()
            .is_some_and(|n| n == "run")
}

/// The name of the current directory: the service's name.
pub fn dir_name() -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}
