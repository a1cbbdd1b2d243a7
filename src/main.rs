//! The `eqntk` command: kernels, predictions, derivations and group tables from the shell.
//!
//! Results go to stdout (or `--out`); errors are one line on stderr with a non-zero exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
mod cli;

#[derive(Parser)]
#[command(
    name = "eqntk",
    version,
    about = "Infinite-width NNGP and NTK kernels of ordinary and group-equivariant networks"
)]
struct Cli {
    /// Memory budget for what a command allocates (e.g. 512M, 2G) [default: 8G].
    #[arg(long, global = true, value_name = "SIZE")]
    memory: Option<String>,
    /// Factor (≥ 1) on the work caps of kernels, finite networks and interpreted derivations,
    /// for jobs known to be long [default: 1].
    #[arg(
        long,
        global = true,
        value_name = "FACTOR",
        allow_negative_numbers = true
    )]
    work: Option<f64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// NNGP and NTK of a network on x1 × x2.
    Kernel(cli::kernel::KernelArgs),
    /// Gram matrices from the files of the jobs of `kernel --tile I/T`.
    Assemble(cli::assemble::AssembleArgs),
    /// What a data file holds: arrays, shapes, class counts, the domain it fits.
    Data(cli::data::DataArgs),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    if let Some(m) = &cli.memory {
        match eqntk::budget::parse_memory(m) {
            Ok(bytes) => eqntk::budget::set_budget(bytes),
            Err(e) => return fail(&e.to_string()),
        }
    }
    if let Some(f) = cli.work {
        if let Err(e) = eqntk::budget::set_work_factor(f) {
            return fail(&e.to_string());
        }
    }
    let result = match &cli.command {
        Command::Kernel(a) => cli::kernel::run(a).map(|s| (s, true)),
        Command::Assemble(a) => cli::assemble::run(a).map(|s| (s, true)),
        Command::Data(a) => cli::data::run(a).map(|s| (s, true)),
        Command::Predict(a) => cli::predict::run(a).map(|s| (s, true)),
        Command::Group(a) => cli::group::run(a),
        Command::Derive(a) => cli::derive::run(a).map(|s| (s, true)),
        Command::Verify(a) => cli::verify::run(a),
        Command::Experiment(a) => cli::experiment::run(a).map(|s| (s, true)),
    };
    match result {
        Ok((text, ok)) => {
            cli::print_warnings();
            if let Err(e) = write_stdout(&text) {
                return e;
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// Writes the result to stdout. A reader that closed the pipe early (`eqntk … | head`) ends
/// the program quietly, as Unix tools do; any other write error is the one-line error.
fn write_stdout(text: &str) -> Result<(), ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ExitCode::SUCCESS),
        Err(e) => Err(fail(&format!("writing the result to stdout: {e}"))),
    }
}

/// One line on stderr, control characters escaped; exit code 2.
fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", cli::one_line(message));
    ExitCode::from(2)
}

/// `--help` and `--version` print as clap renders them (exit 0); every other argument error
/// is its first line, on one line (exit 2).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let text = e.to_string();
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => fail(
            "a subcommand is required (kernel, predict, derive, verify, group, experiment); \
             see eqntk --help",
        ),
        _ => {
            // The first paragraph (the error and what it lists), on one line.
            let text = e.to_string();
            let paragraph: Vec<&str> = text
                .trim_start()
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let first = paragraph.join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            fail(&format!("{first} (see --help)"))
        }
    }
}
