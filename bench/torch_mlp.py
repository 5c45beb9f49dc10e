"""Baseline for training speed: PyTorch CPU backpropagation on a tanh MLP with SGD + momentum, the same shapes and
batch as the dfa-nn benchmark, on random MNIST-sized data (speed does not depend on the values). At 1 and at 2
threads, each the best of `epochs` epochs after a warm-up one; prints one JSON line with both, the better one, and
PyTorch's BLAS and thread settings."""
import json
import sys
import time

import torch

import blas_info

sizes = json.loads(sys.argv[1])
rows = int(sys.argv[2])
batch = int(sys.argv[3])
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
default_threads = torch.get_num_threads()
results = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(rows, sizes[0])
    y = torch.randint(0, sizes[-1], (rows,))
    seconds = []
    for epoch in range(1 + epochs):  # the first warms up
        start = time.perf_counter()
        for i in range(0, rows, batch):
            optimizer.zero_grad()
            loss = loss_fn(model(x[i:i + batch]), y[i:i + batch])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    results[threads] = min(seconds[1:])
best = min(results, key=results.get)
config = torch.__config__.show()
settings = {
    'version': torch.__version__,
    'blas': blas_info.describe(),
    'buildBlas': next((f.split('=')[1] for f in config.replace(',', ' ').split() if f.startswith('BLAS_INFO=')), '?'),
    'cpuCapability': next((l.split(':')[1].strip() for l in config.splitlines() if 'CPU capability' in l), '?'),
    'mkldnn': torch.backends.mkldnn.is_available(),
    'parallelBackend': next((l.split(':')[1].strip() for l in torch.__config__.parallel_info().splitlines()
                             if 'parallel backend' in l), '?'),
    'defaultThreads': default_threads,
}
print(json.dumps({'seconds': results[best], 'threads': best, 'all': results, 'epochs': epochs, 'settings': settings}))
