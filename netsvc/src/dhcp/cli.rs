//! The command lines: BusyBox udhcpc's (`parse_args`) and the native
//! `dhcp` applet's, which is udhcpc's plus a few long options of its own
//! (`parse_native`). Pure: words in, `Options` out, through
//! `common::getopt::parse_spec`; a mistake is a message, which the entry
//! point prints with the usage (exit 1, as today).

use super::core::msg::opt;
use common::getopt::{self, alias, long, Long, Opt, Spec, Takes};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_SCRIPT: &str = "/usr/share/udhcpc/default.script";

/// Printed after a mistake, on stderr (both applets, as before).
pub const USAGE: &str = "usage: udhcpc [-fbqnRvCB] [-a[MSEC]] [-i IFACE] [-s PROG] [-p PIDFILE] [-t N] [-T SEC] [-A SEC]\n\
     \x20             [-r IP] [-x OPT:VAL]... [-O OPT]... [-V VENDOR] [-H|--hostname NAME]\n";

/// `udhcpc --help`, on stdout.
pub const HELP: &str = "usage: udhcpc [OPTIONS]\n\
    \x20 -i, --interface IFACE     interface to configure (eth0)\n\
    \x20 -s, --script PROG         handler script (/usr/share/udhcpc/default.script)\n\
    \x20 -p, --pidfile FILE        write the pid there\n\
    \x20 -f, --foreground          stay in the foreground\n\
    \x20 -b, --background          go to the background when no lease is had\n\
    \x20 -q, --quit                exit once a lease is obtained\n\
    \x20 -n, --now                 exit with 1 when no lease is obtained\n\
    \x20 -R, --release             release the lease on exit\n\
    \x20 -t, --retries N           DISCOVERs per round (3)\n\
    \x20 -T, --timeout SEC         first retransmission timeout (0.5 s)\n\
    \x20 -A, --tryagain SEC        pause after a failed round (20)\n\
    \x20 -a[MSEC], --arping[=MSEC] ARP-check the offered address, listening MSEC (2000)\n\
    \x20 -r, --request IP          the address to ask for\n\
    \x20 -x OPT:VAL                send option OPT (a name, or a number with hex bytes)\n\
    \x20 -O, --request-option OPT  request option OPT too\n\
    \x20 -V, --vendorclass VENDOR  vendor class (option 60)\n\
    \x20 -H, -h, --hostname NAME   host name to send (null: none)\n\
    \x20 -F, --fqdn NAME           FQDN to send (option 81)\n\
    \x20 -C, --clientid-none       send no client id\n\
    \x20 -B, --broadcast           ask servers to broadcast their replies\n\
    \x20 -v, --verbose             say more, with timestamps\n\
    \x20 -S, --syslog              accepted, ignored (messages go to stderr)\n\
    \x20 -o, --no-default-options  accepted, ignored\n\
    \x20 --state-dir DIR           where the lease is remembered (/var/lib/ferrite/dhcp)\n\
    \x20 --no-classless-routes     ignore option 121 (classless static routes)\n\
    \x20 --help                    this text\n";

/// `dhcp --help`, on stdout: its own options, then udhcpc's.
pub const NATIVE_HELP: &str = "usage: dhcp [--apply [--resolv-conf FILE]] [--fw-dir DIR] [--fw-service DIR] [udhcpc options]\n\
    \x20 --apply                   install address, routes and resolv.conf through netlink\n\
    \x20 --resolv-conf FILE        with --apply: the resolv.conf to write (/etc/resolv.conf)\n\
    \x20 --fw-dir DIR              where dhcp_IF.ipconf goes (/var/run/service/fw)\n\
    \x20 --fw-service DIR          the fw service to poke (/var/service/fw)\n\
    \x20 (as dhcp_IF/run the interface is IF; more options from ./args)\n";

#[derive(Debug, Clone)]
pub struct Options {
    pub interface: String,
    /// `-i` was given (else native mode takes the service directory's)
    pub interface_given: bool,
    pub script: String,
    pub pidfile: Option<PathBuf>,
    pub foreground: bool,
    pub background: bool,
    pub quit: bool,
    pub now: bool,
    pub tries: u32,
    pub timeout: Option<u64>,
    pub pause: u64,
    pub release: bool,
    pub request: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub extra: Vec<(u8, Vec<u8>)>,
    pub params: Vec<u8>,
    pub no_client_id: bool,
    pub arp: bool,
    /// how long the ARP check listens for an owner (`-a[MSEC]`, BusyBox: 2000)
    pub arp_wait: Duration,
    pub verbose: bool,
    pub no_classless: bool,
    pub broadcast_flag: bool,
    pub state_dir: PathBuf,
    /// `--help`: print the help and exit 0
    pub help: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interface: "eth0".into(),
            interface_given: false,
            script: DEFAULT_SCRIPT.into(),
            pidfile: None,
            foreground: false,
            background: false,
            quit: false,
            now: false,
            tries: 3,
            timeout: None,
            pause: 20,
            release: false,
            request: None,
            hostname: None,
            vendor: None,
            extra: Vec::new(),
            params: Vec::new(),
            no_client_id: false,
            arp: false,
            arp_wait: Duration::from_millis(2000),
            verbose: false,
            no_classless: false,
            broadcast_flag: false,
            state_dir: PathBuf::from("/var/lib/ferrite/dhcp"),
            help: false,
        }
    }
}

/// The native applet's own options, around udhcpc's.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    pub udhcpc: Options,
    pub fw_dir: PathBuf,
    pub fw_service: PathBuf,
    pub apply: bool,
    pub resolv_conf: PathBuf,
}

const FLAGS: &str = "fbqnRvCSoB";
const VALUES: &str = "isptTArxOVHhF";

const LONGS: &[Long] = &[
    alias("interface", 'i', Takes::Value),
    alias("script", 's', Takes::Value),
    alias("pidfile", 'p', Takes::Value),
    alias("retries", 't', Takes::Value),
    alias("timeout", 'T', Takes::Value),
    alias("tryagain", 'A', Takes::Value),
    alias("request", 'r', Takes::Value),
    alias("request-option", 'O', Takes::Value),
    alias("vendorclass", 'V', Takes::Value),
    alias("hostname", 'H', Takes::Value),
    alias("fqdn", 'F', Takes::Value),
    alias("foreground", 'f', Takes::Nothing),
    alias("background", 'b', Takes::Nothing),
    alias("quit", 'q', Takes::Nothing),
    alias("now", 'n', Takes::Nothing),
    alias("release", 'R', Takes::Nothing),
    alias("clientid-none", 'C', Takes::Nothing),
    alias("arping", 'a', Takes::Optional),
    alias("verbose", 'v', Takes::Nothing),
    alias("broadcast", 'B', Takes::Nothing),
    alias("syslog", 'S', Takes::Nothing),
    alias("no-default-options", 'o', Takes::Nothing),
    long("state-dir", Takes::Value),
    long("no-classless-routes", Takes::Nothing),
];

const NATIVE_LONGS: &[Long] = &[
    long("apply", Takes::Nothing),
    long("resolv-conf", Takes::Value),
    long("fw-dir", Takes::Value),
    long("fw-service", Takes::Value),
];

/// The words as options by `longs`; udhcpc takes no operands.
fn options(args: &[String], longs: &[Long]) -> Result<Vec<Opt>, String> {
    let spec = Spec {
        flags: FLAGS,
        values: VALUES,
        optional: "a",
        long: longs,
        unchecked: false,
    };
    let (opts, first) = getopt::parse_spec(args, &spec).map_err(|e| e.to_string())?;
    match args.get(first) {
        Some(word) => Err(format!("unknown argument {word}")),
        None => Ok(opts),
    }
}

/// Apply one of udhcpc's options.
fn apply(o: &mut Options, opt: Opt) -> Result<(), String> {
    match opt {
        Opt::Help => o.help = true,
        Opt::Flag(c) => flag(o, c)?,
        Opt::Value(c, v) => apply_valued(o, c, v)?,
        Opt::LongValue("state-dir", v) => o.state_dir = PathBuf::from(v),
        Opt::Long("no-classless-routes") => o.no_classless = true,
        Opt::Long(name) | Opt::LongValue(name, _) => {
            return Err(format!("unknown option --{name}"))
        }
    }
    Ok(())
}

/// BusyBox udhcpc's command line (short and long forms).
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    for opt in options(args, LONGS)? {
        apply(&mut o, opt)?;
    }
    Ok(o)
}

/// `dhcp`'s command line: udhcpc's and `--apply`, `--resolv-conf FILE`,
/// `--fw-dir DIR`, `--fw-service DIR`.
pub fn parse_native(args: &[String]) -> Result<NativeOptions, String> {
    let longs: Vec<Long> = LONGS.iter().chain(NATIVE_LONGS).copied().collect();
    let mut n = NativeOptions {
        udhcpc: Options::default(),
        fw_dir: PathBuf::from("/var/run/service/fw"),
        fw_service: PathBuf::from("/var/service/fw"),
        apply: false,
        resolv_conf: PathBuf::from("/etc/resolv.conf"),
    };
    for opt in options(args, &longs)? {
        match opt {
            Opt::Long("apply") => n.apply = true,
            Opt::LongValue("resolv-conf", v) => n.resolv_conf = PathBuf::from(v),
            Opt::LongValue("fw-dir", v) => n.fw_dir = PathBuf::from(v),
            Opt::LongValue("fw-service", v) => n.fw_service = PathBuf::from(v),
            other => apply(&mut n.udhcpc, other)?,
        }
    }
    Ok(n)
}

fn flag(o: &mut Options, c: char) -> Result<(), String> {
    match c {
        'f' => o.foreground = true,
        'b' => o.background = true,
        'q' => o.quit = true,
        'n' => o.now = true,
        'R' => o.release = true,
        'v' => o.verbose = true,
        'C' => o.no_client_id = true,
        'a' => o.arp = true,
        'B' => o.broadcast_flag = true,
        'S' | 'o' => {}
        _ => return Err(format!("unknown option -{c}")),
    }
    Ok(())
}

fn apply_valued(o: &mut Options, c: char, v: String) -> Result<(), String> {
    // Every number has a range, so no deadline computed from it can overflow.
    let num = |v: &str, lo: u64, hi: u64, unit: &str| {
        let out_of_range = || format!("-{c}: {v} is out of range ({lo} to {hi}{unit})");
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        match v.parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ if digits => Err(out_of_range()),
            _ => Err(format!("-{c}: not a number: {v}")),
        }
    };
    match c {
        'i' => {
            o.interface = v;
            o.interface_given = true;
        }
        's' => o.script = v,
        'p' => o.pidfile = Some(PathBuf::from(v)),
        't' => o.tries = num(&v, 1, 1000, "")? as u32,
        'T' => o.timeout = Some(num(&v, 1, 3600, " s")?),
        'A' => o.pause = num(&v, 0, 86_400, " s")?,
        'a' => {
            o.arp = true;
            o.arp_wait = Duration::from_millis(num(&v, 100, 60_000, " ms")?);
        }
        'r' => o.request = Some(v.parse().map_err(|_| format!("-r: not an address: {v}"))?),
        'x' => {
            let (code, data) = parse_x(&v)?;
            if code == opt::HOSTNAME {
                o.hostname = Some(String::from_utf8_lossy(&data).into_owned());
            } else {
                o.extra.push((code, data));
            }
        }
        'O' => o
            .params
            .push(option_code(&v).ok_or(format!("-O: unknown option {v}"))?),
        'V' => o.vendor = Some(v),
        'F' => {
            let mut d = vec![0x01, 0, 0];
            d.extend_from_slice(v.as_bytes());
            o.extra.push((opt::FQDN, d));
        }
        // `--hostname=null`, as old run scripts pass it, sends no host name
        'H' | 'h' => o.hostname = (v != "null" && !v.is_empty()).then_some(v),
        _ => return Err(format!("unknown option -{c}")),
    }
    Ok(())
}

/// Option names that `-x NAME:VALUE` and `-O NAME` accept (BusyBox's).
fn option_code(name: &str) -> Option<u8> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).ok();
    }
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    Some(match name {
        "subnet" => opt::SUBNET_MASK,
        "router" => opt::ROUTER,
        "dns" => opt::DNS,
        "hostname" => opt::HOSTNAME,
        "domain" => opt::DOMAIN_NAME,
        "mtu" => opt::MTU,
        "broadcast" => opt::BROADCAST,
        "ntpsrv" => opt::NTP,
        "lease" => opt::LEASE_TIME,
        "serverid" => opt::SERVER_ID,
        "message" => opt::MESSAGE,
        "vendor" => opt::VENDOR_CLASS,
        "clientid" => opt::CLIENT_ID,
        "fqdn" => opt::FQDN,
        "search" => opt::DOMAIN_SEARCH,
        "staticroutes" => opt::CLASSLESS_ROUTES,
        _ => return None,
    })
}

/// `-x OPT:VAL`: names take text (or a number for `lease`), numbers take hex.
pub fn parse_x(spec: &str) -> Result<(u8, Vec<u8>), String> {
    let (name, val) = spec
        .split_once(':')
        .ok_or(format!("-x {spec}: want OPT:VAL"))?;
    let code = option_code(name).ok_or(format!("-x {spec}: unknown option {name}"))?;
    let data = if name.starts_with("0x") || name.parse::<u8>().is_ok() {
        let clean: String = val.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        if !clean.len().is_multiple_of(2) || clean.is_empty() {
            return Err(format!("-x {spec}: value must be hex bytes"));
        }
        (0..clean.len() / 2)
            .map(|i| u8::from_str_radix(&clean[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect::<Result<Vec<u8>, String>>()?
    } else if code == opt::LEASE_TIME {
        val.parse::<u32>()
            .map_err(|_| format!("-x {spec}: not a number"))?
            .to_be_bytes()
            .to_vec()
    } else {
        val.as_bytes().to_vec()
    };
    Ok((code, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    use common::argv::words_of as w;

    fn p(s: &str) -> Result<Options, String> {
        parse_args(&w(s))
    }

    #[test]
    fn bad_arguments_are_errors_not_aborts() {
        // Regression: `-é` sliced a str inside a character and aborted;
        // `-T`/`-A` with huge numbers overflowed a deadline.
        assert!(p("-é").unwrap_err().contains("unknown option -é"));
        assert!(p("-fé").is_err());
        assert!(p("-ié€").is_ok_and(|o| o.interface == "é€"));
        let e = p("-T 18446744073709551615").unwrap_err();
        assert!(e.contains("out of range (1 to 3600 s)"), "{e}");
        assert!(p("-A 99999999999999999999")
            .unwrap_err()
            .contains("out of range"));
        assert!(p("-T0").unwrap_err().contains("out of range"));
        assert!(p("-t 2x").unwrap_err().contains("not a number"));
        assert!(p("-a999999999").unwrap_err().contains("out of range"));
        assert!(p("-T 3600 -A 86400 -t 1000").is_ok());
    }

    #[test]
    fn busybox_command_lines() {
        let o = p("-i eth1 -f -q -n -t 5 -T 2 -A 10 -s /etc/dhcp.sh -p /run/u.pid -R").unwrap();
        assert_eq!(o.interface, "eth1");
        assert!(o.foreground && o.quit && o.now && o.release);
        assert_eq!((o.tries, o.timeout, o.pause), (5, Some(2), 10));
        assert_eq!(o.script, "/etc/dhcp.sh");
        // -a[MSEC]: the ARP check and how long it listens
        assert_eq!(p("-a").unwrap().arp_wait, Duration::from_millis(2000));
        let o = p("-a1500").unwrap();
        assert!(o.arp);
        assert_eq!(o.arp_wait, Duration::from_millis(1500));
        assert_eq!(
            p("--arping=300").unwrap().arp_wait,
            Duration::from_millis(300)
        );
        assert!(p("-fa").unwrap().arp);
        let o = p("-fqn -ieth2 -t3").unwrap();
        assert!(o.foreground && o.quit && o.now);
        assert_eq!((o.interface.as_str(), o.tries), ("eth2", 3));
        let o = p("--interface=eth0 --foreground --hostname=router -x lease:3600 -x 0x3d:0100beef -O staticroutes -V acme -r 10.0.0.9").unwrap();
        assert_eq!(o.hostname.as_deref(), Some("router"));
        assert_eq!(
            o.extra,
            vec![
                (51, 3600u32.to_be_bytes().to_vec()),
                (0x3d, vec![1, 0, 0xbe, 0xef])
            ]
        );
        assert_eq!(o.params, vec![121]);
        assert_eq!(o.vendor.as_deref(), Some("acme"));
        assert_eq!(o.request, Some(Ipv4Addr::new(10, 0, 0, 9)));
        // the seed's run script
        let o = p("-S -a -i eth0 --hostname=null -s ./dhcp_handler -f").unwrap();
        assert_eq!(o.hostname, None);
        assert!(o.arp);
        let o = p("-x hostname:bbox").unwrap();
        assert_eq!(o.hostname.as_deref(), Some("bbox"));
        assert!(p("-Z").is_err());
        assert!(p("-x nocolon").is_err());
        assert!(p("-x 0x3d:zz").is_err());
        assert!(p("-t").is_err());
    }

    #[test]
    fn native_options_around_udhcpcs() {
        let n = parse_native(&w(
            "--apply --resolv-conf /r -a --fw-dir /fw --fw-service=/s -v",
        ))
        .unwrap();
        assert!(n.apply && n.udhcpc.arp && n.udhcpc.verbose);
        assert_eq!(n.resolv_conf, PathBuf::from("/r"));
        assert_eq!(n.fw_dir, PathBuf::from("/fw"));
        assert_eq!(n.fw_service, PathBuf::from("/s"));
        assert!(!n.udhcpc.interface_given);
        assert!(parse_native(&w("-ieth3")).unwrap().udhcpc.interface_given);
        assert!(
            parse_native(&w("--interface=eth3"))
                .unwrap()
                .udhcpc
                .interface_given
        );
        // udhcpc knows none of them
        assert_eq!(p("--apply").unwrap_err(), "unknown option --apply");
        assert!(parse_native(&w("--fw-dir"))
            .unwrap_err()
            .contains("needs a value"));
        assert_eq!(p("eth0").unwrap_err(), "unknown argument eth0");
    }

    #[test]
    fn help_is_an_option_and_says_every_one() {
        assert!(p("--help").unwrap().help);
        assert!(parse_native(&w("-v --help")).unwrap().udhcpc.help);
        for l in LONGS.iter().chain(NATIVE_LONGS) {
            let name = format!("--{}", l.name);
            assert!(
                HELP.contains(&name) || NATIVE_HELP.contains(&name),
                "{name}"
            );
        }
        for c in FLAGS.chars().chain(VALUES.chars()).chain(['a']) {
            assert!(HELP.contains(&format!("-{c}")), "-{c}");
        }
    }
}
