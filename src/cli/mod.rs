//! The `eqntk` command line: one module per subcommand, each returning what it prints.

pub mod assemble;
pub mod data;
pub mod derive;
pub mod experiment;
pub mod group;
pub mod group_rotation3;
pub mod kernel;
pub mod predict;
pub mod verify;

use faer::Mat;

/// Output formats of kernel-like results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `{"nngp": [[..]], "ntk": [[..]]}`, row i = x1[i].
    Json,
    /// Aligned columns for reading.
    Table,
    /// `.npy` files (needs `--out PREFIX`).
    Npy,
}

/// Warnings kept until the command has succeeded: a failing command prints its one error line
/// and nothing else.
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Keep a network's caveats ([`eqntk::Network::caveats`]) for [`print_warnings`].
pub fn warn_caveats(net: &eqntk::Network) {
    let mut w = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    w.extend(net.caveats());
}

/// Print the kept warnings to stderr, one `warning:` line each (once the command succeeded).
pub fn print_warnings() {
    let w = std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(|e| e.into_inner()));
    for c in w {
        eprintln!("warning: {}", one_line(&c));
    }
}

/// A message as one line: line breaks, tabs and other control characters are escaped
/// (`\n`, `\t`, `\u{1b}`), so that an error is always one line on stderr whatever file names
/// or values it quotes.
pub fn one_line(message: &str) -> String {
    let mut s = String::with_capacity(message.len());
    for c in message.trim_end().chars() {
        if c.is_control() {
            s.extend(c.escape_default());
        } else {
            s.push(c);
        }
    }
    s
}

/// `Ok` when every entry of `m` is finite; otherwise an error naming `what` and the entry, so
/// that no result holding ±∞ or NaN (JSON `null`) is ever written.
pub fn finite_matrix(what: &str, m: &Mat<f64>) -> eqntk::Result<()> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            if !m[(i, j)].is_finite() {
                return Err(eqntk::Error::Numeric(format!(
                    "{what} is not finite at [{i}, {j}] ({}); the inputs, targets or scales are \
                     too large",
                    m[(i, j)]
                )));
            }
        }
    }
    Ok(())
}

/// A matrix as nested JSON lists, row by row.
pub fn matrix_json(m: &Mat<f64>) -> serde_json::Value {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .into()
}

/// A matrix as aligned text, 10 significant digits.
pub fn matrix_table(m: &Mat<f64>) -> String {
    let mut s = String::new();
    for i in 0..m.nrows() {
        let row: Vec<String> = (0..m.ncols())
            .map(|j| format!("{:>18.10e}", m[(i, j)]))
            .collect();
        s.push_str(&row.join(" "));
        s.push('\n');
    }
    s
}

/// A progress bar of `what` with an ETA on stderr; drawn only when stderr is a terminal, so
/// pipes and logs stay clean. Finish it with `finish_and_clear`.
pub fn progress(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {what}, {{elapsed}} elapsed, ETA {{eta}}"
        ))
        .expect("a valid template"),
    );
    bar
}

/// A spinner with the elapsed time on stderr while a long computation runs; drawn only when
/// stderr is a terminal, so pipes and logs stay clean. Finish it with `finish_and_clear`.
pub fn spinner(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .expect("a valid template"),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
