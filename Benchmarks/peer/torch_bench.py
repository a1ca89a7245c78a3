#!/usr/bin/env python3
"""PyTorch peer of `acol-bench speed`: the same networks, training step and timing.

    python3 Benchmarks/peer/torch_bench.py [--arch mlp|cnn2] [--steps 30] [--threads 2] [--batch 128]
    (key=value arguments as acol-bench takes them also work: arch=cnn2 steps=30 threads=2)

What one timed training step is, on both sides (see Benchmarks/ACOLBench/main.swift, speed mode):
  u8 batch -> float * 1/255, forward in training mode (dropout on, batch statistics in BatchNorm),
  ACOL objective (softmax over the n_p * k nodes, sum-pooling of duplicates into parents,
  mean -log Y[parent], plus GAR), backward, SGD update (lr 0.01 / (1 + 1e-6 * step),
  momentum 0.95, Nesterov). The first 3 steps are warm-up; the median of `steps` steps is reported.
Inference: forward of 256 images in eval mode (to Z), median of max(steps // 2, 5) calls.

Output lines have acol-bench's format, e.g.
  mlp train: median step 57.0 ms, 2246 samples/s (batch 128, 2 threads)
  mlp inference: median 32.8 ms per 256, 7805 samples/s
"""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit('torch_bench.py: PyTorch is not installed. Install the CPU build with\n'
             '    pip install "torch==2.13.0+cpu"\n'
             'or, where that wheel is not available, `pip install torch`.')

PARENTS, K = 2, 5          # the ACOL head of acol-bench speed: n_p = 2, k = 5 -> 10 nodes
HIDDEN = 2048


def glorot_(model):
    """Glorot-uniform weights and zero biases, as the Swift side initialises Dense and Conv2D."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def body(arch):
    """Sources/ACOL/Model/Presets.swift, for a 28 x 28 x 1 input."""
    if arch == 'mlp':
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, HIDDEN), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Dropout(0.5))
    if arch == 'cnn2':
        def conv(i, o):
            return nn.Conv2d(i, o, 3, padding=1)      # 3 x 3 'same'
        return nn.Sequential(
            conv(1, 32), nn.ReLU(), conv(32, 32), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2),
            conv(32, 64), nn.ReLU(), conv(64, 64), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, HIDDEN), nn.ReLU(), nn.Dropout(0.5))
    raise SystemExit(f'torch_bench.py: unknown arch {arch!r} (mlp, cnn2)')


class ACOLNet(nn.Module):
    """Body, then the ACOL head: BatchNorm1d on F, Linear(F -> n_p * k) = Z."""

    def __init__(self, arch, parents=PARENTS, k=K):
        super().__init__()
        self.arch = arch
        self.body = body(arch)
        # Keras convention on the Swift side: momentum 0.99 on the running stats, eps 1e-3.
        self.norm = nn.BatchNorm1d(HIDDEN, eps=1e-3, momentum=0.01)
        self.head = nn.Linear(HIDDEN, parents * k)
        glorot_(self)

    def forward(self, x):
        # x: [m, 28, 28] float; the CNN takes NCHW.
        if self.arch != 'mlp':
            x = x.unsqueeze(1)
        return self.head(self.norm(self.body(x)))


def gar(z, parents, k, scope='parent', ca=1.0, cb=1.0, cf=1e-6, eps=1e-7):
    """GAR U(Z) = c_a * affinity + c_b * (1 - balance) + c_F * ||Z||^2 (sum), on B = relu(Z).

    Node j is parent j % n_p, duplicate j // n_p, so Z.view(m, k, n_p)[:, d, p].
    scope 'parent': affinity/balance on each parent's k x k block, averaged (GARConfig() default,
    which acol-bench speed uses); scope 'all': one block of all n nodes.
    """
    m = z.shape[0]
    if scope == 'parent':
        b = F.relu(z).view(m, k, parents).permute(2, 0, 1)      # [n_p, m, k]
    else:
        b = F.relu(z).unsqueeze(0)                              # [1, m, n]
    nb = b.shape[2]
    n_mat = b.transpose(1, 2) @ b                               # N = B^T B   [blocks, nb, nb]
    v = torch.diagonal(n_mat, dim1=1, dim2=2)                   # diag(N)     [blocks, nb]
    t = v.sum(1)                                                # tr N
    affinity = (n_mat.sum((1, 2)) - t) / ((nb - 1) * t + eps)
    q = (v * v).sum(1)                                          # tr V, V = v^T v
    balance = (t * t - q) / ((nb - 1) * q + eps)                # sum(V) = (sum v)^2 = t^2
    return ca * affinity.mean() + cb * (1 - balance.mean()) + cf * (z * z).sum()


def acol_loss(z, parent, parents, k, scope):
    """mean_i -log Y[i, parent_i] + GAR, Y = sum of the softmax over the duplicates of each parent."""
    m = z.shape[0]
    log_s = F.log_softmax(z, dim=1).view(m, k, parents)
    log_y = torch.logsumexp(log_s, dim=1)                       # log of pooled Y [m, n_p]
    ce = F.nll_loss(log_y, parent)
    return ce + gar(z, parents, k, scope)


def parse_args(argv):
    # Accept acol-bench's key=value form too.
    norm = []
    for a in argv:
        if not a.startswith('-') and '=' in a:
            key, val = a.split('=', 1)
            norm += ['--' + key.replace('_', '-'), val]
        else:
            norm.append(a)
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--arch', default='mlp', choices=['mlp', 'cnn2'])
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--steps', type=int, default=30)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--infer', type=int, default=1, help='1: also measure inference (default), 0: not')
    p.add_argument('--scope', default='parent', choices=['parent', 'all'],
                   help='GAR scope; acol-bench speed uses GARConfig(), i.e. per parent')
    p.add_argument('--phases', type=int, default=1, help='1: print per-phase times like acol-bench')
    return p.parse_args(norm)


def main(argv):
    a = parse_args(argv)
    if a.steps < 1 or a.batch < 1 or a.threads < 1:
        sys.exit('torch_bench.py: steps, batch and threads must be at least 1')
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    print(f'# torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'mkldnn {torch.backends.mkldnn.is_available()}', file=sys.stderr)

    bs = a.batch
    n = bs * 4
    g = torch.Generator().manual_seed(3)
    pixels = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
    parent = (torch.arange(n) % PARENTS).long()

    net = ACOLNet(a.arch)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.95, nesterov=True)
    # Keras-style decay lr / (1 + 1e-6 * step), as OptimizerConfig.sgdReference.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0 / (1.0 + 1e-6 * step))

    times = []
    phase = {'forward': 0.0, 'objective': 0.0, 'backward': 0.0, 'update': 0.0}
    for s in range(a.steps + 3):
        lo = (s % 4) * bs
        y = parent[lo:lo + bs]
        t0 = time.perf_counter()
        x = pixels[lo:lo + bs].float().mul_(1.0 / 255.0)
        z = net(x)
        t1 = time.perf_counter()
        loss = acol_loss(z, y, PARENTS, K, a.scope)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        sched.step()
        t4 = time.perf_counter()
        if s >= 3:
            times.append(t4 - t0)
            phase['forward'] += t1 - t0
            phase['objective'] += t2 - t1
            phase['backward'] += t3 - t2
            phase['update'] += t4 - t3
    if not torch.isfinite(loss):
        print(f'# warning: loss is {loss.item()}', file=sys.stderr)
    med = sorted(times)[len(times) // 2]       # same median as acol-bench (upper middle)
    print(f'{a.arch} train: median step {med * 1000:.1f} ms, {bs / med:.0f} samples/s '
          f'(batch {bs}, {torch.get_num_threads()} threads)')
    if a.phases:
        for key in sorted(phase):
            print(f'  {key} {phase[key] / a.steps * 1000:.1f} ms/step')
    sys.stdout.flush()

    if a.infer:
        ib = 256
        x = pixels[:ib].float().mul_(1.0 / 255.0) if n >= ib else \
            torch.randint(0, 256, (ib, 28, 28), dtype=torch.uint8, generator=g).float().mul_(1.0 / 255.0)
        net.eval()
        it = []
        with torch.inference_mode():
            for _ in range(max(a.steps // 2, 5)):
                t0 = time.perf_counter()
                net(x)
                it.append(time.perf_counter() - t0)
        med = sorted(it)[len(it) // 2]
        print(f'{a.arch} inference: median {med * 1000:.1f} ms per {ib}, {ib / med:.0f} samples/s')


if __name__ == '__main__':
    main(sys.argv[1:])
