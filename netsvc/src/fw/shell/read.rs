//! What fw reads: the ipconf files (`conf/` first, then the dynamic ones),
//! `conf/prefer`, the hostname, and which interfaces exist (each brought
//! up).

use super::super::cli::Options;
use super::super::core::ipconf::{self, IfConf};
use super::super::core::wanted;
use super::PROG;
use common::errtext::describe;
use common::iface::{index_of, set_up};
use common::out;
use std::path::{Path, PathBuf};

fn ipconf_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ipconf"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `conf/prefer` (see `wanted::parse_prefer`); none when it is missing.
pub fn prefer(path: &Path) -> Vec<String> {
    wanted::parse_prefer(&std::fs::read_to_string(path).unwrap_or_default())
}

/// Every ipconf file, `conf/` first; a bad one is reported and skipped
/// (false), the others still count.
pub fn confs(p: &Options) -> (Vec<IfConf>, bool) {
    let mut ok = true;
    let mut confs: Vec<IfConf> = Vec::new();
    let mut files = ipconf_files(&p.conf);
    for f in ipconf_files(&p.dynamic) {
        if !files
            .iter()
            .any(|g| g.file_name() == f.file_name() && p.conf == p.dynamic)
        {
            files.push(f);
        }
    }
    for f in &files {
        let dynamic = f.parent() == Some(p.dynamic.as_path());
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // too big, NUL bytes, not UTF-8, a directory, a symlink loop: named
        // and skipped like a file that does not parse (a BOM is stripped)
        let text = match common::fsutil::read_text_checked(f, ipconf::MAX_FILE) {
            Ok(t) => t.unwrap_or_default(),
            Err(why) => {
                out::err(&format!("{PROG}: {}: {why} (file skipped)\n", f.display()));
                ok = false;
                continue;
            }
        };
        if text.trim().is_empty() {
            out::err(&format!(
                "{PROG}: {}: empty: nothing configured from it\n",
                f.display()
            ));
        }
        let age = common::fsutil::age_secs(f);
        match ipconf::parse(&text, &f.display().to_string()) {
            Ok(c) => confs.extend(c.into_iter().map(|mut c| {
                if c.origin.is_none() {
                    c.origin = ipconf::default_origin(&name, dynamic).map(String::from);
                }
                c.age = age;
                c
            })),
            Err(e) => {
                out::err(&format!("{PROG}: {e} (file skipped)\n"));
                ok = false;
            }
        }
    }
    (confs, ok)
}

/// The entries whose interface exists, with its index, each interface
/// brought up; the others are named and skipped.
pub fn present(confs: Vec<IfConf>) -> Vec<(i32, IfConf)> {
    let mut present = Vec::new();
    for c in confs {
        let Some(index) = index_of(&c.interface) else {
            out::err(&format!(
                "{PROG}: interface {} does not exist (yet): skipped\n",
                c.interface
            ));
            continue;
        };
        if let Err(e) = set_up(&c.interface) {
            out::err(&format!(
                "{PROG}: cannot bring {} up: {}\n",
                c.interface,
                describe(&e)
            ));
        }
        present.push((index, c));
    }
    present
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
