#![no_main]
//! Any bytes as a DHCPv6 message from a server (and as an ICMPv6 router
//! advertisement's flags): decoding must not panic,
//! what decodes must encode and decode back the same, and the client state
//! machine must not panic on it in any state that reads replies.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netsvc::dhcp6::core::digest_untrusted(data);
});
