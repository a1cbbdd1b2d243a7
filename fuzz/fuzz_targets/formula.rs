//! A formula and a derivation in the printed syntax: parsed, or an error — never a panic.
#![no_main]

use eqntk::symbolic::{parse_derivation, parse_expr, Names};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for names in [Names::new(), Names::open()] {
            let _ = parse_expr(text, &names, "fuzz formula");
            let _ = parse_derivation(text, &names, "fuzz derivation");
        }
    }
});
