"""Mutants of chapter 04_vanishing_exploding: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

CH = "04_vanishing_exploding"
BOTH = {"test_jacobian_norms", "test_jacobian_norms_autodiff"}

MUTANTS = [
    M(CH, "scale_to_spectral_radius", "np.max(np.abs(np.linalg.eigvals(W)))", "np.linalg.norm(W, 2)",
      {"test_scale_to_spectral_radius"}, "spectral norm (largest singular value) instead of spectral radius"),
    M(CH, "scale_to_spectral_radius", "np.max(np.abs(np.linalg.eigvals(W)))",
      "np.max(np.linalg.eigvals(W).real)", {"test_scale_to_spectral_radius"},
      "largest real part instead of the largest modulus"),
    M(CH, "scale_to_spectral_radius", "np.max(np.abs(np.linalg.eigvals(W)))", "np.max(np.linalg.eigvals(W))",
      {"test_scale_to_spectral_radius"}, "the complex eigenvalue itself instead of its modulus", visible=True,
      says="the result is complex"),
    M(CH, "scale_to_spectral_radius",
      'raise ValueError(f"W must have a nonzero eigenvalue; its spectral radius is {radius}")', "pass",
      {"test_scale_to_spectral_radius"}, "no error for a matrix without a nonzero eigenvalue (hidden test)"),
    M(CH, "jacobian_norms", "J = (1.0 - h[s] ** 2)[:, None] * Wh.T", "J = Wh.T", BOTH,
      "Jacobian product missing the tanh derivative", visible=True,
      says="the tanh derivative (1 - h_s**2) is missing from J_s"),
    M(CH, "jacobian_norms", "(1.0 - h[s] ** 2)", "(1.0 - h[s - 1] ** 2)", BOTH,
      "tanh derivative of the wrong step (off by one)", visible=True,
      says="the tanh derivative of the step before"),
    M(CH, "jacobian_norms", "norms.append(np.linalg.norm(product, 2))", "norms.append(np.linalg.norm(product))",
      BOTH, "Frobenius norm instead of the spectral norm", visible=True,
      says="the Frobenius norm np.linalg.norm(P) instead of the spectral norm"),
    M(CH, "jacobian_norms", "product = product @ J", "product = J @ product", BOTH,
      "Jacobians multiplied in the wrong order", visible=True, says="the Jacobians multiplied in the wrong order"),
    M(CH, "jacobian_norms", "[:, None] * Wh.T", "[:, None] * Wh", BOTH,
      "Wh instead of Wh.T (the Jacobian of the column layout)", visible=True, says="needs its transpose Wh.T"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {}
