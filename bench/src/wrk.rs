//! Runs wrk (a separate process, as a load from other devices would be) and reads its
//! report: requests/s, the latency distribution, and anything that went wrong.

use std::process::Command;

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub requests_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Non-2xx/3xx answers plus socket errors (connect, read, write, timeout).
    pub errors: u64,
}

/// `wrk -t{threads} -c{connections} -d{seconds}s --latency url`, with a Lua script that
/// makes the requests and arguments for it (`-s script url -- args…`) when given, and
/// wrk held to `cpus` (a `taskset` list such as "1" or "1-3") when given.
pub fn run_on(
    cpus: Option<&str>,
    url: &str,
    threads: usize,
    connections: usize,
    seconds: u64,
    script: Option<&std::path::Path>,
    script_args: &[String],
) -> anyhow::Result<Load> {
    let mut wrk = match cpus {
        Some(cpus) => {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", cpus, "wrk"]);
            taskset
        }
        None => Command::new("wrk"),
    };
    wrk.args([
        "-t",
        &threads.to_string(),
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--timeout",
        "10s",
        "--latency",
    ]);
    if let Some(script) = script {
        wrk.arg("-s").arg(script);
    }
    wrk.arg(url);
    if !script_args.is_empty() {
        wrk.arg("--").args(script_args);
    }
    let out = wrk.output().map_err(|e| {
        anyhow::anyhow!("wrk could not be started ({e}); bench/cache.sh installs it")
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&text).ok_or_else(|| anyhow::anyhow!("wrk's report was not understood:\n{text}"))
}

fn parse(text: &str) -> Option<Load> {
    let mut load = Load { requests_per_s: 0.0, p50_us: 0.0, p99_us: 0.0, errors: 0 };
    let mut in_distribution = false;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            load.requests_per_s = rest.trim().parse().ok()?;
        } else if line.starts_with("Latency Distribution") {
            in_distribution = true;
        } else if in_distribution && line.starts_with("50%") {
            load.p50_us = duration_us(line.split_whitespace().nth(1)?)?;
        } else if in_distribution && line.starts_with("99%") {
            load.p99_us = duration_us(line.split_whitespace().nth(1)?)?;
            in_distribution = false;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += rest.trim().parse::<u64>().ok()?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            load.errors += rest
                .split(',')
                .filter_map(|f| f.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (load.requests_per_s > 0.0 && load.p99_us > 0.0).then_some(load)
}

/// "812.00us", "1.23ms", "2.01s" → microseconds.
fn duration_us(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n,
        "ms" => n * 1_000.0,
        "s" => n * 1_000_000.0,
        "m" => n * 60_000_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrks_report() {
        let report = "Running 5s test @ http://127.0.0.1:8080/assets/a\n  2 threads and 64 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.10ms  420.00us   9.80ms   80.00%\n    Req/Sec    29.00k     2.00k   33.00k    70.00%\n  Latency Distribution\n     50%  812.00us\n     75%    1.20ms\n     90%    1.60ms\n     99%    2.50ms\n  290000 requests in 5.00s, 2.80GB read\n  Socket errors: connect 0, read 3, write 0, timeout 1\n  Non-2xx or 3xx responses: 2\nRequests/sec:  58000.12\nTransfer/sec:    560.00MB\n";
        let l = parse(report).unwrap();
        assert_eq!(l.requests_per_s, 58000.12);
        assert_eq!(l.p50_us, 812.0);
        assert_eq!(l.p99_us, 2500.0);
        assert_eq!(l.errors, 6);
        assert!(parse("garbage").is_none());
        assert_eq!(duration_us("1.5s"), Some(1_500_000.0));
    }
}
