//! `eqntk group` through `cli::group::run`.

use clap::Parser;
use eqntk::cli::group::{run, GroupArgs};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: GroupArgs,
}

fn call(argv: &[&str]) -> eqntk::Result<(String, bool)> {
    let cli = Cli::try_parse_from(std::iter::once("group").chain(argv.iter().copied()))
        .expect("arguments parse");
    run(&cli.args)
}

#[test]
fn smoke_print() {
    for a in [
        vec!["table", "D4"],
        vec!["table", "C6", "--format", "latex"],
        vec!["table", "C4", "--format", "json"],
        vec!["table", "p4:2"],
        vec!["table", "SO2:2"],
        vec!["decompose", "D4", "image:3"],
        vec!["decompose", "SO2", "signal:7", "--format", "json"],
        vec!["check", "D6"],
        vec!["check", "SO2"],
        vec!["check", "p4m:3"],
    ] {
        let (s, ok) = call(&a).unwrap();
        println!("{a:?} {ok}\n{s}");
    }
}
