//! The `depwarden` binary: parse the command line, run the library, map the
//! outcome to an exit code. Nothing else lives here.

use std::process::ExitCode;

/// mimalloc: parsing allocates many small strings, and the system allocator
/// spent about a fifth of a large scan's time in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match depwarden::app::run_from_args() {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            depwarden::app::error(depwarden::app::error_chain(&err));
            ExitCode::from(2)
        }
    }
}
