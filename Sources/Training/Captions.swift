// Grids that explain themselves: what they show at which step and epoch above them,
// column captions over triptychs and reconstruction pairs, class names beside the rows of
// conditional models' grids. Drawn by Cairo around the grid's pixels.
import Datasets
import Plots

/// `image` with its title (`title`'s parts, on as many lines as the grid's width needs)
/// above it, its column captions and its rows' class names. Captions too wide for their
/// cells join the title instead ("columns: original | reconstruction").
public func captioned(_ image: OutputImage, title: [String], classNames: [String]) -> OutputImage {
    let (small, large) = (11.0, 12.0)
    let cell = Double(image.cellSize)
    let captions = image.columnCaptions
    let captionsFit = !captions.isEmpty && image.columns > 0 && captions.allSatisfy { textWidth($0, size: small) <= cell - 4 }
    let parts = title + (captions.isEmpty || captionsFit ? [] : ["columns: " + captions.joined(separator: " | ")])
    let rowNames = (image.rowClasses ?? []).map { $0 < classNames.count ? classNames[$0] : "class \($0)" }
    let labelWidth = rowNames.isEmpty ? 0 : Int((rowNames.map { textWidth($0, size: small) }.max() ?? 0).rounded(.up)) + 10
    // The title's parts, packed into lines as wide as the grid (each part whole).
    let room = Double(max(labelWidth + image.grid.width, 240) - 12)
    var lines: [String] = []
    for part in parts {
        if let last = lines.last, textWidth(last + " · " + part, size: large, bold: true) <= room {
            lines[lines.count - 1] = last + " · " + part
        } else {
            lines.append(part)
        }
    }
    let headerHeight = 8 + 16 * lines.count + (captionsFit ? 16 : 0)
    let textWidest = lines.map { textWidth($0, size: large, bold: true) }.max() ?? 0
    let width = max(labelWidth + image.grid.width, Int(textWidest.rounded(.up)) + 12)
    let height = headerHeight + image.grid.height
    let rgb = image.channels == 3 ? image.grid.pixels : image.grid.pixels.flatMap { [$0, $0, $0] }
    let raster = Raster(width: width, height: height, placing: rgb, width: image.grid.width, at: labelWidth, headerHeight)
    for (i, line) in lines.enumerated() {
        raster.text(line, x: 6, y: 17 + 16 * Double(i), size: large, anchor: .start, .text, bold: true, rotated: false)
    }
    let pad = Double(gridPadding)
    if captionsFit {
        for column in 0..<image.columns {
            let x = Double(labelWidth) + pad + Double(column) * cell + (cell - pad) / 2
            raster.text(
                captions[column % captions.count], x: x, y: Double(headerHeight) - 5, size: small, anchor: .middle, .text, bold: false,
                rotated: false)
        }
    }
    for (row, name) in rowNames.enumerated() {
        let y = Double(headerHeight) + pad + Double(row) * cell + (cell - pad) / 2 + 4
        raster.text(name, x: Double(labelWidth) - 5, y: y, size: small, anchor: .end, .text, bold: false, rotated: false)
    }
    return OutputImage(folder: image.folder, grid: (raster.rgb, width, height), channels: 3)
}
