"""An exact reference optimum on the full feasible graph, independent of the engine.

Successive shortest paths with Bellman-Ford on the unit network (source -> need ->
volunteer -> sink, and need -> sink for "unserved"), with lexicographic costs
``(-weight, cost)`` held as ``(int, Fraction)``: no big-M, no floating point sums.
Small instances only (tens of needs).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from matching import Problem


def feasible_pairs(p: Problem) -> list[tuple[int, int, float]]:
    """Every feasible (need, volunteer, cost) by brute force."""
    out = []
    for i in range(p.n_need):
        need = np.full(p.n_vol, i)
        vol = np.arange(p.n_vol)
        km = p.pair_km(need, vol)
        ok = p.feasible(need, vol, km)
        for j in np.flatnonzero(ok).tolist():
            out.append((i, j, float(km[j]) + float(p.penalty[j])))
    return out


def reference(p: Problem) -> tuple[int, Fraction]:
    """(served weight, total cost) of the lexicographic optimum."""
    n, m = p.n_need, p.n_vol
    src, sink = n + m, n + m + 1
    size = n + m + 2
    # Arcs: [to, cap, (w, c), rev]
    graph: list[list[list]] = [[] for _ in range(size)]

    def add(u: int, v: int, cap: int, cost: tuple[int, Fraction]) -> None:
        graph[u].append([v, cap, cost, len(graph[v])])
        graph[v].append([u, 0, (-cost[0], -cost[1]), len(graph[u]) - 1])

    zero = (0, Fraction(0))
    for i in range(n):
        add(src, i, 1, zero)
        add(i, sink, 1, zero)
    for i, j, c in feasible_pairs(p):
        add(i, n + j, 1, (-int(p.weight[i]), Fraction(c)))
    for j in range(m):
        if p.capacity[j] > 0:
            add(n + j, sink, int(p.capacity[j]), zero)
    weight, cost = 0, Fraction(0)
    for _ in range(n):
        dist: list = [None] * size
        pred: list = [None] * size
        dist[src] = zero
        for _ in range(size):
            changed = False
            for u in range(size):
                if dist[u] is None:
                    continue
                for k, (v, cap, c, _) in enumerate(graph[u]):
                    if cap <= 0:
                        continue
                    nd = (dist[u][0] + c[0], dist[u][1] + c[1])
                    if dist[v] is None or nd < dist[v]:
                        dist[v] = nd
                        pred[v] = (u, k)
                        changed = True
            if not changed:
                break
        if dist[sink] is None:
            break
        v = sink
        while v != src:
            u, k = pred[v]
            graph[u][k][1] -= 1
            graph[v][graph[u][k][3]][1] += 1
            v = u
        weight -= dist[sink][0]
        cost += dist[sink][1]
    return weight, cost
