//! The git revision for `ferrite --version`: `git rev-parse --short HEAD`
//! when the source is a git checkout and git is installed, else nothing
//! (a source tarball builds the same, only without the revision).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The git directory of the checkout at `root`: `.git` itself, or where a
/// worktree's `.git` file points.
fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot = root.join(".git");
    if dot.is_dir() {
        return Some(dot);
    }
    let text = std::fs::read_to_string(&dot).ok()?;
    let dir = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    Some(if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    })
}

/// Rebuild when `path` changes; only for files that exist (cargo reruns
/// a build script at every build for a missing one).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let Some(git) = git_dir(&root) else {
        return;
    };
    // HEAD moves on a checkout; the branch it names moves on a commit.
    watch(&git.join("HEAD"));
    let common = std::fs::read_to_string(git.join("commondir"))
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|_| git.clone());
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
        if let Some(r) = head.trim().strip_prefix("ref: ") {
            watch(&common.join(r));
            watch(&common.join("packed-refs"));
        }
    }
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()));
    if let Some(rev) = rev {
        println!("cargo:rustc-env=FERRITE_GIT_REV={rev}");
    }
}
