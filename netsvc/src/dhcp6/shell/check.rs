//! `dhcp6_IF/check` (a link to ferrite): exit 0 while the native client
//! holds something now, 1 when not, quietly (`sv -w` may run it often).
//! Readiness says the client got a binding (or the information) since it
//! started; this says it still has one: the file it keeps for fw
//! (`FW_DIR/dhcp6_IF.ipconf`, removed when the binding is lost) names this
//! link, and a prefix in it, or an address that is also on the link, has
//! valid lifetime left, counted from the file's time; a file with only
//! name servers is the stateless information.

use crate::dhcp6::cli::{interface_from_dir, Options};
use crate::fw::core::ipconf::{self, IfConf, Lease6};
use crate::fw::core::v6::aged;
use std::net::Ipv6Addr;

pub fn holds_binding(o: &Options) -> bool {
    let mut interface = o.interface.clone();
    if interface.is_empty() {
        match interface_from_dir(&common::service::dir_name()) {
            Some(i) => interface = i,
            None => return false,
        }
    }
    let path = o.fw_dir.join(format!("dhcp6_{interface}.ipconf"));
    let Ok(Some(text)) = common::fsutil::read_text_checked(&path, ipconf::MAX_FILE) else {
        return false;
    };
    let Ok(confs) = ipconf::parse(&text, "dhcp6") else {
        return false;
    };
    let age = common::fsutil::age_secs(&path);
    let Some(index) = common::iface::index_of(&interface) else {
        return false;
    };
    let on_link: Vec<Ipv6Addr> = crate::netlink::Rtnl::open()
        .and_then(|mut nl| nl.addresses6())
        .map(|all| {
            all.into_iter()
                .filter(|a| a.index == index)
                .map(|a| a.ip)
                .collect()
        })
        .unwrap_or_default();
    confs
        .iter()
        .filter(|c| c.interface == interface)
        .any(|c| holds(c, age, &on_link))
}

/// The decision, pure: `c` read `age` seconds after it was written, with
/// the link's addresses `on_link`.
fn holds(c: &IfConf, age: u32, on_link: &[Ipv6Addr]) -> bool {
    let left = |l: &Lease6| aged(l.valid, age) > 0;
    c.prefixes6.iter().any(left)
        || c.addrs6.iter().any(|a| left(a) && on_link.contains(&a.ip))
        || (c.addrs6.is_empty()
            && c.prefixes6.is_empty()
            && !(c.dns6.is_empty() && c.domains6.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> IfConf {
        ipconf::parse(text, "t").unwrap().remove(0)
    }

    #[test]
    fn a_binding_holds_while_its_lifetime_lasts_and_an_address_is_on_the_link() {
        let a: Ipv6Addr = "2001:db8:1::150".parse().unwrap();
        let both =
            conf("if=eth0\nip6='2001:db8:1::150/128,40,60'\nprefix6='2001:db8:100::/60,40,90'\n");
        assert!(holds(&both, 59, &[a]));
        // the prefix outlives the address
        assert!(holds(&both, 70, &[]));
        assert!(!holds(&both, 90, &[a]));
        let addr = conf("if=eth0\nip6='2001:db8:1::150/128,40,60'\n");
        assert!(holds(&addr, 0, &[a]));
        assert!(!holds(&addr, 0, &[]), "not on the link");
        assert!(!holds(&addr, 60, &[a]), "expired");
        let forever = conf("if=eth0\nprefix6='2001:db8:100::/60,4294967295,4294967295'\n");
        assert!(holds(&forever, u32::MAX, &[]));
        assert!(holds(
            &conf("if=eth0\ndns6='2001:db8::53'\n"),
            1_000_000,
            &[]
        ));
        assert!(!holds(&conf("if=eth0\n"), 0, &[]));
    }
}
