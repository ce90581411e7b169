//! Drawing helpers shared by every chart: the embedded font, SVG and PNG
//! output, the palette and text styles.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use super::PlotError;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `area` (of [`Chart::size`]); the error is plotters' message.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;
    /// The SVG's `<title>`: what the chart is, in a line.
    fn title(&self) -> String;
    /// The SVG's `<desc>`: how to read it, for a screen reader or a reader
    /// of the file.
    fn desc(&self) -> String;
}

/// `text` with XML's five special characters escaped (for SVG and HTML).
pub(crate) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `svg` with `<title>` and `<desc>` as the first children of its root.
fn with_title(svg: &str, title: &str, desc: &str) -> String {
    let Some(start) = svg.find("<svg") else { return svg.to_string() };
    let Some(end) = svg[start..].find('>').map(|i| start + i + 1) else { return svg.to_string() };
    format!(
        "{}\n<title>{}</title>\n<desc>{}</desc>{}",
        &svg[..end],
        xml_escape(title),
        xml_escape(desc),
        &svg[end..]
    )
}

/// Turns a plotters error into the message a `PlotError` carries.
pub fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans parses; a failure here is a broken build, not user input.
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font does not parse"));
        register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans Bold font does not parse"));
    });
}

/// Writes `bytes` to `path` atomically (see [`crate::report::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::report::write_atomic(path, bytes).map_err(|(path, error)| PlotError::Io { path, error })
}

fn draw_err(path: &Path) -> impl FnOnce(String) -> PlotError + '_ {
    move |message| PlotError::Draw { path: path.to_path_buf(), message }
}

/// Draws `chart` as SVG into `path`; returns the path.
pub fn write_svg<C: Chart>(path: &Path, chart: &C) -> Result<PathBuf, PlotError> {
    fonts();
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        area.fill(&WHITE).map_err(de).map_err(draw_err(path))?;
        chart.draw(&area).map_err(draw_err(path))?;
        area.present().map_err(de).map_err(draw_err(path))?;
    }
    let svg = with_title(&svg, &chart.title(), &chart.desc());
    write_atomic(path, svg.as_bytes())?;
    Ok(path.to_path_buf())
}

/// Draws `chart` as an 8-bit RGB PNG into `path`; returns the path.
pub fn write_png<C: Chart>(path: &Path, chart: &C) -> Result<PathBuf, PlotError> {
    fonts();
    let (w, h) = chart.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = super::raster::Raster { inner: BitMapBackend::with_buffer(&mut rgb, (w, h)) };
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(de).map_err(draw_err(path))?;
        chart.draw(&area).map_err(draw_err(path))?;
        area.present().map_err(de).map_err(draw_err(path))?;
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(de).map_err(draw_err(path))?;
        writer.write_image_data(&rgb).map_err(de).map_err(draw_err(path))?;
    }
    write_atomic(path, &bytes)?;
    Ok(path.to_path_buf())
}

// Message modes and severity colours, chosen to stay apart for the
// colour-blind (Okabe–Ito).
/// Initialisation (`I`) messages.
pub const MODE_I: RGBColor = RGBColor(0, 114, 178);
/// Key-generation (`G`) messages.
pub const MODE_G: RGBColor = RGBColor(0, 158, 115);
/// Recovery (`R`) messages.
pub const MODE_R: RGBColor = RGBColor(204, 121, 167);
/// Key confirmations.
pub const CONFIRM: RGBColor = RGBColor(190, 190, 190);
/// The worst: an FK (or x) derived, a crash, a dropped message, compromise.
pub const DANGER: RGBColor = RGBColor(200, 30, 45);
/// An α derived, a leak.
pub const WARN: RGBColor = RGBColor(230, 159, 0);
/// A θ or SK derived.
pub const KEY: RGBColor = RGBColor(86, 60, 160);
/// Any other secret derived: v, γ, δ, shares, recovery values.
pub const MILD: RGBColor = RGBColor(240, 228, 66);
/// Subtitles, notes, axes and any other mode.
pub const GREY: RGBColor = RGBColor(120, 120, 120);
/// Backgrounds: empty cells, lifeline heads, epoch rules.
pub const LIGHT: RGBColor = RGBColor(238, 238, 238);

/// The colour of a message mode (`I`, `G`, `R`); grey for any other.
pub fn mode_color(mode: &str) -> RGBColor {
    match mode {
        "I" => MODE_I,
        "G" => MODE_G,
        "R" => MODE_R,
        _ => GREY,
    }
}

/// Text in the embedded font.
pub fn text(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&BLACK)
}

/// Bold text in the embedded font.
pub fn bold(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().style(FontStyle::Bold).color(&BLACK)
}

/// `style` anchored at its horizontal and vertical centre.
pub fn centred<'a>(style: TextStyle<'a>) -> TextStyle<'a> {
    style.pos(Pos::new(HPos::Center, VPos::Center))
}

/// `style` anchored at its right edge, vertically centred.
pub fn right<'a>(style: TextStyle<'a>) -> TextStyle<'a> {
    style.pos(Pos::new(HPos::Right, VPos::Center))
}

/// `style` anchored at its left edge, vertically centred.
pub fn left<'a>(style: TextStyle<'a>) -> TextStyle<'a> {
    style.pos(Pos::new(HPos::Left, VPos::Center))
}

/// A colour between white and `to` at fraction `f` in [0, 1].
pub fn shade(to: RGBColor, f: f64) -> RGBColor {
    let f = f.clamp(0.0, 1.0);
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * f).round() as u8;
    RGBColor(mix(to.0), mix(to.1), mix(to.2))
}

/// The charts with axes: f64 by f64.
pub type Axes<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws `pts` as a line with dots; a non-empty `label` goes in the legend.
pub fn line<'a, DB: DrawingBackend + 'a>(
    chart: &mut Axes<'a, DB>,
    pts: &[(f64, f64)],
    color: RGBColor,
    label: &str,
) -> Result<(), String> {
    line_marked(chart, pts, color, label, 0)
}

/// [`line`] with its points marked by shape `shape` (0 dots, 1 triangles,
/// 2 crosses, then again), so lines that run on top of each other can still
/// be told apart.
pub fn line_marked<'a, DB: DrawingBackend + 'a>(
    chart: &mut Axes<'a, DB>,
    pts: &[(f64, f64)],
    color: RGBColor,
    label: &str,
    shape: usize,
) -> Result<(), String> {
    let series = chart.draw_series(LineSeries::new(pts.to_vec(), color.stroke_width(2))).map_err(de)?;
    if !label.is_empty() {
        series
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    match shape % 3 {
        0 => chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(de)?,
        1 => chart.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 6, color.filled()))).map_err(de)?,
        _ => chart.draw_series(pts.iter().map(|&p| Cross::new(p, 6, color.stroke_width(2)))).map_err(de)?,
    };
    Ok(())
}

/// The legend box, at the upper left of the plotting area.
pub fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Axes<'a, DB>) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font(text(12.0))
        .draw()
        .map_err(de)
}
