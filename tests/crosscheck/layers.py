"""The adapted layers and the host model, written from docs/SPEC.md (section 2,
Eq. 3; section 3, LoRA) in PyTorch, float64, shaped like PEFT's
`peft/tuners/adalora/layer.py` and `peft/tuners/lora/layer.py` so the two can
be read side by side.

PEFT's names: lora_A = Q (r0 x d_in), lora_B = P (d_out x r0),
lora_E = lambda (r0 x 1), ranknum = r0, scaling = lora_alpha.
"""
import torch
import torch.nn.functional as F

DTYPE = torch.float64


def _parameter(array):
    return torch.nn.Parameter(torch.as_tensor(array, dtype=DTYPE).clone())


class SVDLinear(torch.nn.Module):
    """Eq. 3: y = x W0^T + b + s * x (P diag(lambda) Q)^T.

    docs/SPEC.md §2, Eq. 3 / conventions row 10: s = alpha / r0 (paper) or
    alpha / (r0 + 1e-5) (PEFT's `scaling / (ranknum + 1e-5)`, original); the
    scale uses the initial rank and never changes when triplets are pruned.
    Pruning is not a gate in the forward: masking writes zeros into lora_E
    (README "Choices where the paper is silent"; docs/SPEC.md §2, Eq. 8), so the forward is
    the unmasked product of whatever lora_E holds."""

    def __init__(self, W0, bias, P, lam, Q, lora_alpha, scale_eps):
        super().__init__()
        self.weight = torch.as_tensor(W0, dtype=DTYPE)           # frozen, d_out x d_in
        self.bias = None if bias is None else torch.as_tensor(bias, dtype=DTYPE)
        self.lora_A = _parameter(Q)                              # Q: r0 x d_in
        self.lora_B = _parameter(P)                              # P: d_out x r0
        self.lora_E = _parameter(lam.reshape(-1, 1))             # lambda: r0 x 1
        self.ranknum = float(self.lora_A.shape[0])               # r0, fixed
        self.scaling = float(lora_alpha)
        self.scale_eps = float(scale_eps)

    def forward(self, x):
        result = F.linear(x, self.weight, self.bias)
        # PEFT: result += (x @ (lora_A * lora_E).T @ lora_B.T) * scaling / ranknum
        delta = x @ (self.lora_A * self.lora_E).T @ self.lora_B.T
        return result + delta * (self.scaling / (self.ranknum + self.scale_eps))

    def factors(self):
        """The pairs the orthogonal regulariser (Eq. 4) acts on, with which
        Gram matrix: P^T P for lora_B, Q Q^T for lora_A."""
        return [(self.lora_B, "PtP"), (self.lora_A, "QQt")]


class LoRALinear(torch.nn.Module):
    """docs/SPEC.md §3, LoRA: y = x W0^T + b + s * x (B A)^T with B (d_out x r)
    and A (r x d_in); s = alpha / (r + scale_eps) like the SVD form."""

    def __init__(self, W0, bias, B, A, lora_alpha, scale_eps):
        super().__init__()
        self.weight = torch.as_tensor(W0, dtype=DTYPE)
        self.bias = None if bias is None else torch.as_tensor(bias, dtype=DTYPE)
        self.lora_A = _parameter(A)
        self.lora_B = _parameter(B)
        self.lora_E = None
        self.ranknum = float(self.lora_A.shape[0])
        self.scaling = float(lora_alpha)
        self.scale_eps = float(scale_eps)

    def forward(self, x):
        result = F.linear(x, self.weight, self.bias)
        delta = x @ self.lora_A.T @ self.lora_B.T
        return result + delta * (self.scaling / (self.ranknum + self.scale_eps))

    def factors(self):
        return [(self.lora_B, "PtP"), (self.lora_A, "QQt")]


ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": F.relu,
    "gelu": F.gelu,  # the exact (erf) GELU, torch's default
    "tanh": torch.tanh,
}


def task_loss(kind, out, target):
    """The task loss C of one chain (mean over the batch rows)."""
    if kind == "mse":   # torch.nn.MSELoss: mean over rows and outputs
        return F.mse_loss(out, target, reduction="mean")
    if kind == "sse":   # sum over outputs, mean over rows
        return ((out - target) ** 2).sum(dim=1).mean()
    if kind == "cross-entropy":
        return F.cross_entropy(out, target.long(), reduction="mean")
    raise ValueError(f"loss '{kind}': allowed values are mse, sse, cross-entropy")


class HostModel(torch.nn.Module):
    """Chains of adapted layers: chain c is fed by its own input x[c]; its
    modules run in order, each followed by its activation; the task loss is
    the sum over chains of each chain's loss. (An MLP is one chain; the
    planted-linear task is n chains of one module.)"""

    def __init__(self, modules, names, chains, activations, loss_kind):
        super().__init__()
        self.adapted = torch.nn.ModuleList(modules)
        self.names = list(names)
        self.chains = list(chains)
        self.activations = list(activations)
        self.loss_kind = loss_kind

    def chain_ids(self):
        seen = []
        for c in self.chains:
            if c not in seen:
                seen.append(c)
        return seen

    def forward(self, xs, ys):
        total = 0.0
        for c in self.chain_ids():
            h = xs[c]
            for k, module in enumerate(self.adapted):
                if self.chains[k] != c:
                    continue
                h = ACTIVATIONS[self.activations[k]](module(h))
            total = total + task_loss(self.loss_kind, h, ys[c])
        return total
