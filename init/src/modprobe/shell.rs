//! modprobe's system side: the index files and configuration read, the
//! loaded modules from `/proc/modules`, `finit_module(2)` and
//! `delete_module(2)`, and kmod's messages (`modprobe: FATAL: ...`).

use super::cli::{self, Options, OPTIONS, USAGE_LINE};
use super::core::{join_options, loaded_modules, Index, Refusal, Step};
use std::collections::BTreeSet;
use std::ffi::{CString, OsString};
use std::io;
use std::path::{Path, PathBuf};

/// The largest index or configuration file read (Debian's whole
/// `modules.alias` is about 1.3 MB).
const MAX_FILE: u64 = 32 << 20;
/// `finit_module` flags (linux/module.h).
const MODULE_INIT_IGNORE_MODVERSIONS: i32 = 1;
const MODULE_INIT_IGNORE_VERMAGIC: i32 = 2;
const MODULE_INIT_COMPRESSED_FILE: i32 = 4;
/// Where modprobe.d files are read from, the first a name is found in
/// winning (as kmod: `/etc` over `/run` over `/lib`).
const CONFIG_DIRS: &[&str] = &[
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// Messages as kmod's: `modprobe: LEVEL: TEXT` on stderr, none with `-q`.
struct Say {
    quiet: bool,
}

impl Say {
    fn line(&self, level: &str, text: &str) {
        if !self.quiet {
            common::out::err(&format!("modprobe: {level}: {text}\n"));
        }
    }
    fn fatal(&self, text: &str) {
        self.line("FATAL", text);
    }
    fn error(&self, text: &str) {
        self.line("ERROR", text);
    }
    fn warn(&self, text: &str) {
        self.line("WARNING", text);
    }
}

/// What the kernel's strerror says, without std's "(os error N)".
fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s.get(..i).unwrap_or(&s).to_string(),
        None => s,
    }
}

pub fn run(args: &[OsString]) -> i32 {
    let o = match cli::parse(&common::argv::words(args)) {
        Ok(o) => o,
        Err(e) => {
            Say { quiet: false }.error(&e);
            return 1;
        }
    };
    if o.help {
        return common::getopt::help(&format!("{USAGE_LINE}{OPTIONS}"));
    }
    if o.version {
        common::out::out(&format!(
            "modprobe (ferrite {}), kmod's command line\n",
            env!("CARGO_PKG_VERSION")
        ));
        return 0;
    }
    // the kernel may start it with no descriptors open
    crate::pid1::shell::ensure_std_fds();
    let say = Say { quiet: o.quiet };
    let release = o
        .release
        .clone()
        .unwrap_or_else(crate::boot::kernel_release);
    let dir = PathBuf::from(format!(
        "{}/lib/modules/{release}",
        o.root.as_deref().unwrap_or("").trim_end_matches('/')
    ));
    let index = read_index(&dir, o.config.as_deref(), &say);
    let loaded = if o.show_depends {
        BTreeSet::new()
    } else {
        std::fs::read_to_string("/proc/modules")
            .map(|t| loaded_modules(&t))
            .unwrap_or_default()
    };
    let mut failed = false;
    for given in &o.modules {
        let ok = if o.remove {
            remove(&o, &index, given, &say)
        } else {
            insert(&o, &index, &dir, &loaded, given, &say)
        };
        failed |= !ok;
    }
    i32::from(failed)
}

/// Read a file of the index or the configuration; a missing one is empty,
/// one that cannot be read is said (it may be why a module is not found).
fn read(path: &Path, say: &Say) -> String {
    match common::fsutil::read_text_checked(path, MAX_FILE) {
        Ok(t) => t.unwrap_or_default(),
        Err(why) => {
            say.warn(&format!("{}: {why}", path.display()));
            String::new()
        }
    }
}

fn read_index(dir: &Path, config: Option<&str>, say: &Say) -> Index {
    let mut index = Index::default();
    index.add_dep(&read(&dir.join("modules.dep"), say));
    index.add_aliases(&read(&dir.join("modules.alias"), say));
    index.add_config(&read(&dir.join("modules.softdep"), say));
    index.add_builtin(&read(&dir.join("modules.builtin"), say));
    for file in config_files(config) {
        index.add_config(&read(&file, say));
    }
    index
}

/// The modprobe.d files, by name across the directories (a name in an
/// earlier directory hides the same name in later ones); `-C PATH` is the
/// one file or directory instead.
fn config_files(config: Option<&str>) -> Vec<PathBuf> {
    let dirs: Vec<&str> = match config {
        // `-C /dev/null`: no configuration at all
        Some(p) if !Path::new(p).is_dir() => {
            return match Path::new(p).is_file() {
                true => vec![PathBuf::from(p)],
                false => Vec::new(),
            }
        }
        Some(p) => vec![p],
        None => CONFIG_DIRS.to_vec(),
    };
    let mut by_name = std::collections::BTreeMap::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") {
                by_name.entry(name).or_insert_with(|| e.path());
            }
        }
    }
    by_name.into_values().collect()
}

/// A path of modules.dep: relative to the module directory.
fn full_path(dir: &Path, path: &str) -> PathBuf {
    if path.starts_with('/') {
        PathBuf::from(path)
    } else {
        dir.join(path)
    }
}

fn insert(
    o: &Options,
    index: &Index,
    dir: &Path,
    loaded: &BTreeSet<String>,
    given: &str,
    say: &Say,
) -> bool {
    let found = index.lookup(given);
    if found.is_empty() {
        say.fatal(&format!(
            "Module {given} not found in directory {}",
            dir.display()
        ));
        return false;
    }
    if o.show_alias {
        for (m, _) in &found {
            common::out::out(&format!("{m}\n"));
        }
        return true;
    }
    let extra = join_options(&o.params);
    let show = o.verbose || o.dry_run || o.show_depends;
    let mut ok = true;
    for (module, via_alias) in &found {
        let plan = match index.insert_plan(
            module,
            *via_alias,
            &extra,
            loaded,
            o.first_time,
            o.use_blacklist,
        ) {
            Ok(p) => p,
            Err(Refusal::AlreadyLoaded(m)) => {
                say.error(&format!("could not insert '{m}': Module already in kernel"));
                ok = false;
                continue;
            }
            Err(_) => {
                ok = false;
                continue;
            }
        };
        for step in plan {
            match step {
                Step::Builtin { name } => {
                    if show {
                        common::out::out(&format!("builtin {name}\n"));
                    }
                }
                Step::Insert {
                    name,
                    path,
                    options,
                    required,
                } => {
                    let file = full_path(dir, &path);
                    if show {
                        common::out::out(&format!("insmod {} {options}\n", file.display()));
                    }
                    if o.dry_run || o.show_depends {
                        continue;
                    }
                    match load(&file, &options, o.force) {
                        Ok(()) => {}
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                        Err(e) if required => {
                            let why = match e.raw_os_error() {
                                Some(libc::ENOENT) => {
                                    "Unknown symbol in module, or unknown parameter (see dmesg)"
                                        .to_string()
                                }
                                _ => strerror(&e),
                            };
                            say.error(&format!("could not insert '{name}': {why}"));
                            ok = false;
                            break;
                        }
                        // a soft dependency that fails is skipped, as kmod does
                        Err(_) => {}
                    }
                }
                Step::Remove { .. } => {}
            }
        }
    }
    ok
}

/// `finit_module` of one file; a compressed one (`.ko.xz`, `.ko.zst`,
/// `.ko.gz`) is handed to the kernel to decompress, which needs
/// CONFIG_MODULE_DECOMPRESS (Debian 12's modules are not compressed).
fn load(file: &Path, options: &str, force: bool) -> io::Result<()> {
    let f = std::fs::File::open(file).map_err(|e| {
        // ENOENT from open is not "unknown symbol": say the file
        io::Error::new(
            if e.kind() == io::ErrorKind::NotFound {
                io::ErrorKind::Other
            } else {
                e.kind()
            },
            format!("{}: {}", file.display(), strerror(&e)),
        )
    })?;
    let params = CString::new(options)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the options"))?;
    let name = file.to_string_lossy();
    let mut flags = 0;
    if !name.ends_with(".ko") {
        flags |= MODULE_INIT_COMPRESSED_FILE;
    }
    if force {
        flags |= MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC;
    }
    rustix::system::finit_module(&f, &params, flags).map_err(io::Error::from)
}

/// `/sys/module/NAME/refcnt`; `None` when it is not loaded (or built in).
fn refcount(name: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/sys/module/{name}/refcnt"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn remove(o: &Options, index: &Index, given: &str, say: &Say) -> bool {
    let mut found: Vec<String> = index.lookup(given).into_iter().map(|(m, _)| m).collect();
    // a module loaded from elsewhere is removed by its name all the same
    if found.is_empty() && refcount(&super::core::modname(given)).is_some() {
        found.push(super::core::modname(given));
    }
    if found.is_empty() {
        say.fatal(&format!("Module {given} not found."));
        return false;
    }
    let show = o.verbose || o.dry_run;
    for module in found {
        let plan = match index.remove_plan(&module) {
            Ok(p) => p,
            Err(Refusal::Builtin(m)) => {
                say.fatal(&format!("Module {m} is builtin."));
                return false;
            }
            Err(_) => return false,
        };
        for step in plan {
            let Step::Remove { name, required } = step else {
                continue;
            };
            let Some(refs) = refcount(&name) else {
                if required && o.first_time {
                    say.fatal(&format!("Module {name} is not in kernel."));
                    return false;
                }
                continue;
            };
            if refs > 0 {
                if required {
                    say.fatal(&format!("Module {name} is in use."));
                    return false;
                }
                continue;
            }
            if show {
                common::out::out(&format!("rmmod {name}\n"));
            }
            if o.dry_run {
                continue;
            }
            let Ok(c) = CString::new(name.as_str()) else {
                continue;
            };
            let flags = libc::O_NONBLOCK | if o.force { libc::O_TRUNC } else { 0 };
            if let Err(e) = rustix::system::delete_module(&c, flags) {
                if required {
                    say.error(&format!(
                        "could not remove '{name}': {}",
                        strerror(&io::Error::from(e))
                    ));
                    return false;
                }
            }
        }
    }
    true
}
