"""Reading and writing gzip IDX files (MNIST's format) with numpy, for the scripts beside it."""
import gzip, struct
import numpy as np

def read(path):
    """An images file as uint8 [count, rows, cols], a labels file as uint8 [count]."""
    b = gzip.open(path).read()
    magic, count = struct.unpack(">II", b[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", b[8:16])
        return np.frombuffer(b[16:], np.uint8).reshape(count, rows, cols)
    return np.frombuffer(b[8:], np.uint8)

def write(path, a):
    """uint8 [count, rows, cols] as an images file, uint8 [count] as a labels file."""
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">IIII", 2051, *a.shape) if a.ndim == 3 else struct.pack(">II", 2049, a.shape[0]))
        f.write(a.tobytes())
