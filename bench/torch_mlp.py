"""Baseline for training speed: PyTorch CPU backpropagation on a tanh MLP with SGD + momentum, the same shapes and
batch as the dfa-nn benchmark, on random MNIST-sized data (speed does not depend on the values). Tries 1 and 2
threads and reports the best, as one JSON line: per setting, the best of three epochs after a warm-up one."""
import json
import sys
import time

import torch

sizes = json.loads(sys.argv[1])
rows = int(sys.argv[2])
batch = int(sys.argv[3])
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
    epochs = []
    for epoch in range(4):  # the first warms up; the best of the other three counts, as for dfa-nn
        start = time.perf_counter()
        for i in range(0, rows, batch):
            optimizer.zero_grad()
            loss = loss_fn(model(x[i:i + batch]), y[i:i + batch])
            loss.backward()
            optimizer.step()
        epochs.append(time.perf_counter() - start)
    results[threads] = min(epochs[1:])
best = min(results, key=results.get)
print(json.dumps({'seconds': results[best], 'threads': best, 'all': results}))
