//! The `depwarden` binary: parse the command line, run the library, map the
//! outcome to an exit code. Nothing else lives here.

use std::process::ExitCode;

/// mimalloc: parsing allocates many small strings, and the system allocator
/// spent about a fifth of a large scan's time in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process before anything is
/// allocated. mimalloc reserves its arenas in large aligned blocks; where
/// the kernel backs anonymous memory with huge pages by default
/// (`transparent_hugepage=always`, common on distributions), its first
/// small allocations each fault in and zero a whole 2 MiB page: a scan of
/// a 420-crate `Cargo.lock` peaked at 27 MB of memory, 14 MB without, and
/// the embedded snapshot's import spent a quarter of its time zeroing
/// pages it did not use. It runs as a constructor ahead of mimalloc's own
/// (priority 101), since pages touched before `main` would already be
/// huge. The flag is per process (children keep it, which is harmless).
#[cfg(any(target_os = "linux", target_os = "android"))]
extern "C" fn no_transparent_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only
    // and changes nothing but the process's huge-page policy; an error
    // (an old kernel) leaves the default in place.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[used]
#[unsafe(link_section = ".init_array.00099")]
static NO_TRANSPARENT_HUGE_PAGES: extern "C" fn() = no_transparent_huge_pages;

fn main() -> ExitCode {
    match depwarden::app::run_from_args() {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            depwarden::app::error(depwarden::app::error_chain(&err));
            ExitCode::from(2)
        }
    }
}
