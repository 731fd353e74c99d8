//! Debian packages in the image (issue 14). A board lists `packages`
//! (into the initramfs and the disk's root) and `[disk] packages` (the
//! disk's root only). For the board's Debian architecture the tool:
//!
//! 1. resolves the `Depends`/`Pre-Depends` closure through `apt-cache
//!    depends` (no Recommends or Suggests; of alternatives `a | b` the one
//!    already chosen, else the first that exists; a virtual package by the
//!    provider already chosen, else its first provider);
//! 2. fetches each package with `apt-get download` and `dpkg-deb -x` into
//!    the cache (nothing is installed on the build machine, and no
//!    maintainer script runs: a package that needs one is configured by the
//!    board's files or by a ferrite template);
//! 3. copies the requested packages' files, less documentation, manual
//!    pages, translations and systemd/udev units, and from the packages
//!    they depend on only the shared libraries the image's programs load:
//!    the `DT_NEEDED` closure and each program's interpreter, symbolic
//!    links kept (`libfoo.so.1 -> libfoo.so.1.2.3`);
//! 4. checks every ELF file of the image: each `DT_NEEDED` library is found
//!    where the dynamic loader looks without a cache (`DT_RPATH`/`DT_RUNPATH`,
//!    then `/lib/TRIPLET`, `/usr/lib/TRIPLET`, `/lib`, `/usr/lib`), built for
//!    the same machine, and so is its `PT_INTERP`; otherwise the build fails
//!    naming each file and what it misses.
//!
//! Paths stay where the package puts them: Debian 12's packages are not
//! merged inside (libc6 ships `/lib/x86_64-linux-gnu` and the link
//! `/lib64/ld-linux-x86-64.so.2`, most libraries are under `/usr/lib`), and
//! links are followed inside the image, never on the build machine.

use crate::fetch;
use crate::image::{Node, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Debian's multiarch triplet of an architecture (`/lib/TRIPLET`).
pub fn triplet(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "amd64" => "x86_64-linux-gnu",
        "arm64" => "aarch64-linux-gnu",
        "armhf" => "arm-linux-gnueabihf",
        "armel" => "arm-linux-gnueabi",
        "i386" => "i386-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        "ppc64el" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "mips64el" => "mips64el-linux-gnuabi64",
        "mipsel" => "mipsel-linux-gnu",
        _ => return None,
    })
}

// ---- the dependency closure (pure) ---------------------------------------

/// One alternative of a dependency: a package, or a virtual one (`<name>`)
/// with the packages that provide it (as `apt-cache depends` lists them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alt {
    pub name: String,
    pub virtual_: bool,
    pub providers: Vec<String>,
}

/// What `apt-cache depends` says of one package.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// `<name>`: no package of that name for the architecture
    pub virtual_: bool,
    /// each `Depends`/`PreDepends`: its alternatives (`a | b`), in order
    pub depends: Vec<Vec<Alt>>,
}

/// A package name without its `:arch` qualification.
pub fn base(spec: &str) -> &str {
    spec.split(':').next().unwrap_or(spec)
}

/// Parse `apt-cache depends` output: each package by its base name.
/// Lines other than Depends and PreDepends (Conflicts, Breaks, ...) are
/// skipped; junk is ignored.
pub fn parse_depends(text: &str) -> BTreeMap<String, Entry> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    let mut current: Option<String> = None;
    // the open group of alternatives, and whether its last line had `|`
    let mut or_next = false;
    // where a provider line (4 spaces) goes: the last alternative, if a dependency
    let mut in_dep = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            let virtual_ = name.starts_with('<');
            let name = name.trim_matches(|c| c == '<' || c == '>');
            let key = base(name).to_string();
            out.entry(key.clone()).or_default().virtual_ = virtual_;
            current = Some(key);
            or_next = false;
            in_dep = false;
            continue;
        }
        let Some(cur) = &current else { continue };
        let Some(entry) = out.get_mut(cur) else {
            continue;
        };
        if line.starts_with("    ") {
            if in_dep {
                if let Some(alt) = entry.depends.last_mut().and_then(|g| g.last_mut()) {
                    alt.providers.push(line.trim().to_string());
                }
            }
            continue;
        }
        let t = line.trim_start();
        let (or, t) = match t.strip_prefix('|') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let Some((kind, what)) = t.split_once(':') else {
            in_dep = false;
            continue;
        };
        if kind != "Depends" && kind != "PreDepends" {
            in_dep = false;
            continue;
        }
        let what = what.trim();
        let alt = Alt {
            virtual_: what.starts_with('<'),
            name: what.trim_matches(|c| c == '<' || c == '>').to_string(),
            providers: Vec::new(),
        };
        match entry.depends.last_mut() {
            Some(group) if or_next => group.push(alt),
            _ => entry.depends.push(vec![alt]),
        }
        or_next = or;
        in_dep = true;
    }
    out
}

/// Whether an apt name suits `arch`: unqualified (the native or an `all`
/// package) or qualified with `arch`.
fn suits(spec: &str, arch: &str) -> bool {
    match spec.split_once(':') {
        None => true,
        Some((_, a)) => a == arch || a == "any",
    }
}

/// The apt names that satisfy one alternative, best first.
fn candidates(alt: &Alt, arch: &str) -> Vec<String> {
    let own = format!("{}:{arch}", base(&alt.name));
    if alt.virtual_ {
        let mut c: Vec<String> = alt
            .providers
            .iter()
            .filter(|p| suits(p, arch))
            .cloned()
            .collect();
        // providers of the board's architecture first
        c.sort_by_key(|p| !p.ends_with(&format!(":{arch}")));
        c
    } else if alt.providers.contains(&own) {
        // Multi-Arch: foreign: the board's build of it, not the host's
        vec![own]
    } else {
        vec![alt.name.clone()]
    }
}

/// Asks apt about some packages (apt names): the `apt-cache depends` text.
pub type Query<'a> = &'a mut dyn FnMut(&[String]) -> Result<String, String>;

/// The closure of `requested` for `arch`: every package to fetch, as
/// `(base name, apt name)`, the requested ones first. A package that does
/// not exist, or a dependency nothing satisfies, is an error naming it.
pub fn closure(
    requested: &[String],
    arch: &str,
    query: Query,
) -> Result<Vec<(String, String)>, String> {
    let mut chosen: Vec<(String, String)> = Vec::new();
    let mut queued: BTreeSet<String> = BTreeSet::new();
    // (apt name, who wanted it; None for the board, and whether it is a retry)
    let mut frontier: Vec<(String, Option<String>, bool)> = Vec::new();
    for r in requested {
        let b = base(r).to_string();
        if queued.insert(b) {
            let spec = if r.contains(':') {
                r.clone()
            } else {
                format!("{r}:{arch}")
            };
            frontier.push((spec, None, false));
        }
    }
    // a dependency chain deeper than this is not a Debian system
    for _round in 0..64 {
        if frontier.is_empty() {
            return Ok(chosen);
        }
        let specs: Vec<String> = frontier.iter().map(|f| f.0.clone()).collect();
        let answer = parse_depends(&query(&specs)?);
        let mut next = Vec::new();
        for (spec, wanted_by, retried) in std::mem::take(&mut frontier) {
            let b = base(&spec).to_string();
            let entry = answer.get(&b).filter(|e| !e.virtual_);
            let Some(entry) = entry else {
                // `name:arch` of an `all` package on a foreign board: plain `name`
                if spec.contains(':') && !retried {
                    next.push((b, wanted_by, true));
                    continue;
                }
                return Err(match wanted_by {
                    None => format!("package {b}: no such Debian package for {arch}"),
                    Some(w) => format!("package {w} needs {b}: no such Debian package for {arch}"),
                });
            };
            chosen.push((b.clone(), spec.clone()));
            for group in &entry.depends {
                let all: Vec<String> = group.iter().flat_map(|a| candidates(a, arch)).collect();
                if all.iter().any(|c| queued.contains(base(c))) {
                    continue;
                }
                let Some(pick) = all.first() else {
                    let names: Vec<&str> = group.iter().map(|a| a.name.as_str()).collect();
                    return Err(format!(
                        "package {b} depends on {}: nothing provides it for {arch}",
                        names.join(" | ")
                    ));
                };
                queued.insert(base(pick).to_string());
                next.push((pick.clone(), Some(b.clone()), false));
            }
        }
        frontier = next;
    }
    Err("packages: the dependency chain is deeper than 64".into())
}

// ---- paths inside the image ------------------------------------------------

/// `a/b/../c` as `a/c`, without a leading `/`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Where a link at `at` pointing to `target` leads (an image path).
fn link_target(at: &str, target: &str) -> String {
    if target.starts_with('/') {
        normalize(target)
    } else {
        let dir = at.rsplit_once('/').map_or("", |d| d.0);
        normalize(&format!("{dir}/{target}"))
    }
}

/// Follow links in `path` inside the tree: the real path and its node.
/// `None` when some part does not exist (or links loop).
pub fn resolve<'a>(tree: &'a Tree, path: &str) -> Option<(String, &'a Node)> {
    let mut todo: Vec<String> = normalize(path).split('/').rev().map(String::from).collect();
    let mut done = String::new();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        let at = if done.is_empty() {
            part.clone()
        } else {
            format!("{done}/{part}")
        };
        match tree.nodes.get(&at)? {
            Node::Link(t) => {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let to = link_target(&at, t);
                done.clear();
                for p in to.split('/').rev().filter(|p| !p.is_empty()) {
                    todo.push(p.to_string());
                }
            }
            _ => done = at,
        }
    }
    let node = tree.nodes.get(&done)?;
    Some((done, node))
}

/// The directory `dir` resolved inside the tree (links followed), or `dir`
/// itself where it does not exist yet.
fn real_dir(tree: &Tree, dir: &str) -> String {
    match resolve(tree, dir) {
        Some((p, Node::Dir(_))) => p,
        _ => normalize(dir),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

// ---- what the loader needs (pure over the tree) -----------------------------

/// Where the loader looks for the libraries of the object at `path`.
fn search_dirs(path: &str, d: &common::elf::Dynamic, triplet: Option<&str>) -> Vec<String> {
    let origin = path.rsplit_once('/').map_or("", |p| p.0);
    let own = if d.runpath.is_empty() {
        &d.rpath
    } else {
        &d.runpath
    };
    let mut dirs: Vec<String> = own
        .iter()
        .map(|p| {
            normalize(
                &p.replace("${ORIGIN}", &format!("/{origin}"))
                    .replace("$ORIGIN", &format!("/{origin}")),
            )
        })
        .collect();
    if let Some(t) = triplet {
        dirs.push(format!("lib/{t}"));
        dirs.push(format!("usr/lib/{t}"));
    }
    dirs.push("lib".into());
    dirs.push("usr/lib".into());
    dirs
}

/// The ELF file at `path` in the tree (links followed), if it is one.
fn elf_at<'a>(tree: &'a Tree, path: &str) -> Option<(String, &'a [u8], common::elf::Header)> {
    match resolve(tree, path)? {
        (real, Node::File(_, data)) => Some((real, data, common::elf::header(data)?)),
        _ => None,
    }
}

/// Where `name` (a `DT_NEEDED` entry) is found for an object with header
/// `want`: the first compatible file in `dirs`.
fn find_library(
    tree: &Tree,
    name: &str,
    dirs: &[String],
    want: &common::elf::Header,
) -> Option<String> {
    if name.contains('/') {
        return elf_at(tree, name)
            .filter(|e| e.2.compatible(want))
            .map(|e| e.0);
    }
    dirs.iter().find_map(|d| {
        elf_at(tree, &join(d, name))
            .filter(|e| e.2.compatible(want))
            .map(|e| e.0)
    })
}

/// The programs and libraries of the tree: `(path, header, dynamic part)`
/// of every executable or shared object.
fn objects(tree: &Tree) -> Vec<(String, common::elf::Header, common::elf::Dynamic)> {
    use common::elf::{ET_DYN, ET_EXEC};
    tree.nodes
        .iter()
        .filter_map(|(path, node)| {
            let Node::File(_, data) = node else {
                return None;
            };
            let h = common::elf::header(data)?;
            if h.kind != ET_EXEC && h.kind != ET_DYN {
                return None;
            }
            Some((path.clone(), h, common::elf::dynamic(data)?))
        })
        .collect()
}

/// What the image's programs miss: one line per file, naming what is not
/// there (empty when every program can be loaded). `arch` gives the
/// multiarch directories.
pub fn missing(tree: &Tree, arch: &str) -> Vec<String> {
    let triplet = triplet(arch);
    let mut out = Vec::new();
    for (path, h, d) in objects(tree) {
        let mut lacks = Vec::new();
        if let Some(interp) = &d.interp {
            match elf_at(tree, interp) {
                Some(e) if e.2.compatible(&h) => {}
                Some(_) => lacks.push(format!(
                    "its interpreter {interp} is built for another machine"
                )),
                None => lacks.push(format!("its interpreter {interp}")),
            }
        }
        let dirs = search_dirs(&path, &d, triplet);
        for n in &d.needed {
            if find_library(tree, n, &dirs, &h).is_none() {
                lacks.push(n.clone());
            }
        }
        if !lacks.is_empty() {
            let dirs: Vec<String> = dirs.iter().map(|d| format!("/{d}")).collect();
            out.push(format!(
                "/{path} needs {}, not in the image (looked in {})",
                lacks.join(", "),
                dirs.join(" ")
            ));
        }
    }
    out
}

/// Scripts whose `#!` interpreter is not in the image, by interpreter (a
/// warning, not an error: a package may carry a script nobody runs on the
/// box, as e2fsprogs' bash `e2scrub`).
pub fn scripts_without_interpreter(tree: &Tree) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, node) in &tree.nodes {
        let Node::File(perm, data) = node else {
            continue;
        };
        if perm & 0o111 == 0 || !data.starts_with(b"#!") {
            continue;
        }
        let line = data[2..].split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let Some(interp) = line.split_whitespace().next() else {
            continue;
        };
        if !matches!(resolve(tree, interp), Some((_, Node::File(..)))) {
            out.entry(interp.to_string())
                .or_default()
                .push(format!("/{path}"));
        }
    }
    out
}

/// Fail naming every program that cannot be loaded; warn about scripts
/// whose interpreter is missing. `what` names the image in the messages.
pub fn check(tree: &Tree, arch: &str, what: &str) -> Result<(), String> {
    for (interp, scripts) in scripts_without_interpreter(tree) {
        eprintln!(
            "ferrite-rootfs: warning: {what}: no {interp}, so {} cannot run: {}",
            if scripts.len() == 1 {
                "this script"
            } else {
                "these scripts"
            },
            scripts.join(" ")
        );
    }
    let m = missing(tree, arch);
    if m.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} program(s) cannot be loaded:\n  {}",
            m.len(),
            m.join("\n  ")
        ))
    }
}

// ---- copying into the tree -------------------------------------------------

/// Paths of a requested package that are not copied: documentation, manual
/// pages, translations, bug-report hooks, and units for systemd and udev,
/// which do not run here.
const LEFT_OUT: &[&str] = &[
    "usr/share/doc",
    "usr/share/doc-base",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/bug",
    "lib/systemd",
    "usr/lib/systemd",
    "lib/udev",
    "usr/lib/udev",
];

fn left_out(path: &str) -> bool {
    LEFT_OUT
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// Whether the tree's node at `path` is ferrite's (the binary or a link to it).
fn is_ferrite(node: &Node) -> bool {
    match node {
        Node::Link(t) => t == "ferrite" || t.ends_with("/ferrite"),
        _ => false,
    }
}

/// What one package's file does to the tree at `path`.
enum Put {
    Dir(u32),
    File(u32, Vec<u8>),
    Link(String),
}

/// Put a package's entry into the tree: a BusyBox link gives way to the
/// real program (returned as true), ferrite's files never do (an error), a
/// file already there (from the board or an earlier package) stays.
fn put(tree: &mut Tree, pkg: &str, path: &str, what: Put) -> Result<bool, String> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let real = join(&real_dir(tree, dir), name);
    let mut replaced_busybox = false;
    match tree.nodes.get(&real) {
        None => {}
        Some(Node::Dir(_)) if matches!(what, Put::Dir(_)) => return Ok(false),
        Some(n) if real == "bin/ferrite" || is_ferrite(n) => {
            return Err(format!("package {pkg}: /{path} is ferrite's own"));
        }
        Some(Node::Link(t)) if t.ends_with("busybox") && !matches!(what, Put::Dir(_)) => {
            replaced_busybox = true;
        }
        Some(_) => return Ok(false),
    }
    match what {
        Put::Dir(perm) => tree.dir(&real, perm),
        Put::File(perm, data) => tree.file(&real, perm, data),
        Put::Link(t) => tree.link(&real, &t),
    }
    Ok(replaced_busybox)
}

/// Copy every file of a requested package (less `LEFT_OUT`); returns the
/// image paths that replaced a BusyBox applet.
fn copy_package(tree: &mut Tree, pkg: &str, root: &Path) -> Result<Vec<String>, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut replaced = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries.into_iter().rev() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = join(&rel, &name);
            if left_out(&path) {
                continue;
            }
            let meta = fs::symlink_metadata(e.path())
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
            let what = if meta.file_type().is_symlink() {
                let t = fs::read_link(e.path()).map_err(|err| err.to_string())?;
                Put::Link(t.to_string_lossy().into_owned())
            } else if meta.is_dir() {
                stack.push(path.clone());
                Put::Dir(meta.permissions().mode() & 0o7777)
            } else if meta.is_file() {
                let data =
                    fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
                Put::File(meta.permissions().mode() & 0o7777, data)
            } else {
                continue;
            };
            if put(tree, pkg, &path, what)? {
                replaced.push(path);
            }
        }
    }
    Ok(replaced)
}

/// An unpacked package's entry at image path `path`, read without following
/// links out of the package (`lib64/ld-linux-x86-64.so.2` is an absolute
/// link into `/lib`, which on the build machine is the host's).
fn entry_in(root: &Path, path: &str) -> Option<Put> {
    use std::os::unix::fs::PermissionsExt;
    // no part on the way may be a link
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for p in &parts[..parts.len().saturating_sub(1)] {
        at.push(p);
        if !fs::symlink_metadata(&at).ok()?.is_dir() {
            return None;
        }
    }
    at.push(parts.last()?);
    let meta = fs::symlink_metadata(&at).ok()?;
    if meta.file_type().is_symlink() {
        Some(Put::Link(
            fs::read_link(&at).ok()?.to_string_lossy().into_owned(),
        ))
    } else if meta.is_file() {
        Some(Put::File(
            meta.permissions().mode() & 0o7777,
            fs::read(&at).ok()?,
        ))
    } else {
        None
    }
}

/// Bring `path` from the first package that has it, following its links
/// (each link and its target come along); true when something came.
fn bring(tree: &mut Tree, roots: &[(String, PathBuf)], path: &str) -> Result<bool, String> {
    let mut path = normalize(path);
    let mut brought = false;
    for _hop in 0..40 {
        if resolve(tree, &path).is_some() {
            return Ok(true);
        }
        let Some((pkg, put_what)) = roots
            .iter()
            .find_map(|(pkg, root)| Some((pkg, entry_in(root, &path)?)))
        else {
            return Ok(brought);
        };
        let next = match &put_what {
            Put::Link(t) => Some(link_target(&path, t)),
            _ => None,
        };
        put(tree, pkg, &path, put_what)?;
        brought = true;
        match next {
            Some(n) => path = n,
            None => return Ok(true),
        }
    }
    Ok(brought)
}

/// From the dependency packages (`roots`), bring every library and
/// interpreter the tree's programs need, and what those need in turn.
fn bring_libraries(tree: &mut Tree, roots: &[(String, PathBuf)], arch: &str) -> Result<(), String> {
    let triplet = triplet(arch);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    loop {
        let todo: Vec<_> = objects(tree)
            .into_iter()
            .filter(|o| !seen.contains(&o.0))
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        for (path, h, d) in todo {
            seen.insert(path.clone());
            if let Some(interp) = &d.interp {
                if elf_at(tree, interp).is_none() {
                    bring(tree, roots, interp)?;
                }
            }
            let dirs = search_dirs(&path, &d, triplet);
            for n in &d.needed {
                if find_library(tree, n, &dirs, &h).is_some() {
                    continue;
                }
                for dir in &dirs {
                    if bring(tree, roots, &join(dir, n))?
                        && find_library(tree, n, &dirs, &h).is_some()
                    {
                        break;
                    }
                }
            }
        }
    }
}

/// Append an alias per program that replaced a BusyBox applet to
/// `/etc/profile` (Debian's BusyBox ash runs its own applet for a bare
/// command name before it looks at PATH).
fn alias_over_busybox(tree: &mut Tree, replaced: &[String]) {
    let Some(Node::File(perm, text)) = tree.nodes.get("etc/profile").cloned() else {
        return;
    };
    let mut text = text;
    for p in replaced {
        let in_path = ["bin/", "sbin/", "usr/bin/", "usr/sbin/"]
            .iter()
            .any(|d| p.strip_prefix(d).is_some_and(|n| !n.contains('/')));
        if let (true, Some(name)) = (in_path, p.rsplit('/').next()) {
            text.extend_from_slice(format!("alias {name}=/{p}\n").as_bytes());
        }
    }
    tree.file("etc/profile", perm, text);
}

/// The packages of one closure, fetched: `(base name, unpacked root)`.
fn fetch_all(
    cache: &Path,
    arch: &str,
    list: &[(String, String)],
) -> Result<Vec<(String, PathBuf)>, String> {
    list.iter()
        .map(|(b, spec)| Ok((b.clone(), fetch::package_spec(cache, arch, b, spec)?)))
        .collect()
}

/// `apt-cache depends` of some packages.
fn apt_depends(specs: &[String]) -> Result<String, String> {
    let out = std::process::Command::new("apt-cache")
        .args([
            "depends",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
        ])
        .args(specs)
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "apt-cache depends {}: {}\n{}\nhint: run `apt-get update` (for a foreign architecture first `dpkg --add-architecture ARCH`)",
            specs.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Put `requested` Debian packages of `arch` into `tree` (see the module's
/// text), with what their programs load from the packages they depend on.
/// Nothing to do for an empty list.
pub fn install(
    tree: &mut Tree,
    requested: &[String],
    arch: &str,
    cache: &Path,
) -> Result<(), String> {
    if requested.is_empty() {
        return Ok(());
    }
    if triplet(arch).is_none() {
        return Err(format!(
            "packages: do not know the library directories of Debian architecture {arch}"
        ));
    }
    let list = closure(requested, arch, &mut apt_depends)?;
    let roots = fetch_all(cache, arch, &list)?;
    let wanted: BTreeSet<&str> = requested.iter().map(|r| base(r)).collect();
    let mut replaced = Vec::new();
    for (b, root) in roots.iter().filter(|r| wanted.contains(r.0.as_str())) {
        replaced.extend(copy_package(tree, b, root)?);
    }
    alias_over_busybox(tree, &replaced);
    bring_libraries(tree, &roots, arch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::elf::build::dynamic_object;

    const APT: &str = "\
dropbear-bin
  Depends: libc6
  Depends: libcrypt1
  Depends: zlib1g
nftables
  Depends: libnftables1
  PreDepends: libc6
 |Depends: libedit2
  Depends: libreadline8
  Depends: <awk>
    mawk
    gawk
  Breaks: oldthing
  Suggests: firewalld
libc6
  Depends: libgcc-s1
libcrypt1
  Depends: libc6
zlib1g
  Depends: libc6
libnftables1
  Depends: libc6
libedit2
  Depends: libc6
libgcc-s1
  Depends: gcc-12-base
  Depends: libc6
gcc-12-base
mawk
  Depends: libc6
";

    /// A query that answers from `APT` (blocks of the names asked for) and
    /// records what it was asked.
    fn from<'a>(
        text: &'static str,
        asked: &'a mut Vec<String>,
    ) -> impl FnMut(&[String]) -> Result<String, String> + 'a {
        move |specs: &[String]| {
            asked.extend(specs.iter().cloned());
            let blocks = text
                .split_inclusive('\n')
                .fold(Vec::<String>::new(), |mut v, l| {
                    if !l.starts_with(' ') {
                        v.push(String::new());
                    }
                    if let Some(last) = v.last_mut() {
                        last.push_str(l);
                    }
                    v
                });
            Ok(blocks
                .into_iter()
                .filter(|b| {
                    specs.iter().any(|s| {
                        base(
                            b.lines()
                                .next()
                                .unwrap_or("")
                                .trim_matches(|c| c == '<' || c == '>'),
                        ) == base(s)
                    })
                })
                .collect())
        }
    }

    #[test]
    fn depends_are_parsed_with_alternatives_and_virtual_packages() {
        let p = parse_depends(APT);
        let n = &p["nftables"];
        assert_eq!(n.depends.len(), 4, "{n:?}");
        assert_eq!(n.depends[1][0].name, "libc6", "PreDepends count");
        let or: Vec<&str> = n.depends[2].iter().map(|a| a.name.as_str()).collect();
        assert_eq!(or, ["libedit2", "libreadline8"]);
        assert!(n.depends[3][0].virtual_);
        assert_eq!(n.depends[3][0].providers, ["mawk", "gawk"]);
        assert!(p["gcc-12-base"].depends.is_empty());
        assert!(parse_depends("<debconf:arm64>\n")["debconf"].virtual_);
        // junk is no panic
        let _ = parse_depends("  Depends: x\n |\n    y\n:\n");
    }

    #[test]
    fn the_closure_takes_the_first_alternative_and_a_provider() {
        let mut asked = Vec::new();
        let got = closure(
            &["nftables".into(), "dropbear-bin".into()],
            "amd64",
            &mut from(APT, &mut asked),
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(&names[..2], ["nftables", "dropbear-bin"], "requested first");
        for want in [
            "libnftables1",
            "libc6",
            "libedit2",
            "mawk",
            "libcrypt1",
            "zlib1g",
            "libgcc-s1",
            "gcc-12-base",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        assert!(
            !names.contains(&"libreadline8"),
            "the second alternative is not taken"
        );
        assert!(
            !names.contains(&"gawk")
                && !names.contains(&"oldthing")
                && !names.contains(&"firewalld")
        );
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "each once: {names:?}");
        assert!(asked.contains(&"nftables:amd64".to_string()));
        assert_eq!(
            asked.iter().filter(|a| base(a) == "libc6").count(),
            1,
            "libc6 asked once"
        );
    }

    #[test]
    fn an_alternative_already_chosen_wins_and_missing_ones_are_named() {
        // libreadline8 is wanted by the board: nftables' `libedit2 | libreadline8` is satisfied
        let mut asked = Vec::new();
        let text = "nftables\n |Depends: libedit2\n  Depends: libreadline8\nlibreadline8\n";
        let got = closure(
            &["libreadline8".into(), "nftables".into()],
            "amd64",
            &mut from(text, &mut asked),
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(names, ["libreadline8", "nftables"]);
        let mut asked = Vec::new();
        let e = closure(
            &["nosuch".into()],
            "amd64",
            &mut from("<nosuch:amd64>\n", &mut asked),
        )
        .unwrap_err();
        assert!(
            e.contains("nosuch") && e.contains("no such Debian package"),
            "{e}"
        );
        assert_eq!(
            asked,
            ["nosuch:amd64", "nosuch"],
            "tried plain too (arch all)"
        );
        let mut asked = Vec::new();
        let e = closure(
            &["a".into()],
            "arm64",
            &mut from("a:arm64\n  Depends: <b:arm64>\n", &mut asked),
        )
        .unwrap_err();
        assert!(
            e.contains("a depends on b:arm64: nothing provides it for arm64"),
            "{e}"
        );
    }

    #[test]
    fn a_foreign_board_gets_its_own_build_of_multi_arch_foreign_packages() {
        let text = "adduser\n  Depends: passwd\n    passwd:arm64\nwpa:arm64\n  Depends: libc6:arm64\n  Depends: <adduser:arm64>\n    adduser\npasswd:arm64\nlibc6:arm64\n";
        let mut asked = Vec::new();
        let got = closure(&["wpa".into()], "arm64", &mut from(text, &mut asked)).unwrap();
        let specs: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(
            specs,
            ["wpa:arm64", "libc6:arm64", "adduser", "passwd:arm64"]
        );
    }

    fn x86(interp: Option<&str>, needed: &[&str]) -> Vec<u8> {
        dynamic_object(true, false, 62, interp, needed, None)
    }

    const LD: &str = "/lib64/ld-linux-x86-64.so.2";

    /// libc6 and a library package, unpacked as Debian 12 ships them.
    fn fake_packages(dir: &Path) -> Vec<(String, PathBuf)> {
        let w = |p: &str, data: &[u8]| {
            let p = dir.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, data).unwrap();
        };
        let l = |p: &str, t: &str| {
            let p = dir.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(t, p).unwrap();
        };
        w(
            "libc6/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            &x86(None, &[]),
        );
        w(
            "libc6/lib/x86_64-linux-gnu/libc.so.6",
            &x86(None, &["ld-linux-x86-64.so.2"]),
        );
        w(
            "libc6/lib/x86_64-linux-gnu/libm.so.6",
            &x86(None, &["libc.so.6"]),
        );
        w("libc6/usr/share/doc/libc6/copyright", b"text");
        l(
            "libc6/lib64/ld-linux-x86-64.so.2",
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        );
        w(
            "libfoo1/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3",
            &x86(None, &["libc.so.6"]),
        );
        l(
            "libfoo1/usr/lib/x86_64-linux-gnu/libfoo.so.1",
            "libfoo.so.1.2.3",
        );
        w(
            "libfoo1/usr/lib/x86_64-linux-gnu/foo-plugins/p.so",
            &x86(None, &["libc.so.6"]),
        );
        // an arm64 libbar in the way: never taken for an x86_64 program
        w(
            "libbar1/lib/libbar.so.1",
            &dynamic_object(true, false, 183, None, &[], None),
        );
        w(
            "prog/usr/sbin/prog",
            &x86(Some(LD), &["libfoo.so.1", "libc.so.6"]),
        );
        w("prog/usr/share/man/man8/prog.8.gz", b"man");
        w("prog/usr/share/prog/data", b"data");
        l("prog/usr/bin/mke2fs", "../sbin/prog");
        ["libc6", "libfoo1", "libbar1", "prog"]
            .iter()
            .map(|p| (p.to_string(), dir.join(p)))
            .collect()
    }

    #[test]
    fn only_the_requested_files_and_the_libraries_they_load_come_in() {
        let dir = common::fsutil::scratch_dir("pkg-only").unwrap();
        let roots = fake_packages(&dir);
        let mut t = Tree::default();
        t.file(
            "bin/ferrite",
            0o755,
            dynamic_object(true, false, 62, None, &[], None),
        );
        t.link("usr/bin/mke2fs", "/bin/busybox");
        t.file("etc/profile", 0o644, b"# profile\n".to_vec());
        let prog = &roots[3];
        let replaced = copy_package(&mut t, &prog.0, &prog.1).unwrap();
        assert_eq!(
            replaced,
            ["usr/bin/mke2fs"],
            "the package's program replaces BusyBox's"
        );
        alias_over_busybox(&mut t, &replaced);
        bring_libraries(&mut t, &roots, "amd64").unwrap();
        let paths: Vec<&str> = t.nodes.keys().map(|k| k.as_str()).collect();
        for want in [
            "usr/sbin/prog",
            "usr/share/prog/data",
            "usr/lib/x86_64-linux-gnu/libfoo.so.1",
            "usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3",
            "lib/x86_64-linux-gnu/libc.so.6",
            "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            "lib64/ld-linux-x86-64.so.2",
        ] {
            assert!(paths.contains(&want), "{want} missing: {paths:?}");
        }
        for not in [
            "lib/x86_64-linux-gnu/libm.so.6",
            "usr/lib/x86_64-linux-gnu/foo-plugins/p.so",
            "lib/libbar.so.1",
        ] {
            assert!(!paths.contains(&not), "{not} is not needed");
        }
        assert!(
            !paths
                .iter()
                .any(|p| p.contains("share/man") || p.contains("share/doc")),
            "{paths:?}"
        );
        assert_eq!(
            t.nodes["usr/lib/x86_64-linux-gnu/libfoo.so.1"],
            Node::Link("libfoo.so.1.2.3".into())
        );
        assert_eq!(
            t.nodes["lib64/ld-linux-x86-64.so.2"],
            Node::Link("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into())
        );
        let Node::File(_, profile) = &t.nodes["etc/profile"] else {
            panic!()
        };
        assert!(String::from_utf8_lossy(profile).contains("alias mke2fs=/usr/bin/mke2fs\n"));
        assert_eq!(missing(&t, "amd64"), Vec::<String>::new());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ferrites_own_files_are_never_replaced() {
        let dir = common::fsutil::scratch_dir("pkg-ferrite").unwrap();
        fs::create_dir_all(dir.join("init/sbin")).unwrap();
        fs::write(dir.join("init/sbin/init"), b"systemd").unwrap();
        let mut t = Tree::default();
        t.file("bin/ferrite", 0o755, Vec::new());
        t.link("sbin/init", "../bin/ferrite");
        let e = copy_package(&mut t, "init", &dir.join("init"))
            .err()
            .unwrap();
        assert_eq!(e, "package init: /sbin/init is ferrite's own");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_library_or_interpreter_is_named_with_the_file() {
        let mut t = Tree::default();
        t.file(
            "usr/sbin/dropbear",
            0o755,
            x86(Some(LD), &["libtomcrypt.so.1", "libc.so.6"]),
        );
        t.file("lib/x86_64-linux-gnu/libc.so.6", 0o644, x86(None, &[]));
        let m = missing(&t, "amd64");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("/usr/sbin/dropbear needs its interpreter /lib64/ld-linux-x86-64.so.2, libtomcrypt.so.1, not in the image (looked in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib)"),
            "{m:?}"
        );
        let e = check(&t, "amd64", "initramfs").unwrap_err();
        assert!(
            e.contains("initramfs: 1 program(s) cannot be loaded")
                && e.contains("libtomcrypt.so.1"),
            "{e}"
        );
        // there, through the usrmerge links a root may have, it is found
        t.file(
            "usr/lib/x86_64-linux-gnu/libtomcrypt.so.1",
            0o644,
            x86(None, &[]),
        );
        t.link("lib64", "usr/lib64");
        t.link(
            "usr/lib64/ld-linux-x86-64.so.2",
            "../lib/x86_64-linux-gnu/libtomcrypt.so.1",
        );
        assert_eq!(missing(&t, "amd64"), Vec::<String>::new());
        // a library for another machine does not count
        t.file(
            "lib/x86_64-linux-gnu/libc.so.6",
            0o644,
            dynamic_object(true, false, 183, None, &[], None),
        );
        let m = missing(&t, "amd64");
        assert!(m.len() == 1 && m[0].contains("needs libc.so.6,"), "{m:?}");
    }

    #[test]
    fn runpath_with_origin_is_searched_and_static_programs_need_nothing() {
        let mut t = Tree::default();
        t.file(
            "opt/app/bin/app",
            0o755,
            dynamic_object(
                true,
                false,
                62,
                None,
                &["libapp.so"],
                Some("$ORIGIN/../lib"),
            ),
        );
        t.file("opt/app/lib/libapp.so", 0o644, x86(None, &[]));
        t.file(
            "bin/busybox",
            0o755,
            dynamic_object(true, false, 62, None, &[], None),
        );
        t.file(
            "lib/modules/6.1/x.ko",
            0o644,
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x01\0>\0".to_vec(),
        );
        assert_eq!(missing(&t, "amd64"), Vec::<String>::new());
    }

    #[test]
    fn scripts_name_their_missing_interpreter() {
        let mut t = Tree::default();
        t.file("sbin/e2scrub", 0o755, b"#!/bin/bash\necho\n".to_vec());
        t.file("etc/x.sh", 0o644, b"#!/bin/nothing\n".to_vec());
        t.file("bin/busybox", 0o755, Vec::new());
        t.link("bin/sh", "/bin/busybox");
        t.file("sbin/ok", 0o755, b"#!/bin/sh -e\n".to_vec());
        let got = scripts_without_interpreter(&t);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got["/bin/bash"], ["/sbin/e2scrub"]);
    }

    #[test]
    fn links_resolve_inside_the_tree() {
        let mut t = Tree::default();
        t.link("lib", "usr/lib");
        t.file("usr/lib/a", 0o644, Vec::new());
        t.link("usr/lib/b", "../../lib/a");
        t.link("loop", "loop");
        assert_eq!(resolve(&t, "/lib/b").map(|r| r.0), Some("usr/lib/a".into()));
        assert_eq!(resolve(&t, "loop/x"), None);
        assert_eq!(real_dir(&t, "lib"), "usr/lib");
        assert!(
            left_out("usr/share/doc/x") && !left_out("usr/share/docs") && left_out("lib/systemd")
        );
    }
}
