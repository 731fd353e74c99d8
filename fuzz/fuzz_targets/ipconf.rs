#![no_main]
//! Feeds any text as an ipconf file, plain or BusyBox array form (fw::core::ipconf::parse), and what it yields to fw's template variables (fw::core::etc::Vars::from_confs) and to fw's IPv6 plan (fw::core::v6::wanted6 with any file age, then plan6 against an empty kernel and against its own result); asserts no panic, that whatever parses round-trips (written back in both forms with sh quoting it parses to the same entries, the IPv6 keys included), that LAN addresses are /64s inside their prefix and that a plan run on its own result is empty.
use libfuzzer_sys::fuzz_target;
use netsvc::dhcp::core::ipconf::quote;
use netsvc::fw::core::etc::Vars;
use netsvc::fw::core::ipconf::{parse, IfConf, Lease6};
use netsvc::fw::core::v6;

/// One entry as key=value lines, each value single-quoted for sh.
fn write(c: &IfConf, suffix: &str) -> String {
    let mut s = String::new();
    let mut kv = |k: &str, v: &str| s.push_str(&format!("{k}{suffix}={}\n", quote(v)));
    kv("if", &c.interface);
    for (a, p) in &c.addrs {
        kv("ipmask", &format!("{a}/{p}"));
    }
    for (dst, p, gw) in &c.routes {
        if let Some(g) = gw {
            kv("gw", &g.to_string());
        }
        kv("net", &format!("{dst}/{p}"));
    }
    let dns: Vec<String> = c.dns.iter().map(|d| d.to_string()).collect();
    if !dns.is_empty() {
        kv("dns", &dns.join(" "));
    }
    if let Some(d) = &c.domain {
        kv("domain", d);
    }
    if !c.search.is_empty() {
        kv("search", &c.search.join(" "));
    }
    if let Some(m) = c.mtu {
        kv("mtu", &m.to_string());
    }
    if let Some(o) = &c.origin {
        kv("origin", o);
    }
    let leases = |l: &[Lease6]| -> String {
        let w: Vec<String> = l
            .iter()
            .map(|l| format!("{}/{},{},{}", l.ip, l.len, l.preferred, l.valid))
            .collect();
        w.join(" ")
    };
    let dns6: Vec<String> = c.dns6.iter().map(|d| d.to_string()).collect();
    for (k, v) in [
        ("ip6", leases(&c.addrs6)),
        ("prefix6", leases(&c.prefixes6)),
        ("dns6", dns6.join(" ")),
        ("domains6", c.domains6.join(" ")),
        ("prefix6_from", c.prefix6_from.clone().unwrap_or_default()),
        (
            "prefix6_subnet",
            c.prefix6_subnet.map(|n| n.to_string()).unwrap_or_default(),
        ),
    ] {
        if !v.is_empty() {
            kv(k, &v);
        }
    }
    s
}

/// fw's IPv6 plan for these entries, each on a link of its own, the files
/// `age` seconds old.
fn plan6(confs: &[IfConf], age: u32) {
    let present: Vec<(i32, IfConf)> = confs
        .iter()
        .zip(1..)
        .map(|(c, i)| {
            let mut c = c.clone();
            c.age = age;
            (i, c)
        })
        .collect();
    let w = v6::wanted6(&present, &[]);
    for a in &w.addrs {
        assert!(a.addr.preferred <= a.addr.valid && a.addr.valid > 0);
        if a.addr.prefix == 64 && a.addr.flags == 0 {
            // a LAN's ::1 lies in one of the prefixes in use
            assert!(
                w.routes
                    .iter()
                    .any(|r| r.kind == netsvc::netlink::UNREACHABLE
                        && v6::network(a.addr.ip, r.prefix) == r.dst)
                    || present
                        .iter()
                        .any(|(_, c)| c.addrs6.iter().any(|l| l.ip == a.addr.ip))
            );
        }
    }
    let _ = v6::plan6(&w, &[], &[]);
    let kernel: Vec<netsvc::netlink::Addr6Entry> = w
        .addrs
        .iter()
        .map(|x| netsvc::netlink::Addr6Entry {
            index: x.index,
            ip: x.addr.ip,
            prefix: x.addr.prefix,
            scope: 0,
            flags: x.addr.flags,
            preferred: x.addr.preferred,
            valid: x.addr.valid,
            proto: x.addr.proto,
            deleted: false,
        })
        .collect();
    assert_eq!(v6::plan6(&w, &kernel, &w.routes), []);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(confs) = parse(&text, "fuzz") else {
        return;
    };
    let _ = Vars::from_confs(&confs, "box");
    let _ = confs.iter().map(IfConf::from_dhcp).count();
    let age = data.first().map_or(0, |b| u32::from(*b).pow(4));
    plan6(&confs, age);
    let array: String = confs
        .iter()
        .map(|c| format!("let cfg=cfg+1\n{}", write(c, "[$cfg]")))
        .collect();
    assert_eq!(parse(&array, "array").as_ref(), Ok(&confs), "{array}");
    if let [c] = &confs[..] {
        let plain = write(c, "");
        assert_eq!(parse(&plain, "plain").as_ref(), Ok(&confs), "{plain}");
    }
});
