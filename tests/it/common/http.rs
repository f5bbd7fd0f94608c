//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: serves files from a
//! map, answers conditional requests with ETags, records every request,
//! and can be told to misbehave per path (HTTP 500, stall, drop the
//! connection mid-body, announce a huge Content-Length). Request loops are
//! bounded: the server thread stops when the handle is dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a path misbehaves.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer 500 this many times, then normally.
    Error500(u32),
    /// Wait this long before answering.
    Stall(Duration),
    /// Send the headers with the full Content-Length, then half the body,
    /// then close.
    DropMidway,
    /// Announce this Content-Length and send a little.
    HugeLength(u64),
    /// Send the headers with the full Content-Length and half the body,
    /// then wait this long with the connection open (a stalled download).
    StallMidway(Duration),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Path.
    pub path: String,
    /// Lower-cased header names with values.
    pub headers: HashMap<String, String>,
    /// Status sent.
    pub status: u16,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    faults: HashMap<String, Fault>,
    log: Vec<Request>,
}

/// The running server.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Starts a server with no files.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            while !sp.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let st = st.clone();
                        std::thread::spawn(move || handle(stream, st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { base, state, stop }
    }

    /// Serves `body` at `path` (e.g. `/npm/all.zip`).
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), body);
    }

    /// Removes a file (404 afterwards).
    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().files.remove(path);
    }

    /// Makes `path` misbehave.
    pub fn fault(&self, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.to_string(), fault);
    }

    /// Clears all faults.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

fn handle(stream: TcpStream, state: Arc<Mutex<State>>) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let (body, fault) = {
            let mut st = state.lock().unwrap();
            let fault = match st.faults.get_mut(&path) {
                Some(Fault::Error500(n)) if *n > 0 => {
                    *n -= 1;
                    Some(Fault::Error500(1))
                }
                Some(Fault::Error500(_)) => None,
                Some(f) => Some(f.clone()),
                None => None,
            };
            (st.files.get(&path).cloned(), fault)
        };
        let record = |status: u16| {
            state.lock().unwrap().log.push(Request {
                path: path.clone(),
                headers: headers.clone(),
                status,
            });
        };
        match (fault, body) {
            (Some(Fault::Error500(_)), _) => {
                record(500);
                let _ = stream
                    .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
            }
            (Some(Fault::Stall(d)), _) => {
                record(0);
                std::thread::sleep(d);
                return;
            }
            (Some(Fault::HugeLength(n)), _) => {
                record(200);
                let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
                let _ = stream.write_all(&[0u8; 1024]);
                return;
            }
            (Some(Fault::DropMidway), Some(body)) => {
                record(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body[..body.len() / 2]);
                return;
            }
            (Some(Fault::StallMidway(d)), Some(body)) => {
                record(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body[..body.len() / 2]);
                let _ = stream.flush();
                std::thread::sleep(d);
                return;
            }
            (_, None) => {
                record(404);
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
            (_, Some(body)) => {
                let etag = etag_of(&body);
                if headers.get("if-none-match") == Some(&etag) {
                    record(304);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n"
                    );
                } else {
                    record(200);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
            }
        }
        let _ = stream.flush();
    }
}
