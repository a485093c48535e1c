// Where plots and captions are drawn: a Cairo raster (the PNGs) or SVG markup (the vector
// copy beside each PNG, whose text stays text). One set of drawing commands serves both,
// so the two pictures cannot disagree; Cairo measures text for both (DejaVu Sans).
import CCairo
import Foundation

/// An RGB colour, components in [0, 1].
public struct Color: Sendable, Equatable {
    public var red: Double, green: Double, blue: Double
    public init(_ red: Double, _ green: Double, _ blue: Double) { (self.red, self.green, self.blue) = (red, green, blue) }
    /// `0xRRGGBB`.
    public init(hex: Int) { self.init(Double(hex >> 16 & 255) / 255, Double(hex >> 8 & 255) / 255, Double(hex & 255) / 255) }

    public static let text = Color(hex: 0x222222)
    public static let axis = Color(hex: 0x555555)
    public static let grid = Color(hex: 0xE3E3E3)
    public static let white = Color(1, 1, 1)
    /// Series colours (matplotlib's "tab10"), in order.
    public static let series = [0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F].map { Color(hex: $0) }

    var svg: String { String(format: "#%02x%02x%02x", Int(red * 255 + 0.5), Int(green * 255 + 0.5), Int(blue * 255 + 0.5)) }
}

/// How text sits on its anchor point: its start, middle or end there (baseline at y).
public enum TextAnchor: String, Sendable { case start, middle, end }

/// The drawing commands of a plot or caption, in pixels from the top left.
public protocol Canvas: AnyObject {
    func fill(x: Double, y: Double, width: Double, height: Double, _ color: Color, alpha: Double)
    func stroke(x: Double, y: Double, width: Double, height: Double, _ color: Color, lineWidth: Double)
    func polyline(_ points: [(x: Double, y: Double)], _ color: Color, lineWidth: Double, alpha: Double)
    /// `text` of `size` pixels, its baseline at y; `rotated` turns it a quarter left (a y-axis title).
    func text(_ text: String, x: Double, y: Double, size: Double, anchor: TextAnchor, _ color: Color, bold: Bool, rotated: Bool)
}

/// The font every picture uses (Debian's fonts-dejavu-core).
let fontFamily = "DejaVu Sans"

/// How wide `text` is at `size` pixels: the layout of both canvases uses it.
public func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
    let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1)
    let cr = cairo_create(surface)
    defer {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }
    cairo_select_font_face(cr, fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, size)
    var extents = cairo_text_extents_t()
    cairo_text_extents(cr, text, &extents)
    return extents.x_advance
}

/// An RGB raster drawn by Cairo.
public final class Raster: Canvas {
    public let width: Int, height: Int
    private let surface: OpaquePointer
    private let cr: OpaquePointer

    /// A raster of `background`.
    public init(width: Int, height: Int, background: Color = .white) {
        (self.width, self.height) = (width, height)
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        cr = cairo_create(surface)
        fill(x: 0, y: 0, width: Double(width), height: Double(height), background, alpha: 1)
    }

    /// A raster holding `rgb` (rows of `width` RGB pixels) at (x, y), on `background`.
    public convenience init(width: Int, height: Int, background: Color = .white, placing rgb: [UInt8], width w: Int, at x: Int, _ y: Int) {
        self.init(width: width, height: height, background: background)
        cairo_surface_flush(surface)
        let data = cairo_image_surface_get_data(surface)!
        let stride = Int(cairo_image_surface_get_stride(surface))
        let h = rgb.count / max(w * 3, 1)
        for row in 0..<h where row + y < height {
            for column in 0..<w where column + x < width {
                let source = (row * w + column) * 3
                // RGB24 is a native-endian 32-bit xRGB word: B, G, R, x in memory here.
                let target = (row + y) * stride + (column + x) * 4
                (data[target], data[target + 1], data[target + 2]) = (rgb[source + 2], rgb[source + 1], rgb[source])
            }
        }
        cairo_surface_mark_dirty(surface)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// The pixels, RGB by rows.
    public var rgb: [UInt8] {
        cairo_surface_flush(surface)
        let data = cairo_image_surface_get_data(surface)!
        let stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<height {
            for column in 0..<width {
                let source = row * stride + column * 4, target = (row * width + column) * 3
                (pixels[target], pixels[target + 1], pixels[target + 2]) = (data[source + 2], data[source + 1], data[source])
            }
        }
        return pixels
    }

    private func setColor(_ color: Color, alpha: Double = 1) {
        cairo_set_source_rgba(cr, color.red, color.green, color.blue, alpha)
    }

    public func fill(x: Double, y: Double, width: Double, height: Double, _ color: Color, alpha: Double) {
        setColor(color, alpha: alpha)
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }

    public func stroke(x: Double, y: Double, width: Double, height: Double, _ color: Color, lineWidth: Double) {
        setColor(color)
        cairo_set_line_width(cr, lineWidth)
        cairo_rectangle(cr, x, y, width, height)
        cairo_stroke(cr)
    }

    public func polyline(_ points: [(x: Double, y: Double)], _ color: Color, lineWidth: Double, alpha: Double) {
        guard let first = points.first else { return }
        setColor(color, alpha: alpha)
        cairo_set_line_width(cr, lineWidth)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_move_to(cr, first.x, first.y)
        for point in points.dropFirst() { cairo_line_to(cr, point.x, point.y) }
        cairo_stroke(cr)
    }

    public func text(_ text: String, x: Double, y: Double, size: Double, anchor: TextAnchor, _ color: Color, bold: Bool, rotated: Bool) {
        cairo_save(cr)
        cairo_select_font_face(cr, fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
        setColor(color)
        cairo_translate(cr, x, y)
        if rotated { cairo_rotate(cr, -Double.pi / 2) }
        let width = textWidth(text, size: size, bold: bold)
        let shift: Double =
            switch anchor {
            case .start: 0
            case .middle: -width / 2
            case .end: -width
            }
        cairo_move_to(cr, shift, 0)
        cairo_show_text(cr, text)
        cairo_restore(cr)
    }
}

/// SVG markup of the same drawing: shapes, and text as text (searchable, selectable).
public final class SVGDocument: Canvas {
    public let width: Int, height: Int
    private var body: [String] = []

    public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }

    /// The document, with `title` as its accessible title.
    public func markup(title: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="\(fontFamily), sans-serif">
        <title>\(escaped(title))</title>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }

    private func number(_ x: Double) -> String { String(format: "%.2f", x) }

    public func fill(x: Double, y: Double, width: Double, height: Double, _ color: Color, alpha: Double) {
        body.append(
            "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(width))\" height=\"\(number(height))\" fill=\"\(color.svg)\"\(alpha < 1 ? " fill-opacity=\"\(number(alpha))\"" : "")/>"
        )
    }

    public func stroke(x: Double, y: Double, width: Double, height: Double, _ color: Color, lineWidth: Double) {
        body.append(
            "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(width))\" height=\"\(number(height))\" fill=\"none\" stroke=\"\(color.svg)\" stroke-width=\"\(number(lineWidth))\"/>"
        )
    }

    public func polyline(_ points: [(x: Double, y: Double)], _ color: Color, lineWidth: Double, alpha: Double) {
        guard !points.isEmpty else { return }
        let coordinates = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
        body.append(
            "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color.svg)\" stroke-width=\"\(number(lineWidth))\" stroke-linejoin=\"round\"\(alpha < 1 ? " stroke-opacity=\"\(number(alpha))\"" : "")/>"
        )
    }

    public func text(_ text: String, x: Double, y: Double, size: Double, anchor: TextAnchor, _ color: Color, bold: Bool, rotated: Bool) {
        let turn = rotated ? " transform=\"rotate(-90 \(number(x)) \(number(y)))\"" : ""
        body.append(
            "<text x=\"\(number(x))\" y=\"\(number(y))\" font-size=\"\(number(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(color.svg)\"\(bold ? " font-weight=\"bold\"" : "")\(turn)>\(escaped(text))</text>"
        )
    }
}

/// `text` safe inside XML and HTML.
public func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
        of: ">", with: "&gt;"
    )
    .replacingOccurrences(of: "\"", with: "&quot;")
}
