//! The `parley` command: parses the command line and hands over to `parley-server`.

mod bench;
mod bench_contacts;
mod bench_ewt;
mod bench_fanout;
mod bench_language;
mod bench_seed;
mod cli;
mod contacts;
mod demo;
mod reports;
mod rng;
mod users;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_logging(&cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let failure = e.downcast_ref::<cli::Failure>();
            if failure.is_none_or(|f| !f.message.is_empty()) {
                eprintln!("error: {e:#}");
            }
            failure.map_or(std::process::ExitCode::FAILURE, |f| std::process::ExitCode::from(f.code))
        }
    }
}
