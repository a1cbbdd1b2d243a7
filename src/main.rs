//! The `eqntk` command: kernels, predictions, derivations and group tables from the shell.
//!
//! Results go to stdout (or `--out`); errors are one line on stderr with a non-zero exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eqntk::cli;

#[derive(Parser)]
#[command(
    name = "eqntk",
    version,
    about = "Infinite-width NNGP and NTK kernels of ordinary and group-equivariant networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// NNGP and NTK of a network on x1 × x2.
    Kernel(cli::kernel::KernelArgs),
    /// Mean (and covariance) of an infinite ensemble trained by gradient flow on MSE.
    Predict(cli::predict::PredictArgs),
    /// The kernel recursion of a network as formulas, or evaluated by interpretation.
    Derive(cli::derive::DeriveArgs),
    /// Check the claims of derivation files and (re)write their documents.
    Verify(cli::verify::VerifyArgs),
    /// Character tables, decompositions and axiom checks of the groups.
    Group(cli::group::GroupArgs),
    /// Run an experiment file: tables (.md .tex .csv) and plots (.svg) into --out.
    Experiment(cli::experiment::ExperimentArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Kernel(a) => cli::kernel::run(a).map(|s| (s, true)),
        Command::Predict(a) => cli::predict::run(a).map(|s| (s, true)),
        Command::Group(a) => cli::group::run(a),
        Command::Derive(a) => cli::derive::run(a).map(|s| (s, true)),
        Command::Verify(a) => cli::verify::run(a),
        Command::Experiment(a) => cli::experiment::run(a).map(|s| (s, true)),
    };
    match result {
        Ok((text, ok)) => {
            print!("{text}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
