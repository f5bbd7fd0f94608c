//! A wheel's core metadata when the index serves no PEP 658 `.metadata`
//! file: the `*.dist-info/METADATA` member read out of the remote zip with
//! HTTP range requests (the end of the file for the central directory,
//! then that one member), as pip's and uv's lazy wheels do. The rest of
//! the wheel is never downloaded; a server that ignores `Range` is not
//! read at all.

use std::io::Read;

/// Most bytes of one range read.
const MAX_RANGE: u64 = 4 << 20;

fn get_range(
    client: &reqwest::blocking::Client,
    url: &str,
    range: &str,
) -> Result<(Vec<u8>, Option<u64>), String> {
    let resp = client
        .get(url)
        .header(reqwest::header::RANGE, range)
        .send()
        .map_err(|e| e.to_string())?;
    if resp.status().as_u16() != 206 {
        return Err(format!(
            "HTTP {} to a range request",
            resp.status().as_u16()
        ));
    }
    let total = resp
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('/').next())
        .and_then(|t| t.parse().ok());
    let mut body = Vec::new();
    resp.take(MAX_RANGE + 1)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    if body.len() as u64 > MAX_RANGE {
        return Err("range answer too large".into());
    }
    Ok((body, total))
}

fn u16_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(i..i + 2)?.try_into().ok()?,
    )))
}

fn u32_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(i..i + 4)?.try_into().ok()?,
    )))
}

/// Reads `*.dist-info/METADATA` of the wheel at `url`.
pub fn metadata(client: &reqwest::blocking::Client, url: &str) -> Result<Vec<u8>, String> {
    let (tail, total) = get_range(client, url, "bytes=-65536")?;
    let total = total.ok_or("no Content-Range total")?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(b"PK\x05\x06"))
        .ok_or("no end of central directory")?;
    let cd_size = u32_at(&tail, eocd + 12).ok_or("short EOCD")?;
    let cd_offset = u32_at(&tail, eocd + 16).ok_or("short EOCD")?;
    let tail_start = total - tail.len() as u64;
    let cd: Vec<u8> = if cd_offset >= tail_start {
        let s = (cd_offset - tail_start) as usize;
        tail.get(s..s + cd_size as usize)
            .ok_or("central directory out of range")?
            .to_vec()
    } else {
        if cd_size > MAX_RANGE {
            return Err("central directory too large".into());
        }
        get_range(
            client,
            url,
            &format!("bytes={cd_offset}-{}", cd_offset + cd_size - 1),
        )?
        .0
    };
    let mut i = 0usize;
    let mut found = None;
    while cd.get(i..i + 4) == Some(b"PK\x01\x02") {
        let method = u16_at(&cd, i + 10).ok_or("short entry")?;
        let csize = u32_at(&cd, i + 20).ok_or("short entry")?;
        let usize_ = u32_at(&cd, i + 24).ok_or("short entry")?;
        let n = u16_at(&cd, i + 28).ok_or("short entry")? as usize;
        let m = u16_at(&cd, i + 30).ok_or("short entry")? as usize;
        let k = u16_at(&cd, i + 32).ok_or("short entry")? as usize;
        let offset = u32_at(&cd, i + 42).ok_or("short entry")?;
        let name = cd.get(i + 46..i + 46 + n).ok_or("short entry")?;
        let name = String::from_utf8_lossy(name);
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() == 2 && parts[0].ends_with(".dist-info") && parts[1] == "METADATA" {
            found = Some((method, csize, usize_, offset, n as u64));
            break;
        }
        i += 46 + n + m + k;
    }
    let (method, csize, usize_, offset, name_len) =
        found.ok_or("no .dist-info/METADATA in the wheel")?;
    if csize > MAX_RANGE || usize_ > MAX_RANGE {
        return Err("METADATA too large".into());
    }
    let (local, _) = get_range(
        client,
        url,
        &format!("bytes={offset}-{}", offset + 30 + name_len + 4096 + csize),
    )?;
    if local.get(0..4) != Some(b"PK\x03\x04") {
        return Err("bad local header".into());
    }
    let n = u16_at(&local, 26).ok_or("short header")? as usize;
    let m = u16_at(&local, 28).ok_or("short header")? as usize;
    let data = local
        .get(30 + n + m..30 + n + m + csize as usize)
        .ok_or("member out of range")?;
    match method {
        0 => Ok(data.to_vec()),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_RANGE)
                .read_to_end(&mut out)
                .map_err(|e| e.to_string())?;
            Ok(out)
        }
        other => Err(format!("compression method {other}")),
    }
}
