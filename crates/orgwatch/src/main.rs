//! The `orgwatch` binary: parse arguments, start logging and the runtime, run, report.
// A thin `main` over the library, which uses the package's other dependencies.
#![allow(unused_crate_dependencies)]

use clap::Parser;
use std::process::ExitCode;

// Loading allocates many small strings per row; mimalloc does that markedly cheaper than the
// system allocator (bench/load).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    disable_transparent_huge_pages();
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

/// Turns transparent huge pages off for this process. mimalloc asks for them
/// (`MADV_HUGEPAGE`), and the kernel then zeroes 2 MiB at the first touch of each: storing a
/// million CloudTrail events spent about 2 s of system time on that (`bench/activity`), for
/// memory mostly freed again within the batch. What mimalloc's `MIMALLOC_ALLOW_THP=0` does,
/// without asking users to set it.
fn disable_transparent_huge_pages() {
    // On a kernel without it the call fails harmlessly: huge pages stay as they were.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
}
