"""Tiny randomly initialised Qwen3 models and a Qwen3-style chat template, built in memory.

Nothing is downloaded: the tokenizer is a byte-level BPE over the 256 byte symbols (every
string round-trips exactly) plus the chat and thinking markers, and the model is a 2-layer
``Qwen3ForCausalLM`` with random weights. Both are saved to a folder that any loader
(``HFReasoner(model=folder)``, ``AutoModelForCausalLM.from_pretrained``) can open, and can be
written as one GGUF file (:func:`build_tiny_qwen3_gguf`) for ``HFReasoner(model="x.gguf")``.

A random model writes random tokens, so tests steer it with :class:`Bias` (a plain logits
processor that adds a bonus to chosen tokens); the mechanisms under test run after it and
still decide what is generated.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# A shortened but faithful Qwen3 chat template: system/user/assistant turns in ChatML,
# reasoning split off assistant history, and the ``enable_thinking`` switch that injects an
# empty think block after the generation prompt.
QWEN3_TEMPLATE = r"""
{%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
    {%- elif message.role == 'assistant' %}
        {%- set content = message.content %}
        {%- if '</think>' in content %}
            {%- set content = content.split('</think>')[-1].lstrip('\n') %}
        {%- endif %}
        {{- '<|im_start|>assistant\n' + content + '<|im_end|>\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}
""".strip()

# A ChatML template that knows nothing about thinking (like most non-reasoning models).
PLAIN_TEMPLATE = r"""
{%- for message in messages %}
    {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
""".strip()

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MARKERS = ["<think>", "</think>"]


def build_tokenizer(template: str = QWEN3_TEMPLATE, markers: bool = True):
    """A byte-level BPE tokenizer (no merges) with ChatML specials and (unless ``markers=False``) think markers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.add_special_tokens({"additional_special_tokens": SPECIAL[1:]})
    if markers:
        fast.add_tokens(MARKERS)  # like Qwen3: added, but not special (they survive skip_special_tokens)
    fast.chat_template = template
    return fast


def build_tiny_qwen3(
    folder: str | Path,
    *,
    template: str = QWEN3_TEMPLATE,
    hidden: int = 64,
    layers: int = 2,
    seed: int = 0,
    markers: bool = True,
    head_dim: int | None = None,
) -> Path:
    """Save a random 2-layer Qwen3 and its tokenizer to ``folder``; returns the folder.

    ``head_dim`` defaults to ``hidden // 4`` (4 query heads, 2 key/value heads).
    """
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(template, markers)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim or hidden // 4,
        max_position_embeddings=16384,
        tie_word_embeddings=True,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config)
    model.eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


class Bias:
    """Test-only logits processor: add ``bonus`` to the given token ids (before any forcing)."""

    def __init__(self, token_ids: Iterable[int], bonus: float = 30.0) -> None:
        self.ids = sorted(set(token_ids))
        self.bonus = bonus

    def __call__(self, input_ids, scores):
        scores = scores.clone()
        scores[:, self.ids] += self.bonus
        return scores


def ascii_ids(tokenizer, chars: str = "abcdefghijklmnopqrstuvwxyz ") -> list[int]:
    """Token ids of single printable characters, so a biased random model writes plain text."""
    ids = []
    for ch in chars:
        enc = tokenizer.encode(ch, add_special_tokens=False)
        assert len(enc) == 1, (ch, enc)
        ids.append(enc[0])
    return ids


class Script:
    """Test-only logits processor: push the model to write ``ids`` first, one per step.

    It only adds a large bonus, so the reasoner's own processors (which run after it) can
    still ban or force tokens: what comes out is decided by the mechanism under test.
    Use a fresh instance per generation.
    """

    def __init__(self, ids: Iterable[int], bonus: float = 1e4) -> None:
        self.ids = list(ids)
        self.bonus = bonus
        self.start: int | None = None

    def __call__(self, input_ids, scores):
        if self.start is None:
            self.start = input_ids.shape[1]
        k = input_ids.shape[1] - self.start
        if k < len(self.ids):
            scores = scores.clone()
            scores[:, self.ids[k]] += self.bonus
        return scores


def script_ids(tokenizer, *pieces: str | int) -> list[int]:
    """Token ids for text pieces and raw ids (e.g. the ``</think>`` id), in order."""
    out: list[int] = []
    for p in pieces:
        out.extend([p] if isinstance(p, int) else tokenizer.encode(p, add_special_tokens=False))
    return out


# GGUF stores no head width that transformers reads for qwen3 (it skips ``rope.dimension_count``
# and ``attention.key_length``), so a loaded model gets Qwen3Config's default: every real Qwen3
# dense model uses 128, and a tiny model written to GGUF must too.
GGUF_QWEN3_HEAD_DIM = 128

# Hugging Face parameter names -> llama.cpp tensor names (``.weight`` kept as the suffix).
_GGUF_TOP = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}
_GGUF_BLOCK = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_tensor_name(hf_name: str) -> str:
    """``model.layers.3.mlp.up_proj.weight`` -> ``blk.3.ffn_up.weight`` (and the top-level ones)."""
    stem, suffix = hf_name.rsplit(".", 1)
    if stem in _GGUF_TOP:
        return f"{_GGUF_TOP[stem]}.{suffix}"
    model, layers, index, part = stem.split(".", 3)
    if (model, layers) != ("model", "layers") or part not in _GGUF_BLOCK:
        raise KeyError(f"no GGUF name for {hf_name!r}")
    return f"blk.{index}.{_GGUF_BLOCK[part]}.{suffix}"


def build_tiny_qwen3_gguf(
    folder: str | Path, *, source: str | Path | None = None, name: str = "tiny-qwen3-f32.gguf", **build_kw
) -> Path:
    """Write a tiny Qwen3 (weights, tokenizer, chat template) as one F32 GGUF file ``folder/name``; returns its path.

    ``source`` is a folder saved by :func:`build_tiny_qwen3` with
    ``head_dim=GGUF_QWEN3_HEAD_DIM``; when omitted one is built in ``folder/safetensors``
    (``build_kw`` passed on). The file holds only what a GGUF holds, under llama.cpp's names:
    the ``qwen3.*`` hyper-parameters; the tensors (``token_embd``, ``blk.N.attn_q`` ...,
    ``output_norm``, and ``output`` only when the embeddings are not tied, which is how a
    reader tells); the byte-level vocabulary in id order with its token types (special tokens
    as control tokens, the think markers as user-defined ones, as llama.cpp writes a Qwen3),
    the special ids and the chat template.
    """
    import json

    import gguf
    import numpy as np
    from transformers import AutoTokenizer, Qwen3ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if source is None:
        source = build_tiny_qwen3(folder / "safetensors", **{"head_dim": GGUF_QWEN3_HEAD_DIM, **build_kw})
    model = Qwen3ForCausalLM.from_pretrained(source)
    tok = AutoTokenizer.from_pretrained(source)
    cfg = model.config
    if cfg.head_dim != GGUF_QWEN3_HEAD_DIM:
        raise ValueError(
            f"head_dim {cfg.head_dim}: transformers reads a qwen3 GGUF with head_dim "
            f"{GGUF_QWEN3_HEAD_DIM} whatever the file says; build the source with that"
        )
    path = folder / name

    w = gguf.GGUFWriter(path, "qwen3")
    w.add_name("tiny-qwen3")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_key_length(cfg.head_dim)  # what llama.cpp reads; transformers does not (see GGUF_QWEN3_HEAD_DIM)
    w.add_value_length(cfg.head_dim)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_rope_freq_base(float(getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)

    n = len(tok)
    special, added = set(tok.all_special_ids), set(tok.added_tokens_decoder)
    w.add_tokenizer_model("gpt2")  # byte-level BPE
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tok.convert_ids_to_tokens(list(range(n))))
    w.add_token_types(
        [
            gguf.TokenType.CONTROL
            if i in special
            else gguf.TokenType.USER_DEFINED
            if i in added
            else gguf.TokenType.NORMAL
            for i in range(n)
        ]
    )
    merges = json.loads(tok.backend_tokenizer.to_str())["model"]["merges"]
    if merges:
        w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    else:
        # No merges here, and GGUF cannot hold an empty array (the writer refuses one). Without
        # merges transformers derives them from per-token scores: no token of a byte alphabet
        # plus whole added tokens splits into two others, so it derives none, as wanted.
        w.add_token_scores([0.0] * n)
    w.add_eos_token_id(tok.eos_token_id)
    w.add_pad_token_id(tok.pad_token_id)
    if tok.bos_token_id is not None:
        w.add_bos_token_id(tok.bos_token_id)
    w.add_add_bos_token(False)
    w.add_chat_template(tok.chat_template)

    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue  # tied: the reader finds no `output` tensor and ties them again
        w.add_tensor(gguf_tensor_name(hf_name), tensor.detach().cpu().numpy().astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
