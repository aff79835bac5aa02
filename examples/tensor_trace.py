"""The notes' reverse mode on tensors and on data structures, as printed traces.

1. Z = XW, v = f(Z) with X 2×2 and W 2×3, f(Z) = ½ Σᵢⱼ Zᵢⱼ² (so Z̄ = Z): the forward
   evaluation trace in scalar form (every Zᵢⱼ = Σₖ XᵢₖWₖⱼ a few scalar nodes), the adjoint
   table X̄ᵢₖ = Σⱼ WₖⱼZ̄ᵢⱼ with its numbers, and the matrix form X̄ = Z̄Wᵀ (and W̄ = XᵀZ̄)
   computed with NumPy, shown equal to scalar reverse mode.
2. d = {"cat": a₀, "dog": a₁}, b = d["cat"], v = f(b): the adjoint of the dict is a dict.

Run: python examples/tensor_trace.py
"""

from scalargrad.arrays import structure_trace, tensor_trace


def main() -> None:
    print("Reverse mode AD on tensors")
    print("==========================")
    print(tensor_trace())
    print()
    print("Reverse mode AD on data structures")
    print("==================================")
    print(structure_trace())


if __name__ == "__main__":
    main()
