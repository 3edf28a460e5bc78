//! The manifest's control sections: the degrade levels (`[[degrade]]`) and the runbooks
//! (`[[runbooks]]`) that press the controls when a threshold is crossed.
//!
//! Owns: their typed form and the small grammar of runbook triggers and steps, written
//! the way an ops lead would say them (`p99 over 800ms for 30s`, `degrade reduced`),
//! checked here with line-precise problems like the rest of the manifest. Never: acts on
//! them (that is `controls`).

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_spanned::Spanned;

use super::parse::{parse_duration, show_duration, Checker};

/// The level every booth has: the manifest as written, nothing shed.
pub const NORMAL: &str = "normal";
pub const MAX_LEVELS: usize = 8;
pub const MAX_RUNBOOKS: usize = 64;
pub const MAX_STEPS: usize = 16;

/// A degrade level: what changes while the booth runs at it. Levels are listed lightest
/// first; quotes, orders and the cached storefront are never among what is shed.
#[derive(Debug, Clone, PartialEq)]
pub struct DegradeLevel {
    pub name: String,
    /// Share of requests whose detail is logged; `None`: as normal.
    pub sampling: Option<f64>,
    pub transcodes: TranscodeMode,
    /// Send finished uploads and clips upstream (off: they wait, durably, in the queue).
    pub forward_media: bool,
    /// What is refused with `503` and `Retry-After`.
    pub shed: Vec<Sheddable>,
    pub retry_after: SignedDuration,
    /// A cached asset up to this long past its freshness is served at once and refreshed
    /// in the background (and served this long past it while the origin is down), unless
    /// the origin said `must-revalidate` or `no-cache`.
    pub serve_stale: SignedDuration,
    /// How often the hub is sent a heartbeat; `None`: `[uplink] probe_every`.
    pub heartbeat_every: Option<SignedDuration>,
    /// How often paired booths are asked for their status (the fleet view; over the
    /// uplink for remote booths); `None`: `[discovery] probe_every`.
    pub fleet_every: Option<SignedDuration>,
}

impl DegradeLevel {
    /// The normal level: nothing changed.
    pub fn normal() -> DegradeLevel {
        DegradeLevel {
            name: NORMAL.into(),
            sampling: None,
            transcodes: TranscodeMode::Full,
            forward_media: true,
            shed: Vec::new(),
            retry_after: SignedDuration::from_secs(30),
            serve_stale: SignedDuration::ZERO,
            heartbeat_every: None,
            fleet_every: None,
        }
    }

    pub fn sheds(&self, what: Sheddable) -> bool {
        self.shed.contains(&what)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TranscodeMode {
    Full,
    /// Each preset's reduced version, and fewer at once (`media.degraded_transcodes`).
    Reduced,
    /// Reduced, and only essential presets run; the others wait in the queue.
    EssentialOnly,
}

impl TranscodeMode {
    fn parse(text: &str) -> Option<TranscodeMode> {
        match text {
            "full" => Some(TranscodeMode::Full),
            "reduced" => Some(TranscodeMode::Reduced),
            "essential" => Some(TranscodeMode::EssentialOnly),
            _ => None,
        }
    }
}

/// What a degrade level may shed: the booth's non-essential routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sheddable {
    /// New and resumed uploads (tus); clients resume after `Retry-After`.
    Uploads,
    /// Downloads of finished clips (`/media/clips/…`).
    Clips,
    /// The Prometheus scrape (`/metrics`).
    Metrics,
    /// Chart images (`/api/v1/ops/charts/…`), which cost CPU to draw.
    Charts,
}

impl Sheddable {
    pub const ALL: [Sheddable; 4] =
        [Sheddable::Uploads, Sheddable::Clips, Sheddable::Metrics, Sheddable::Charts];

    pub fn name(self) -> &'static str {
        match self {
            Sheddable::Uploads => "uploads",
            Sheddable::Clips => "clips",
            Sheddable::Metrics => "metrics",
            Sheddable::Charts => "charts",
        }
    }

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    /// An identifier: it names the runbook in the API and the audit log.
    pub name: String,
    /// What it is for, in words (defaults to the name).
    pub title: String,
    pub trigger: Trigger,
    pub steps: Vec<RunbookStep>,
    /// After running, an automatic trigger waits at least this long before it may run
    /// the runbook again (and only once its condition has cleared in between).
    pub cooldown: SignedDuration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Only when staff run it.
    Manual,
    /// The slowest customer route's p99 over the last minute stays over `over` for `held`.
    P99 {
        over: SignedDuration,
        held: SignedDuration,
    },
    /// The uplink to the hub has been down for `held`.
    UplinkDown {
        held: SignedDuration,
    },
    /// A printer has needed a person (out of paper, unreachable, a job that may have
    /// printed) for `held`.
    PrinterAttention {
        held: SignedDuration,
    },
    /// Total spend reaches this percent of the total budget.
    Budget {
        percent: u32,
    },
    /// This long before the event's end.
    BeforeEnd(SignedDuration),
    At(Timestamp),
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::Manual => write!(f, "manual"),
            Trigger::P99 { over, held } => {
                write!(f, "p99 over {} for {}", show_duration(*over), show_duration(*held))
            }
            Trigger::UplinkDown { held } => write!(f, "uplink down for {}", show_duration(*held)),
            Trigger::PrinterAttention { held } => {
                write!(f, "printer needs attention for {}", show_duration(*held))
            }
            Trigger::Budget { percent } => write!(f, "budget {percent}%"),
            Trigger::BeforeEnd(d) => write!(f, "before end {}", show_duration(*d)),
            Trigger::At(t) => write!(f, "at {t}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunbookStep {
    /// To a level by name, `normal` included.
    Degrade(String),
    /// `regional`, `offline`, `auto` or `peer:<node id>`.
    Failover(String),
    PauseUploads,
    ResumeUploads,
    /// A new quote-signing key, in the keyring; quotes signed with the old one are refused.
    RotateSigningKey,
    /// A message shown on the booth screen.
    Notify(String),
    /// Fetches storefront files from `[uplink] fallback_origin` (`true`) or the
    /// primary `origin` again (`false`).
    Origin(bool),
    /// Starts the end-of-event teardown (exporting to `[teardown] export_dir` when
    /// orders cannot be synced).
    Teardown,
}

impl std::fmt::Display for RunbookStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunbookStep::Degrade(level) => write!(f, "degrade {level}"),
            RunbookStep::Failover(path) => write!(f, "failover {path}"),
            RunbookStep::PauseUploads => write!(f, "pause uploads"),
            RunbookStep::ResumeUploads => write!(f, "resume uploads"),
            RunbookStep::RotateSigningKey => write!(f, "rotate signing key"),
            RunbookStep::Notify(text) => write!(f, "notify {text}"),
            RunbookStep::Origin(true) => write!(f, "origin fallback"),
            RunbookStep::Origin(false) => write!(f, "origin primary"),
            RunbookStep::Teardown => write!(f, "teardown"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDegrade {
    level: Spanned<String>,
    sampling: Option<Spanned<f64>>,
    transcodes: Option<Spanned<String>>,
    forward_media: Option<bool>,
    shed: Option<Vec<Spanned<String>>>,
    retry_after: Option<Spanned<String>>,
    serve_stale: Option<Spanned<String>>,
    heartbeat_every: Option<Spanned<String>>,
    fleet_every: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRunbook {
    name: Spanned<String>,
    title: Option<Spanned<String>>,
    trigger: Spanned<String>,
    #[serde(default)]
    steps: Vec<Spanned<String>>,
    cooldown: Option<Spanned<String>>,
}

pub(super) fn check_degrade(c: &mut Checker, raw: &[Spanned<RawDegrade>]) -> Vec<DegradeLevel> {
    if let Some(extra) = raw.get(MAX_LEVELS) {
        c.at(extra.span(), format!("at most {MAX_LEVELS} degrade levels"));
    }
    let mut levels: Vec<DegradeLevel> = Vec::new();
    for r in raw.iter().take(MAX_LEVELS) {
        let r = r.get_ref();
        let name = c.ident(&r.level, "degrade.level");
        if name == NORMAL {
            c.at(
                r.level.span(),
                "degrade.level `normal` is the manifest as written; name the reduced levels only",
            );
        } else if levels.iter().any(|l| l.name == name) {
            c.at(r.level.span(), format!("degrade level `{name}` is defined twice"));
        }
        let sampling = r.sampling.as_ref().map(|s| {
            let v = *s.get_ref();
            if !(0.0..=1.0).contains(&v) {
                c.at(
                    s.span(),
                    format!("degrade.sampling must be a share between 0.0 and 1.0, not {v}"),
                );
            }
            v.clamp(0.0, 1.0)
        });
        let transcodes = r.transcodes.as_ref().map_or(TranscodeMode::Full, |t| {
            TranscodeMode::parse(t.get_ref()).unwrap_or_else(|| {
                c.at(
                    t.span(),
                    format!(
                        "degrade.transcodes `{}` is not full, reduced or essential",
                        t.get_ref()
                    ),
                );
                TranscodeMode::Full
            })
        });
        let mut shed = Vec::new();
        for s in r.shed.iter().flatten() {
            match Sheddable::ALL.into_iter().find(|x| x.name() == s.get_ref()) {
                Some(x) if !shed.contains(&x) => shed.push(x),
                Some(_) => {}
                None => c.at(
                    s.span(),
                    format!(
                        "degrade.shed: `{}` is not uploads, clips, metrics or charts (quotes, orders and the storefront are never shed)",
                        s.get_ref()
                    ),
                ),
            }
        }
        let d = DegradeLevel::normal();
        let secs = SignedDuration::from_secs;
        levels.push(DegradeLevel {
            name,
            sampling,
            transcodes,
            forward_media: r.forward_media.unwrap_or(true),
            shed,
            retry_after: r.retry_after.as_ref().map_or(d.retry_after, |v| {
                c.duration(v, "degrade.retry_after", secs(1), secs(3600))
            }),
            serve_stale: r.serve_stale.as_ref().map_or(d.serve_stale, |v| {
                c.duration(v, "degrade.serve_stale", SignedDuration::ZERO, secs(30 * 86_400))
            }),
            heartbeat_every: r.heartbeat_every.as_ref().map(|v| {
                c.duration(
                    v,
                    "degrade.heartbeat_every",
                    SignedDuration::from_millis(100),
                    secs(3600),
                )
            }),
            fleet_every: r.fleet_every.as_ref().map(|v| {
                c.duration(v, "degrade.fleet_every", SignedDuration::from_millis(100), secs(3600))
            }),
        });
    }
    levels
}

/// `has_fallback`: whether `[uplink] fallback_origin` is set (`origin fallback` needs it).
pub(super) fn check_runbooks(
    c: &mut Checker,
    raw: &[Spanned<RawRunbook>],
    levels: &[DegradeLevel],
    has_fallback: bool,
) -> Vec<Runbook> {
    if let Some(extra) = raw.get(MAX_RUNBOOKS) {
        c.at(extra.span(), format!("at most {MAX_RUNBOOKS} runbooks"));
    }
    let mut out: Vec<Runbook> = Vec::new();
    for r in raw.iter().take(MAX_RUNBOOKS) {
        let r = r.get_ref();
        let name = c.ident(&r.name, "runbook name");
        if out.iter().any(|o| o.name == name) {
            c.at(r.name.span(), format!("runbook `{name}` is defined twice"));
        }
        let title =
            r.title.as_ref().map_or_else(|| name.clone(), |t| c.text(t, "runbook title", 120));
        let trigger = parse_trigger(r.trigger.get_ref()).unwrap_or_else(|why| {
            c.at(r.trigger.span(), format!("runbook trigger `{}`: {why}", r.trigger.get_ref()));
            Trigger::Manual
        });
        if r.steps.is_empty() {
            c.at(r.name.span(), format!("runbook `{name}` has no steps"));
        }
        if let Some(extra) = r.steps.get(MAX_STEPS) {
            c.at(extra.span(), format!("a runbook has at most {MAX_STEPS} steps"));
        }
        let steps = r
            .steps
            .iter()
            .take(MAX_STEPS)
            .filter_map(|s| match parse_step(s.get_ref(), levels) {
                Ok(RunbookStep::Origin(true)) if !has_fallback => {
                    c.at(
                        s.span(),
                        "runbook step `origin fallback`: set [uplink] fallback_origin first",
                    );
                    None
                }
                Ok(step) => Some(step),
                Err(why) => {
                    c.at(s.span(), format!("runbook step `{}`: {why}", s.get_ref()));
                    None
                }
            })
            .collect();
        let cooldown = r.cooldown.as_ref().map_or(SignedDuration::from_mins(5), |v| {
            c.duration(
                v,
                "runbook cooldown",
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(24),
            )
        });
        out.push(Runbook { name, title, trigger, steps, cooldown });
    }
    out
}

const TRIGGERS: &str = "say manual, p99 over 800ms for 30s, uplink down for 2m, printer needs attention for 1m, budget 90%, before end 15m or at 2026-12-05T21:00:00+01:00";

/// `manual` · `p99 over 800ms for 30s` · `uplink down for 2m` ·
/// `printer needs attention for 1m` · `budget 90%` ·
/// `before end 15m` · `at 2026-12-05T21:00:00+01:00`.
pub fn parse_trigger(text: &str) -> Result<Trigger, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let duration = |w: &str| {
        parse_duration(w)
            .filter(|d| d.is_positive())
            .ok_or_else(|| format!("`{w}` is not a duration such as 30s or 2m"))
    };
    match words.as_slice() {
        ["manual"] => Ok(Trigger::Manual),
        ["p99", "over", over, "for", held] => {
            Ok(Trigger::P99 { over: duration(over)?, held: duration(held)? })
        }
        ["uplink", "down", "for", held] => Ok(Trigger::UplinkDown { held: duration(held)? }),
        ["printer", "needs", "attention", "for", held] => {
            Ok(Trigger::PrinterAttention { held: duration(held)? })
        }
        ["budget", percent] => {
            let n = percent
                .strip_suffix('%')
                .and_then(|p| p.parse::<u32>().ok())
                .filter(|p| (1..=1000).contains(p));
            n.map(|percent| Trigger::Budget { percent })
                .ok_or_else(|| format!("`{percent}` is not a percentage such as 90%"))
        }
        ["before", "end", d] => Ok(Trigger::BeforeEnd(duration(d)?)),
        ["at", t] => t
            .parse::<Timestamp>()
            .map(Trigger::At)
            .map_err(|_| format!("`{t}` is not a date-time with an offset")),
        _ => Err(TRIGGERS.to_owned()),
    }
}

/// `degrade <level>` · `failover regional|offline|auto|peer:<id>` · `pause uploads` ·
/// `resume uploads` · `rotate signing key` · `notify <text>`.
pub fn parse_step(text: &str, levels: &[DegradeLevel]) -> Result<RunbookStep, String> {
    let text = text.trim();
    let (verb, rest) =
        text.split_once(char::is_whitespace).map_or((text, ""), |(v, r)| (v, r.trim()));
    match (verb, rest) {
        ("degrade", level) if level == NORMAL || levels.iter().any(|l| l.name == level) => Ok(RunbookStep::Degrade(level.to_owned())),
        ("degrade", level) => {
            let known: Vec<&str> = std::iter::once(NORMAL).chain(levels.iter().map(|l| l.name.as_str())).collect();
            Err(format!("there is no degrade level `{level}` (the levels are {})", known.join(", ")))
        }
        ("failover", path) if crate::uplink::Route::from_path(path).is_some() => Ok(RunbookStep::Failover(path.to_owned())),
        ("failover", _) => Err("say failover regional, failover offline, failover auto or failover peer:<node id>".into()),
        ("pause", "uploads") => Ok(RunbookStep::PauseUploads),
        ("resume", "uploads") => Ok(RunbookStep::ResumeUploads),
        ("rotate", "signing key") => Ok(RunbookStep::RotateSigningKey),
        ("teardown", "") => Ok(RunbookStep::Teardown),
        ("origin", "fallback") => Ok(RunbookStep::Origin(true)),
        ("origin", "primary") => Ok(RunbookStep::Origin(false)),
        ("origin", _) => Err("say origin fallback or origin primary".into()),
        ("notify", message) if !message.is_empty() && message.chars().count() <= 200 && !message.chars().any(char::is_control) => {
            Ok(RunbookStep::Notify(message.to_owned()))
        }
        ("notify", _) => Err("say notify and a message of 1 to 200 characters".into()),
        _ => Err(
            "a step is degrade <level>, failover <path>, pause uploads, resume uploads, rotate signing key, notify <message> or teardown"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_read_as_an_ops_lead_writes_them_and_print_back_the_same() {
        for text in [
            "manual",
            "p99 over 800ms for 30s",
            "uplink down for 2m",
            "printer needs attention for 1m",
            "budget 90%",
            "before end 15m",
        ] {
            assert_eq!(parse_trigger(text).unwrap().to_string(), text);
        }
        assert_eq!(
            parse_trigger("p99  over 1s for 1m").unwrap(),
            Trigger::P99 { over: SignedDuration::from_secs(1), held: SignedDuration::from_mins(1) }
        );
        assert!(matches!(parse_trigger("at 2026-12-05T21:00:00+01:00"), Ok(Trigger::At(_))));
        for bad in [
            "",
            "p99 over fast for 30s",
            "budget ninety",
            "budget 0%",
            "uplink down",
            "printer needs attention",
            "p99 over 0s for 1s",
            "sometimes",
        ] {
            assert!(parse_trigger(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_name_only_levels_and_ways_that_exist() {
        let levels = [DegradeLevel { name: "reduced".into(), ..DegradeLevel::normal() }];
        assert_eq!(
            parse_step("degrade reduced", &levels),
            Ok(RunbookStep::Degrade("reduced".into()))
        );
        assert_eq!(
            parse_step("degrade normal", &levels),
            Ok(RunbookStep::Degrade("normal".into()))
        );
        assert!(parse_step("degrade panic", &levels).unwrap_err().contains("normal, reduced"));
        assert_eq!(
            parse_step("failover peer:abc", &levels),
            Ok(RunbookStep::Failover("peer:abc".into()))
        );
        assert!(parse_step("failover moon", &levels).is_err());
        assert_eq!(
            parse_step("notify  Doors close soon ", &levels),
            Ok(RunbookStep::Notify("Doors close soon".into()))
        );
        assert!(parse_step("notify", &levels).is_err());
        assert_eq!(parse_step("pause uploads", &levels), Ok(RunbookStep::PauseUploads));
        assert!(parse_step("rm -rf /", &levels).is_err());
        assert!(parse_step("origin sideways", &levels).is_err());
        for step in [
            "degrade reduced",
            "failover offline",
            "pause uploads",
            "resume uploads",
            "rotate signing key",
            "notify Hello",
            "origin fallback",
            "origin primary",
            "teardown",
        ] {
            assert_eq!(parse_step(step, &levels).unwrap().to_string(), step);
        }
    }
}
