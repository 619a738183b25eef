"""Tiny randomly initialised Qwen3 models and a Qwen3-style chat template, built in memory.

Nothing is downloaded: the tokenizer is a byte-level BPE over the 256 byte symbols (every
string round-trips exactly) plus the chat and thinking markers, and the model is a 2-layer
``Qwen3ForCausalLM`` with random weights. Both are saved to a folder that any loader
(``HFReasoner(model=folder)``, ``AutoModelForCausalLM.from_pretrained``) can open.

A random model writes random tokens, so tests steer it with :class:`Bias` (a plain logits
processor that adds a bonus to chosen tokens); the mechanisms under test run after it and
still decide what is generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

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


def build_tiny_qwen3(folder: str | Path, *, template: str = QWEN3_TEMPLATE, hidden: int = 64, layers: int = 2,
                     seed: int = 0, markers: bool = True) -> Path:
    """Save a random 2-layer Qwen3 and its tokenizer to ``folder``; returns the folder."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(template, markers)
    config = Qwen3Config(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4, max_position_embeddings=16384,
        tie_word_embeddings=True, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.pad_token_id, bos_token_id=None,
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
