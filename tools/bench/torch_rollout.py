#!/usr/bin/python3
"""PyTorch side of `tools/bench/run rollout`: a KV-cache sampling loop on the golden-fixture reference model
(tools/reference/decoder.py formulas, batched, equal-length prompts): prefill, then one step per token, softmax
sampling at T=1 with the log-prob of each sampled token recorded, as our generator does.

Usage: /usr/bin/python3 tools/bench/torch_rollout.py HIDDEN INTER LAYERS HEADS KV HEAD_DIM VOCAB TIED BATCH PROMPT NEW THREADS
Prints {"seconds": …, "tokens": …}.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from decoder import init_params, inv_freq, rmsnorm  # noqa: E402

hidden, inter, layers, heads, kv, head_dim, vocab, tied, batch, prompt_len, new_tokens, threads = map(int, sys.argv[1:13])
torch.set_num_threads(threads)
c = dict(model_type="qwen2", hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
         num_key_value_heads=kv, head_dim=head_dim, vocab_size=vocab, rms_norm_eps=1e-6, rope_theta=1000000.0,
         tie_word_embeddings=bool(tied), attention_bias=False)
gen = torch.Generator().manual_seed(0)
p = {k: v.detach() for k, v in init_params(c, gen).items()}
f = inv_freq(c)
D, H, KV = head_dim, heads, kv


def rope(x, pos):  # x [B, S, h, D], positions pos..pos+S-1
    S = x.shape[1]
    freqs = torch.arange(pos, pos + S).float()[:, None] * f[None, :]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
    rot = torch.cat([-x[..., D // 2:], x[..., :D // 2]], -1)
    return x * cos + rot * sin


def step(tokens, past, pos):  # tokens [B, S]; past: list of (k, v) [B, KV, P, D]
    B, S = tokens.shape
    h = p["model.embed_tokens.weight"][tokens]
    new_past = []
    for i in range(layers):
        q_ = f"model.layers.{i}."
        x = rmsnorm(h, p[q_ + "input_layernorm.weight"], 1e-6)
        lin = lambda n, a: a @ p[q_ + n + ".weight"].T + p[q_ + n + ".bias"]
        q = rope(lin("self_attn.q_proj", x).view(B, S, H, D), pos)
        k = rope(lin("self_attn.k_proj", x).view(B, S, KV, D), pos)
        v = lin("self_attn.v_proj", x).view(B, S, KV, D)
        k = k.transpose(1, 2)
        v = v.transpose(1, 2)
        if past is not None:
            k = torch.cat([past[i][0], k], 2)
            v = torch.cat([past[i][1], v], 2)
        new_past.append((k, v))
        kk = k.repeat_interleave(H // KV, dim=1)
        vv = v.repeat_interleave(H // KV, dim=1)
        att = (q.transpose(1, 2) @ kk.transpose(-1, -2)) * D ** -0.5
        if S > 1:
            att = att + torch.full((S, S), float("-inf")).triu(1)
        out = (att.softmax(-1) @ vv).transpose(1, 2).reshape(B, S, H * D)
        h = h + out @ p[q_ + "self_attn.o_proj.weight"].T
        x = rmsnorm(h, p[q_ + "post_attention_layernorm.weight"], 1e-6)
        h = h + (torch.nn.functional.silu(x @ p[q_ + "mlp.gate_proj.weight"].T) * (x @ p[q_ + "mlp.up_proj.weight"].T)) @ p[q_ + "mlp.down_proj.weight"].T
    xf = rmsnorm(h[:, -1], p["model.norm.weight"], 1e-6)
    lm = p["model.embed_tokens.weight"] if tied else p["lm_head.weight"]
    return xf @ lm.T, new_past


with torch.no_grad():
    prompts = torch.randint(0, vocab, (batch, prompt_len), generator=gen)
    start = time.perf_counter()
    logits, past = step(prompts, None, 0)
    logps = []
    for t in range(new_tokens):
        logp = torch.log_softmax(logits, -1)
        nxt = torch.multinomial(logp.exp(), 1, generator=gen)
        logps.append(logp.gather(-1, nxt))
        if t + 1 < new_tokens:
            logits, past = step(nxt, past, prompt_len + t)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "tokens": batch * new_tokens}))
