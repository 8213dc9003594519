"""Benchmark the embedded model through gennai's own provider: load time, first-token latency, tokens/s.

Usage: python bench/local_model.py [--runs N] [--max-tokens N] [--threads N]
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from gennai.gateway.base import ChatMessage, ChatRequest, Finished, TextDelta
from gennai.gateway.local import LocalProvider

PROMPTS = [
    "行政手続法の目的を簡潔に説明してください。",
    "Write a short paragraph about public administration.",
    "会議の議事録を要約するときの注意点を三つ挙げてください。",
]


async def main(runs: int, max_tokens: int, threads: int | None) -> dict[str, float]:
    provider = LocalProvider("bench", threads=threads)
    started = time.perf_counter()
    await provider.load()
    load_s = time.perf_counter() - started
    first_token_ms: list[float] = []
    rates: list[float] = []
    for index in range(runs):
        request = ChatRequest(
            [ChatMessage("user", PROMPTS[index % len(PROMPTS)])], max_tokens=max_tokens, temperature=0.0
        )
        started = time.perf_counter()
        first = None
        async for event in provider.stream(request):
            if isinstance(event, TextDelta) and first is None:
                first = time.perf_counter()
            elif isinstance(event, Finished):
                ended = time.perf_counter()
                assert first is not None
                first_token_ms.append((first - started) * 1000)
                if event.usage.completion_tokens > 1:
                    rates.append((event.usage.completion_tokens - 1) / (ended - first))
    await provider.close()
    return {
        "model": "SmolLM2-135M-Instruct.Q4_1",
        "runs": runs,
        "max_tokens": max_tokens,
        "threads": provider.threads,
        "load_s": round(load_s, 3),
        "first_token_ms_p50": round(statistics.median(first_token_ms), 1),
        "first_token_ms_max": round(max(first_token_ms), 1),
        "tokens_per_s_p50": round(statistics.median(rates), 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.runs, args.max_tokens, args.threads))))
