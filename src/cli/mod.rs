//! Subcommands of the keju binary: one file each, a clap `Args` struct and one `run`.

pub mod culture;
