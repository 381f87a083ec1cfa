#!/usr/bin/env python3
"""Worst-case value bounds of the AVX-512 IFMA Poseidon2 kernel (poseidon2_ifma.cpp).

The kernel never reduces to canonical form inside the permutation. Its 52-bit-limb Montgomery
multiplication (R' = 2^260) needs both inputs below 2^260 and returns less than a*b/2^260 + p. This
script follows an upper bound of every value through the permutation exactly as the kernel computes
it (every input, constant and added round constant taken at its maximum) and fails if any
multiplication input or output could reach 2^260, or if the output could need more than one
subtraction of p. Run by ctest; prints the bounds quoted in the kernel's comments.
"""
import sys
from math import log2

P = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
R = 2**260


def mul(a, b):
    assert a < R and b < R, "multiplication input >= 2^260"
    r = a * b // R + P
    assert r < R, "multiplication output >= 2^260"
    return r


def sbox(x):
    x2 = mul(x, x)
    x4 = mul(x2, x2)
    return mul(x4, x)


def external(x):
    # M4 rows [5,7,1,3], [4,6,1,1], [1,3,5,7], [1,1,4,6]: row sums 16, 12, 16, 12.
    m = max(x)
    return [16 * m, 12 * m, 16 * m, 12 * m]


def main():
    lg = lambda v: f"2^{log2(v):.2f}"
    peak = 0
    x = [mul(P - 1, 2**264 % P)] * 4  # into R' form
    print("input in R' form <", lg(x[0]))
    x = external(x)
    def full(x):
        nonlocal peak
        ins = [v + P for v in x]  # + round constant < p
        peak = max(peak, *ins)
        return external([sbox(v) for v in ins])
    for _ in range(4):
        x = full(x)
    print("after the first full rounds <", lg(max(x)))
    worst_partial = 0
    for _ in range(56):
        a, b, c, d = x
        peak = max(peak, a + P, b + c + d)
        bcd = mul(b + c + d, R % P)
        x5 = sbox(a + P)
        s = x5 + bcd
        x = [mul(x5, P) + s, mul(b, P) + s, mul(c, P) + s, mul(d, P) + s]
        worst_partial = max(worst_partial, *x)
    print("partial round outputs <", lg(worst_partial))
    for _ in range(4):
        x = full(x)
    out = [mul(v, 2**256 % P) for v in x]
    print("largest multiplication input <", lg(peak))
    print(f"output < {max(out) / P:.3f} p")
    assert max(out) < 2 * P, "output needs more than one subtraction"
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
