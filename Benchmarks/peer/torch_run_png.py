#!/usr/bin/env python3
"""PyTorch + Pillow peer of `acol run MODEL.h5 FOLDER`: parent, cluster and confidence per PNG.

    python3 Benchmarks/peer/torch_run_png.py FOLDER [FOLDER|FILE ...] [-o out.csv] [--batch-size 256]
        [--threads N] [--arch mlp|cnn2] [--weights state_dict.pt] [--no-prefetch]

Does what `acol run` does, with the MLP of `acol-bench speed` (random Glorot weights unless
--weights is given; the speed is the same): collects *.png recursively (sorted), decodes each
with Pillow to 28 x 28 grey u8, batches of 256, scales by 1/255, forward in eval mode to Z, and
writes CSV rows with acol run's columns
    path,parent,parent_name,cluster,fine_label,fine_name,confidence,error
(cluster = argmax Z, parent = cluster mod n_p, confidence = softmax(Z)[cluster]; the name and
fine-label columns stay empty: a random-weight model has no mapping). As in acol run, decoding
runs one batch ahead of inference on another thread (--no-prefetch: one after the other), the
clock starts after the file list is built and the model loaded, and the summary
    N images, E errors, S s, R images/s
goes to standard error.
"""
import argparse
import os
import queue
import sys
import threading
import time

try:
    import numpy as np
    from PIL import Image
    import torch
except ImportError as e:
    sys.exit(f'torch_run_png.py: {e}.\nInstall PyTorch with `pip install "torch==2.13.0+cpu"` '
             '(or `pip install torch`), and `pip install numpy pillow`.')

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import ACOLNet, PARENTS  # noqa: E402  (same networks as the speed benchmark)

H = W = 28


def collect(paths):
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)
            continue
        if not os.path.isdir(p):
            sys.exit(f'torch_run_png.py: {p}: no such file or folder')
        found = []
        for root, _, files in os.walk(p):
            for f in files:
                if f.lower().endswith('.png'):
                    found.append(os.path.join(root, f))
        if not found:
            sys.exit(f'torch_run_png.py: {p}: no .png files in the folder')
        out += sorted(found)
    return out


def decode_batch(paths):
    """-> (u8 array [ok, 28, 28], indices of decoded paths, [(index, error)])."""
    pixels, ok, errors = [], [], []
    for i, f in enumerate(paths):
        try:
            with Image.open(f) as im:
                im = im.convert('L')
                if im.size != (W, H):
                    errors.append((i, f'image is {im.size[1]}x{im.size[0]}, the model takes {H}x{W}'))
                    continue
                pixels.append(np.asarray(im, dtype=np.uint8))
            ok.append(i)
        except Exception as e:   # noqa: BLE001  (a bad file is reported and the batch goes on)
            errors.append((i, str(e).replace('\n', ' ')))
    arr = np.stack(pixels) if pixels else np.zeros((0, H, W), np.uint8)
    return arr, ok, errors


def csv_field(s):
    if any(c in s for c in ',"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    p = argparse.ArgumentParser(description='PyTorch peer of acol run (PNG folder -> CSV)')
    p.add_argument('paths', nargs='+', help='PNG files and folders (searched recursively)')
    p.add_argument('-o', '--output', help='write the CSV here instead of standard output')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--threads', type=int, default=os.cpu_count() or 1,
                   help='torch threads (default: all cores, as acol run)')
    p.add_argument('--arch', default='mlp', choices=['mlp', 'cnn2'])
    p.add_argument('--weights', help='a state_dict saved from torch_bench.ACOLNet (default: random)')
    p.add_argument('--no-prefetch', action='store_true', help='decode and infer one after the other')
    p.add_argument('--quiet', action='store_true', help='no summary on standard error')
    a = p.parse_args()
    if a.batch_size < 1 or a.threads < 1:
        sys.exit('torch_run_png.py: --batch-size and --threads must be at least 1')

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = ACOLNet(a.arch)
    if a.weights:
        net.load_state_dict(torch.load(a.weights, map_location='cpu'))
    net.eval()
    files = collect(a.paths)
    bs = a.batch_size
    batches = [files[s:s + bs] for s in range(0, len(files), bs)]
    started = time.perf_counter()

    out = open(a.output, 'w', newline='') if a.output else sys.stdout
    out.write('path,parent,parent_name,cluster,fine_label,fine_name,confidence,error\n')

    def decoded():
        if a.no_prefetch:
            for b in batches:
                yield b, decode_batch(b)
            return
        q = queue.Queue(maxsize=2)       # at most two decoded batches waiting, as acol run

        def producer():
            for b in batches:
                q.put((b, decode_batch(b)))
            q.put(None)
        threading.Thread(target=producer, daemon=True).start()
        while (item := q.get()) is not None:
            yield item

    failed = 0
    with torch.inference_mode():
        for paths, (arr, ok, errors) in decoded():
            lines = [None] * len(paths)
            for i, e in errors:
                failed += 1
                if not a.quiet:
                    print(f'{paths[i]}: {e}', file=sys.stderr)
                lines[i] = f'{csv_field(paths[i])},,,,,,,{csv_field(e)}\n'
            if ok:
                x = torch.from_numpy(arr).float().mul_(1.0 / 255.0)
                z = net(x)
                conf, cluster = torch.softmax(z, dim=1).max(dim=1)
                for o, (c, s) in enumerate(zip(cluster.tolist(), conf.tolist())):
                    i = ok[o]
                    lines[i] = f'{csv_field(paths[i])},{c % PARENTS},,{c},,,{s:.4f},\n'
            out.write(''.join(lines))
    if out is not sys.stdout:
        out.close()
    secs = time.perf_counter() - started
    if not a.quiet:
        print(f'{len(files)} images, {failed} errors, {secs:.1f} s, '
              f'{len(files) / secs if secs > 0 else 0:.0f} images/s', file=sys.stderr)
    if files and failed == len(files):
        sys.exit(1)


if __name__ == '__main__':
    main()
