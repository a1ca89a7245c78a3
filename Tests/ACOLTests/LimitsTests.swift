@testable import ACOL
import Testing

/// ACOLLimits and NetworkSpec.validate (issue 9, item 3): specs are checked, with overflow-checked
/// arithmetic, before `Network(spec:)` allocates anything.
struct LimitsTests {
    @Test func presetsAreWithinTheLimitsAndShapesMatchTheNetwork() throws {
        for name in Presets.names {
            // The presets' real sizes pass the limits (checked without building them).
            for (shape, filters) in [([28, 28, 1], 32), ([96, 96, 3], 64)] {
                try Presets.spec(name, inputShape: shape, parents: 10, k: 10, filters: filters, blockNorm: true).validate()
            }
            // Small versions are built: the shapes validate() derives are the network's.
            let spec = try Presets.spec(name, inputShape: [16, 16, 3], parents: 3, k: 4, filters: 4, hidden: 32, blockNorm: true)
            let net = try Network(spec: spec, seed: 0)
            let shapes = try spec.stateShapes()
            #expect(shapes.map(\.name) == net.stateTensors().map(\.name))
            #expect(shapes.map(\.shape) == net.stateTensors().map(\.shape))
        }
    }

    @Test func absurdSpecsAreRefusedBeforeAllocating() {
        func refused(_ spec: NetworkSpec, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try Network(spec: spec)
                Issue.record("accepted", sourceLocation: sourceLocation)
            } catch let ACOLError.invalidSpec(message) {
                #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        let head = ACOLHeadSpec(parents: 2, k: 3)
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [], head: ACOLHeadSpec(parents: 1 << 32, k: 1 << 32)), "(overflows)")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [], head: ACOLHeadSpec(parents: 2, k: -3)), "parents >= 1 and k >= 1")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [], head: ACOLHeadSpec(parents: 1, k: 4_611_686_018_427_387_904)), "at most 4000")
        refused(NetworkSpec(inputShape: [1 << 40, 1 << 40, 1 << 40], layers: [], head: head), "input shape")
        refused(NetworkSpec(inputShape: [16384, 16384, 1], layers: [], head: head), "<= 67108864")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.flatten, .dense(1_000_000_000_000)], head: head), "units in 1...65536")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: Array(repeating: .relu, count: 200_000), head: head), "200000 layers")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.conv2d(1_000_000_000)], head: head), "filters in 1...65536")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.conv2d(4, kernel: [1 << 62, 1 << 62])], head: head), "kernel")
        refused(NetworkSpec(inputShape: [1024, 1024, 1], layers: [.conv2d(1024)], head: head), "values per example")
        refused(NetworkSpec(inputShape: [64, 64, 1], layers: [.flatten, .dense(65536), .dense(65536)], head: head), "parameters, at most")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.dense(4, maxNorm: .nan)], head: head), "maxNorm must be a finite number")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.batchNorm(epsilon: 0)], head: head), "epsilon must be above 0, got 0")
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [.batchNorm(epsilon: -1e-3)], head: head), "epsilon must be above 0")
        var zeroHead = head
        zeroHead.batchNormEpsilon = 0
        refused(NetworkSpec(inputShape: [8, 8, 1], layers: [], head: zeroHead), "batchNormEpsilon must be a finite number above 0")
    }

    @Test func overflowCheckedArithmetic() {
        #expect(CheckedSize.product([1 << 32, 1 << 32]) == nil)
        #expect(CheckedSize.product([3, -1]) == nil)
        #expect(CheckedSize.product([]) == 1)
        #expect(CheckedSize.sum([Int.max, 1]) == nil)
        #expect(ACOLLimits.imageShapeProblem(height: 28, width: 28, channels: 1) == nil)
        #expect(ACOLLimits.imageShapeProblem(height: 16384, width: 16384, channels: 2) != nil)
        #expect(ACOLLimits.imageShapeProblem(height: Int.max, width: Int.max, channels: Int.max) != nil)
    }
}
