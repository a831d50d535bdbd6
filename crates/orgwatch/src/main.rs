//! The `orgwatch` binary: parse arguments, start logging and the runtime, run, report.

use clap::Parser;
use std::process::ExitCode;

// Loading allocates many small strings per row; mimalloc does that markedly cheaper than the
// system allocator (bench/load).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = orgwatch::cli::Cli::parse();
    orgwatch::telemetry::init(cli.global.log_format, cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("orgwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(orgwatch::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("orgwatch: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
