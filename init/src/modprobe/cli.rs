//! modprobe's command line, pure: kmod's options where they matter to the
//! kernel (`modprobe -q -- NAME`) and to scripts.

use common::getopt::{alias, long, parse_spec, Long, Opt, Spec, Takes};

pub const USAGE_LINE: &str =
    "usage: modprobe [-qnvbfsi] [-d DIR] [-S VERSION] [-C CONFIG] MODULE [PARAM=VALUE...]\n\
\x20      modprobe [options] -a MODULE...\n\
\x20      modprobe [options] -r [-a] MODULE...\n\
\x20      modprobe [options] -D|-R MODULE\n";

/// What `--help` prints after [`USAGE_LINE`]: a line per option.
pub const OPTIONS: &str = "\
\x20 -a, --all             every word is a module (no parameters)\n\
\x20 -r, --remove          remove the modules (and what they needed, when unused)\n\
\x20 -n, --dry-run         do nothing; with -v, say what would be done\n\
\x20 -q, --quiet           say nothing about what fails\n\
\x20 -v, --verbose         say each module loaded (insmod PATH OPTIONS)\n\
\x20 -D, --show-depends    print what loading would take, loaded or not\n\
\x20 -R, --show-alias      print the modules a name or alias stands for\n\
\x20 -b, --use-blacklist   blacklisted modules are not loaded by name either\n\
\x20 -f, --force           ignore version magic and symbol versions\n\
\x20     --first-time      fail if the module is loaded already (or, -r, is not)\n\
\x20 -d, --dirname DIR     modules under DIR/lib/modules/VERSION\n\
\x20 -S, --set-version V   kernel release V instead of uname -r\n\
\x20 -C, --config PATH     configuration file or directory instead of the modprobe.d ones\n\
\x20 -i, -s                accepted (no install commands are run; messages go to stderr)\n\
\x20 -V, --version         show the version\n";

const LONGS: &[Long] = &[
    alias("all", 'a', Takes::Nothing),
    alias("remove", 'r', Takes::Nothing),
    alias("dry-run", 'n', Takes::Nothing),
    alias("show", 'n', Takes::Nothing),
    alias("quiet", 'q', Takes::Nothing),
    alias("verbose", 'v', Takes::Nothing),
    alias("show-depends", 'D', Takes::Nothing),
    alias("show-alias", 'R', Takes::Nothing),
    alias("resolve-alias", 'R', Takes::Nothing),
    alias("use-blacklist", 'b', Takes::Nothing),
    alias("force", 'f', Takes::Nothing),
    alias("ignore-install", 'i', Takes::Nothing),
    alias("ignore-remove", 'i', Takes::Nothing),
    alias("syslog", 's', Takes::Nothing),
    alias("dirname", 'd', Takes::Value),
    alias("set-version", 'S', Takes::Value),
    alias("config", 'C', Takes::Value),
    alias("version", 'V', Takes::Nothing),
    long("first-time", Takes::Nothing),
];

pub const SPEC: Spec<'static> = Spec {
    flags: "arnqvDRbfisVh",
    values: "dSC",
    optional: "",
    long: LONGS,
    unchecked: false,
};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub all: bool,
    pub remove: bool,
    pub dry_run: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub show_depends: bool,
    pub show_alias: bool,
    pub use_blacklist: bool,
    pub force: bool,
    pub first_time: bool,
    pub root: Option<String>,
    pub release: Option<String>,
    pub config: Option<String>,
    pub help: bool,
    pub version: bool,
    /// the module names (with `-a` or `-r`: all of them)
    pub modules: Vec<String>,
    /// the parameters after the one module name
    pub params: Vec<String>,
}

/// Parse kmod modprobe's arguments (without argv[0]). An error is the
/// text after `modprobe: ERROR: `.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let (opts, first) = parse_spec(args, &SPEC).map_err(|e| format!("{e}. See -h."))?;
    for opt in opts {
        match opt {
            Opt::Flag('a') => o.all = true,
            Opt::Flag('r') => o.remove = true,
            Opt::Flag('n') => o.dry_run = true,
            Opt::Flag('q') => o.quiet = true,
            Opt::Flag('v') => o.verbose = true,
            Opt::Flag('D') => o.show_depends = true,
            Opt::Flag('R') => o.show_alias = true,
            Opt::Flag('b') => o.use_blacklist = true,
            Opt::Flag('f') => o.force = true,
            Opt::Flag('i' | 's') => {}
            Opt::Flag('V') => o.version = true,
            Opt::Flag('h') | Opt::Help => o.help = true,
            Opt::Long("first-time") => o.first_time = true,
            Opt::Value('d', v) => o.root = Some(v),
            Opt::Value('S', v) => o.release = Some(v),
            Opt::Value('C', v) => o.config = Some(v),
            other => return Err(format!("unknown option {other:?}. See -h.")),
        }
    }
    let words = args.get(first..).unwrap_or_default();
    if o.help || o.version {
        return Ok(o);
    }
    if words.is_empty() {
        return Err("missing parameters. See -h.".into());
    }
    if o.all || o.remove {
        o.modules = words.to_vec();
    } else {
        o.modules = words[..1].to_vec();
        o.params = words[1..].to_vec();
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::argv::words_of as w;

    #[test]
    fn what_the_kernel_and_scripts_pass() {
        // the kernel's request_module()
        let o = parse(&w("-q -- rtnl-link-dummy")).unwrap();
        assert!(o.quiet);
        assert_eq!(o.modules, ["rtnl-link-dummy"]);
        assert!(o.params.is_empty());
        // a module with parameters
        let o = parse(&w("-v dummy numdummies=2 x=1")).unwrap();
        assert_eq!(
            (o.modules, o.params),
            (vec!["dummy".into()], w("numdummies=2 x=1"))
        );
        // -a: every word a module; -r too
        let o = parse(&w("-a -n dummy ifb")).unwrap();
        assert!(o.all && o.dry_run);
        assert_eq!(o.modules, ["dummy", "ifb"]);
        let o = parse(&w("-r dummy ifb")).unwrap();
        assert!(o.remove);
        assert_eq!(o.modules, ["dummy", "ifb"]);
        let o = parse(&w(
            "--dry-run --verbose -d /tmp/root -S 6.1.0 --first-time x",
        ))
        .unwrap();
        assert!(o.dry_run && o.verbose && o.first_time);
        assert_eq!(o.root.as_deref(), Some("/tmp/root"));
        assert_eq!(o.release.as_deref(), Some("6.1.0"));
        let o = parse(&w("-C/dev/null -DR x")).unwrap();
        assert!(o.show_depends && o.show_alias);
        assert_eq!(o.config.as_deref(), Some("/dev/null"));
    }

    #[test]
    fn mistakes() {
        assert_eq!(parse(&w("-q")).unwrap_err(), "missing parameters. See -h.");
        assert_eq!(parse(&[]).unwrap_err(), "missing parameters. See -h.");
        assert!(parse(&w("-x dummy")).unwrap_err().contains("-x"));
        assert!(parse(&w("--nope dummy")).unwrap_err().contains("--nope"));
        assert!(
            parse(&w("dummy -d")).is_ok(),
            "a word after the name is a parameter"
        );
        assert!(parse(&w("-d")).is_err());
        assert!(parse(&w("--help")).unwrap().help);
        assert!(parse(&w("-h")).unwrap().help);
        assert!(parse(&w("-V")).unwrap().version);
    }
}
