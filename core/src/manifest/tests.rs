use super::*;

#[test]
fn the_demo_manifest_is_valid_and_believable() {
    let m = parse(DEMO_MANIFEST).unwrap_or_else(|p| panic!("{:?}", p.0));
    assert_eq!(m.event.currency.as_str(), "EUR");
    assert!((18..=25).contains(&m.catalogue.len()), "about 20 items, not {}", m.catalogue.len());
    assert!(m.promotions.len() >= 4);
    assert!(m.budgets.total.is_some());
    assert_eq!(
        m.uplink.origin,
        Some(Origin::DemoStorefront),
        "the demo caches its bundled storefront, no network needed"
    );
    assert!(m.assets.warm.iter().any(|w| w == "img/"), "the demo warms its product photos");
    assert_eq!(m.event.expires_at, m.event.starts_at + m.event.ttl);
    assert_eq!(m.event.logo.as_ref().map(|p| p.as_str()), Some("img/logo.svg"));
}

#[test]
fn the_logo_is_a_path_among_the_assets() {
    let text = demo_with("logo = \"img/logo.svg\"", "logo = \"../secrets/key.png\"");
    let found = problems(&text);
    assert!(found.iter().any(|(_, _, m)| m.contains("event.logo")), "{found:?}");
    let m = parse(&demo_with("logo = \"img/logo.svg\"\n", "")).unwrap();
    assert!(m.event.logo.is_none(), "a booth without a logo prints without one");
}

fn problems(text: &str) -> Vec<(usize, usize, String)> {
    parse(text)
        .expect_err("should be invalid")
        .0
        .into_iter()
        .map(|p| (p.line, p.column, p.message))
        .collect()
}

/// The demo with one line replaced.
fn demo_with(from: &str, to: &str) -> String {
    assert!(DEMO_MANIFEST.contains(from), "demo lacks {from}");
    DEMO_MANIFEST.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle present") + 1
}

#[test]
fn syntax_errors_point_at_the_line() {
    let text = demo_with("name = \"Stand 14 laptop\"", "name = \"Stand 14 laptop");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, line_of(&text, "Stand 14 laptop"));
}

#[test]
fn semantic_problems_point_at_the_value_and_all_are_reported() {
    let text = demo_with("price = 1400", "price = -5")
        .replacen("percent = 20", "percent = 120", 1)
        .replacen("currency = \"EUR\"", "currency = \"euro\"", 1)
        .replacen(
            "applies_to = { skus = [\"MUG-GLOW\", \"MUG-CLASSIC\"] }",
            "applies_to = { skus = [\"MUG-GLOW\", \"MUG-GOLD\"] }",
            1,
        );
    let p = problems(&text);
    let at = |needle: &str| {
        let line = line_of(&text, needle);
        p.iter()
            .find(|(l, _, _)| *l == line)
            .unwrap_or_else(|| panic!("no problem on line {line} ({needle}): {p:?}"))
            .clone()
    };
    let (_, col, msg) = at("price = -5");
    assert_eq!(col, "price = ".len() + 1, "column points at the value");
    assert!(msg.contains("price must be between 0"), "{msg}");
    assert!(at("percent = 120").2.contains("percent must be between 1 and 100"));
    assert!(at("currency = \"euro\"").2.contains("three-letter code"));
    assert!(at("MUG-GOLD").2.contains("`MUG-GOLD`, which is not in the catalogue"));
    assert_eq!(p.len(), 4, "{p:?}");
}

#[test]
fn unknown_keys_are_refused_with_their_position() {
    let text = demo_with("percent = 20", "percent = 20\npercnet = 5");
    let p = problems(&text);
    assert_eq!(p[0].0, line_of(&text, "percnet"));
    assert!(p[0].2.contains("unknown field `percnet`"), "{}", p[0].2);
}

#[test]
fn cross_references_and_duplicates_are_checked() {
    let text = demo_with("sku = \"MUG-CLASSIC\"", "sku = \"MUG-GLOW\"");
    assert!(problems(&text).iter().any(|(_, _, m)| m.contains("appears twice")));
    let text = demo_with("tiers = [\"member\"]", "tiers = [\"gold\"]");
    assert!(problems(&text).iter().any(|(_, _, m)| m.contains("tier `gold` is not declared")));
    let text = demo_with("id = \"mug-euro-off\"", "id = \"happy-hour-drinks\"");
    assert!(problems(&text).iter().any(|(_, _, m)| m.contains("used twice")));
}

#[test]
fn times_durations_and_windows_are_checked() {
    let p = problems(&demo_with(
        "ends_at = 2027-12-31T22:00:00+01:00",
        "ends_at = 2025-12-31T22:00:00+01:00",
    ));
    assert!(p.iter().any(|(_, _, m)| m.contains("ends_at must be after")), "{p:?}");
    let p = problems(&demo_with("ttl = \"800d\"", "ttl = \"forever\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("not a duration")), "{p:?}");
    let p = problems(&demo_with("timezone = \"Europe/Berlin\"", "timezone = \"Mars/Olympus\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("not a known time zone")), "{p:?}");
    let p = problems(&demo_with("from = \"16:00\"", "from = \"25:00\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("not a time of day")), "{p:?}");
    let p = problems(&demo_with("days = [\"daily\"]", "days = [\"someday\"]"));
    assert!(p.iter().any(|(_, _, m)| m.contains("is not a day")), "{p:?}");
    let p = problems(&demo_with(
        "starts_at = 2026-01-01T09:00:00+01:00",
        "starts_at = \"next tuesday\"",
    ));
    assert!(p.iter().any(|(_, _, m)| m.contains("must be a date-time")), "{p:?}");
}

#[test]
fn durations_accept_units_up_to_days() {
    use jiff::SignedDuration;
    assert_eq!(parse::parse_duration("90s"), Some(SignedDuration::from_secs(90)));
    assert_eq!(parse::parse_duration("3d 12h"), Some(SignedDuration::from_hours(84)));
    assert_eq!(parse::parse_duration("5m"), Some(SignedDuration::from_mins(5)));
    for bad in ["", "5", "m", "5x", "-5m", "99999999999999999999d"] {
        assert_eq!(parse::parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn pairing_key_must_be_long_and_is_never_printed() {
    let p = problems(&demo_with(
        "key = \"demo-only-pairing-key-change-me-0123456789abcdef\"",
        "key = \"short\"",
    ));
    assert!(p.iter().any(|(_, _, m)| m.contains("pairing.key must be 32")));
    let m = parse(DEMO_MANIFEST).unwrap();
    assert!(!format!("{:?}", m.pairing).contains("demo-only"));
}

#[test]
fn oversize_manifests_are_refused() {
    let text = format!("{DEMO_MANIFEST}\n#{}", "x".repeat(MAX_MANIFEST_BYTES));
    assert!(problems(&text)[0].2.contains("larger than"));
}

#[test]
fn media_presets_are_checked_where_they_are_written() {
    let m = parse(DEMO_MANIFEST).unwrap();
    assert_eq!(m.media.preset("720p").and_then(|p| p.degraded.as_deref()), Some("480p"));
    assert!(!m.media.preset("poster").unwrap().essential);

    let text = demo_with("degraded = \"480p\"", "degraded = \"360p\"");
    let p = problems(&text);
    assert!(
        p.iter().any(|(_, _, m)| m.contains("degrades to `360p`, which is not a preset")),
        "{p:?}"
    );

    let text = demo_with("forward = false", "forward = true").replacen(
        "upstream = \"https://hub.harbour-lights.example/api/v1/\"\n",
        "",
        1,
    );
    let p = problems(&text);
    assert!(
        p.iter().any(|(line, _, m)| m.contains("media.forward needs uplink.upstream")
            && *line == line_of(&text, "forward = true")),
        "{p:?}"
    );

    let p = problems(&demo_with("heartbeat_every = \"15s\"", "heartbeat_every = \"50ms\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("degrade.heartbeat_every")), "{p:?}");
    let m = parse(&demo_with("heartbeat_every = \"15s\"", "heartbeat_every = \"20s\"")).unwrap();
    assert_eq!(m.level("reduced").unwrap().fleet_every, Some(SignedDuration::from_secs(15)));
    let p = problems(&demo_with("fleet_every = \"15s\"", "fleet_every = \"10ms\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("degrade.fleet_every")), "{p:?}");
    assert_eq!(
        m.level("reduced").unwrap().heartbeat_every,
        Some(jiff::SignedDuration::from_secs(20))
    );

    let text = demo_with("forward = false", "forward = true");
    let p = problems(&text);
    assert!(
        p.iter().any(|(line, _, m)| m.contains("media.forward needs media.forward_token")
            && *line == line_of(&text, "forward = true")),
        "{p:?}"
    );
    let p = problems(&demo_with(
        "forward = false",
        "forward = true\nforward_token = \"the-hub-credential\"",
    ));
    assert!(p.iter().any(|(_, _, m)| m.contains("it starts with bcu_")), "{p:?}");
    assert!(
        parse(&demo_with("forward = false", "forward = true\nforward_token = \"bcu_x\"")).is_ok()
    );

    let p = problems(&demo_with("format = \"jpeg\"", "format = \"gif\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("`mp4` or `jpeg`")), "{p:?}");
    let p = problems(&demo_with("speed = \"veryfast\"", "speed = \"warp\""));
    assert!(p.iter().any(|(_, _, m)| m.contains("speed `warp`")), "{p:?}");
    let p = problems(&demo_with("degraded_transcodes = 1", "degraded_transcodes = 3"));
    assert!(
        p.iter().any(|(_, _, m)| m.contains("media.degraded_transcodes must be between 1 and 2")),
        "{p:?}"
    );
}

#[test]
fn a_fallback_step_needs_a_fallback_origin_in_the_manifest() {
    let text = format!("{DEMO_MANIFEST}\n[[runbooks]]\nname = \"mirror\"\ntrigger = \"manual\"\nsteps = [\"origin fallback\"]\n");
    let problems = parse(&text).unwrap_err();
    assert!(
        problems.0.iter().any(|p| p.message.contains("set [uplink] fallback_origin first")),
        "{problems:?}"
    );
}

#[test]
fn tls_settings_and_peer_fingerprints_are_checked() {
    let demo = parse(DEMO_MANIFEST).unwrap();
    assert!(demo.node.shop_on_http, "the shop is open on plain HTTP by default");
    assert_eq!(demo.node.certificate, None);

    let fp = "AB:".repeat(31) + "AB";
    let text = demo_with(
        "peers = []",
        &format!(
            "peers = [{{ name = \"Hall B\", url = \"https://10.2.0.5:8787/\", ca = \"{fp}\" }}]"
        ),
    );
    let m = parse(&text).unwrap_or_else(|p| panic!("{:?}", p.0));
    assert_eq!(m.pairing.peers[0].ca.as_deref(), Some("ab".repeat(32).as_str()));

    let text =
        demo_with("peers = []", "peers = [{ name = \"Hall B\", url = \"http://10.2.0.5:8787/\" }]");
    let found = problems(&text);
    assert!(found.iter().any(|p| p.2.contains("must be https://")), "{found:?}");

    let text = demo_with(
        "peers = []",
        "peers = [{ name = \"Hall B\", url = \"https://10.2.0.5:8787/\", ca = \"abc\" }]",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.contains("64 hex digits"), "{found:?}");

    let text = demo_with(
        "name = \"Stand 14 laptop\"",
        "name = \"Stand 14 laptop\"\ncertificate = \"relative.pem\"\nshop_on_http = false",
    );
    let found = problems(&text);
    assert!(found.iter().any(|p| p.2.contains("go together")), "{found:?}");
    let text = demo_with(
        "name = \"Stand 14 laptop\"",
        "name = \"Stand 14 laptop\"\ncertificate = \"relative.pem\"\ncertificate_key = \"/etc/k.pem\"",
    );
    let found = problems(&text);
    assert!(found.iter().any(|p| p.2.contains("absolute path")), "{found:?}");
    let text = demo_with(
        "name = \"Stand 14 laptop\"",
        "name = \"Stand 14 laptop\"\ncertificate = \"/etc/c.pem\"\ncertificate_key = \"/etc/k.pem\"\nshop_on_http = false",
    );
    let m = parse(&text).unwrap_or_else(|p| panic!("{:?}", p.0));
    assert!(!m.node.shop_on_http);
    assert_eq!(m.node.certificate.unwrap().0, std::path::PathBuf::from("/etc/c.pem"));
}
