#![no_main]
//! Any bytes as a DHCP reply: decoding, lease validation, the script
//! environment, the ipconf text and the client state machine must not panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netsvc::dhcp::core::digest_untrusted(data);
});
