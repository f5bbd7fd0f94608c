//! The GitHub Actions job summary: when `GITHUB_STEP_SUMMARY` names a
//! file, `scan` appends its Markdown report there. GitHub refuses a step
//! summary over 1 MiB (and then shows none), so the text appended is cut
//! at a line so that the file stays within the limit, with a note saying
//! so; the Markdown report is itself under 64 KiB, so only a file that
//! other tools of the same step already filled is ever cut.

use std::io::Write as _;
use std::path::Path;

/// The environment variable GitHub Actions sets.
pub const ENV: &str = "GITHUB_STEP_SUMMARY";
/// GitHub's limit on one step's summary, in bytes.
pub const LIMIT: u64 = 1024 * 1024;
/// The line that says the summary was cut.
const NOTE: &str = "\n…depwarden's summary was cut to stay within GitHub's 1 MiB step-summary limit; see the full report.\n";

/// What [`append`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The whole summary.
    Whole,
    /// Its first lines and the note.
    Cut,
    /// Nothing: the file was already (nearly) at the limit.
    Nothing,
}

/// Appends `markdown` to the summary file at `path` (created when
/// missing), within [`LIMIT`] bytes for the whole file.
pub fn append(path: &Path, markdown: &str) -> std::io::Result<Appended> {
    let used = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    // A separating blank line before ours when the file has content.
    let sep = if used > 0 { "\n" } else { "" };
    let room = LIMIT.saturating_sub(used) as usize;
    let (text, how) = if sep.len() + markdown.len() <= room {
        (format!("{sep}{markdown}"), Appended::Whole)
    } else if room > sep.len() + NOTE.len() {
        let budget = room - sep.len() - NOTE.len();
        let mut cut = 0;
        for (i, _) in markdown.match_indices('\n') {
            if i + 1 > budget {
                break;
            }
            cut = i + 1;
        }
        (format!("{sep}{}{NOTE}", &markdown[..cut]), Appended::Cut)
    } else {
        return Ok(Appended::Nothing);
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(how)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn appends_whole_then_cut_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.md");
        let md = "## depwarden: dependency gate failed\n\nline\n".repeat(100);
        assert_eq!(append(&p, &md).unwrap(), Appended::Whole);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), md);
        // Another tool filled the file nearly to the limit.
        let filler = "x".repeat((LIMIT as usize) - 2_000 - md.len());
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(filler.as_bytes())
            .unwrap();
        assert_eq!(append(&p, &md).unwrap(), Appended::Cut);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.len() as u64 <= LIMIT, "{}", text.len());
        assert!(text.ends_with(NOTE));
        // The cut falls at a line end.
        let ours = &text[md.len() + filler.len() + 1..text.len() - NOTE.len()];
        assert!(ours.ends_with('\n') && md.starts_with(ours), "{ours:?}");
        assert_eq!(append(&p, &md).unwrap(), Appended::Nothing);
        assert!(std::fs::metadata(&p).unwrap().len() <= LIMIT);
    }
}
