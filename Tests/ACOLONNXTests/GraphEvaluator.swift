import ACOLONNX
import Foundation

/// A small, independent evaluator of ONNX graphs for the operators acol's exporter emits
/// (Mul, Add, Transpose, Conv, MaxPool, Relu, BatchNormalization, Flatten, Gemm, Softmax, MatMul),
/// written from the ONNX operator definitions with naive loops in Double. It refuses attributes
/// and inputs it does not implement, so an exported graph that needs more fails the test rather
/// than being evaluated wrongly.
struct GraphEvaluator {
    struct Value {
        var shape: [Int]
        var data: [Double]
        var count: Int { shape.reduce(1, *) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    let model: Onnx_ModelProto

    /// Runs the graph on `input` (fed to the graph's only input) and returns every value by name.
    func run(_ input: Value) throws -> [String: Value] {
        let g = model.graph
        guard g.input.count == 1 else { throw Failure("expected one graph input, found \(g.input.count)") }
        var env: [String: Value] = [g.input[0].name: input]
        for t in g.initializer { env[t.name] = try tensor(t) }
        for n in g.node {
            let inputs: [Value] = try n.input.map { name in
                guard let v = env[name] else { throw Failure("\(n.name): input \(name) is not defined yet") }
                return v
            }
            guard n.output.count == 1 else { throw Failure("\(n.name): expected one output") }
            env[n.output[0]] = try apply(n, inputs)
        }
        return env
    }

    func tensor(_ t: Onnx_TensorProto) throws -> Value {
        guard t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw Failure("\(t.name): data type \(t.dataType), expected float")
        }
        let shape = t.dims.map { Int($0) }
        let count = shape.reduce(1, *)
        guard t.rawData.count == count * 4, t.floatData.isEmpty else {
            throw Failure("\(t.name): expected \(count * 4) bytes of raw data, found \(t.rawData.count)")
        }
        let bytes = [UInt8](t.rawData)
        var data = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let bits = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16
                | UInt32(bytes[4 * i + 3]) << 24
            data[i] = Double(Float(bitPattern: bits))
        }
        return Value(shape: shape, data: data)
    }

    // MARK: Attributes

    func attributes(_ n: Onnx_NodeProto, allowed: Set<String>) throws -> [String: Onnx_AttributeProto] {
        var out: [String: Onnx_AttributeProto] = [:]
        for a in n.attribute {
            guard allowed.contains(a.name) else { throw Failure("\(n.name): attribute \(a.name) is not implemented") }
            out[a.name] = a
        }
        return out
    }

    func ints(_ a: [String: Onnx_AttributeProto], _ name: String, _ n: Onnx_NodeProto) throws -> [Int]? {
        guard let x = a[name] else { return nil }
        guard x.type == .ints else { throw Failure("\(n.name): \(name) should be ints") }
        return x.ints.map { Int($0) }
    }

    func int(_ a: [String: Onnx_AttributeProto], _ name: String, _ n: Onnx_NodeProto) throws -> Int? {
        guard let x = a[name] else { return nil }
        guard x.type == .int else { throw Failure("\(n.name): \(name) should be an int") }
        return Int(x.i)
    }

    // MARK: Operators

    func apply(_ n: Onnx_NodeProto, _ x: [Value]) throws -> Value {
        switch n.opType {
        case "Mul", "Add":
            _ = try attributes(n, allowed: [])
            guard x.count == 2, x[1].count == 1 else { throw Failure("\(n.name): only a scalar second operand is implemented") }
            let s = x[1].data[0]
            return Value(shape: x[0].shape, data: x[0].data.map { n.opType == "Mul" ? $0 * s : $0 + s })
        case "Relu":
            _ = try attributes(n, allowed: [])
            return Value(shape: x[0].shape, data: x[0].data.map { max(0, $0) })
        case "Transpose":
            let a = try attributes(n, allowed: ["perm"])
            guard let perm = try ints(a, "perm", n), perm.count == x[0].shape.count, x[0].shape.count == 4 else {
                throw Failure("\(n.name): a 4-D perm is required")
            }
            return transpose(x[0], perm)
        case "Flatten":
            let a = try attributes(n, allowed: ["axis"])
            let axis = try int(a, "axis", n) ?? 1
            guard axis == 1 else { throw Failure("\(n.name): only axis 1 is implemented") }
            return Value(shape: [x[0].shape[0], x[0].count / x[0].shape[0]], data: x[0].data)
        case "Conv": return try conv(n, x)
        case "MaxPool": return try maxPool(n, x)
        case "BatchNormalization": return try batchNorm(n, x)
        case "Gemm":
            let a = try attributes(n, allowed: ["alpha", "beta", "transA", "transB"])
            for key in ["transA", "transB"] where try int(a, key, n) ?? 0 != 0 { throw Failure("\(n.name): \(key) not implemented") }
            for key in ["alpha", "beta"] where (a[key]?.f ?? 1) != 1 { throw Failure("\(n.name): \(key) not implemented") }
            guard x.count == 3, x[2].shape == [x[1].shape[1]] else { throw Failure("\(n.name): expected a bias [out]") }
            var y = try matmul(n, x[0], x[1])
            let cols = y.shape[1]
            for i in 0..<y.data.count { y.data[i] += x[2].data[i % cols] }
            return y
        case "MatMul":
            _ = try attributes(n, allowed: [])
            return try matmul(n, x[0], x[1])
        case "Softmax":
            let a = try attributes(n, allowed: ["axis"])
            let axis = try int(a, "axis", n) ?? -1
            guard x[0].shape.count == 2, axis == 1 || axis == -1 else { throw Failure("\(n.name): only the last axis of a matrix") }
            let (m, k) = (x[0].shape[0], x[0].shape[1])
            var y = x[0].data
            for i in 0..<m {
                let row = y[(i * k)..<((i + 1) * k)]
                let mx = row.max()!
                var total = 0.0
                for j in 0..<k { y[i * k + j] = exp(y[i * k + j] - mx); total += y[i * k + j] }
                for j in 0..<k { y[i * k + j] /= total }
            }
            return Value(shape: x[0].shape, data: y)
        default:
            throw Failure("\(n.name): operator \(n.opType) is not implemented")
        }
    }

    func transpose(_ x: Value, _ perm: [Int]) -> Value {
        let s = x.shape
        let os = perm.map { s[$0] }
        var strides = [Int](repeating: 1, count: 4)
        for d in stride(from: 2, through: 0, by: -1) { strides[d] = strides[d + 1] * s[d + 1] }
        var y = [Double](repeating: 0, count: x.count)
        var o = 0
        for a in 0..<os[0] { for b in 0..<os[1] { for c in 0..<os[2] { for d in 0..<os[3] {
            let idx = [a, b, c, d]
            var src = 0
            for k in 0..<4 { src += idx[k] * strides[perm[k]] }
            y[o] = x.data[src]; o += 1
        } } } }
        return Value(shape: os, data: y)
    }

    func matmul(_ n: Onnx_NodeProto, _ a: Value, _ b: Value) throws -> Value {
        guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[0] else {
            throw Failure("\(n.name): cannot multiply \(a.shape) by \(b.shape)")
        }
        let (m, k, p) = (a.shape[0], a.shape[1], b.shape[1])
        var y = [Double](repeating: 0, count: m * p)
        for i in 0..<m { for t in 0..<k { let v = a.data[i * k + t]; for j in 0..<p { y[i * p + j] += v * b.data[t * p + j] } } }
        return Value(shape: [m, p], data: y)
    }

    func conv(_ n: Onnx_NodeProto, _ x: [Value]) throws -> Value {
        let a = try attributes(n, allowed: ["kernel_shape", "pads", "strides", "dilations", "group"])
        let w = x[1]
        guard x[0].shape.count == 4, w.shape.count == 4, x[0].shape[1] == w.shape[1] else {
            throw Failure("\(n.name): expected NCHW input and OIHW weights, got \(x[0].shape), \(w.shape)")
        }
        guard (try ints(a, "strides", n) ?? [1, 1]) == [1, 1], (try ints(a, "dilations", n) ?? [1, 1]) == [1, 1],
              (try int(a, "group", n) ?? 1) == 1 else { throw Failure("\(n.name): only stride 1, dilation 1, group 1") }
        let (nb, c, h, wd) = (x[0].shape[0], x[0].shape[1], x[0].shape[2], x[0].shape[3])
        let (f, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        if let ks = try ints(a, "kernel_shape", n), ks != [kh, kw] { throw Failure("\(n.name): kernel_shape \(ks) != \([kh, kw])") }
        let pads = try ints(a, "pads", n) ?? [0, 0, 0, 0]
        let (pt, pl, pb, pr) = (pads[0], pads[1], pads[2], pads[3])
        let oh = h + pt + pb - kh + 1, ow = wd + pl + pr - kw + 1
        let bias = x.count > 2 ? x[2].data : [Double](repeating: 0, count: f)
        var y = [Double](repeating: 0, count: nb * f * oh * ow)
        for b in 0..<nb { for o in 0..<f { for oy in 0..<oh { for ox in 0..<ow {
            var s = bias[o]
            for i in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let iy = oy + u - pt, ix = ox + v - pl
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                s += x[0].data[((b * c + i) * h + iy) * wd + ix] * w.data[((o * c + i) * kh + u) * kw + v]
            } } }
            y[((b * f + o) * oh + oy) * ow + ox] = s
        } } } }
        return Value(shape: [nb, f, oh, ow], data: y)
    }

    func maxPool(_ n: Onnx_NodeProto, _ x: [Value]) throws -> Value {
        let a = try attributes(n, allowed: ["kernel_shape", "strides", "pads"])
        guard let ks = try ints(a, "kernel_shape", n), ks.count == 2 else { throw Failure("\(n.name): kernel_shape") }
        let st = try ints(a, "strides", n) ?? [1, 1]
        guard (try ints(a, "pads", n) ?? [0, 0, 0, 0]) == [0, 0, 0, 0] else { throw Failure("\(n.name): pads not implemented") }
        let (nb, c, h, w) = (x[0].shape[0], x[0].shape[1], x[0].shape[2], x[0].shape[3])
        let oh = (h - ks[0]) / st[0] + 1, ow = (w - ks[1]) / st[1] + 1
        var y = [Double](repeating: 0, count: nb * c * oh * ow)
        for b in 0..<nb { for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
            var m = -Double.infinity
            for u in 0..<ks[0] { for v in 0..<ks[1] {
                m = max(m, x[0].data[((b * c + ch) * h + oy * st[0] + u) * w + ox * st[1] + v])
            } }
            y[((b * c + ch) * oh + oy) * ow + ox] = m
        } } } }
        return Value(shape: [nb, c, oh, ow], data: y)
    }

    func batchNorm(_ n: Onnx_NodeProto, _ x: [Value]) throws -> Value {
        let a = try attributes(n, allowed: ["epsilon", "momentum"])
        guard x.count == 5, n.output.count == 1 else { throw Failure("\(n.name): expected 5 inputs and 1 output (inference)") }
        let eps = Double(a["epsilon"]?.f ?? 1e-5)
        let s = x[0].shape
        let c = s[1]
        let inner = s.count > 2 ? s[2...].reduce(1, *) : 1
        for p in x[1...] where p.shape != [c] { throw Failure("\(n.name): parameter shape \(p.shape) != [\(c)]") }
        var y = x[0].data
        for i in 0..<y.count {
            let ch = (i / inner) % c
            y[i] = x[1].data[ch] * (y[i] - x[3].data[ch]) / (x[4].data[ch] + eps).squareRoot() + x[2].data[ch]
        }
        return Value(shape: s, data: y)
    }
}
