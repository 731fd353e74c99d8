//! The texts native mode writes instead of calling a handler script: the
//! ipconf file for fw (`FW_DIR/dhcp_IF.ipconf`) and `env.out` for the
//! pinger, both safe to source; and the interface a `dhcp_IF` service
//! directory stands for.
//!
//! The ipconf says `origin='dhcp'`: fw checks its routes before installing
//! them (`fw::shadow`, CVE-2024-3661).

use super::lease::Lease;
use std::path::Path;

/// A value single-quoted for sh: the file stays safe to source.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// The ipconf text for a lease on `interface`.
pub fn ipconf(interface: &str, l: &Lease, classless: bool) -> String {
    let mut s = format!("# written by ferrite's DHCP client for {interface}\n");
    s.push_str(&format!("if={}\n", quote(interface)));
    s.push_str(&format!("origin={}\n", quote(crate::fw::ipconf::DHCP)));
    s.push_str(&format!("ip={}\n", quote(&l.ip.to_string())));
    s.push_str(&format!(
        "ipmask={}\n",
        quote(&format!("{}/{}", l.ip, l.prefix))
    ));
    for r in l.effective_routes(classless) {
        let net = if r.prefix == 0 {
            "0/0".to_string()
        } else {
            format!("{}/{}", r.net, r.prefix)
        };
        s.push_str(&format!(
            "gw={}\nnet={}\n",
            quote(&r.gateway.to_string()),
            quote(&net)
        ));
    }
    if !l.dns.is_empty() {
        let dns: Vec<String> = l.dns.iter().map(|d| d.to_string()).collect();
        s.push_str(&format!("dns={}\n", quote(&dns.join(" "))));
    }
    if let Some(d) = &l.domain {
        s.push_str(&format!("domain={}\n", quote(d)));
    }
    if !l.search.is_empty() {
        s.push_str(&format!("search={}\n", quote(&l.search.join(" "))));
    }
    if let Some(m) = l.mtu {
        s.push_str(&format!("mtu={}\n", quote(&m.to_string())));
    }
    s
}

/// `env.out`: the udhcpc script environment, one `key='value'` a line.
pub fn env_out(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={}\n", quote(v)))
        .collect()
}

/// The interface a service directory `dhcp_IF` stands for.
pub fn interface_from_dir(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let rest = name.strip_prefix("dhcp_")?;
    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::msg::{opt, Message, BOOTREPLY};
    use super::*;
    use std::net::Ipv4Addr;

    /// A reply giving `ip` from `server` on a /24.
    fn reply(ip: [u8; 4], server: [u8; 4]) -> Message {
        let mut m = Message::new(BOOTREPLY, 1, [0; 6]);
        m.yiaddr = Ipv4Addr::from(ip);
        m.set(opt::SERVER_ID, server.to_vec());
        m.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
        m
    }

    #[test]
    fn ipconf_text_is_safe_to_source() {
        let mut m = reply([10, 0, 2, 15], [10, 0, 2, 2]);
        m.set(opt::ROUTER, vec![10, 0, 2, 2]);
        m.set(opt::DNS, vec![10, 0, 2, 3]);
        let l = Lease::from_message(&m).unwrap();
        assert_eq!(
            ipconf("eth0", &l, true),
            "# written by ferrite's DHCP client for eth0\nif='eth0'\norigin='dhcp'\nip='10.0.2.15'\nipmask='10.0.2.15/24'\ngw='10.0.2.2'\nnet='0/0'\ndns='10.0.2.3'\n"
        );
        assert_eq!(quote("a'b; $(reboot)"), "'a'\\''b; $(reboot)'");
        assert_eq!(
            env_out(&[("hostname".into(), "x'y".into())]),
            "hostname='x'\\''y'\n"
        );
        assert_eq!(
            interface_from_dir(Path::new("/var/service/dhcp_eth0")).as_deref(),
            Some("eth0")
        );
        assert_eq!(interface_from_dir(Path::new("/var/service/fw")), None);
    }

    #[test]
    fn fw_reads_the_lease_as_learned_from_dhcp() {
        let mut m = reply([192, 168, 1, 50], [192, 168, 1, 1]);
        // 0.0.0.0/1 and 128.0.0.0/1 via the router: the TunnelVision pair
        m.set(
            opt::CLASSLESS_ROUTES,
            vec![1, 0, 192, 168, 1, 1, 1, 128, 192, 168, 1, 1],
        );
        let l = Lease::from_message(&m).unwrap();
        let c = crate::fw::ipconf::parse(&ipconf("eth0", &l, true), "f").unwrap();
        assert!(c[0].from_dhcp());
        assert_eq!(c[0].routes.len(), 2);
        assert_eq!(c[0].routes[1].0, Ipv4Addr::new(128, 0, 0, 0));
    }
}
