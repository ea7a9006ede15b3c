"""Eq. 4, the orthogonal regulariser, with conventions rows 1 and 2.

R(P, Q) = ||P^T P - I||_F^2 + ||Q Q^T - I||_F^2 and L = C + gamma * sum_k R.
Row 1: the paper squares the Frobenius norm; PEFT and the original take the
plain norm (`torch.norm(para_cov - I, p="fro")` in PEFT's AdaLoraModel.forward).
Row 2: the paper sums over the 2n factors; PEFT and the original divide the
sum by the number of factors (`regu_loss / num_param`).
The identity is r0 x r0 (docs/SPEC.md §2, Eq. 4): pruned triplets stay regularised.
Autograd gives the gradients (4 P (P^T P - I) etc. for the squared norm)."""
import torch


def factor_term(weight, gram, norm):
    """||P^T P - I|| (gram "PtP", weight = P = lora_B) or ||Q Q^T - I||
    (gram "QQt", weight = Q = lora_A), squared or plain."""
    cov = weight.T @ weight if gram == "PtP" else weight @ weight.T
    eye = torch.eye(cov.shape[0], dtype=cov.dtype)
    if norm == "squared":
        return ((cov - eye) ** 2).sum()
    if norm == "plain":
        return torch.norm(cov - eye, p="fro")
    raise ValueError(f"orth norm '{norm}': allowed values are squared, plain")


def orth_raw(model, norm):
    """sum_k R(P_k, Q_k) in the chosen norm, and the number of factors (2n)."""
    total, count = 0.0, 0
    for module in model.adapted:
        for weight, gram in module.factors():
            total = total + factor_term(weight, gram, norm)
            count += 1
    return total, count


def orth_term(raw, count, gamma, reduce):
    """What the regulariser adds to L: gamma * sum (paper) or gamma * mean."""
    if reduce == "sum":
        return gamma * raw
    if reduce == "mean":
        return gamma * raw / count
    raise ValueError(f"orth reduce '{reduce}': allowed values are sum, mean")
