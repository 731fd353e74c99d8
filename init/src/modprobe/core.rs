//! modprobe's pure part: the index files of `/lib/modules/RELEASE`
//! (`modules.dep`, `modules.alias`, `modules.softdep`, `modules.builtin`)
//! and the `modprobe.d` configuration (`alias`, `options`, `softdep`,
//! `blacklist`) read into an [`Index`], a name or alias looked up as kmod
//! does, and what to load (or remove) for it, in order. Every file here
//! comes from outside: nothing in it may panic, and every recursion is
//! bounded.

use common::kmod::{canonical, name_of_file, normalize_alias};
use std::collections::{BTreeMap, BTreeSet};

/// Softdep chains nested deeper than this are cut (a loop is caught by the
/// visited set; this bounds the recursion on broken input).
const MAX_DEPTH: usize = 64;

/// A module as `modules.dep` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// as the line has it, relative to the module directory (or absolute)
    pub path: String,
    /// every module it needs, in the line's order (load from the end)
    pub deps: Vec<String>,
}

/// Everything modprobe knows, read from the files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    /// by module name (`-` read as `_`)
    pub modules: BTreeMap<String, Module>,
    /// path (as in modules.dep) -> module name
    by_path: BTreeMap<String, String>,
    /// `alias PATTERN MODULE` of modules.alias, pattern normalized, in order
    pub aliases: Vec<(String, String)>,
    /// `alias` lines of the configuration: looked up before anything else
    pub config_aliases: Vec<(String, String)>,
    /// `softdep MODULE pre: ... post: ...`, in order (a module may have several)
    pub softdeps: Vec<(String, Vec<String>, Vec<String>)>,
    /// `options MODULE ...`, in order
    pub options: Vec<(String, String)>,
    pub blacklist: BTreeSet<String>,
    /// compiled into the kernel (modules.builtin)
    pub builtin: BTreeSet<String>,
}

/// One thing to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `finit_module` of `path` with `options`. When a `required` one fails
    /// (the module or one it needs) the rest is not loaded; a soft
    /// dependency that fails is skipped.
    Insert {
        name: String,
        path: String,
        options: String,
        required: bool,
    },
    /// compiled into the kernel: nothing to load
    Builtin { name: String },
    /// `delete_module`; a `required` one (the module asked for) must go, the
    /// others (what it needed) go when nothing uses them any more
    Remove { name: String, required: bool },
}

/// Why nothing can be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// no module, alias or built-in module has that name
    NotFound,
    /// `-r` of a module compiled into the kernel
    Builtin(String),
    /// `--first-time` and it is loaded already
    AlreadyLoaded(String),
}

/// Whether `text` matches the shell glob `pattern` as fnmatch(3) with no
/// flags does: `*` (any run, `/` too), `?`, `[abc]`, `[a-z]`, `[!x]` or
/// `[^x]`, `\x` for a literal `x`. A `[` without its `]` is itself.
/// Linear in the product of the lengths: one backtracking point (the last
/// `*`), never exponential.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // the pattern position after one element that matches `c`, if it does
    let one = |pi: usize, c: char| -> Option<usize> {
        match p.get(pi)? {
            '?' => Some(pi + 1),
            '[' => match class(&p, pi, c) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                None => (c == '[').then_some(pi + 1),
            },
            '\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
            &x => (x == c).then_some(pi + 1),
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if p.get(pi) == Some(&'*') {
            pi += 1;
            star = Some((pi, ti));
            continue;
        }
        if let Some(next) = one(pi, t[ti]) {
            pi = next;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                pi = sp;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

/// The bracket expression at `p[at]` (`[`): whether `c` is in it and the
/// position after its `]`; `None` when it has no `]`.
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        // a range a-b (a `-` before the `]` is itself)
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&x| x != ']') {
            let mut hi = *p.get(i + 2)?;
            i += 2;
            if hi == '\\' {
                i += 1;
                hi = *p.get(i)?;
            }
            if lo <= c && c <= hi {
                matched = true;
            }
        } else if lo == c {
            matched = true;
        }
        i += 1;
    }
}

/// A module name as kmod compares it: `-` is `_`, and it ends at a `.`.
pub fn modname(name: &str) -> String {
    canonical(name.split('.').next().unwrap_or(name))
}

/// The lines of a modprobe.d-style file: `#` comments, a `\` at the end of
/// a line joins the next.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        let whole = std::mem::take(&mut cur);
        let t = whole.trim();
        if !t.is_empty() && !t.starts_with('#') {
            out.push(t.to_string());
        }
    }
    let t = cur.trim();
    if !t.is_empty() && !t.starts_with('#') {
        out.push(t.to_string());
    }
    out
}

impl Index {
    /// `modules.dep`: `PATH: DEP DEP ...`, one module a line.
    pub fn add_dep(&mut self, text: &str) {
        for line in text.lines() {
            let Some((path, deps)) = line.split_once(':') else {
                continue;
            };
            let path = path.trim();
            let file = path.rsplit('/').next().unwrap_or(path);
            let Some(name) = name_of_file(file) else {
                continue;
            };
            let deps: Vec<String> = deps.split_whitespace().map(String::from).collect();
            for d in &deps {
                if let Some(n) = name_of_file(d.rsplit('/').next().unwrap_or(d)) {
                    self.by_path.entry(d.clone()).or_insert(n);
                }
            }
            self.by_path.insert(path.to_string(), name.clone());
            // depmod writes each module once; the first line wins, as in kmod
            self.modules.entry(name).or_insert(Module {
                path: path.to_string(),
                deps,
            });
        }
    }

    /// `modules.alias`: `alias PATTERN MODULE` lines.
    pub fn add_aliases(&mut self, text: &str) {
        for line in logical_lines(text) {
            let w: Vec<&str> = line.split_whitespace().collect();
            if let ["alias", pattern, module] = w[..] {
                if let Some(p) = normalize_alias(pattern) {
                    self.aliases.push((p, modname(module)));
                }
            }
        }
    }

    /// A modprobe.d file, or `modules.softdep` (kmod reads it as one):
    /// `alias`, `options`, `softdep`, `blacklist`. `install` and `remove`
    /// commands are not run (ferrite's modprobe runs no shell), and lines
    /// it does not know are skipped.
    pub fn add_config(&mut self, text: &str) {
        for line in logical_lines(text) {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w[..] {
                ["alias", pattern, module] => {
                    if let Some(p) = normalize_alias(pattern) {
                        self.config_aliases.push((p, modname(module)));
                    }
                }
                ["blacklist", module] => {
                    self.blacklist.insert(modname(module));
                }
                ["options", module, ref opts @ ..] if !opts.is_empty() => {
                    self.options.push((modname(module), opts.join(" ")));
                }
                ["softdep", module, ref rest @ ..] => {
                    let (pre, post) = common::kmod::parse_softdep(&rest.join(" "));
                    if !pre.is_empty() || !post.is_empty() {
                        self.softdeps.push((modname(module), pre, post));
                    }
                }
                _ => {}
            }
        }
    }

    /// `modules.builtin`: the paths of the modules compiled in.
    pub fn add_builtin(&mut self, text: &str) {
        self.builtin.extend(common::kmod::builtin_names(text));
    }

    /// What `given` names, as kmod looks it up: an `alias` of the
    /// configuration, else a module of modules.dep, else the patterns of
    /// modules.alias (every module that matches), else a module compiled
    /// in. Each name comes with whether it was found through an alias.
    pub fn lookup(&self, given: &str) -> Vec<(String, bool)> {
        let Some(key) = normalize_alias(given) else {
            return Vec::new();
        };
        let matching = |list: &[(String, String)]| {
            let mut out: Vec<(String, bool)> = Vec::new();
            for (p, m) in list {
                if fnmatch(p, &key) && !out.iter().any(|(o, _)| o == m) {
                    out.push((m.clone(), true));
                }
            }
            out
        };
        let found = matching(&self.config_aliases);
        if !found.is_empty() {
            return found;
        }
        if !key.contains(':') && self.modules.contains_key(&key) {
            return vec![(key, false)];
        }
        let found = matching(&self.aliases);
        if !found.is_empty() {
            return found;
        }
        let name = modname(given);
        if self.builtin.contains(&name) {
            return vec![(name, false)];
        }
        Vec::new()
    }

    /// The `options` lines for `name`, joined.
    pub fn options_of(&self, name: &str) -> String {
        let v: Vec<&str> = self
            .options
            .iter()
            .filter(|(m, _)| m == name)
            .map(|(_, o)| o.as_str())
            .collect();
        v.join(" ")
    }

    /// The soft dependencies of `name` (every softdep line whose module
    /// pattern matches it), each looked up: (pre, post).
    fn softdeps_of(&self, name: &str) -> (Vec<String>, Vec<String>) {
        let (mut pre, mut post) = (Vec::new(), Vec::new());
        for (m, p, q) in &self.softdeps {
            if fnmatch(m, name) {
                for n in p {
                    pre.extend(self.lookup(n).into_iter().map(|(x, _)| x));
                }
                for n in q {
                    post.extend(self.lookup(n).into_iter().map(|(x, _)| x));
                }
            }
        }
        (pre, post)
    }

    /// The names of what `name` needs, in the order to load them.
    fn deps_of(&self, name: &str) -> Vec<String> {
        let Some(m) = self.modules.get(name) else {
            return Vec::new();
        };
        m.deps
            .iter()
            .rev()
            .filter_map(|p| self.by_path.get(p).cloned())
            .collect()
    }

    /// What to do to load `module` (a name `lookup` gave, `via_alias` when
    /// through an alias) with `extra` options: kmod's probe list. Its soft
    /// `pre:` dependencies (and what they need), then what it needs (each
    /// with its own soft dependencies around it), the module, its `post:`
    /// dependencies. Modules in `loaded` are left out; `first_time` makes
    /// a loaded module an error. A blacklisted module found through an
    /// alias (or by name too, with `use_blacklist`) is not loaded: nothing
    /// to do.
    pub fn insert_plan(
        &self,
        module: &str,
        via_alias: bool,
        extra: &str,
        loaded: &BTreeSet<String>,
        first_time: bool,
        use_blacklist: bool,
    ) -> Result<Vec<Step>, Refusal> {
        let builtin_only = self.builtin.contains(module) && !self.modules.contains_key(module);
        if loaded.contains(module) || (first_time && builtin_only) {
            return match first_time {
                true => Err(Refusal::AlreadyLoaded(module.to_string())),
                false => Ok(Vec::new()),
            };
        }
        if self.blacklist.contains(module) && (via_alias || use_blacklist) {
            return Ok(Vec::new());
        }
        struct Walk<'a> {
            index: &'a Index,
            visited: BTreeSet<String>,
            list: Vec<String>,
        }
        impl Walk<'_> {
            fn probe(&mut self, m: &str, depth: usize) {
                if depth > MAX_DEPTH || !self.visited.insert(m.to_string()) {
                    return;
                }
                for d in self.index.deps_of(m) {
                    self.with_softdeps(&d, depth + 1);
                }
                self.with_softdeps(m, depth + 1);
            }
            fn with_softdeps(&mut self, m: &str, depth: usize) {
                let (pre, post) = self.index.softdeps_of(m);
                for p in &pre {
                    self.probe(p, depth + 1);
                }
                if !self.list.iter().any(|x| x == m) {
                    self.list.push(m.to_string());
                }
                for p in &post {
                    self.probe(p, depth + 1);
                }
            }
        }
        let mut walk = Walk {
            index: self,
            visited: BTreeSet::new(),
            list: Vec::new(),
        };
        walk.probe(module, 0);
        let required: BTreeSet<String> = self
            .deps_of(module)
            .into_iter()
            .chain([module.to_string()])
            .collect();
        let mut steps = Vec::new();
        for m in walk.list {
            if loaded.contains(&m) {
                continue;
            }
            match self.modules.get(&m) {
                Some(info) => {
                    let mut options = self.options_of(&m);
                    if m == module && !extra.is_empty() {
                        if !options.is_empty() {
                            options.push(' ');
                        }
                        options.push_str(extra);
                    }
                    steps.push(Step::Insert {
                        required: required.contains(&m),
                        name: m,
                        path: info.path.clone(),
                        options,
                    });
                }
                None if self.builtin.contains(&m) => steps.push(Step::Builtin { name: m }),
                None => {}
            }
        }
        Ok(steps)
    }

    /// What to do to remove `module`: its `post:` soft dependencies (last
    /// first), the module, what it needed, its `pre:` ones (last first).
    /// Only the module itself is `required`.
    pub fn remove_plan(&self, module: &str) -> Result<Vec<Step>, Refusal> {
        if self.builtin.contains(module) && !self.modules.contains_key(module) {
            return Err(Refusal::Builtin(module.to_string()));
        }
        let (pre, post) = self.softdeps_of(module);
        // nothing to remove of what is compiled in
        let soft = |name: &String| {
            (!self.builtin.contains(name) || self.modules.contains_key(name)).then(|| {
                Step::Remove {
                    name: name.clone(),
                    required: false,
                }
            })
        };
        let mut steps: Vec<Step> = post.iter().rev().filter_map(soft).collect();
        steps.push(Step::Remove {
            name: module.to_string(),
            required: true,
        });
        // what it needs, those that need others first
        let mut deps = self.deps_of(module);
        deps.reverse();
        steps.extend(deps.iter().filter_map(soft));
        steps.extend(pre.iter().rev().filter_map(soft));
        Ok(steps)
    }
}

/// The parameters given after the module name as one string for the
/// kernel: words joined by spaces, and a value with a space quoted
/// (`name="a b"`), as kmod's modprobe does.
pub fn join_options(args: &[String]) -> String {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if v.contains(' ') => format!("{k}=\"{v}\""),
            _ => a.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names of the loaded modules, from `/proc/modules`.
pub fn loaded_modules(proc_modules: &str) -> BTreeSet<String> {
    proc_modules
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(modname)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_fnmatch() {
        for (p, t) in [
            ("rtnl_link_dummy", "rtnl_link_dummy"),
            (
                "pci:v00001AF4d*sv*sd*bc*sc*i*",
                "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00",
            ),
            ("a?c", "abc"),
            ("*", ""),
            ("*", "any/thing"),
            ("[a-c]x", "bx"),
            ("[!a-c]x", "dx"),
            ("[^a]x", "bx"),
            ("[]]", "]"),
            ("[a-]", "-"),
            ("\\*", "*"),
            ("a[b", "a[b"),
            ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaab"),
            ("x*", "x"),
        ] {
            assert!(fnmatch(p, t), "{p} should match {t}");
        }
        for (p, t) in [
            ("a?c", "ac"),
            ("[a-c]x", "dx"),
            ("[!a-c]x", "ax"),
            ("\\*", "a"),
            ("abc", "abcd"),
            ("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("", "a"),
        ] {
            assert!(!fnmatch(p, t), "{p} should not match {t}");
        }
        // a long hostile pattern ends quickly (no exponential backtracking)
        let p = "*a".repeat(200) + "b";
        assert!(!fnmatch(&p, &"a".repeat(2000)));
    }

    fn index() -> Index {
        let mut i = Index::default();
        i.add_dep(
            "kernel/drivers/net/dummy.ko:\n\
             kernel/net/netfilter/nft_chain_nat.ko: kernel/net/netfilter/nf_nat.ko kernel/net/netfilter/nf_tables.ko kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n\
             kernel/net/netfilter/nf_nat.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n\
             kernel/net/netfilter/nf_tables.ko: kernel/lib/libcrc32c.ko\n\
             kernel/net/netfilter/nf_conntrack.ko: kernel/lib/libcrc32c.ko\n\
             kernel/lib/libcrc32c.ko:\n\
             kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko\n\
             kernel/fs/jbd2/jbd2.ko:\n\
             kernel/fs/mbcache.ko:\n\
             kernel/crypto/crc32c_generic.ko:\n\
             kernel/arch/x86/crypto/crc32c-intel.ko:\n\
             not a line\n",
        );
        i.add_aliases(
            "# Aliases extracted from modules themselves.\n\
             alias rtnl-link-dummy dummy\n\
             alias nft-chain-2-nat nft_chain_nat\n\
             alias crypto-crc32c crc32c_generic\n\
             alias crypto-crc32c crc32c_intel\n\
             alias fs-ext4 ext4\n\
             alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n\
             alias bad]alias dummy\n",
        );
        i.add_config(
            "# Soft dependencies extracted from modules themselves.\n\
             softdep ext4 pre: crc32c\n\
             softdep libcrc32c pre: crc32c\n",
        );
        i.add_builtin("kernel/lib/crc16.ko\nkernel/lib/crc32c.ko\n");
        i
    }

    fn names(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Insert { name, required, .. } => {
                    format!("{name}{}", if *required { "" } else { "?" })
                }
                Step::Builtin { name } => format!("builtin {name}"),
                Step::Remove { name, required } => {
                    format!("-{name}{}", if *required { "" } else { "?" })
                }
            })
            .collect()
    }

    #[test]
    fn lookup_names_then_aliases_then_builtin() {
        let i = index();
        assert_eq!(i.lookup("dummy"), [("dummy".into(), false)]);
        assert_eq!(i.lookup("rtnl-link-dummy"), [("dummy".into(), true)]);
        assert_eq!(i.lookup("rtnl_link_dummy"), [("dummy".into(), true)]);
        assert_eq!(
            i.lookup("crypto-crc32c"),
            [
                ("crc32c_generic".into(), true),
                ("crc32c_intel".into(), true)
            ]
        );
        assert_eq!(
            i.lookup("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"),
            [("virtio_pci".into(), true)]
        );
        assert_eq!(i.lookup("crc16"), [("crc16".into(), false)]);
        assert_eq!(i.lookup("crc32c-intel"), [("crc32c_intel".into(), false)]);
        assert!(i.lookup("nothing").is_empty());
        assert!(i.lookup("").is_empty());
        assert!(i.lookup("a]b").is_empty());
        // an alias of the configuration comes first
        let mut c = i.clone();
        c.add_config("alias dummy nft_chain_nat\n");
        assert_eq!(c.lookup("dummy"), [("nft_chain_nat".into(), true)]);
    }

    #[test]
    fn what_it_needs_loads_first_with_soft_dependencies() {
        let i = index();
        let none = BTreeSet::new();
        let (m, alias) = i.lookup("nft-chain-2-nat")[0].clone();
        let plan = i.insert_plan(&m, alias, "", &none, false, false).unwrap();
        // libcrc32c's softdep (crc32c is built in, listed as such) before it
        assert_eq!(
            names(&plan),
            [
                "builtin crc32c",
                "libcrc32c",
                "nf_conntrack",
                "nf_tables",
                "nf_nat",
                "nft_chain_nat"
            ]
        );
        let Step::Insert { path, .. } = &plan[1] else {
            panic!()
        };
        assert_eq!(path, "kernel/lib/libcrc32c.ko");
        // ext4: its softdep is built in here; what it needs first
        let plan = i
            .insert_plan("ext4", false, "", &none, false, false)
            .unwrap();
        assert_eq!(names(&plan), ["mbcache", "jbd2", "builtin crc32c", "ext4"]);
        // loaded ones are left out; the module loaded is nothing to do
        let loaded = loaded_modules("libcrc32c 16384 3 nf_conntrack,nf_nat,nf_tables, Live 0x0\nnf_conntrack 1 0 - Live 0\n");
        let plan = i
            .insert_plan("nft_chain_nat", false, "", &loaded, false, false)
            .unwrap();
        assert_eq!(
            names(&plan),
            ["builtin crc32c", "nf_tables", "nf_nat", "nft_chain_nat"]
        );
        let loaded = loaded_modules("dummy 16384 0 - Live 0x0\n");
        assert!(i
            .insert_plan("dummy", false, "", &loaded, false, false)
            .unwrap()
            .is_empty());
        assert_eq!(
            i.insert_plan("dummy", false, "", &loaded, true, false),
            Err(Refusal::AlreadyLoaded("dummy".into()))
        );
        // a built-in module is there already
        assert_eq!(
            names(
                &i.insert_plan("crc16", false, "", &none, false, false)
                    .unwrap()
            ),
            ["builtin crc16"]
        );
    }

    #[test]
    fn soft_dependencies_are_optional_and_found_by_alias() {
        let mut i = index();
        i.add_config("softdep dummy pre: crypto-crc32c nowhere post: fs-ext4\n");
        let plan = i
            .insert_plan("dummy", false, "", &BTreeSet::new(), false, false)
            .unwrap();
        assert_eq!(
            names(&plan),
            [
                "crc32c_generic?",
                "crc32c_intel?",
                "dummy",
                "mbcache?",
                "jbd2?",
                "builtin crc32c",
                "ext4?"
            ]
        );
        // a loop of soft dependencies ends
        i.add_config("softdep jbd2 pre: dummy\nsoftdep mbcache post: mbcache\n");
        let plan = i
            .insert_plan("dummy", false, "", &BTreeSet::new(), false, false)
            .unwrap();
        assert_eq!(
            plan.iter()
                .filter(|s| names(&[(*s).clone()])[0] == "dummy")
                .count(),
            1
        );
    }

    #[test]
    fn options_and_blacklist_of_the_configuration() {
        let mut i = index();
        i.add_config(
            "options dummy numdummies=2\n\
             options dummy \\\n  other=1\n\
             blacklist nft_chain_nat\n\
             install dummy /bin/true\n\
             bogus line here\n",
        );
        let plan = i
            .insert_plan("dummy", false, "x=\"a b\"", &BTreeSet::new(), false, false)
            .unwrap();
        assert_eq!(
            plan,
            [Step::Insert {
                name: "dummy".into(),
                path: "kernel/drivers/net/dummy.ko".into(),
                options: "numdummies=2 other=1 x=\"a b\"".into(),
                required: true
            }]
        );
        // blacklisted: not through an alias; by name it loads (unless -b)
        let none = BTreeSet::new();
        assert!(i
            .insert_plan("nft_chain_nat", true, "", &none, false, false)
            .unwrap()
            .is_empty());
        assert!(!i
            .insert_plan("nft_chain_nat", false, "", &none, false, false)
            .unwrap()
            .is_empty());
        assert!(i
            .insert_plan("nft_chain_nat", false, "", &none, false, true)
            .unwrap()
            .is_empty());
        assert_eq!(
            join_options(&["a=1".into(), "b=x y".into(), "flag".into()]),
            "a=1 b=\"x y\" flag"
        );
    }

    #[test]
    fn removal_order() {
        let i = index();
        assert_eq!(
            names(&i.remove_plan("nft_chain_nat").unwrap()),
            [
                "-nft_chain_nat",
                "-nf_nat?",
                "-nf_tables?",
                "-nf_conntrack?",
                "-libcrc32c?"
            ]
        );
        assert_eq!(
            names(&i.remove_plan("ext4").unwrap()),
            ["-ext4", "-jbd2?", "-mbcache?"]
        );
        assert_eq!(
            i.remove_plan("crc16"),
            Err(Refusal::Builtin("crc16".into()))
        );
    }

    #[test]
    fn broken_files_are_read_without_panic() {
        let mut i = Index::default();
        i.add_dep(":\n: a.ko\n.ko:\nx.ko: :\nx.ko: y.ko\né.ko: é\n");
        i.add_aliases("alias\nalias a\nalias [ b\nalias a b c\n");
        i.add_config("softdep\nsoftdep x\noptions\noptions x\nblacklist\n\\");
        i.add_builtin("\n/\n.ko\n");
        assert_eq!(i.modules.len(), 2, "{:?}", i.modules);
        assert!(i
            .insert_plan("x", false, "", &BTreeSet::new(), false, false)
            .is_ok());
    }
}
