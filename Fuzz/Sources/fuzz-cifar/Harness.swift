import ACOLDatasets
import FuzzSupport

// The CIFAR-10 / CIFAR-100 binary reader. The first byte chooses the variant (even: CIFAR-10,
// data_batch_1.bin; odd: CIFAR-100, train.bin); the other bytes are the file.
@_cdecl("fuzz_cifar_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    Fuzz.each(argc, argv) { data, size in
        guard size >= 1 else { return }
        let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
        let ten = data[0] % 2 == 0
        Fuzz.clear()
        let path = Fuzz.file(ten ? "data_batch_1.bin" : "train.bin", bytes)
        let channels: [Int?] = [nil, 1, 3, 4]
        Fuzz.convert([path], ConvertOptions(format: ten ? .cifar10 : .cifar100, channels: channels[Int(data[0] / 2) % 4],
                                            batchSize: 1 + size % 5))
    }
}
