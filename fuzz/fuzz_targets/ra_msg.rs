#![no_main]
//! Any bytes as what ra reads: a router solicitation through the
//! advertiser (from a link-local address and from ::), the hop limit's
//! control message, a sockaddr_in6, a route event; and as a router
//! advertisement read back, whose rebuilt bytes must read back the same.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netsvc::ra::core::digest_untrusted(data);
});
