//! `.npy` and JSON arrays in and out.
