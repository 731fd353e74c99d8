//! Text from fixed-size C character arrays (`utsname` fields, interface
//! names): the bytes up to the first NUL, or all of them when there is
//! none, with invalid UTF-8 replaced. Never reads past the array.

use std::ffi::CStr;

/// The text of a NUL-terminated (or full) byte array.
pub fn bytes_to_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The same for an array of `c_char` (signed on x86, unsigned on Arm).
pub fn chars_to_string(chars: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A `CStr` as text, invalid UTF-8 replaced.
pub fn to_string(s: &CStr) -> String {
    s.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_the_nul_or_the_end() {
        assert_eq!(bytes_to_string(b"eth0\0\0junk"), "eth0");
        assert_eq!(bytes_to_string(b"full"), "full");
        assert_eq!(bytes_to_string(b""), "");
        assert_eq!(bytes_to_string(b"a\xffb\0"), "a\u{fffd}b");
        let c: Vec<std::ffi::c_char> = b"6.1.0\0x".iter().map(|&b| b as _).collect();
        assert_eq!(chars_to_string(&c), "6.1.0");
        assert_eq!(to_string(c"lo"), "lo");
    }
}
