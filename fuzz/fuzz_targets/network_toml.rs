//! A network file (TOML): parsed and checked, or an error — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = eqntk::Network::from_toml_str(text, "fuzz.toml");
    }
});
