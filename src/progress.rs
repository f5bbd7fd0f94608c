//! Progress display (indicatif), shown only when stderr is a terminal and
//! not disabled, and stage timings for `--timings`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A spinner naming the current stage, or nothing when disabled.
pub struct Progress {
    bar: Option<ProgressBar>,
    timings: bool,
    stage_start: Instant,
    stage_name: String,
    recorded: Vec<(String, Duration)>,
    /// Sub-stages: (index of the stage they belong to, name, time).
    details: Vec<(usize, String, Duration)>,
}

impl Progress {
    /// A progress display; `enabled` is further limited to terminals.
    pub fn new(enabled: bool, timings: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            timings,
            stage_start: Instant::now(),
            stage_name: String::new(),
            recorded: Vec::new(),
            details: Vec::new(),
        }
    }

    /// Starts a new stage (ending the previous one).
    pub fn stage(&mut self, name: &str) {
        self.end_stage();
        self.stage_name = name.to_string();
        self.stage_start = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }

    /// Records a sub-stage measured elsewhere (CPU time summed over
    /// threads, in nanoseconds), printed indented under the current stage.
    pub fn detail(&mut self, name: &str, nanos: &std::sync::atomic::AtomicU64) {
        if self.timings {
            let ns = nanos.load(std::sync::atomic::Ordering::Relaxed);
            self.details.push((
                self.recorded.len(),
                name.to_string(),
                Duration::from_nanos(ns),
            ));
        }
    }

    fn end_stage(&mut self) {
        if !self.stage_name.is_empty() {
            self.recorded.push((
                std::mem::take(&mut self.stage_name),
                self.stage_start.elapsed(),
            ));
        }
    }

    /// Clears the display and, with timings on, prints each stage's time
    /// to stderr.
    pub fn finish(mut self) {
        self.end_stage();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.timings {
            let total: Duration = self.recorded.iter().map(|(_, d)| *d).sum();
            for (i, (name, d)) in self.recorded.iter().enumerate() {
                eprintln!("timing: {name:<22} {:>9.3} ms", d.as_secs_f64() * 1000.0);
                for (_, sub, t) in self.details.iter().filter(|(s, _, _)| *s == i) {
                    eprintln!("timing:   {sub:<20} {:>9.3} ms", t.as_secs_f64() * 1000.0);
                }
            }
            eprintln!(
                "timing: {:<22} {:>9.3} ms",
                "total",
                total.as_secs_f64() * 1000.0
            );
        }
    }
}

/// Adds `d` to a nanosecond counter read later by [`Progress::detail`].
pub fn add_time(counter: &std::sync::atomic::AtomicU64, d: Duration) {
    counter.fetch_add(
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Runs `f` and adds its wall time to `counter` (see [`add_time`]).
pub fn timed<R>(counter: &std::sync::atomic::AtomicU64, f: impl FnOnce() -> R) -> R {
    let started = Instant::now();
    let out = f();
    add_time(counter, started.elapsed());
    out
}

/// A byte-count progress bar on stderr, or `None` when disabled or stderr
/// is not a terminal.
pub fn bytes_bar(enabled: bool, total: Option<u64>, message: &str) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})"
    } else {
        "{spinner} {msg} {bytes} ({bytes_per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    Some(bar)
}

/// A record-count progress bar on stderr (records per second and an
/// ETA), or `None` when disabled or stderr is not a terminal.
pub fn records_bar(enabled: bool, total: u64, message: &str) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {human_pos}/{human_len} records ({per_sec}, ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    Some(bar)
}

/// A spinner naming a step that may take more than a second, or `None`
/// when disabled or stderr is not a terminal.
pub fn spinner(enabled: bool, message: &str) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}
