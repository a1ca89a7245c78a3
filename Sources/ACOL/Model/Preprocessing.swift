import Foundation

/// How raw u8 pixels become network input: x = pixel * scale + offset.
public struct Preprocessing: Codable, Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var scale: Float
    public var offset: Float

    public init(height: Int, width: Int, channels: Int, scale: Float = 1.0 / 255.0, offset: Float = 0) {
        self.height = height; self.width = width; self.channels = channels
        self.scale = scale; self.offset = offset
    }

    /// The network input of pixel 0 and of pixel 255.
    public var inputRange: (Float, Float) { (offset, 255 * scale + offset) }
}
