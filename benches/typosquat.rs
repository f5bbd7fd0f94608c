//! Names per second through the typosquat detector: 100,000 names (real
//! popular names, their one-edit variants and unrelated names) checked
//! against the three corpora on one thread. Run: `cargo bench --bench typosquat`.

use std::hint::black_box;
use std::time::Instant;

use depwarden::ecosystem::Ecosystem;
use depwarden::supply::popular::corpus;
use depwarden::supply::typosquat::check;

fn main() {
    let ecos = [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::CratesIo];
    // Load the corpora first: the benchmark measures lookups.
    let start = Instant::now();
    for e in ecos {
        black_box(corpus(e).len());
    }
    println!(
        "corpora opened (precomputed tables) in {:.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut names: Vec<(Ecosystem, String)> = Vec::with_capacity(100_000);
    let mut i = 0usize;
    while names.len() < 100_000 {
        let e = ecos[i % 3];
        let c = corpus(e);
        let base = c.name(((i * 7919) % c.len()) as u32).unwrap_or_default();
        let name = match i % 4 {
            0 => base.to_string(),
            1 => format!("{base}x"),
            2 => base.chars().rev().collect(),
            _ => format!("pkg-{i}-{}", base.len()),
        };
        names.push((e, name));
        i += 1;
    }
    let mut runs = Vec::new();
    let mut flagged = 0;
    for _ in 0..5 {
        let t = Instant::now();
        flagged = 0;
        for (e, n) in &names {
            if black_box(check(*e, n)).is_some() {
                flagged += 1;
            }
        }
        runs.push(t.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[2];
    println!(
        "{} names in {:.1} ms (median of 5): {:.0} names/s on one thread; {} flagged",
        names.len(),
        median * 1e3,
        names.len() as f64 / median,
        flagged
    );
}
