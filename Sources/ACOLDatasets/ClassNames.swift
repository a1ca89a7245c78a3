import Foundation

/// Standard class names of the data sets the importers know.
public enum ClassNames {
    public static let digits = (0..<10).map { String($0) }
    public static let fashionMNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    public static let cifar10 = ["airplane", "automobile", "bird", "cat", "deer",
                                 "dog", "frog", "horse", "ship", "truck"]
    /// The 20 CIFAR-100 superclasses, in label order, each with its 5 fine classes.
    static let cifar100Hierarchy: [(String, [String])] = [
        ("aquatic_mammals", ["beaver", "dolphin", "otter", "seal", "whale"]),
        ("fish", ["aquarium_fish", "flatfish", "ray", "shark", "trout"]),
        ("flowers", ["orchid", "poppy", "rose", "sunflower", "tulip"]),
        ("food_containers", ["bottle", "bowl", "can", "cup", "plate"]),
        ("fruit_and_vegetables", ["apple", "mushroom", "orange", "pear", "sweet_pepper"]),
        ("household_electrical_devices", ["clock", "keyboard", "lamp", "telephone", "television"]),
        ("household_furniture", ["bed", "chair", "couch", "table", "wardrobe"]),
        ("insects", ["bee", "beetle", "butterfly", "caterpillar", "cockroach"]),
        ("large_carnivores", ["bear", "leopard", "lion", "tiger", "wolf"]),
        ("large_man-made_outdoor_things", ["bridge", "castle", "house", "road", "skyscraper"]),
        ("large_natural_outdoor_scenes", ["cloud", "forest", "mountain", "plain", "sea"]),
        ("large_omnivores_and_herbivores", ["camel", "cattle", "chimpanzee", "elephant", "kangaroo"]),
        ("medium_mammals", ["fox", "porcupine", "possum", "raccoon", "skunk"]),
        ("non-insect_invertebrates", ["crab", "lobster", "snail", "spider", "worm"]),
        ("people", ["baby", "boy", "girl", "man", "woman"]),
        ("reptiles", ["crocodile", "dinosaur", "lizard", "snake", "turtle"]),
        ("small_mammals", ["hamster", "mouse", "rabbit", "shrew", "squirrel"]),
        ("trees", ["maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"]),
        ("vehicles_1", ["bicycle", "bus", "motorcycle", "pickup_truck", "train"]),
        ("vehicles_2", ["lawn_mower", "rocket", "streetcar", "tank", "tractor"]),
    ]
    /// The 100 CIFAR-100 fine classes in label order (alphabetical).
    public static let cifar100Fine: [String] = cifar100Hierarchy.flatMap { $0.1 }.sorted()
    /// The 20 CIFAR-100 superclasses in label order.
    public static let cifar100Coarse: [String] = cifar100Hierarchy.map { $0.0 }
    /// The standard superclass of each CIFAR-100 fine class.
    public static let cifar100ParentOfFine: [Int] = cifar100Fine.map { f in
        cifar100Hierarchy.firstIndex { $0.1.contains(f) }!
    }
}
