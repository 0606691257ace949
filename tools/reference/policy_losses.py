#!/usr/bin/python3
"""Golden fixtures for src/Aspo.Algorithms, computed with PyTorch autograd.

Run with Debian's PyTorch:  apt-get install python3-torch;  /usr/bin/python3 tools/reference/policy_losses.py
Writes tests/Aspo.Algorithms.Tests/Fixtures/policy_losses.json.

Each loss is written here the way the reference code writes it (verl core_algos.py, Archer2.0
compute_policy_loss_archer), with stop-gradients as .detach(); the gradient w.r.t. the log-probs
comes from autograd, independently of the closed-form gradients the C# code implements.
Per-token terms are float32 (as verl computes them); aggregation is done in float64.
"""
import json
import math
import os
import sys

import torch

torch.manual_seed(20251006)
B, T = 8, 16
NAN = float("nan")

# ---------------------------------------------------------------------------------------------- inputs
lengths = [16, 13, 9, 1, 0, 16, 7, 11]            # valid tokens per sequence (one empty, one single-token)
mask = torch.zeros(B, T)
for i, n in enumerate(lengths):
    mask[i, :n] = 1.0
old = -(torch.rand(B, T) * 3.0 + 0.05)             # ℓ_old in [-3.05, -0.05]
# log-ratios: every clipping region of every loss, then random ones
regions = [math.log(x) for x in (0.1, 0.3, 0.5, 0.7, 0.75, 0.9, 1.0, 1.1, 1.25, 1.3, 1.35, 1.5, 2.0, 2.5, 3.5, 5.0, 12.0)]
regions += [25.0, -25.0]                           # beyond the ±20 clamp
log_ratio = torch.empty(B, T)
for i in range(B):
    for t in range(T):
        k = (i * T + t) % (len(regions) + 6)
        log_ratio[i, t] = regions[k] if k < len(regions) else (torch.rand(()) * 2.4 - 1.2).item()
lp0 = (old + log_ratio).float()
seq_adv = torch.tensor([1.3, -0.9, 0.0, 2.1, 0.5, -1.7, 0.8, -0.4])
adv = (seq_adv[:, None] * torch.ones(B, T)).float() * mask
entropy = (torch.rand(B, T) * 3.0).float()
roll = (old + torch.randn(B, T) * 0.3).float()
ref = (lp0 + torch.randn(B, T) * 0.5).float()
ref[0, 0] = lp0[0, 0] + 30.0                       # k3 clamps
ref[0, 1] = lp0[0, 1] - 30.0


def ratio(lp, clamp=True):
    d = lp - old
    return torch.exp(torch.clamp(d, -20.0, 20.0) if clamp else d)


# ---------------------------------------------------------------------------------------------- losses
def vanilla(lp, el=0.2, eh=0.2, c=3.0, metric_mask=None):
    metric_mask = mask if metric_mask is None else metric_mask  # forking_tokens: metrics over the selected tokens
    r = ratio(lp)
    l1 = -adv * r
    l2 = -adv * torch.clamp(r, 1 - el, 1 + eh)
    lc = torch.maximum(l1, l2)
    l = torch.where(adv < 0, torch.minimum(-adv * c, lc), lc)
    metrics = {
        "actor/pg_clipfrac": masked_mean((l2 > l1).float(), metric_mask),
        "actor/pg_clipfrac_lower": masked_mean(((lc > -adv * c) & (adv < 0)).float(), metric_mask),
    }
    return l, metrics


def aspo(lp, split=True, lo=0.2, hi=0.4, q=0.8, c=3.0):
    r = ratio(lp)
    if split:
        h = torch.where(mask > 0, entropy, torch.full_like(entropy, NAN))
        qv = torch.nanquantile(h, q, dim=-1, keepdim=True)
        low = (entropy <= qv) & (mask > 0)
        eps = torch.where(low, torch.full_like(r, lo), torch.full_like(r, hi))
    else:
        eps = torch.full_like(r, lo)
    rho_n = torch.maximum(r, 1 - eps)
    l_neg = torch.where(rho_n > c, -adv * torch.clamp(rho_n, max=c).detach() * lp, -adv * rho_n)
    rho_p = torch.minimum(r, 1 + eps)
    l_pos = torch.where(1 / rho_p > c, -adv * torch.clamp(1 / rho_p, max=c).detach() * lp,
                        -adv * rho_p / rho_p.detach() / rho_p.detach())
    l = torch.where(adv < 0, l_neg, l_pos)
    neg, pos = (adv < 0).float() * mask, (adv > 0).float() * mask
    upper = ((r > rho_p) & (adv >= 0)).float()
    lower = ((r < rho_n) & (adv < 0)).float()
    metrics = {
        "actor/pg_clipfrac_upper": masked_mean(upper, mask),
        "actor/pg_clipfrac_lower": masked_mean(lower, mask),
        "actor/negative_pg_clipfrac_dual": masked_mean((rho_n > c).float(), neg),
        "actor/positive_pg_clipfrac_dual": masked_mean((1 / rho_p > c).float(), pos),
    }
    return l, metrics


def cispo(lp, el=1.0, eh=0.28):
    r = ratio(lp)
    w = torch.clamp(r, 1 - el, 1 + eh)
    return -adv * w.detach() * lp, {"actor/pg_clipfrac": masked_mean((w != r).float(), mask)}


def no_is(lp, masked, el=0.2, eh=0.2):
    r = ratio(lp).detach()
    keep = torch.ones_like(r)
    if masked:
        keep = (~(((adv > 0) & (r > 1 + eh)) | ((adv < 0) & (r < 1 - el)))).float()
    return -adv * keep * lp, {"actor/pg_clipfrac": masked_mean(1 - keep, mask)}


def covariance(lp):
    n = mask.sum()
    mean_l = (lp.detach() * mask).sum() / n
    mean_a = (adv * mask).sum() / n
    return (lp.detach().double() - mean_l.double()) * (adv.double() - mean_a.double())


def clip_cov(lp, el=0.2, eh=0.2, ratio_=1.0, lb=1.0, ub=5.0):
    r = ratio(lp, clamp=False)
    l1 = -adv * r
    l2 = -adv * torch.clamp(r, 1 - el, 1 + eh)
    cov = covariance(lp)
    candidates = (mask > 0) & ~(l2 > l1) & (cov > lb) & (cov < ub)
    n_take = max(int(math.floor(ratio_ * mask.sum().item())), 1)
    assert n_take >= int(candidates.sum()), "fixture must detach every candidate (deterministic choice)"
    assert int(candidates.sum()) > 0
    corr = torch.where(candidates, torch.zeros_like(r), torch.ones_like(r))
    return torch.maximum(l1, l2) * corr, {"actor/pg_clipfrac": masked_mean(1 - corr, mask)}


def kl_cov(lp, ratio_=0.1, beta=1.0):
    r = ratio(lp, clamp=False)
    l = -adv * r
    cov = covariance(lp).masked_fill(mask == 0, -math.inf).flatten()
    k = max(int(math.floor(mask.sum().item() * ratio_)), 1)
    top = torch.topk(cov, k).indices
    sel = torch.zeros(B * T, dtype=torch.bool)
    sel[top] = True
    sel = sel.view(B, T)
    l = torch.where(sel, l + beta * (lp - old).abs(), l)
    return l, {"actor/ppo_kl": masked_mean((lp - old).abs(), mask)}


def forking_mask(rho=0.2):
    valid = mask.flatten() > 0
    k = max(1, math.ceil(rho * int(valid.sum())))
    h = torch.where(valid, entropy.flatten(), torch.full((B * T,), -math.inf))
    top = torch.topk(h, k).indices
    m = torch.zeros(B * T)
    m[top] = 1.0
    return m.view(B, T)


# ---------------------------------------------------------------------------------------------- objective
def masked_mean(v, m):
    s = m.double().sum()
    return float((v.double() * m.double()).sum() / s) if s > 0 else 0.0


def agg(l, m, mode, scale_factor=None):
    l, m = l.double(), m.double()
    if mode == "token-mean":
        return (l * m).sum() / m.sum()
    seq_len = m.sum(-1)
    seq_valid = (seq_len > 0).double()
    if mode == "seq-mean-token-mean":
        return ((l * m).sum(-1) / (seq_len + 1e-8) * seq_valid).sum() / seq_valid.sum()
    if mode == "seq-mean-token-sum":
        return ((l * m).sum(-1) * seq_valid).sum() / seq_valid.sum()
    if mode == "seq-mean-token-sum-norm":
        return (l * m).sum() / (scale_factor if scale_factor is not None else T)
    raise ValueError(mode)


def kl_term(lp, name):
    if name.endswith("+"):
        fwd = kl_term(lp, name[:-1])
        bwd = 0.5 * (lp - ref) ** 2
        return bwd - bwd.detach() + fwd.detach()
    d = lp - ref
    if name == "k1":
        return d
    if name == "abs":
        return d.abs()
    if name == "k2":
        return 0.5 * d * d
    if name == "k3":
        x = torch.clamp(ref - lp, -20.0, 20.0)
        return torch.clamp(torch.exp(x) - x - 1, -10.0, 10.0)
    raise ValueError(name)


def is_weights(level, mode, threshold):
    # in float64: the weights are constants, so compute them as exactly as possible
    if level == "token":
        w = torch.exp(torch.clamp(old.double() - roll.double(), -20.0, 20.0))
    else:
        s = ((old.double() - roll.double()) * mask.double()).sum(-1, keepdim=True)
        w = torch.exp(torch.clamp(s, -20.0, 20.0)).expand(B, T)
    w = w * mask.double()
    w = torch.clamp(w, max=threshold) if mode == "truncate" else w * (w <= threshold).double()
    return w.float().detach()


LOSSES = {
    "ppo": lambda lp: vanilla(lp),
    "grpo": lambda lp: vanilla(lp),
    "dapo": lambda lp: vanilla(lp, 0.2, 0.28, 10.0),
    "aspo": lambda lp: aspo(lp),
    "aspo_paper": lambda lp: aspo(lp, split=False),
    "cispo": lambda lp: cispo(lp),
    "no_is": lambda lp: no_is(lp, masked=False),
    "no_is_masked": lambda lp: no_is(lp, masked=True),
    "clip_cov": lambda lp: clip_cov(lp),
    "kl_cov": lambda lp: kl_cov(lp),
    "forking_tokens": lambda lp: vanilla(lp, 0.2, 0.28, 10.0, metric_mask=forking_mask()),
}
OPTIONS = {  # the non-default options the C# test must pass for these fixtures
    "clip_cov": {"ClipCovRatio": 1.0},
    "kl_cov": {"KlCovRatio": 0.1, "KlCovCoefficient": 1.0},
}
MODES = ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"]


def run_case(loss, mode, kl=None, kl_coef=0.0, correction=None, scale_factor=None):
    lp = lp0.clone().requires_grad_(True)
    l, metrics = LOSSES[loss](lp)
    m = forking_mask() if loss == "forking_tokens" else mask
    if correction is not None:
        l = l * is_weights(*correction)
    pg = agg(l, m, mode, scale_factor)
    total = pg
    kl_value = 0.0
    if kl is not None:
        kl_loss = agg(kl_term(lp, kl), m, mode, scale_factor)
        total = pg + kl_coef * kl_loss
        kl_value = float(kl_loss)
    total.backward()
    case = {
        "loss_name": loss, "mode": mode, "kl": kl, "kl_coef": kl_coef,
        "correction": None if correction is None else {"level": correction[0], "mode": correction[1], "threshold": correction[2]},
        "scale_factor": scale_factor, "options": OPTIONS.get(loss, {}),
        "loss": float(total), "pg_loss": float(pg), "kl_loss": kl_value,
        "grad": [float(x) for x in lp.grad.flatten()],
        "metrics": metrics if correction is None else {},
    }
    return case


cases = [run_case(loss, mode) for loss in LOSSES for mode in MODES]
cases += [
    run_case("aspo", "token-mean", kl="k3", kl_coef=0.001),
    run_case("ppo", "token-mean", kl="k1+", kl_coef=0.1),
    run_case("ppo", "seq-mean-token-mean", kl="abs", kl_coef=0.05),
    run_case("grpo", "token-mean", kl="k2", kl_coef=0.01),
    run_case("dapo", "token-mean", kl="k3+", kl_coef=0.2),
    run_case("ppo", "seq-mean-token-sum-norm", scale_factor=40.0),
    run_case("dapo", "token-mean", correction=("token", "truncate", 2.0)),
    run_case("cispo", "token-mean", correction=("sequence", "mask", 2.0)),
    run_case("aspo", "seq-mean-token-mean", correction=("token", "mask", 1.5)),
    run_case("ppo", "token-mean", correction=("sequence", "truncate", 1.2), kl="k3", kl_coef=0.01),
]

# KL estimators alone, on d = ℓ − ℓ_ref over [-30, 30] (both k3 clamps)
d_points = torch.tensor([-30.0, -21.0, -19.0, -5.0, -2.3, -2.0, -0.7, -0.01, 0.0, 0.01, 0.3, 1.0, 2.5, 10.0, 19.5, 25.0])
kl_lp = (-1.0 + d_points).float()
kl_ref = torch.full_like(kl_lp, -1.0)
kl_fixture = {"log_probs": [float(x) for x in kl_lp], "ref_log_probs": [float(x) for x in kl_ref], "estimators": {}}
for name in ["k1", "abs", "k2", "k3", "k1+", "abs+", "k2+", "k3+"]:
    lp = kl_lp.clone().requires_grad_(True)
    saved_ref = ref
    ref = kl_ref
    v = kl_term(lp, name)
    ref = saved_ref
    v.sum().backward()
    kl_fixture["estimators"][name] = {"values": [float(x) for x in v.detach()], "grads": [float(x) for x in lp.grad]}

# advantage estimators, verl style, float32
scores = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.7, 1.0, -0.5, 2.0, 0.25, 0.5, 1.0, 0.0], dtype=torch.float32)
groups = [0, 0, 0, 0, 1, 1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 4]
adv_fixture = {"scores": [float(x) for x in scores], "groups": groups, "estimators": {}}
for name in ["grpo", "dr_grpo", "rloo"]:
    out = torch.zeros_like(scores)
    for g in sorted(set(groups)):
        idx = torch.tensor([i for i, x in enumerate(groups) if x == g])
        s = scores[idx]
        n = len(idx)
        if name == "grpo":
            mean, std = (torch.tensor(0.0), torch.tensor(1.0)) if n == 1 else (s.mean(), s.std())
            out[idx] = (s - mean) / (std + 1e-6)
        elif name == "dr_grpo":
            mean = torch.tensor(0.0) if n == 1 else s.mean()
            out[idx] = s - mean
        else:
            out[idx] = s if n == 1 else s * n / (n - 1) - s.mean() * n / (n - 1)
    adv_fixture["estimators"][name] = [float(x) for x in out]

fixture = {
    "generator": "tools/reference/policy_losses.py", "torch": torch.__version__, "B": B, "T": T,
    "sequence_offsets": [i * T for i in range(B + 1)],
    "mask": [float(x) for x in mask.flatten()], "log_probs": [float(x) for x in lp0.flatten()],
    "old_log_probs": [float(x) for x in old.flatten()], "advantages": [float(x) for x in adv.flatten()],
    "entropies": [float(x) for x in entropy.flatten()], "rollout_log_probs": [float(x) for x in roll.flatten()],
    "ref_log_probs": [float(x) for x in ref.flatten()],
    "cases": cases, "kl_estimators": kl_fixture, "advantage_estimators": adv_fixture,
}
out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Aspo.Algorithms.Tests", "Fixtures", "policy_losses.json")
if len(sys.argv) == 3 and sys.argv[1] == "--out":  # regenerate elsewhere, e.g. to check the committed fixture
    out_path = sys.argv[2]
with open(out_path, "w") as f:
    json.dump(fixture, f, indent=None, separators=(",", ":"))
print(f"wrote {os.path.normpath(out_path)}: {len(cases)} loss cases, torch {torch.__version__}")
