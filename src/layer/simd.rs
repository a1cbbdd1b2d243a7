//! Runtime selection of vector instructions for the hot loops.
//!
//! A loop compiled for the baseline x86-64 target uses 2-wide SSE2; the dual activations over a
//! row of a kernel vectorise to 4- or 8-wide AVX2/AVX-512 when compiled for them. [`dispatch`]
//! runs a closure inside a function compiled with those features when the CPU has them, so the
//! closure's inlined body is vectorised for it. No fused multiply-adds are enabled, so results
//! are bit-identical whichever path runs.

/// Run `f` compiled for the widest vector unit available (AVX-512F, AVX2, or the baseline).
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2.
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
