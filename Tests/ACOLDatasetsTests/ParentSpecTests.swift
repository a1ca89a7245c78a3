import Foundation
import Testing
import ACOL
import ACOLDatasets

@Suite struct ParentSpecTests {
    let digits = ClassNames.digits

    @Test func textForms() throws {
        let two = try ParentSpec.parse("0-4,5-9").resolve(fineNames: digits)
        #expect(two.parentNames == ["0-4", "5-9"] && two.parentOfFine == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        #expect(try ParentSpec.parse("div:2").resolve(fineNames: digits).parentOfFine == two.parentOfFine)
        #expect(try ParentSpec.byDivision(2).resolve(fineNames: digits).parentNames == ["0-4", "5-9"])
        #expect(try ParentSpec.byDivision(5).resolve(fineNames: digits).parentOfFine == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
        let named = try ParentSpec.parse(" 0-4 : small , 5-9:large ").resolve(fineNames: digits)
        #expect(named.parentNames == ["small", "large"])
        let fashion = try ParentSpec.fashionMNIST.resolve(fineNames: ClassNames.fashionMNIST)
        #expect(fashion.parentNames == ["tops", "footwear", "trouser", "bag"])
        #expect(fashion.parentOfFine == [0, 2, 0, 0, 0, 1, 0, 1, 3, 1])
        #expect(try ParentSpec.parse("0+2-4+6:tops,5+7+9:footwear,1:trouser,8:bag") == ParentSpec.fashionMNIST)
        #expect(try ParentSpec.parse("0+2-4+6,5+7+9,1,8").text == "0+2-4+6,5+7+9,1,8")
    }

    @Test func badSpecs() {
        for bad in ["0-4,", "a-b", "4-0", "0-4:", "div:0", "div:x", ""] {
            #expect(throws: DataError.self, "\(bad)") { _ = try ParentSpec.parse(bad).resolve(fineNames: digits) }
        }
        #expect(throws: DataError.self) { try ParentSpec.parse("0-4,4-9").resolve(fineNames: digits) }   // 4 twice
        #expect(throws: DataError.self) { try ParentSpec.parse("0-3,5-9").resolve(fineNames: digits) }   // 4 missing
        #expect(throws: DataError.self) { try ParentSpec.parse("0-4,5-10").resolve(fineNames: digits) }  // no class 10
        // two parents of one name: -k a=3 and the tables could not tell them apart
        let e = #expect(throws: DataError.self) { try ParentSpec.parse("0-4:a,5-9:a").resolve(fineNames: digits) }
        #expect(e?.localizedDescription.contains("both named 'a'") == true)
        #expect(throws: DataError.self) { try ParentSpec.byDivision(3).resolve(fineNames: digits) }      // 10 % 3 != 0
        do { _ = try ParentSpec.parse("0-3,5-9").resolve(fineNames: digits) } catch {
            #expect(error.localizedDescription == "parent spec 0-3,5-9: class 4 (4) is in no group, expected every class 0...9 in one")
        }
    }

    @Test func mappingFile() throws {
        try withTempDir { dir in
            let text = """
            # Fashion-MNIST, by name or by index
            T-shirt/top: tops
            1: trouser
            Pullover: tops
            Dress: tops
            Coat: tops
            Sandal: footwear
            Shirt: tops
            Sneaker: footwear
            8: bag
            Ankle boot: footwear

            """
            try write(Array(text.utf8), dir + "/parents.txt")
            let spec = try ParentSpec.load(mappingFile: dir + "/parents.txt")
            let r = try spec.resolve(fineNames: ClassNames.fashionMNIST)
            #expect(r.parentNames == ["tops", "trouser", "footwear", "bag"])
            #expect(r.parentOfFine == [0, 1, 0, 0, 0, 2, 0, 2, 3, 2])
            try write(Array("0: a\n1 b\n".utf8), dir + "/bad.txt")
            #expect(throws: DataError.self) { try ParentSpec.load(mappingFile: dir + "/bad.txt") }
            try write(Array("0: a\n".utf8), dir + "/short.txt")
            #expect(throws: DataError.self) { try ParentSpec.load(mappingFile: dir + "/short.txt").resolve(fineNames: ClassNames.fashionMNIST) }
            #expect(throws: DataError.self) { try ParentSpec.load(mappingFile: dir + "/missing.txt") }
            // A class name two classes share cannot be mapped by name (by number it can).
            try write(Array("cat: a\n1: b\n".utf8), dir + "/shared.txt")
            let e = #expect(throws: DataError.self) {
                try ParentSpec.load(mappingFile: dir + "/shared.txt").resolve(fineNames: ["cat", "dog", "cat"])
            }
            #expect(e?.errorDescription?.contains("'cat' names classes 0 and 2") == true, "\(e?.errorDescription ?? "")")
            try write(Array("0: a\n1: b\n2: a\n".utf8), dir + "/numbers.txt")
            #expect(try ParentSpec.load(mappingFile: dir + "/numbers.txt").resolve(fineNames: ["cat", "dog", "cat"]).parentOfFine == [0, 1, 0])
        }
    }

    @Test func fashionNamesAreDetectedFromThePath() throws {
        try withTempDir { dir in
            for f in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
                try FileManager.default.createDirectory(atPath: dir + "/fashion-mnist", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: fixture("mnist-small/" + f), toPath: dir + "/fashion-mnist/" + f)
            }
            let (sink, summary) = try convert([dir + "/fashion-mnist"], ConvertOptions(parents: .fashionMNIST))
            #expect(summary.labels.fineNames == ClassNames.fashionMNIST)
            #expect(sink.splits.map(\.name) == ["test"])
            let t = try #require(sink.split("test"))
            #expect(t.coarseLabels!.prefix(3) == [1, 0, 2])   // labels 7 (sneaker), 2 (pullover), 1 (trouser)
        }
    }

    @Test func mixedInputsAreRefused() {
        let e = conversionError([fixture("mnist-small"), fixture("svhn")])
        guard case .inconsistentInputs? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(conversionError([fixture("mnist-small")], ConvertOptions(channels: 5)) == .invalidOption("channels must be 1, 2, 3 or 4, found 5"))
        #expect(conversionError([fixture("mnist-small")], ConvertOptions(classNames: ["a"])) != nil)
    }
}
