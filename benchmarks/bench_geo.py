"""Benchmark: batch routing of 147,000 delivery points against 50 factories (R10).

Prints points per second for :meth:`orderflow.geo.Router.route_many` (numpy,
one call) and for a plain-Python haversine loop over the same points and
factories, measured in the same run, and their ratio. Both apply the same
eligibility rule (the factory makes the product) and must agree on every
point; the script exits non-zero if they do not.

Run::

    .venv/bin/python benchmarks/bench_geo.py            # 147,000 points, 50 factories
    .venv/bin/python benchmarks/bench_geo.py --points 20000
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time

import numpy as np

from orderflow.geo import EARTH_RADIUS_M, Factory, LatLon, Router

PRODUCTS = ("HV-200", "HV-300", "AP-10", "AP-20", "SEAL-Q23")


def make_factories(rng: random.Random, n: int) -> list[Factory]:
    """``n`` factories spread over eastern China, each making 2-4 of the products."""
    factories = []
    for i in range(n):
        location = LatLon(rng.uniform(21.0, 41.0), rng.uniform(104.0, 122.5))
        products = set(rng.sample(PRODUCTS, rng.randint(2, 4)))
        factories.append(Factory(f"F{i:03d}", location, products=products))
    return factories


def python_route(
    lats: list[float],
    lons: list[float],
    products: list[str],
    factories: list[Factory],
) -> list[str]:
    """The plain-Python baseline: haversine to every eligible factory, keep the nearest.

    (Near-ties within 1 mm, which the router resolves by id, do not occur in
    random data; the disagreement count printed below checks that.)
    """
    table = sorted(
        (
            f.id,
            math.radians(f.location.lat),
            math.radians(f.location.lon),
            math.cos(math.radians(f.location.lat)),
            f.products or frozenset(),
        )
        for f in factories
    )
    out = []
    for lat, lon, product in zip(lats, lons, products, strict=True):
        phi = math.radians(lat)
        lam = math.radians(lon)
        cos_phi = math.cos(phi)
        best_d = math.inf
        best_id = ""
        for fid, f_phi, f_lam, f_cos, made in table:
            if product not in made:
                continue
            h = (
                math.sin((f_phi - phi) / 2) ** 2
                + cos_phi * f_cos * math.sin((f_lam - lam) / 2) ** 2
            )
            d = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
            if d < best_d:  # factories sorted by id: exact ties keep the lowest id
                best_d, best_id = d, fid
        out.append(best_id)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=147_000)
    parser.add_argument("--factories", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20260122)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    factories = make_factories(rng, args.factories)
    # every product is made somewhere, so every point is routable
    made = set().union(*(f.products or set() for f in factories))
    lats = [rng.uniform(18.0, 53.5) for _ in range(args.points)]
    lons = [rng.uniform(73.5, 135.0) for _ in range(args.points)]
    products = [rng.choice(sorted(made)) for _ in range(args.points)]

    t0 = time.perf_counter()
    router = Router(factories)
    t1 = time.perf_counter()
    batch = router.route_many(np.array(lats), np.array(lons), products)
    t2 = time.perf_counter()
    ids = batch.assigned()
    baseline = python_route(lats, lons, products, factories)
    t3 = time.perf_counter()

    batch_s, python_s = t2 - t1, t3 - t2
    disagreements = sum(a != b for a, b in zip(ids, baseline, strict=True))
    print(f"orderflow.geo batch routing: {args.points:,} points x {args.factories} factories")
    print(f"  router build              {1000 * (t1 - t0):9.1f} ms")
    print(f"  Router.route_many (numpy) {batch_s:9.3f} s  {args.points / batch_s:>12,.0f} points/s")
    print(
        f"  plain-Python haversine    {python_s:9.3f} s  {args.points / python_s:>12,.0f} points/s"
    )
    print(f"  speed-up                  {python_s / batch_s:9.1f}x")
    print(f"  disagreements             {disagreements:9d}")

    sample = min(2_000, args.points)
    t4 = time.perf_counter()
    for i in range(sample):
        router.route(LatLon(lats[i], lons[i]), products[i])
    t5 = time.perf_counter()
    print(
        f"  Router.route (explained)  {sample / (t5 - t4):>22,.0f} points/s  "
        f"(one call per point, first {sample:,})"
    )
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
