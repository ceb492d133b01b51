//! The keju binary: parse, dispatch, map errors to exit codes.

use clap::{Parser, Subcommand};

mod cli;

/// keju (科舉): panel-data econometrics for Chinese listed firms.
#[derive(Parser, Debug)]
#[command(name = "keju", version)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Confucian-culture measures (jinshi within radii, distances to centres)
    Culture(cli::culture::CultureArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Commands::Culture(args) => cli::culture::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
