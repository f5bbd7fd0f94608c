//! Advisory-store benchmark (see benches/README.md).
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "osv_gen.rs"]
mod osv_gen;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some("probe") {
        probe(&args[1]);
        return;
    }
    if args.first().map(String::as_str) == Some("generate") {
        let path = std::path::PathBuf::from(&args[1]);
        let n: u64 = args[2].parse().unwrap();
        let json = osv_gen::write_zip(&path, n, 26).unwrap();
        let zip = std::fs::metadata(&path).unwrap().len();
        eprintln!(
            "{n} records: {:.1} MB JSON, {:.1} MB zip",
            json as f64 / 1e6,
            zip as f64 / 1e6
        );
    }
}

fn probe(zip_path: &str) {
    use std::io::Read;
    use std::time::Instant;
    let f = std::fs::File::open(zip_path).unwrap();
    let t = Instant::now();
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f)).unwrap();
    eprintln!("archive open {:?}", t.elapsed());
    let t = Instant::now();
    let mut recs = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        recs.push(b);
    }
    eprintln!("inflate {:?}", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    for r in &recs {
        let v: depwarden::advisory::model::OsvRecord = serde_json::from_slice(r).unwrap();
        n += v.affected.len();
    }
    eprintln!("parse {:?} {n}", t.elapsed());
    // zstd: no dict, dict trained on 2000 samples
    for level in [1, 3] {
        let t = Instant::now();
        let total: usize = recs
            .iter()
            .map(|r| zstd::bulk::compress(r, level).unwrap().len())
            .sum();
        eprintln!(
            "zstd l{level} no dict {:.1} MB {:?}",
            total as f64 / 1e6,
            t.elapsed()
        );
    }
    for (samples, size) in [
        (1000usize, 32 * 1024usize),
        (4000, 64 * 1024),
        (10000, 110 * 1024),
    ] {
        let t = Instant::now();
        let step = (recs.len() / samples).max(1);
        let s: Vec<&Vec<u8>> = recs.iter().step_by(step).collect();
        let dict = zstd::dict::from_samples(&s, size).unwrap();
        eprintln!("train {samples} {size}: {:?}", t.elapsed());
        for level in [1, 3] {
            let t = Instant::now();
            let mut c = zstd::bulk::Compressor::with_dictionary(level, &dict).unwrap();
            let comp: Vec<Vec<u8>> = recs.iter().map(|r| c.compress(r).unwrap()).collect();
            let total: usize = comp.iter().map(|c| c.len()).sum();
            eprintln!(
                "  l{level} dict {:.1} MB {:?}",
                total as f64 / 1e6,
                t.elapsed()
            );
            let t = Instant::now();
            let mut d = zstd::bulk::Decompressor::with_dictionary(&dict).unwrap();
            for c in &comp {
                d.decompress(c, 1 << 20).unwrap();
            }
            eprintln!("  decompress {:?}", t.elapsed());
        }
    }
    // sled: 1 key per record, ~100-byte values
    let dir = std::env::temp_dir().join("sled-probe");
    let _ = std::fs::remove_dir_all(&dir);
    let db = sled::Config::new()
        .path(&dir)
        .flush_every_ms(None)
        .cache_capacity(16 << 20)
        .open()
        .unwrap();
    let tree = db.open_tree("catalog").unwrap();
    let t = Instant::now();
    let mut batch = sled::Batch::default();
    for (i, _) in recs.iter().enumerate() {
        batch.insert(format!("MAL-2024-{i:08}").as_bytes(), vec![7u8; 100]);
        if i % 1000 == 999 {
            tree.apply_batch(std::mem::take(&mut batch)).unwrap();
        }
    }
    tree.apply_batch(batch).unwrap();
    db.flush().unwrap();
    eprintln!("sled {} inserts {:?}", recs.len(), t.elapsed());
    drop(tree);
    drop(db);
    let size: u64 = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    eprintln!("sled size {:.1} MB", size as f64 / 1e6);
    let t = Instant::now();
    let db = sled::Config::new().path(&dir).open().unwrap();
    let tree = db.open_tree("catalog").unwrap();
    eprintln!("sled reopen {:?} {}", t.elapsed(), tree.len());
}
