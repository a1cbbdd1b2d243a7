//! The integration tests as one binary: each file is a module, shared fixtures are in `common`.
//!
//! One binary rather than one per file, so the crate is linked once for all of them.

mod common;

mod activation;
mod activation_network;
mod activation_reference;
mod augment;
mod augment_ensemble;
mod augment_so2_cov;
mod bad_input;
mod cli;
mod cli_groups;
mod collapse;
mod data_sets;
mod derive_eval;
mod derive_formulas;
mod domains;
mod elementwise;
mod engine;
mod ensemble;
mod experiment;
mod fast_paths;
mod formula_claims;
mod formula_parse;
mod fuzz;
mod gram;
mod group_actions;
mod group_axioms;
mod group_cli;
mod group_decompose;
mod group_equivariance;
mod group_fast_paths;
mod group_reference;
mod group_reps;
mod group_tables;
mod io;
mod monte_carlo;
mod monte_carlo_groups;
mod monte_carlo_so2;
mod named_latex;
mod pool_stride;
mod predict;
mod predict_stored;
mod registry;
mod residual;
mod result_a;
mod result_ab;
mod so2;
mod so2_residual;
mod so3_groups;
mod so3_orbit;
mod so3_reduced;
mod symbolic;
mod sympy_export;
mod verify;
