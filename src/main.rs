//! The `keju` binary: parse arguments, dispatch to a subcommand, map errors to exit codes.
//! Exit codes: 0 ok; 1 input, data or estimation error; 2 usage error.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let json_errors = args.json_errors();
    if let Err(e) = cli::run(args) {
        if json_errors {
            eprintln!("{}", e.to_json());
        } else {
            eprintln!("error: {e}");
        }
        std::process::exit(match e {
            keju::Error::Usage { .. } => 2,
            _ => 1,
        });
    }
}
