#!/usr/bin/python3
"""Golden fixtures for src/Aspo.Model: tiny random decoders of each family and what PyTorch computes for them.

Run with Debian's PyTorch:  apt-get install python3-torch;  /usr/bin/python3 tools/reference/decoder.py
Writes tests/Aspo.Model.Tests/Fixtures/<family>/ with config.json, model.safetensors (the weights),
grads.safetensors (every parameter's gradient), adamw5.safetensors (parameters after 5 AdamW steps) and
expected.json (inputs, log-probs and entropies at T=1 and T=0.7, coefficients, loss), and for learner.dtype bf16
grads_bf16.safetensors and the bf16_* log-probs/entropies: every linear layer (q/k/v/o, gate/up/down) multiplies
bf16-rounded operands with fp32 accumulation and output, forward (x, W) and backward (dy with W for dx, dy with x for
dW), and the lm_head's backward the same way (its logits, the softmax and the loss stay fp32); attention and norms
stay fp32.

The model is written here from the Hugging Face formulas (no transformers package exists on these machines):
RMSNorm in fp32, rotate-half RoPE with fp32 angles (llama3 scaling of inv_freq), GQA by repeat_interleave,
Qwen3 q/k RMSNorm before RoPE, SwiGLU MLP, tied or untied lm_head.
"""
import json
import math
import os
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Aspo.Model.Tests", "Fixtures")
if len(sys.argv) == 3 and sys.argv[1] == "--out":  # regenerate elsewhere, e.g. to check the committed fixtures
    OUT = sys.argv[2]

MODELS = {
    "qwen2": dict(model_type="qwen2", hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=6,
                  num_key_value_heads=2, head_dim=8, vocab_size=97, rms_norm_eps=1e-6, rope_theta=1000000.0,
                  tie_word_embeddings=True, attention_bias=False),
    "llama": dict(model_type="llama", hidden_size=40, intermediate_size=72, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=4, head_dim=10, vocab_size=89, rms_norm_eps=1e-5, rope_theta=500000.0,
                  tie_word_embeddings=False, attention_bias=True,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                    original_max_position_embeddings=256)),
    "qwen3": dict(model_type="qwen3", hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=16, vocab_size=101, rms_norm_eps=1e-6, rope_theta=1000000.0,
                  tie_word_embeddings=False, attention_bias=False),
}


def param_shapes(c):
    C, H, KV, D, F, V = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"], c["intermediate_size"], c["vocab_size"]
    qkv_bias = c["model_type"] == "qwen2" or c["attention_bias"]
    o_bias = c["model_type"] != "qwen2" and c["attention_bias"]
    shapes = {"model.embed_tokens.weight": [V, C]}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = [C]
        for n, rows in (("q", H * D), ("k", KV * D), ("v", KV * D)):
            shapes[p + f"self_attn.{n}_proj.weight"] = [rows, C]
            if qkv_bias:
                shapes[p + f"self_attn.{n}_proj.bias"] = [rows]
        shapes[p + "self_attn.o_proj.weight"] = [C, H * D]
        if o_bias:
            shapes[p + "self_attn.o_proj.bias"] = [C]
        if c["model_type"] == "qwen3":
            shapes[p + "self_attn.q_norm.weight"] = [D]
            shapes[p + "self_attn.k_norm.weight"] = [D]
        shapes[p + "post_attention_layernorm.weight"] = [C]
        shapes[p + "mlp.gate_proj.weight"] = [F, C]
        shapes[p + "mlp.up_proj.weight"] = [F, C]
        shapes[p + "mlp.down_proj.weight"] = [C, F]
    shapes["model.norm.weight"] = [C]
    if not c["tie_word_embeddings"]:
        shapes["lm_head.weight"] = [V, C]
    return shapes


def init_params(c, gen):
    params = {}
    for name, shape in param_shapes(c).items():
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=gen)
        else:
            t = 0.2 * torch.randn(shape, generator=gen)
        params[name] = t.float().requires_grad_(True)
    return params


def inv_freq(c):
    D = c["head_dim"]
    f = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    s = c.get("rope_scaling")
    if s:
        factor, low, high, orig = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
        low_wl, high_wl = orig / low, orig / high
        wl = 2 * math.pi / f
        scaled = torch.where(wl > low_wl, f / factor, f)
        smooth = (orig / wl - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        is_medium = ~(wl < high_wl) & ~(wl > low_wl)
        f = torch.where(is_medium, smoothed, scaled)
    return f


def rmsnorm(x, w, eps):
    xf = x.float()
    return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, f):  # x [T, heads, D]
    T, _, D = x.shape
    freqs = torch.arange(T).float()[:, None] * f[None, :]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    rot = torch.cat([-x[..., D // 2:], x[..., :D // 2]], -1)
    return x * cos + rot * sin


BF16 = False  # learner.dtype bf16 semantics for the linear layers (see the module docstring)


class Bf16MatMul(torch.autograd.Function):
    """y = x @ w.T (of round(x), round(w) when round_forward); dx = round(dy) @ round(w), dw = round(dy).T @ round(x).
    The linear layers round both ways; the vocabulary head only in the backward (its logits stay fp32)."""

    @staticmethod
    def forward(ctx, x, w, round_forward):
        xr, wr = x.bfloat16().float(), w.bfloat16().float()
        ctx.save_for_backward(xr, wr)
        return xr @ wr.T if round_forward else x @ w.T

    @staticmethod
    def backward(ctx, dy):
        xr, wr = ctx.saved_tensors
        dyr = dy.bfloat16().float()
        return dyr @ wr, dyr.T @ xr, None


def matmul_t(x, w):  # x @ w.T, in bf16 operands when BF16
    return Bf16MatMul.apply(x, w, True) if BF16 else x @ w.T


def forward(c, p, tokens):
    C, H, KV, D = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    eps, T = c["rms_norm_eps"], len(tokens)
    f = inv_freq(c)
    h = p["model.embed_tokens.weight"][torch.tensor(tokens)]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(c["num_hidden_layers"]):
        q_ = f"model.layers.{i}."
        x = rmsnorm(h, p[q_ + "input_layernorm.weight"], eps)

        def lin(name, inp):
            y = matmul_t(inp, p[q_ + name + ".weight"])
            return y + p[q_ + name + ".bias"] if (q_ + name + ".bias") in p else y
        q = lin("self_attn.q_proj", x).view(T, H, D)
        k = lin("self_attn.k_proj", x).view(T, KV, D)
        v = lin("self_attn.v_proj", x).view(T, KV, D)
        if c["model_type"] == "qwen3":
            q = rmsnorm(q, p[q_ + "self_attn.q_norm.weight"], eps)
            k = rmsnorm(k, p[q_ + "self_attn.k_norm.weight"], eps)
        q, k = rope(q, f), rope(k, f)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = (q.transpose(0, 1) @ k.transpose(0, 1).transpose(-1, -2)) * D ** -0.5 + mask
        out = (att.softmax(-1) @ v.transpose(0, 1)).transpose(0, 1).reshape(T, H * D)
        h = h + lin("self_attn.o_proj", out)
        x = rmsnorm(h, p[q_ + "post_attention_layernorm.weight"], eps)
        h = h + matmul_t(torch.nn.functional.silu(lin("mlp.gate_proj", x)) * lin("mlp.up_proj", x), p[q_ + "mlp.down_proj.weight"])
    xf = rmsnorm(h, p["model.norm.weight"], eps)
    lm = p["model.embed_tokens.weight"] if c["tie_word_embeddings"] else p["lm_head.weight"]
    return Bf16MatMul.apply(xf, lm, False) if BF16 else xf @ lm.T


def score(c, p, seqs, starts, temperature):
    logps, ents = [], []
    for tokens, start in zip(seqs, starts):
        logits = forward(c, p, tokens)
        u = logits[start - 1:len(tokens) - 1] / temperature
        logp = u.log_softmax(-1)
        targets = torch.tensor(tokens[start:])
        logps.append(logp.gather(-1, targets[:, None])[:, 0])
        ents.append(-(logp.exp() * logp).sum(-1))
    return torch.cat(logps), torch.cat(ents)


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().float()
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h)
        for b in blobs:
            fh.write(b)


def main():
    for family, c in MODELS.items():
        gen = torch.Generator().manual_seed(1234 + len(family))
        folder = os.path.join(OUT, family)
        os.makedirs(folder, exist_ok=True)
        config = dict(c, architectures=[{"qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM", "qwen3": "Qwen3ForCausalLM"}[family]],
                      hidden_act="silu", max_position_embeddings=512, torch_dtype="float32")
        with open(os.path.join(folder, "config.json"), "w") as fh:
            json.dump(config, fh, indent=2)
        p = init_params(c, gen)
        write_safetensors(os.path.join(folder, "model.safetensors"), p)

        V = c["vocab_size"]
        seqs = [torch.randint(0, V, (n,), generator=gen).tolist() for n in (7, 12, 5)]
        starts = [3, 5, 1]
        lp1, h1 = score(c, p, seqs, starts, 1.0)
        lp7, h7 = score(c, p, seqs, starts, 0.7)
        S = len(lp1)
        coef_lp = torch.randn(S, generator=gen)
        coef_h = 0.3 * torch.randn(S, generator=gen)
        loss = (coef_lp * lp7).sum() + (coef_h * h7).sum()
        loss.backward()
        write_safetensors(os.path.join(folder, "grads.safetensors"), {k: v.grad for k, v in p.items()})

        # 5 AdamW steps on the same loss, from the same initial weights
        q = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
        opt = torch.optim.AdamW(list(q.values()), lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
        for _ in range(5):
            opt.zero_grad()
            lp, h = score(c, q, seqs, starts, 0.7)
            ((coef_lp * lp).sum() + (coef_h * h).sum()).backward()
            opt.step()
        write_safetensors(os.path.join(folder, "adamw5.safetensors"), q)

        # the optimizer alone: 5 AdamW steps with the fixed gradients of grads.safetensors
        r = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
        opt = torch.optim.AdamW(list(r.values()), lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
        for _ in range(5):
            for k, v in r.items():
                v.grad = p[k].grad.clone()
            opt.step()
        write_safetensors(os.path.join(folder, "adamw5_fixed_grad.safetensors"), r)

        # learner.dtype bf16: the same loss with bf16 operands in the linear layers, from the same weights
        global BF16
        BF16 = True
        b = {k: v.detach().clone().requires_grad_(True) for k, v in p.items()}
        lp7b, h7b = score(c, b, seqs, starts, 0.7)
        ((coef_lp * lp7b).sum() + (coef_h * h7b).sum()).backward()
        BF16 = False
        write_safetensors(os.path.join(folder, "grads_bf16.safetensors"), {k: v.grad for k, v in b.items()})

        expected = {
            "generator": "tools/reference/decoder.py", "torch": torch.__version__,
            "sequences": seqs, "response_starts": starts,
            "logprobs_t1": lp1.tolist(), "entropies_t1": h1.tolist(),
            "logprobs_t07": lp7.tolist(), "entropies_t07": h7.tolist(),
            "bf16_logprobs_t07": lp7b.tolist(), "bf16_entropies_t07": h7b.tolist(),
            "coef_logprobs": coef_lp.tolist(), "coef_entropies": coef_h.tolist(), "loss_t07": float(loss),
            "adamw": {"lr": 1e-2, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "steps": 5},
        }
        with open(os.path.join(folder, "expected.json"), "w") as fh:
            json.dump(expected, fh)
        print(f"{family}: {sum(t.numel() for t in p.values())} parameters, {S} scored tokens, loss {float(loss):.6f}")


if __name__ == "__main__":
    main()
