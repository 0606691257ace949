#!/usr/bin/python3
"""Golden fixtures for the sequence- and value-level objectives of src/Aspo.Algorithms, with PyTorch.

Run with Debian's PyTorch:  apt-get install python3-torch;  /usr/bin/python3 tools/reference/sequence_objectives.py
Writes tests/Aspo.Algorithms.Tests/Fixtures/sequence_objectives.json.

- DPO: TRL's sigmoid loss, -logsigmoid(beta * ((pi_w - ref_w) - (pi_l - ref_l))), mean over pairs, with the sequence
  log-probs summed from per-token log-probs inside the graph; the gradient w.r.t. every token's log-prob comes from
  autograd. Pairs are built here from the scores with plain loops (best-vs-worst and every ordered pair).
- GAE: verl's compute_gae_advantage_return (the masked reverse loop, returns = advantages + values, then
  masked_whiten over the batch with the unbiased variance) on padded [B, T] tensors.
- Value loss: verl's compute_value_loss (clipped, 0.5 * agg(max(l1, l2))) and its gradient w.r.t. the predictions.
- SPO-chain: the reference code's cut points and token advantages (treetune, written out here) on random
  probabilities and values; SPO-tree: node values (leaf reward, children's mean) and advantages on random trees.
"""
import json
import os
import sys

import torch

torch.manual_seed(20261202)
NAN = float("nan")

# ---------------------------------------------------------------------------------------------- DPO
lengths = [5, 3, 7, 4, 6, 2, 5, 3, 4, 6]
scores = [1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.2, 0.9]
groups = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3]       # group 2 has equal scores: no pair
policy_tokens = [(-(torch.rand(n) * 2.5 + 0.05)).float() for n in lengths]
reference_tokens = [(p + torch.randn(n) * 0.4).float() for p, n in zip(policy_tokens, lengths)]


def build_pairs(selection):
    pairs = []
    seen = []
    for g in groups:
        if g not in seen:
            seen.append(g)
    for g in seen:
        members = [i for i, x in enumerate(groups) if x == g]
        if selection == "best_worst":
            best = members[0]
            worst = members[0]
            for i in members:
                if scores[i] > scores[best]:
                    best = i
                if scores[i] < scores[worst]:
                    worst = i
            if scores[best] > scores[worst]:
                pairs.append((best, worst))
        else:
            for i in members:
                for j in members:
                    if scores[i] > scores[j]:
                        pairs.append((i, j))
    return pairs


def dpo_case(selection, beta):
    pairs = build_pairs(selection)
    lp = [t.clone().double().requires_grad_(True) for t in policy_tokens]
    seq = torch.stack([t.sum() for t in lp])
    ref = torch.stack([t.double().sum() for t in reference_tokens])
    w = torch.tensor([p[0] for p in pairs])
    l = torch.tensor([p[1] for p in pairs])
    logits = (seq[w] - ref[w]) - (seq[l] - ref[l])
    losses = -torch.nn.functional.logsigmoid(beta * logits)
    loss = losses.mean()
    loss.backward()
    chosen = beta * (seq[w] - ref[w]).detach()
    rejected = beta * (seq[l] - ref[l]).detach()
    return {
        "selection": selection, "beta": beta, "pairs": [list(p) for p in pairs], "loss": float(loss),
        "grad": [[float(x) for x in t.grad] for t in lp],
        "rewards_chosen": float(chosen.mean()), "rewards_rejected": float(rejected.mean()),
        "rewards_accuracies": float((chosen > rejected).double().mean()), "rewards_margins": float((chosen - rejected).mean()),
    }


dpo = {
    "lengths": lengths, "scores": scores, "groups": groups,
    "policy_log_probs": [[float(x) for x in t] for t in policy_tokens],
    "reference_log_probs": [[float(x) for x in t] for t in reference_tokens],
    "cases": [dpo_case("best_worst", 0.1), dpo_case("all", 0.1), dpo_case("all", 2.5)],
}

# ---------------------------------------------------------------------------------------------- GAE
B, T = 5, 8
gae_lengths = [8, 5, 1, 6, 3]
mask = torch.zeros(B, T)
for i, n in enumerate(gae_lengths):
    mask[i, :n] = 1.0
values = (torch.randn(B, T) * 0.6).float() * mask
rewards = torch.zeros(B, T)
for i, n in enumerate(gae_lengths):      # outcome reward on the last response token, plus a small per-token term
    rewards[i, n - 1] = [1.0, 0.0, 1.0, -0.5, 2.0][i]
rewards[3, 2] = 0.25
rewards = rewards.float()


def masked_mean(v, m):
    return (v * m).sum() / m.sum()


def masked_whiten(v, m):
    mean = masked_mean(v, m)
    centred = v - mean
    var = masked_mean(centred ** 2, m)
    var = var * m.sum() / (m.sum() - 1)
    return (v - mean) * torch.rsqrt(var + 1e-8)


def gae(gamma, lam):
    with torch.no_grad():
        nextvalues = 0
        lastgaelam = 0
        reversed_ = []
        for t in reversed(range(T)):
            delta = rewards[:, t] + gamma * nextvalues - values[:, t]
            lastgaelam_ = delta + gamma * lam * lastgaelam
            nextvalues = values[:, t] * mask[:, t] + (1 - mask[:, t]) * nextvalues
            lastgaelam = lastgaelam_ * mask[:, t] + (1 - mask[:, t]) * lastgaelam
            reversed_.append(lastgaelam)
        adv = torch.stack(reversed_[::-1], dim=1)
        returns = adv + values
        whitened = masked_whiten(adv, mask)
    return adv, returns, whitened


def flat(x):   # the response tokens only, sequence after sequence (the C# packed layout)
    return [float(x[i, t]) for i in range(B) for t in range(gae_lengths[i])]


gae_cases = []
for gamma, lam in [(1.0, 1.0), (1.0, 0.95), (0.99, 0.9)]:
    adv, ret, white = gae(gamma, lam)
    gae_cases.append({"gamma": gamma, "lam": lam, "advantages": flat(adv), "returns": flat(ret), "whitened": flat(white)})

# ---------------------------------------------------------------------------------------------- value loss
old_values = values
returns = gae(1.0, 0.95)[1]
vpreds0 = (old_values + torch.randn(B, T) * 0.4).float()


def agg(l, m, mode):
    if mode == "token-mean":
        return masked_mean(l, m)
    seq_sums = (l * m).sum(-1)
    if mode == "seq-mean-token-mean":
        keep = m.sum(-1) > 0
        return (seq_sums[keep] / m.sum(-1)[keep]).mean()
    raise ValueError(mode)


value_cases = []
for clip, mode in [(0.2, "token-mean"), (0.5, "token-mean"), (0.2, "seq-mean-token-mean")]:
    v = vpreds0.clone().requires_grad_(True)
    clipped = old_values + torch.clamp(v - old_values, -clip, clip)
    l1 = (v - returns) ** 2
    l2 = (clipped - returns) ** 2
    loss = 0.5 * agg(torch.max(l1, l2), mask, mode)
    loss.backward()
    value_cases.append({
        "clip": clip, "mode": mode, "loss": float(loss), "grad": flat(v.grad),
        "clipfrac": float(masked_mean((l2 > l1).float(), mask)),
    })

# ---------------------------------------------------------------------------------------------- SPO
# SPO-chain written the way the reference code (treetune's math_episode_generator_with_mc_advantages.py) computes it:
# cut points = positions with p < 0.9, shifted one left, every interval-th kept; a cut point at -1 is the prompt's
# value ("base"); forward differences at the valued positions, back-filled; tokens with p > 0.9 zeroed. The values
# at the cut points are given (in the pipeline they are Monte-Carlo means).
def spo_chain_reference(probs, interval, cut_values, score):
    import numpy as np
    response_probs = np.array(probs)
    cutpoints = np.where(response_probs < 0.9)[0]
    cutpoints = cutpoints - 1
    cutpoints = cutpoints[::interval]
    n = len(probs)
    token_values = [None] * n
    advantages = [None] * n
    token_values[-1] = score
    values = list(cut_values)
    base = None
    if len(cutpoints) == 0:
        return [], [0.0] * n
    cps = list(cutpoints)
    if cps[0] == -1:
        base = values[0]
        cps, values = cps[1:], values[1:]
    for idx, value in zip(cps, values):
        token_values[idx] = value
    for i in range(n):
        if token_values[i] is not None:
            advantages[i] = 0 if base is None else token_values[i] - base
            base = token_values[i]
    for i in range(n - 1, -1, -1):
        if advantages[i] is None:
            advantages[i] = advantages[i + 1]
    for i in range(n):
        if response_probs[i] > 0.9:
            advantages[i] = 0
    return [int(c) + 1 for c in cutpoints], [float(a) for a in advantages]


spo_cases = []
for case in range(6):
    n = [12, 30, 7, 20, 1, 25][case]
    interval = [1, 5, 2, 3, 1, 4][case]
    probs = torch.rand(n).tolist()
    if case == 2:
        probs[0] = 0.3          # a branch before the first token: the prompt is valued
    if case == 4:
        probs = [0.95]          # no cut point at all
    # log-probs as the shards hold them (float32); the reference decides on exp of those
    lps = [float(torch.tensor(p).log()) for p in probs]
    probs32 = [float(torch.tensor(lp).exp()) for lp in lps]
    k = len(torch.where(torch.tensor(probs32) < 0.9)[0][::interval])
    cut_values = torch.rand(k).tolist()
    score = float(case % 2)
    branch_points, advantages = spo_chain_reference(probs32, interval, cut_values, score)
    spo_cases.append({"log_probs": lps, "interval": interval, "values": cut_values, "reward": score,
                      "branch_points": branch_points, "advantages": advantages})

# SPO-tree: random trees as parent links (parents first), leaves' rewards; V(leaf) = reward, V(inner) = mean of its
# children (recursively), V(root) = mean of the first level, A = V(node) - V(parent)
tree_cases = []
for case in range(4):
    tree_parents = []
    for i in range([9, 15, 4, 30][case]):
        tree_parents.append(-1 if i < [3, 2, 4, 5][case] else int(torch.randint(0, i, ()).item()))
    tree_rewards = [float(torch.randint(0, 2, ()).item()) for _ in tree_parents]

    def node_value(i):
        children = [j for j, p in enumerate(tree_parents) if p == i]
        return tree_rewards[i] if not children else sum(node_value(j) for j in children) / len(children)

    first = [i for i, p in enumerate(tree_parents) if p == -1]
    root = sum(node_value(i) for i in first) / len(first)
    tree_cases.append({"parents": tree_parents, "rewards": tree_rewards, "values": [node_value(i) for i in range(len(tree_parents))],
                       "advantages": [node_value(i) - (root if p == -1 else node_value(p)) for i, p in enumerate(tree_parents)], "root": root})

v_flat = torch.tensor(flat(vpreds0))
r_flat = torch.tensor(flat(returns))
explained_variance = float(1.0 - torch.var(r_flat - v_flat) / (torch.var(r_flat) + 1e-5))   # verl metric_utils

fixture = {
    "generator": "tools/reference/sequence_objectives.py", "torch": torch.__version__,
    "dpo": dpo,
    "spo_chain": spo_cases,
    "spo_tree": tree_cases,
    "gae": {"lengths": gae_lengths, "rewards": flat(rewards), "values": flat(values), "cases": gae_cases},
    "value_loss": {"lengths": gae_lengths, "old_values": flat(old_values), "returns": flat(returns), "predictions": flat(vpreds0), "cases": value_cases,
                   "explained_variance": explained_variance},
}
out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Aspo.Algorithms.Tests", "Fixtures", "sequence_objectives.json")
if len(sys.argv) == 3 and sys.argv[1] == "--out":
    out_path = sys.argv[2]
with open(out_path, "w") as f:
    json.dump(fixture, f, indent=None, separators=(",", ":"))
print(f"wrote {os.path.normpath(out_path)}: {len(dpo['cases'])} dpo, {len(gae_cases)} gae, {len(value_cases)} value-loss, {len(spo_cases)} spo-chain, {len(tree_cases)} spo-tree cases, torch {torch.__version__}")
