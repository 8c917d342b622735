"""LoRA training steps of a minimal Llama in plain PyTorch: the peer of bench/lora.ts.

Reads the shape as one JSON object (argv[1], or stdin when there is no argument):
  hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim,
  vocab_size, tie_word_embeddings, rope_theta, rms_norm_eps,
  lora: {r, alpha, targets}, batch, seq, steps, warmup (default 2)
and prints one JSON line: seconds per step (and its forward / backward / update split), tokens/s, the
torch version, its thread count and the BLAS its products go to.

The model is what bench/lora.ts times: RMSNorm, grouped-query attention with RoPE (the config's theta;
Llama 3's rope scaling is left out, it changes the frequencies, not the work), causal attention by an
explicit softmax (torch 1.13 has no scaled_dot_product_attention), SwiGLU, the LM head tied to the
embedding when the config says so, cross-entropy over every shifted position. Random frozen base weights,
LoRA (A, B, scale alpha / r, as PEFT initialises them) on the target projections, AdamW over the LoRA
parameters only (lr 1e-4, no weight decay) with the gradient norm clipped to 1. fp32 throughout. The
same token ids as bench/lora.ts; `warmup` untimed steps, then `steps` timed ones.
"""

import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from common import about, fastest, setup


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Linear(torch.nn.Module):
    """y = x·Wᵀ with W frozen, plus (alpha / r)·x·Aᵀ·Bᵀ when LoRA targets it."""

    def __init__(self, n_in, n_out, lora=None):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_out, n_in) * 0.02, requires_grad=False)
        self.lora = lora is not None
        if self.lora:
            r = lora["r"]
            bound = 1 / math.sqrt(n_in)  # PEFT: kaiming_uniform_(a=√5) is U(−1/√Cin, 1/√Cin)
            self.A = torch.nn.Parameter(torch.empty(r, n_in).uniform_(-bound, bound))
            self.B = torch.nn.Parameter(torch.zeros(n_out, r))
            self.scale = lora["alpha"] / r

    def forward(self, x):
        y = x @ self.weight.t()
        if self.lora:
            y = y + (x @ self.A.t()) @ self.B.t() * self.scale
        return y


class Layer(torch.nn.Module):
    def __init__(self, cfg, lora):
        super().__init__()
        C, D = cfg["hidden_size"], cfg["head_dim"]
        H, Hkv, I = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
        targets = set(lora["targets"])
        shapes = {
            "q_proj": (C, H * D),
            "k_proj": (C, Hkv * D),
            "v_proj": (C, Hkv * D),
            "o_proj": (H * D, C),
            "gate_proj": (C, I),
            "up_proj": (C, I),
            "down_proj": (I, C),
        }
        self.proj = torch.nn.ModuleDict({n: Linear(*s, lora if n in targets else None) for n, s in shapes.items()})
        self.attn_norm = torch.nn.Parameter(torch.ones(C), requires_grad=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(C), requires_grad=False)
        self.H, self.Hkv, self.D, self.eps = H, Hkv, D, cfg["rms_norm_eps"]

    def forward(self, x, cos, sin, causal):
        B, T, _ = x.shape
        p = self.proj
        h = rms_norm(x, self.attn_norm, self.eps)
        q = p["q_proj"](h).view(B, T, self.H, self.D).transpose(1, 2)
        k = p["k_proj"](h).view(B, T, self.Hkv, self.D).transpose(1, 2)
        v = p["v_proj"](h).view(B, T, self.Hkv, self.D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = self.H // self.Hkv  # grouped-query attention: each key/value head serves `group` query heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.D)
        attn = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v
        x = x + p["o_proj"](attn.transpose(1, 2).reshape(B, T, self.H * self.D))
        h = rms_norm(x, self.mlp_norm, self.eps)
        return x + p["down_proj"](F.silu(p["gate_proj"](h)) * p["up_proj"](h))


class Llama(torch.nn.Module):
    def __init__(self, cfg, lora):
        super().__init__()
        C, V = cfg["hidden_size"], cfg["vocab_size"]
        self.embed = torch.nn.Parameter(torch.randn(V, C) * 0.02, requires_grad=False)
        self.layers = torch.nn.ModuleList(Layer(cfg, lora) for _ in range(cfg["num_hidden_layers"]))
        self.norm = torch.nn.Parameter(torch.ones(C), requires_grad=False)
        tied = cfg.get("tie_word_embeddings", True)
        self.lm_head = self.embed if tied else torch.nn.Parameter(torch.randn(V, C) * 0.02, requires_grad=False)
        self.cfg = cfg

    def loss(self, ids):
        cfg = self.cfg
        B, T = ids.shape
        D = cfg["head_dim"]
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float32) / D))
        freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.embed[ids]
        for layer in self.layers:
            x = layer(x, cos, sin, causal)
        logits = rms_norm(x, self.norm, cfg["rms_norm_eps"]) @ self.lm_head.t()
        # Position t is scored against token t + 1.
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def main():
    cfg = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    setup()
    batch, seq, steps, warmup = cfg["batch"], cfg["seq"], cfg["steps"], cfg.get("warmup", 2)
    model = Llama(cfg, cfg["lora"])
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    V = cfg["vocab_size"]
    ids = torch.tensor([[(b * 131 + t * 7919 + 1) % V for t in range(seq)] for b in range(batch)])
    splits = {}

    def measure():
        times = {"forward": 0.0, "backward": 0.0, "update": 0.0}
        for s in range(warmup + steps):
            t0 = time.perf_counter()
            loss = model.loss(ids)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad()
            splits["loss"] = loss.item()
            t3 = time.perf_counter()
            if s >= warmup:
                times["forward"] += t1 - t0
                times["backward"] += t2 - t1
                times["update"] += t3 - t2
        splits[torch.get_num_threads()] = times
        return sum(times.values()) / steps

    step, threads, tried = fastest(measure)
    times = splits[threads]
    result = {
        **about(),
        "threads_tried": {str(t): s for t, s in tried.items()},
        "lora_params": sum(p.numel() for p in params),
        "warmup": warmup,
        "steps": steps,
        "step_s": step,
        "forward_s": times["forward"] / steps,
        "backward_s": times["backward"] / steps,
        "update_s": times["update"] / steps,
        "tok_per_s": batch * seq / step,
        "loss": splits["loss"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
