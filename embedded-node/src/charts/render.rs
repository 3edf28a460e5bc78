//! Drawing the charts: plotters into SVG, in the dashboard's colours, with thick lines
//! and large type so they read at tile size on a touchscreen in daylight. The same SVG
//! becomes a PNG through resvg for the post-event report.

use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::{tiny_skia, usvg};

use super::history::{Point, RoutePoint};
use super::ChartError;

/// Colours of the dashboard (`ui/src/styles.css`), light or dark.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    bg: RGBColor,
    text: RGBColor,
    muted: RGBColor,
    line: RGBColor,
    good: RGBColor,
    warn: RGBColor,
    bad: RGBColor,
    series: [RGBColor; 5],
}

impl Theme {
    pub fn light() -> Theme {
        Theme {
            bg: RGBColor(0xf2, 0xf4, 0xf7),
            text: RGBColor(0x0a, 0x0a, 0x0a),
            muted: RGBColor(0x3d, 0x44, 0x50),
            line: RGBColor(0x9a, 0xa3, 0xad),
            good: RGBColor(0x0b, 0x6e, 0x3d),
            warn: RGBColor(0x8a, 0x5a, 0x00),
            bad: RGBColor(0xb3, 0x26, 0x1e),
            series: [
                RGBColor(0x00, 0x50, 0xd0),
                RGBColor(0xb3, 0x26, 0x1e),
                RGBColor(0x0b, 0x6e, 0x3d),
                RGBColor(0x6a, 0x1b, 0x9a),
                RGBColor(0x8a, 0x5a, 0x00),
            ],
        }
    }

    pub fn dark() -> Theme {
        Theme {
            bg: RGBColor(0x1a, 0x1e, 0x24),
            text: RGBColor(0xf5, 0xf7, 0xfa),
            muted: RGBColor(0xc2, 0xc9, 0xd2),
            line: RGBColor(0x56, 0x60, 0x6c),
            good: RGBColor(0x1f, 0x9d, 0x5a),
            warn: RGBColor(0xc6, 0x8a, 0x12),
            bad: RGBColor(0xe5, 0x48, 0x4d),
            series: [
                RGBColor(0x7f, 0xb2, 0xff),
                RGBColor(0xff, 0x8a, 0x80),
                RGBColor(0x5f, 0xd3, 0x8d),
                RGBColor(0xd0, 0xa0, 0xff),
                RGBColor(0xf0, 0xc0, 0x60),
            ],
        }
    }
}

/// Width and height in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// Type size that stays legible: never under 16 px.
    fn font(&self) -> u32 {
        (self.height / 16).clamp(16, 30)
    }
}

/// How the time axis is labelled: clock time in the event's time zone.
pub struct Axis<'a> {
    pub tz: &'a TimeZone,
}

impl Axis<'_> {
    fn label(&self, at: i64, span_s: i64) -> String {
        let Ok(t) = Timestamp::from_second(at) else { return String::new() };
        let z = t.to_zoned(self.tz.clone());
        if span_s > 2 * 86_400 {
            z.strftime("%a %H:%M").to_string()
        } else {
            z.strftime("%H:%M").to_string()
        }
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

/// A frame: background, caption, and the "no figures yet" note when there is nothing.
fn frame(
    root: &Area<'_>,
    theme: &Theme,
    size: Size,
    empty: Option<&str>,
) -> Result<(), ChartError> {
    root.fill(&theme.bg).map_err(draw_err)?;
    if let Some(note) = empty {
        let style = ("sans-serif", size.font())
            .into_font()
            .color(&theme.muted)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            note.to_owned(),
            (size.width as i32 / 2, size.height as i32 / 2),
            style,
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// Decimals that keep a four-step axis up to `y_max` from repeating a label.
fn decimals_for(y_max: f64) -> usize {
    let step = y_max / 4.0;
    if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    }
}

/// Runs of consecutive points where `value` has a figure: a gap breaks the line.
fn runs(points: &[Point], value: impl Fn(&Point) -> Option<f64>) -> Vec<Vec<(i64, f64)>> {
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for p in points {
        match value(p) {
            Some(v) => current.push((p.at, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether `run` makes a line: a single point — or the same point twice, as when the
/// sampler and the chart's own "now" fall in one second — is drawn as a dot instead (a
/// one-point polyline makes the SVG parser warn, and a zero-length one the PNG stroker).
fn is_line(run: &[(i64, f64)]) -> bool {
    run.iter().any(|p| *p != run[0])
}

fn x_range(points: &[i64], min_span: i64) -> (i64, i64) {
    let last = points.iter().copied().max().unwrap_or(0);
    let first = points.iter().copied().min().unwrap_or(last).min(last - min_span);
    (first, last.max(first + 1))
}

/// p95 (solid) and p99 (dashed) of the busiest routes, with the targets as lines.
pub fn latency(
    points: &[Point],
    targets_ms: (u32, u32),
    axis: &Axis<'_>,
    theme: &Theme,
    size: Size,
) -> Result<String, ChartError> {
    // The routes drawn: the busiest at the latest point first, at most five.
    let mut names: Vec<String> = Vec::new();
    for p in points.iter().rev() {
        for r in &p.routes {
            if names.len() < 5 && !names.contains(&r.route) {
                names.push(r.route.clone());
            }
        }
    }
    let find = |p: &Point, name: &str| -> Option<RoutePoint> {
        p.routes.iter().find(|r| r.route == name).cloned()
    };
    let top = points.iter().flat_map(|p| p.routes.iter().map(|r| r.p99_ms)).fold(0.0_f64, f64::max);
    // Scaled to the figures, not the targets: a target far above them is named in the
    // title instead of flattening every line against the axis.
    let y_max = (top * 1.25).max(1.0);
    let off_scale: Vec<String> = [("p95", targets_ms.0), ("p99", targets_ms.1)]
        .iter()
        .filter(|(_, ms)| f64::from(*ms) > y_max)
        .map(|(p, ms)| format!("{p} {ms} ms"))
        .collect();
    let title = if off_scale.is_empty() {
        "Latency, last minute: p95 solid, p99 dashed".to_owned()
    } else {
        format!("Latency (p95 solid, p99 dashed); targets {}", off_scale.join(", "))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        let empty = names.is_empty().then_some("No customer requests yet");
        frame(&root, theme, size, empty)?;
        if empty.is_none() {
            let (x0, x1) = x_range(&points.iter().map(|p| p.at).collect::<Vec<_>>(), 300);
            let mut chart = chart(&root, theme, size, &title, x0..x1, 0.0..y_max)?;
            let decimals = decimals_for(y_max);
            mesh(&mut chart, axis, theme, size, x1 - x0, &|v| format!("{v:.decimals$} ms"))?;
            for (ms, label) in [(targets_ms.0, "p95 target"), (targets_ms.1, "p99 target")] {
                if f64::from(ms) <= y_max {
                    let style = theme.warn.stroke_width(2);
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(x0, f64::from(ms)), (x1, f64::from(ms))],
                            4,
                            6,
                            style,
                        ))
                        .map_err(draw_err)?
                        .label(format!("{label} {ms} ms"))
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
                }
            }
            for (i, name) in names.iter().enumerate() {
                let colour = theme.series[i % theme.series.len()];
                for run in runs(points, |p| find(p, name).map(|r| r.p95_ms))
                    .into_iter()
                    .filter(|r| is_line(r))
                {
                    chart
                        .draw_series(LineSeries::new(run, colour.stroke_width(4)))
                        .map_err(draw_err)?;
                }
                // Dots too, so that a lone point (a route just seen) still shows; they
                // carry the legend, as every route listed has at least one.
                let dots = points.iter().filter_map(|p| {
                    find(p, name).map(|r| Circle::new((p.at, r.p95_ms), 4, colour.filled()))
                });
                chart.draw_series(dots).map_err(draw_err)?.label(name.clone()).legend(
                    move |(x, y)| PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(4)),
                );
                for run in runs(points, |p| find(p, name).map(|r| r.p99_ms))
                    .into_iter()
                    .filter(|r| is_line(r))
                {
                    chart
                        .draw_series(DashedLineSeries::new(run, 10, 6, colour.stroke_width(2)))
                        .map_err(draw_err)?;
                }
            }
            legend(&mut chart, theme, size)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Share of asset requests served without the origin, per minute.
pub fn hit_ratio(
    points: &[Point],
    axis: &Axis<'_>,
    theme: &Theme,
    size: Size,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        let series = runs(points, |p| p.hit_ratio.map(|r| r * 100.0));
        let empty = series.is_empty().then_some("No asset requests yet");
        frame(&root, theme, size, empty)?;
        if empty.is_none() {
            let (x0, x1) = x_range(&points.iter().map(|p| p.at).collect::<Vec<_>>(), 300);
            let low = series.iter().flatten().map(|(_, v)| *v).fold(100.0_f64, f64::min);
            let y0 = if low >= 90.0 { 90.0 } else { 0.0 };
            let mut chart =
                chart(&root, theme, size, "Cache hit ratio, last minute", x0..x1, y0..100.5)?;
            mesh(&mut chart, axis, theme, size, x1 - x0, &|v| format!("{v:.0}%"))?;
            for run in series {
                if is_line(&run) {
                    chart
                        .draw_series(LineSeries::new(run, theme.good.stroke_width(4)))
                        .map_err(draw_err)?;
                } else {
                    chart
                        .draw_series(
                            run.into_iter().map(|p| Circle::new(p, 5, theme.good.filled())),
                        )
                        .map_err(draw_err)?;
                }
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Transcode minutes so far (line) and transcodes running (steps), per point.
pub fn transcodes(
    points: &[Point],
    axis: &Axis<'_>,
    theme: &Theme,
    size: Size,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        let empty = points.is_empty().then_some("No figures yet");
        frame(&root, theme, size, empty)?;
        if empty.is_none() {
            let (x0, x1) = x_range(&points.iter().map(|p| p.at).collect::<Vec<_>>(), 300);
            let top = points
                .iter()
                .map(|p| p.transcode_minutes.max(p.transcodes_running as f64))
                .fold(0.0_f64, f64::max);
            let mut chart = chart(
                &root,
                theme,
                size,
                "Transcode minutes (line) and running now (bars)",
                x0..x1,
                0.0..(top * 1.15).max(5.0),
            )?;
            mesh(&mut chart, axis, theme, size, x1 - x0, &|v| format!("{v:.0}"))?;
            let bar = theme.series[0].mix(0.35).filled();
            chart
                .draw_series(points.iter().filter(|p| p.transcodes_running > 0).map(|p| {
                    Rectangle::new([(p.at - 4, 0.0), (p.at + 4, p.transcodes_running as f64)], bar)
                }))
                .map_err(draw_err)?;
            let line: Vec<(i64, f64)> =
                points.iter().map(|p| (p.at, p.transcode_minutes)).collect();
            if is_line(&line) {
                chart
                    .draw_series(LineSeries::new(line, theme.series[0].stroke_width(4)))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(
                        line.into_iter().map(|p| Circle::new(p, 5, theme.series[0].filled())),
                    )
                    .map_err(draw_err)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// What the spend chart needs: samples (Unix seconds, minor units), the budget, and
/// the projection to the event's end.
pub struct SpendSeries<'a> {
    pub samples: &'a [(i64, f64)],
    pub budget: Option<f64>,
    /// (now, spent now) to (event end, projected spend), when a burn rate is known.
    pub projection: Option<((i64, f64), (i64, f64))>,
    pub currency: &'a str,
    /// Minor units per major unit (100 for EUR).
    pub minor_per_major: f64,
}

/// Spend against the budget, with the projection line to the event's end. When the end
/// is far off the chart stops at a horizon and the line shows where it is heading.
pub fn spend(
    s: &SpendSeries<'_>,
    axis: &Axis<'_>,
    theme: &Theme,
    size: Size,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size.width, size.height)).into_drawing_area();
        let empty = s.samples.is_empty().then_some("No spend recorded yet");
        frame(&root, theme, size, empty)?;
        if empty.is_none() {
            let first = s.samples.first().map_or(0, |p| p.0);
            let now = s.samples.last().map_or(0, |p| p.0);
            // Horizon: the event's end, but never more than the time seen so far again (6 h at least).
            let horizon = s
                .projection
                .map_or(now, |(_, (end, _))| end.min(now + (now - first).max(6 * 3_600)));
            let (x0, x1) = (first.min(now - 300), horizon.max(now + 60));
            let projection = s.projection.map(|((t0, v0), (t1, v1))| {
                let slope = if t1 > t0 { (v1 - v0) / (t1 - t0) as f64 } else { 0.0 };
                ((t0, v0), (x1, v0 + slope * (x1 - t0) as f64))
            });
            let major = |v: f64| v / s.minor_per_major;
            let top = s
                .samples
                .iter()
                .map(|p| p.1)
                .chain(s.budget)
                .chain(projection.map(|(_, (_, v))| v))
                .fold(0.0_f64, f64::max);
            // Scaled to what was spent and where it heads; a budget far above both is
            // named in the title rather than flattening the line against the axis.
            let seen = s
                .samples
                .iter()
                .map(|p| p.1)
                .chain(projection.map(|(_, (_, v))| v))
                .fold(0.0_f64, f64::max);
            let budget_on_scale = s.budget.filter(|b| *b <= seen * 4.0);
            let top = if budget_on_scale.is_some() { top } else { seen };
            let y_max = major(top * 1.2).max(0.01);
            let title = match (s.budget, budget_on_scale) {
                (Some(b), None) => {
                    format!("Spend ({}); the budget of {:.2} is far above", s.currency, major(b))
                }
                _ => format!("Spend against budget ({})", s.currency),
            };
            let mut chart = chart(&root, theme, size, &title, x0..x1, 0.0..y_max)?;
            let decimals = decimals_for(y_max);
            mesh(&mut chart, axis, theme, size, x1 - x0, &|v| format!("{v:.decimals$}"))?;
            if let Some(b) = budget_on_scale {
                let style = theme.bad.stroke_width(3);
                chart
                    .draw_series(LineSeries::new([(x0, major(b)), (x1, major(b))], style))
                    .map_err(draw_err)?
                    .label(format!("budget {:.2}", major(b)))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
            }
            let line = theme.series[0].stroke_width(4);
            chart
                .draw_series(
                    AreaSeries::new(
                        s.samples.iter().map(|(t, v)| (*t, major(*v))),
                        0.0,
                        theme.series[0].mix(0.18),
                    )
                    .border_style(line),
                )
                .map_err(draw_err)?
                .label("spent")
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], line));
            if let Some(((t0, v0), (t1, v1))) = projection {
                let style = theme.warn.stroke_width(3);
                chart
                    .draw_series(DashedLineSeries::new(
                        [(t0, major(v0)), (t1, major(v1))],
                        10,
                        8,
                        style,
                    ))
                    .map_err(draw_err)?
                    .label("at this rate")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
            }
            legend(&mut chart, theme, size)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

type TimeAxis = plotters::coord::combinators::WithKeyPoints<plotters::coord::types::RangedCoordi64>;
type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<TimeAxis, plotters::coord::types::RangedCoordf64>>;

/// Round clock times for the time axis: at most `max` of them, on a step of whole
/// minutes, hours or days.
pub fn ticks(x0: i64, x1: i64, max: usize) -> Vec<i64> {
    const STEPS: [i64; 14] = [
        60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800,
        604_800,
    ];
    let span = (x1 - x0).max(1);
    let max = max.max(2) as i64;
    let step = STEPS.iter().copied().find(|s| span / s < max).unwrap_or(span / max + 1);
    let first = x0.div_euclid(step) * step + if x0.rem_euclid(step) == 0 { 0 } else { step };
    (0..).map(|i| first + i * step).take_while(|t| *t <= x1).collect()
}

fn chart<'a, 'b>(
    root: &'a Area<'b>,
    theme: &Theme,
    size: Size,
    title: &str,
    x: std::ops::Range<i64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, 'b>, ChartError> {
    let font = size.font();
    let labels = ((size.width / (font * 6)) as usize).clamp(2, 8);
    let x = (x.start..x.end).with_key_points(ticks(x.start, x.end, labels));
    ChartBuilder::on(root)
        .margin(font / 2 + 4)
        .caption(
            title,
            ("sans-serif", font + 2).into_font().style(FontStyle::Bold).color(&theme.text),
        )
        .x_label_area_size(font * 2)
        .y_label_area_size(font * 4)
        .build_cartesian_2d(x, y)
        .map_err(draw_err)
}

fn mesh(
    chart: &mut Chart<'_, '_>,
    axis: &Axis<'_>,
    theme: &Theme,
    size: Size,
    span_s: i64,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<(), ChartError> {
    let font = size.font();
    let x_label = |x: &i64| axis.label(*x, span_s);
    chart
        .configure_mesh()
        .y_labels(((size.height / (font * 3)) as usize).clamp(2, 6))
        .x_label_formatter(&x_label)
        .y_label_formatter(y_label)
        .label_style(("sans-serif", font).into_font().color(&theme.muted))
        .axis_style(theme.line.stroke_width(2))
        .bold_line_style(theme.line.mix(0.45).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .draw()
        .map_err(draw_err)
}

fn legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    theme: &Theme,
    size: Size,
) -> Result<(), ChartError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(theme.bg.mix(0.9))
        .border_style(theme.line)
        .label_font(("sans-serif", size.font() - 2).into_font().color(&theme.text))
        .draw()
        .map_err(draw_err)
}

/// The SVG as a PNG, drawn with `fonts` (the system's, loaded once by the caller).
pub fn to_png(svg: &str, fonts: Arc<usvg::fontdb::Database>) -> Result<Vec<u8>, ChartError> {
    let options = usvg::Options { fontdb: fonts, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| ChartError::Png(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ChartError::Png("empty chart".into()))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| ChartError::Png(e.to_string()))
}

/// The system's fonts, with a sans-serif face that exists here.
pub fn load_fonts() -> usvg::fontdb::Database {
    let mut db = usvg::fontdb::Database::new();
    db.load_system_fonts();
    let preferred = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Cantarell"];
    let family = preferred
        .iter()
        .find(|want| db.faces().any(|f| f.families.iter().any(|(name, _)| name == *want)))
        .map(|s| s.to_string())
        .or_else(|| db.faces().next().and_then(|f| f.families.first().map(|(n, _)| n.clone())));
    if let Some(family) = family {
        db.set_sans_serif_family(family);
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_point_is_drawn_as_a_dot_not_a_line() {
        let one = &points()[..1];
        // At start the sampler's first point and the chart's "now" share one second.
        let twice = [points()[0].clone(), points()[0].clone()];
        let axis = Axis { tz: &jiff::tz::TimeZone::UTC };
        let size = Size { width: 640, height: 320 };
        for svg in [one, &twice[..]].into_iter().flat_map(|pts| {
            [
                transcodes(pts, &axis, &Theme::light(), size).unwrap(),
                hit_ratio(pts, &axis, &Theme::light(), size).unwrap(),
                latency(pts, (250, 1000), &axis, &Theme::light(), size).unwrap(),
            ]
        }) {
            for polyline in svg.split("<polyline").skip(1) {
                let pts: Vec<&str> = polyline
                    .split("points=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect();
                assert!(
                    pts.len() >= 2 && pts.iter().any(|p| *p != pts[0]),
                    "a polyline of one point, or of no length: {pts:?}"
                );
            }
            assert!(svg.contains("<circle"), "the lone point is shown");
        }
    }

    fn points() -> Vec<Point> {
        (0..60)
            .map(|i| Point {
                at: 1_781_000_000 + i * 10,
                routes: vec![
                    RoutePoint {
                        route: "POST /api/v1/orders".into(),
                        p95_ms: 12.0 + i as f64,
                        p99_ms: 30.0 + i as f64,
                    },
                    RoutePoint { route: "GET /assets/{*path}".into(), p95_ms: 2.0, p99_ms: 5.0 },
                ],
                hit_ratio: (i % 20 != 5).then_some(0.97),
                transcode_minutes: i as f64 * 0.5,
                transcodes_running: (i % 3) as u64,
            })
            .collect()
    }

    fn tz() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn charts_are_svg_with_their_series_and_labels() {
        let tz = tz();
        let axis = Axis { tz: &tz };
        let size = Size { width: 800, height: 360 };
        let svg = latency(&points(), (50, 1000), &axis, &Theme::light(), size).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(
            svg.contains("POST /api/v1/orders") && svg.contains("p95 target 50 ms"),
            "a target in range is a line"
        );
        assert!(
            svg.contains("targets p99 1000 ms"),
            "a target off the scale is named in the title"
        );
        assert!(
            svg.contains("#0050D0") || svg.contains("#0050d0"),
            "the light theme's first series colour"
        );
        let dark = latency(&points(), (250, 1000), &axis, &Theme::dark(), size).unwrap();
        assert!(dark.to_ascii_lowercase().contains("#1a1e24"), "the dark panel colour");
        assert!(hit_ratio(&points(), &axis, &Theme::light(), size)
            .unwrap()
            .contains("Cache hit ratio"));
        assert!(transcodes(&points(), &axis, &Theme::light(), size)
            .unwrap()
            .contains("Transcode minutes"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let tz = tz();
        let svg = latency(
            &[],
            (250, 1000),
            &Axis { tz: &tz },
            &Theme::light(),
            Size { width: 400, height: 200 },
        )
        .unwrap();
        assert!(svg.contains("No customer requests yet"));
    }

    #[test]
    fn the_spend_chart_draws_budget_and_projection_and_becomes_a_png() {
        let tz = tz();
        let samples: Vec<(i64, f64)> =
            (0..30).map(|i| (1_781_000_000 + i * 60, i as f64 * 100.0)).collect();
        let s = SpendSeries {
            samples: &samples,
            budget: Some(15_000.0),
            projection: Some(((1_781_001_740, 2_900.0), (1_781_020_000, 20_000.0))),
            currency: "EUR",
            minor_per_major: 100.0,
        };
        let svg = spend(&s, &Axis { tz: &tz }, &Theme::light(), Size { width: 800, height: 360 })
            .unwrap();
        assert!(svg.contains("budget 150.00") && svg.contains("at this rate"), "{svg}");
        let png = to_png(&svg, Arc::new(load_fonts())).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(png.len() > 5_000, "a real picture, {} bytes", png.len());
    }

    #[test]
    fn time_ticks_fall_on_round_clock_times() {
        // 10:03:20 to 10:58:00 in six labels or fewer: every 10 minutes from 10:10.
        let t0 = 1_781_000_000 - 1_781_000_000 % 3_600 + 200;
        let t = ticks(t0, t0 + 3_280, 6);
        assert_eq!(t.len(), 5, "{t:?}");
        assert!(t.iter().all(|x| x % 600 == 0));
        assert_eq!(t[0] - t0, 400);
        // A week in four labels: days... or two days apart.
        let week = ticks(0, 7 * 86_400, 4);
        assert!(week.len() <= 4 && week.iter().all(|x| x % 86_400 == 0), "{week:?}");
    }

    #[test]
    fn axis_labels_have_enough_decimals_to_differ() {
        assert_eq!(decimals_for(150.0), 0);
        assert_eq!(decimals_for(4.0), 0);
        assert_eq!(decimals_for(2.0), 1);
        assert_eq!(decimals_for(0.012), 3);
    }

    #[test]
    fn gaps_break_a_line() {
        let p = points();
        let r = runs(&p, |p| p.hit_ratio);
        assert_eq!(r.len(), 4, "three gaps (i = 5, 25, 45) make four runs");
    }
}
