//! The `depwarden` binary: parse the command line, run the library, map the
//! outcome to an exit code. Nothing else lives here.

use std::process::ExitCode;

fn main() -> ExitCode {
    match depwarden::app::run_from_args() {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            eprintln!("depwarden: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
