//! HTTP caching rules (RFC 9111, with RFC 5861's stale extensions): what may be stored,
//! how long it stays fresh, how old it is, and when stale may still be served.
//!
//! Owns: `CacheControl` parsing, `Freshness` (computed once when a response is stored or
//! revalidated), the age calculation, and `Verdict`, the decision for a stored response
//! at a given instant. Pure functions of headers and times; the caller brings the clock.
//!
//! Choices, where the RFC leaves room or a booth needs more:
//! - The node is a shared cache: `private` and `no-store` responses are not stored;
//!   `s-maxage` wins over `max-age`, which wins over `Expires`; with none of them but a
//!   `Last-Modified`, the heuristic is 10% of the object's age at fetch, at most a day.
//! - Only 200 responses are stored; `Vary: *` or a `Vary` on a header outside
//!   `key::VARY_HEADERS` is not stored.
//! - Stale may be served while revalidating (`stale-while-revalidate`) and when the
//!   origin fails: for `stale-if-error` seconds, or for the manifest's
//!   `assets.offline_stale` if longer — the offline booth. `must-revalidate`,
//!   `proxy-revalidate` and `no-cache` forbid both. (`s-maxage`'s implied
//!   proxy-revalidate is not applied, as CDNs do not: an origin that wants no stale says so.)
//! - Request `Cache-Control` from clients is ignored except `only-if-cached`: a kiosk
//!   reloading must not take the booth's origin traffic with it.

use super::key::VARY_HEADERS;

/// The directives the cache acts on. Unknown directives are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    pub stale_while_revalidate: Option<u64>,
    pub stale_if_error: Option<u64>,
    pub only_if_cached: bool,
}

impl CacheControl {
    /// Parses every `Cache-Control` value of a message (they combine as one list).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> CacheControl {
        let mut cc = CacheControl::default();
        for value in values {
            for directive in split_list(value) {
                let (name, arg) = match directive.split_once('=') {
                    Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                    None => (directive.trim(), None),
                };
                let seconds =
                    || arg.and_then(|a| a.parse::<u64>().ok()).map(|s| s.min(MAX_SECONDS));
                match name.to_ascii_lowercase().as_str() {
                    // A duplicated or malformed max-age is treated as already stale.
                    "max-age" => {
                        cc.max_age =
                            Some(if cc.max_age.is_some() { 0 } else { seconds().unwrap_or(0) })
                    }
                    "s-maxage" => {
                        cc.s_maxage =
                            Some(if cc.s_maxage.is_some() { 0 } else { seconds().unwrap_or(0) })
                    }
                    "no-store" => cc.no_store = true,
                    // The field-qualified forms are treated as the whole directive.
                    "no-cache" => cc.no_cache = true,
                    "private" => cc.private = true,
                    "must-revalidate" => cc.must_revalidate = true,
                    "proxy-revalidate" => cc.proxy_revalidate = true,
                    "stale-while-revalidate" => cc.stale_while_revalidate = seconds(),
                    "stale-if-error" => cc.stale_if_error = seconds(),
                    "only-if-cached" => cc.only_if_cached = true,
                    _ => {}
                }
            }
        }
        cc
    }
}

/// Longest lifetime or window honoured (a year), so sums never overflow.
const MAX_SECONDS: u64 = 365 * 86_400;

/// Splits a comma-separated header list, keeping commas inside quotes.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// Why a response is not stored; also what the figures count it as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStored {
    Status,
    NoStore,
    Private,
    VaryUnsupported,
}

/// Whether a response may be stored, and which request headers it varies on.
pub fn storable(
    status: u16,
    cc: &CacheControl,
    vary: &[&str],
) -> Result<Vec<&'static str>, NotStored> {
    if status != 200 {
        return Err(NotStored::Status);
    }
    if cc.no_store {
        return Err(NotStored::NoStore);
    }
    if cc.private {
        return Err(NotStored::Private);
    }
    let mut names = Vec::new();
    for value in vary {
        for name in split_list(value) {
            let name = name.to_ascii_lowercase();
            match VARY_HEADERS.iter().find(|h| **h == name) {
                Some(h) if !names.contains(h) => names.push(*h),
                Some(_) => {}
                None => return Err(NotStored::VaryUnsupported),
            }
        }
    }
    names.sort_by_key(|n| VARY_HEADERS.iter().position(|h| h == n));
    Ok(names)
}

/// What a stored response's headers say about its lifetime, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Freshness {
    pub lifetime: u64,
    pub stale_while_revalidate: u64,
    pub stale_if_error: u64,
    /// `no-cache`: stored, but every use needs a successful revalidation.
    pub no_cache: bool,
    /// `must-revalidate` or `proxy-revalidate`: never served stale.
    pub must_revalidate: bool,
}

/// The header times `Freshness` and the age need, as Unix seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderTimes {
    pub date: Option<i64>,
    pub expires: Option<i64>,
    /// `Expires` was present but not a valid date: already expired (RFC 9111 5.3).
    pub expires_invalid: bool,
    pub last_modified: Option<i64>,
    pub age: Option<u64>,
}

impl Freshness {
    /// `response_time` is when the response arrived (Unix seconds).
    pub fn of(cc: &CacheControl, times: &HeaderTimes, response_time: i64) -> Freshness {
        let date = times.date.unwrap_or(response_time);
        let lifetime = if let Some(s) = cc.s_maxage {
            s
        } else if let Some(m) = cc.max_age {
            m
        } else if times.expires_invalid {
            0
        } else if let Some(e) = times.expires {
            (e - date).max(0) as u64
        } else if let Some(lm) = times.last_modified {
            (((date - lm).max(0) / 10) as u64).min(86_400)
        } else {
            0
        };
        Freshness {
            lifetime: lifetime.min(MAX_SECONDS),
            stale_while_revalidate: cc.stale_while_revalidate.unwrap_or(0),
            stale_if_error: cc.stale_if_error.unwrap_or(0),
            no_cache: cc.no_cache,
            must_revalidate: cc.must_revalidate || cc.proxy_revalidate,
        }
    }
}

/// The age a response had when it arrived (RFC 9111 4.2.3's corrected initial age),
/// in seconds. Times in Unix milliseconds except `date`.
pub fn initial_age(times: &HeaderTimes, request_time_ms: i64, response_time_ms: i64) -> u64 {
    let apparent = times.date.map_or(0, |d| ((response_time_ms / 1000) - d).max(0) as u64);
    let delay = ((response_time_ms - request_time_ms).max(0) / 1000) as u64;
    let corrected = times.age.unwrap_or(0).saturating_add(delay);
    apparent.max(corrected).min(MAX_SECONDS)
}

/// The age of a stored response now, in seconds.
pub fn current_age(initial_age: u64, response_time_ms: i64, now_ms: i64) -> u64 {
    initial_age.saturating_add(((now_ms - response_time_ms).max(0) / 1000) as u64)
}

/// What to do with a stored response at some age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Fresh,
    /// Serve it, and refresh it in the background.
    StaleWhileRevalidate,
    /// Ask the origin first; if the origin fails, it may be served for `stale_allowed`
    /// seconds past its lifetime (0: it may not).
    Revalidate { stale_allowed: u64 },
}

impl Freshness {
    /// `offline_stale` is the manifest's allowance for serving stale while the origin
    /// cannot be reached; `serve_stale` the degrade level's, which also serves that
    /// long past freshness at once (refreshing in the background), as if the origin had
    /// said `stale-while-revalidate`. Neither overrides `must-revalidate` or `no-cache`.
    pub fn verdict(&self, age: u64, offline_stale: u64, serve_stale: u64) -> Verdict {
        if !self.no_cache && age < self.lifetime {
            return Verdict::Fresh;
        }
        if self.no_cache || self.must_revalidate {
            return Verdict::Revalidate { stale_allowed: 0 };
        }
        if age < self.lifetime.saturating_add(self.stale_while_revalidate.max(serve_stale)) {
            return Verdict::StaleWhileRevalidate;
        }
        Verdict::Revalidate {
            stale_allowed: self.stale_if_error.max(offline_stale).max(serve_stale),
        }
    }

    /// Whether a response of this age may still be served when the origin failed.
    pub fn may_serve_on_error(&self, age: u64, offline_stale: u64, serve_stale: u64) -> bool {
        match self.verdict(age, offline_stale, serve_stale) {
            Verdict::Fresh | Verdict::StaleWhileRevalidate => true,
            Verdict::Revalidate { stale_allowed } => {
                age < self.lifetime.saturating_add(stale_allowed)
            }
        }
    }
}

/// An HTTP date (IMF-fixdate, and the obsolete RFC 850 and asctime forms) as Unix seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let text = text.trim();
    for format in ["%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
    {
        if let Ok(t) = jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_datetime()) {
            if let Ok(ts) = t.to_zoned(jiff::tz::TimeZone::UTC) {
                return Some(ts.timestamp().as_second());
            }
        }
    }
    None
}

/// Unix seconds as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn format_http_date(seconds: i64) -> String {
    let t = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    jiff::fmt::strtime::format("%a, %d %b %Y %H:%M:%S GMT", &t.to_zoned(jiff::tz::TimeZone::UTC))
        .unwrap_or_default()
}

/// Whether an `If-None-Match` list matches an entity tag (weak comparison, RFC 9110 13.1.2).
pub fn none_match(if_none_match: &str, etag: Option<&str>) -> bool {
    let Some(etag) = etag else { return if_none_match.trim() == "*" };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    if_none_match.trim() == "*" || split_list(if_none_match).into_iter().any(|t| opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(text: &str) -> CacheControl {
        CacheControl::parse([text])
    }

    #[test]
    fn parses_the_directives_a_shared_cache_acts_on() {
        let c = CacheControl::parse([
            "public, max-age=60, s-maxage=\"120\"",
            "stale-while-revalidate=30, stale-if-error=600",
        ]);
        assert_eq!(
            (c.max_age, c.s_maxage, c.stale_while_revalidate, c.stale_if_error),
            (Some(60), Some(120), Some(30), Some(600))
        );
        assert!(
            cc("no-store").no_store
                && cc("private=\"set-cookie, x\"").private
                && cc("No-Cache").no_cache
        );
        assert_eq!(cc("max-age=abc").max_age, Some(0), "a malformed max-age is stale at once");
        assert_eq!(
            cc("max-age=60, max-age=3600").max_age,
            Some(0),
            "a repeated max-age is stale at once"
        );
    }

    #[test]
    fn lifetime_prefers_s_maxage_then_max_age_then_expires_then_heuristic() {
        let t = HeaderTimes {
            date: Some(1000),
            expires: Some(1300),
            last_modified: Some(0),
            ..Default::default()
        };
        assert_eq!(Freshness::of(&cc("max-age=60, s-maxage=90"), &t, 1000).lifetime, 90);
        assert_eq!(Freshness::of(&cc("max-age=60"), &t, 1000).lifetime, 60);
        assert_eq!(Freshness::of(&cc(""), &t, 1000).lifetime, 300);
        let heuristic =
            HeaderTimes { date: Some(100_000), last_modified: Some(0), ..Default::default() };
        assert_eq!(Freshness::of(&cc(""), &heuristic, 100_000).lifetime, 10_000);
        let old =
            HeaderTimes { date: Some(100_000_000), last_modified: Some(0), ..Default::default() };
        assert_eq!(
            Freshness::of(&cc(""), &old, 100_000_000).lifetime,
            86_400,
            "the heuristic is capped at a day"
        );
        let invalid = HeaderTimes { expires_invalid: true, ..Default::default() };
        assert_eq!(Freshness::of(&cc(""), &invalid, 0).lifetime, 0);
    }

    #[test]
    fn storability() {
        assert_eq!(storable(200, &cc("max-age=60"), &[]), Ok(vec![]));
        assert_eq!(storable(404, &cc("max-age=60"), &[]), Err(NotStored::Status));
        assert_eq!(storable(200, &cc("no-store"), &[]), Err(NotStored::NoStore));
        assert_eq!(storable(200, &cc("private"), &[]), Err(NotStored::Private));
        assert_eq!(storable(200, &cc(""), &["*"]), Err(NotStored::VaryUnsupported));
        assert_eq!(storable(200, &cc(""), &["Cookie"]), Err(NotStored::VaryUnsupported));
        assert_eq!(
            storable(200, &cc(""), &["Accept-Language, accept-encoding", "Accept-Encoding"]),
            Ok(vec!["accept-encoding", "accept-language"])
        );
    }

    #[test]
    fn age_takes_the_larger_of_apparent_and_corrected() {
        let t = HeaderTimes { date: Some(100), age: Some(5), ..Default::default() };
        // Arrived at 110 s with a Date of 100: apparent age 10.
        assert_eq!(initial_age(&t, 109_000, 110_000), 10);
        // A clock-skewed Date in the future: the Age header and the delay count.
        let skewed = HeaderTimes { date: Some(200), age: Some(5), ..Default::default() };
        assert_eq!(initial_age(&skewed, 108_000, 110_000), 7);
        assert_eq!(current_age(10, 110_000, 140_500), 40);
    }

    #[test]
    fn verdicts_follow_the_directives() {
        let f = Freshness::of(
            &cc("max-age=60, stale-while-revalidate=30, stale-if-error=300"),
            &HeaderTimes::default(),
            0,
        );
        assert_eq!(f.verdict(59, 0, 0), Verdict::Fresh);
        assert_eq!(f.verdict(60, 0, 0), Verdict::StaleWhileRevalidate);
        assert_eq!(f.verdict(90, 0, 0), Verdict::Revalidate { stale_allowed: 300 });
        assert!(f.may_serve_on_error(359, 0, 0) && !f.may_serve_on_error(360, 0, 0));
        assert!(
            f.may_serve_on_error(3000, 86_400, 0),
            "the offline allowance extends stale-if-error"
        );

        let strict = Freshness::of(
            &cc("max-age=60, must-revalidate, stale-if-error=300"),
            &HeaderTimes::default(),
            0,
        );
        assert_eq!(strict.verdict(61, 86_400, 3600), Verdict::Revalidate { stale_allowed: 0 });
        assert!(!strict.may_serve_on_error(61, 86_400, 3600));

        let no_cache = Freshness::of(&cc("no-cache, max-age=600"), &HeaderTimes::default(), 0);
        assert_eq!(no_cache.verdict(0, 86_400, 3600), Verdict::Revalidate { stale_allowed: 0 });
    }

    #[test]
    fn a_degraded_booth_serves_stale_at_once_for_as_long_as_its_level_says() {
        let f = Freshness::of(&cc("max-age=60"), &HeaderTimes::default(), 0);
        assert_eq!(f.verdict(61, 0, 0), Verdict::Revalidate { stale_allowed: 0 });
        assert_eq!(f.verdict(61, 0, 600), Verdict::StaleWhileRevalidate);
        assert_eq!(f.verdict(659, 0, 600), Verdict::StaleWhileRevalidate);
        assert_eq!(f.verdict(660, 0, 600), Verdict::Revalidate { stale_allowed: 600 });
        assert!(f.may_serve_on_error(659, 0, 600) && !f.may_serve_on_error(661, 0, 600));
    }

    #[test]
    fn http_dates_round_trip_in_all_three_forms() {
        let t = 784_111_777;
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(none_match("\"a\", W/\"b\"", Some("\"b\"")));
        assert!(none_match("*", Some("\"x\"")));
        assert!(!none_match("\"a\"", Some("\"b\"")));
        assert!(!none_match("\"a\"", None));
    }
}
