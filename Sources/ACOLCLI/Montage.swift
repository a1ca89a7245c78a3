import ArgumentParser
import ACOL
import ACOLDatasets
import ACOLHDF5
import Foundation

struct Montage: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a PNG with one row per cluster of its most confident images, labelled.",
        discussion: """
        Each row starts with the cluster's number, its parent, the majority fine label on the data \
        and that label's share, then the images the model assigned to the cluster most confidently.

        Example:
          acol montage model.h5 mnist.h5 -o clusters.png --per-cluster 12
        """)

    @Argument(help: "The model file.")
    var model: String

    @Argument(help: "The data-set file to draw images from.")
    var data: String

    @Option(name: .shortAndLong, help: "The PNG file to write.")
    var output: String

    @Option(help: "Images per cluster.")
    var perCluster: Int = 10

    @Option(help: "The split to draw from (default: test when present).")
    var split: String?

    @Option(help: "Pixel scale of the images.")
    var scale: Int = 2

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if perCluster < 1 || perCluster > 100 { throw ValidationError("--per-cluster must be in 1...100") }
        if scale < 1 || scale > 8 { throw ValidationError("--scale must be in 1...8") }
    }

    func run() throws {
        try reportingErrors {
            threadOptions.apply()
            try OutputFile.check(output, inputs: [model, data])
            let m = try ModelFile.load(model)
            let loaded = try DatasetLoader.split(split, of: data, forModel: m)
            let set = loaded.images
            if let note = loaded.note { Console.warn(note) }
            // Refused before scoring when even without the labels the picture is too big.
            _ = try layout(set: set, clusters: m.outputHead.nodes, textWidth: 0)
            let bar = ProgressBar("scoring")
            let ev = Evaluator.evaluate(m, on: set, fineNames: loaded.fineNames) { d, t in bar.update(d, t) }
            bar.finish()
            let n = m.outputHead.nodes
            var best = [[Int]](repeating: [], count: n)
            for i in 0..<set.count { best[ev.assignments[i]].append(i) }
            for j in 0..<n {
                best[j].sort { ev.confidences[$0] > ev.confidences[$1] }
                best[j] = Array(best[j].prefix(perCluster))
            }
            let labels = ev.clusters.map { c -> String in
                let fine = c.fineLabel.map { l in c.fineName ?? "\(l)" } ?? "-"
                return String(format: "%d P%d %@ %.0f%%", c.node, c.parent, fine, c.share * 100)
            }
            try draw(set: set, rows: best, labels: labels)
            Console.out("wrote \(output): \(n) clusters x up to \(perCluster) images (\(set.count) images scored)")
        }
    }

    /// The most bytes a montage's picture may take (16,384 x 16,384 grey, or 9,459 x 9,459 RGB).
    static let maxCanvasBytes = 256 << 20

    /// Where things go in the picture, in pixels.
    struct Layout {
        var channels: Int, imageHeight: Int, imageWidth: Int, gap: Int, textScale: Int, rowHeight: Int
        /// Where the images of a row start (the labels' width and their margins).
        var labelWidth: Int
        var width: Int, height: Int
    }

    /// The picture's layout, its size computed without overflow, or an error naming the options
    /// when it would take more than `maxCanvasBytes`. `textWidth`: the widest label's.
    func layout(set: ImageSet, clusters: Int, textWidth: Int) throws -> Layout {
        let ch = set.channels == 1 ? 1 : 3
        let ih = set.height * scale, iw = set.width * scale, gap = 2 * scale
        let textScale = labelScale(set)
        let rowH = max(ih, BitmapFont.height * textScale) + gap
        let labelW = textWidth + 2 * gap
        let (cells, o1) = perCluster.multipliedReportingOverflow(by: iw + gap)
        let (width, o2) = (labelW + gap).addingReportingOverflow(cells)
        let (rowsH, o3) = clusters.multipliedReportingOverflow(by: rowH)
        let (pixels, o4) = width.multipliedReportingOverflow(by: rowsH + gap)
        let (bytes, o5) = pixels.multipliedReportingOverflow(by: ch)
        if o1 || o2 || o3 || o4 || o5 || bytes > Self.maxCanvasBytes {
            let size = o1 || o2 || o3 || o4 || o5 ? "too large to compute" : "\(width) x \(rowsH + gap) pixels, \(bytes >> 20) MiB"
            throw CLIError.file(output, "a montage of \(clusters) clusters x \(perCluster) images of \(set.height)x\(set.width) at --scale \(scale) would be \(size), more than the \(Self.maxCanvasBytes >> 20) MiB a montage may take; lower --scale or --per-cluster")
        }
        return Layout(channels: ch, imageHeight: ih, imageWidth: iw, gap: gap, textScale: textScale, rowHeight: rowH,
                      labelWidth: labelW, width: width, height: rowsH + gap)
    }

    /// The labels' scale: the scaled image height over 10, from 1 to 3.
    func labelScale(_ set: ImageSet) -> Int { max(1, min(3, set.height * scale / 10)) }

    func draw(set: ImageSet, rows: [[Int]], labels: [String]) throws {
        let l = try layout(set: set, clusters: rows.count,
                           textWidth: labels.map { BitmapFont.measure($0, scale: labelScale(set)) }.max() ?? 0)
        let (ch, ih, iw, gap, rowH, labelW, width, height, textScale) =
            (l.channels, l.imageHeight, l.imageWidth, l.gap, l.rowHeight, l.labelWidth, l.width, l.height, l.textScale)
        var canvas = [UInt8](repeating: 24, count: width * height * ch)
        for (r, idx) in rows.enumerated() {
            let y0 = gap + r * rowH
            BitmapFont.draw(labels[r], into: &canvas, canvasWidth: width, canvasHeight: height, channels: ch,
                            x: gap, y: y0 + (ih - BitmapFont.height * textScale) / 2, scale: textScale, value: 235)
            for (k, i) in idx.enumerated() {
                let x0 = labelW + k * (iw + gap)
                let base = i * set.imageSize
                for y in 0..<ih {
                    for x in 0..<iw {
                        let sy = y / scale, sx = x / scale
                        let src = base + (sy * set.width + sx) * set.channels
                        let dst = ((y0 + y) * width + x0 + x) * ch
                        if ch == 1 { canvas[dst] = set.pixels[src] } else {
                            for c in 0..<3 { canvas[dst + c] = set.pixels[src + min(c, set.channels - 1)] }
                        }
                    }
                }
            }
        }
        try PNGEncoder.write(path: output, width: width, height: height, channels: ch, pixels: canvas, inputs: [model, data])
    }
}
