#!/usr/bin/env python3
"""PyTorch peer of `acol train DATA.h5 -o M.h5 --epochs E` with the default recipe, as a whole
process: the same work per step, for timing the two against each other (not a replica of
acol's numbers).

    python3 Benchmarks/peer/torch_train_epoch.py DATA.h5 [--epochs 1] [--threads 2] [--k 5]

What it does, as acol's default recipe does (Sources/ACOL/Training/Recipe.swift): read the
acol data-set file (h5py: train/images, train/coarse_labels, test/...) into memory; cnn2 (conv
32, 32, pool, dropout .2, conv 64, 64, pool, dropout .3, dense 2048, dropout .5), BatchNorm on F,
Linear to n_p * k nodes (node j -> parent j mod n_p); batches of 128 in a shuffled order; each
batch forwarded as two views, the images and a random affine copy (rotation +-10 degrees, scale
+-0.1, shear +-0.2, shift +-2 pixels, bilinear, zero outside; then contrast and gamma, u -> min(1,
a u^g)); loss = parent cross-entropy of the
duplicates' summed probabilities + all-node GAR (c_a = c_b = 1, c_F = 1e-6 on the summed
||Z||^2) + the two-view consistency term (c = 1) + the marginal term (c_m = 2); SGD lr 0.01,
momentum 0.95, Nesterov, decay 1e-6. After each epoch the test split is scored in eval mode
(batches of 256; parent accuracy printed). Prints the epoch times and the total.
"""
import argparse
import math
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def network(parents, k):
    def conv(i, o):
        return nn.Conv2d(i, o, 3, padding=1)
    body = nn.Sequential(
        conv(1, 32), nn.ReLU(), conv(32, 32), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2),
        conv(32, 64), nn.ReLU(), conv(64, 64), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 2048), nn.ReLU(), nn.Dropout(0.5))
    head = nn.Sequential(nn.BatchNorm1d(2048, eps=1e-3, momentum=0.01), nn.Linear(2048, parents * k))
    model = nn.Sequential(body, head)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def augment(x, gen):
    """Random affine copies of x [m, 1, h, w] about the centre (as AffineAugmentation)."""
    m = x.shape[0]
    theta = (torch.rand(m, generator=gen) * 2 - 1) * (10 * math.pi / 180)
    s = 1 + (torch.rand(m, generator=gen) * 2 - 1) * 0.1
    sh = (torch.rand(m, generator=gen) * 2 - 1) * 0.2
    t = (torch.rand(m, 2, generator=gen) * 2 - 1) * (2 / 14)
    c, si = torch.cos(theta), torch.sin(theta)
    a = torch.stack([torch.stack([c * s, (c * sh - si) * s, t[:, 0]], 1),
                     torch.stack([si * s, (si * sh + c) * s, t[:, 1]], 1)], 1)
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    # Photometric part (the default since 2026-12-07): u -> min(1, a * u^g) per image, a and g
    # log-uniform in [1/1.5, 1.5] and [1/2, 2]; x is in [0, 1].
    la, lg = math.log(1.5), math.log(2.0)
    fa = torch.exp((torch.rand(m, generator=gen) * 2 - 1) * la)[:, None, None, None]
    fg = torch.exp((torch.rand(m, generator=gen) * 2 - 1) * lg)[:, None, None, None]
    return torch.clamp(fa * y.clamp(0, 1).pow(fg), max=1.0)


def objective(z, parents, n_p, k):
    n = z.shape[1]
    s = F.softmax(z, 1)
    y = s.view(-1, k, n_p).sum(1)                           # node j -> parent j mod n_p
    ce = -torch.log(y.gather(1, parents[:, None]) + 1e-7).mean()
    b = F.relu(z)
    nmat = b.t() @ b
    v = torch.diagonal(nmat)
    vmat = v[:, None] * v[None, :]
    eps = 1e-7
    aff = (nmat.sum() - v.sum()) / ((n - 1) * v.sum() + eps)
    bal = (vmat.sum() - torch.diagonal(vmat).sum()) / ((n - 1) * torch.diagonal(vmat).sum() + eps)
    gar = aff + (1 - bal) + 1e-6 * (z * z).sum()
    m = z.shape[0] // 2
    p = (s[:m] * s[m:]).sum(1)
    cons = -torch.log(p + 1e-7).mean()
    q = s.mean(0)
    marginal = 2 * (math.log(n) + (q * torch.log(q + 1e-12)).sum())
    return ce + gar + cons + marginal


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('data')
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--k', type=int, default=5)
    ap.add_argument('--batch', type=int, default=128)
    args = ap.parse_args()
    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    with h5py.File(args.data, 'r') as f:
        xtr = torch.from_numpy(np.asarray(f['train/images'])).permute(0, 3, 1, 2).contiguous()
        ytr = torch.from_numpy(np.asarray(f['train/coarse_labels'])).long()
        xte = torch.from_numpy(np.asarray(f['test/images'])).permute(0, 3, 1, 2).contiguous()
        yte = torch.from_numpy(np.asarray(f['test/coarse_labels'])).long()
    n_p = int(ytr.max()) + 1
    model = network(n_p, args.k)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.95, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 / (1 + 1e-6 * step))
    print(f'loaded in {time.perf_counter() - t_start:.1f} s', file=sys.stderr)
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(xtr.shape[0], generator=gen)
        for i in range(xtr.shape[0] // args.batch):
            idx = order[i * args.batch:(i + 1) * args.batch]
            x = xtr[idx].float() / 255
            x2 = torch.cat([x, augment(x, gen)])
            p = ytr[idx]
            loss = objective(model(x2), torch.cat([p, p]), n_p, args.k)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        t1 = time.perf_counter()
        model.eval()
        correct = 0
        with torch.inference_mode():
            for i in range(0, xte.shape[0], 256):
                z = model(xte[i:i + 256].float() / 255)
                correct += int(((z.argmax(1) % n_p) == yte[i:i + 256]).sum())
        t2 = time.perf_counter()
        print(f'epoch {epoch + 1}: train {t1 - t0:.1f} s, test scoring {t2 - t1:.1f} s, '
              f'parent accuracy {correct / xte.shape[0]:.4f}', file=sys.stderr)
    print(f'total {time.perf_counter() - t_start:.1f} s', file=sys.stderr)


if __name__ == '__main__':
    main()
