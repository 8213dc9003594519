"""Derive gennai's word vectors (src/gennai/search/resources/word_vectors.npz) from GiNZA's chiVe vectors.

Run once, by a maintainer, when the source changes; gennai itself reads only the derived file:

    python3 -m venv /tmp/wv && /tmp/wv/bin/pip install spacy sudachipy sudachidict-core
    /tmp/wv/bin/pip download --no-deps ja-ginza==5.3.0 -d /tmp/wv-src && unzip -q /tmp/wv-src/*.whl -d /tmp/wv-src
    /tmp/wv/bin/python scripts/derive_word_vectors.py /tmp/wv-src/ja_ginza/ja_ginza-5.3.0/vocab

Why derived rather than a dependency: the ja-ginza wheel (59 MB) pins SudachiPy < 0.7, which cannot
read the SudachiDict release gennai analyses with, and it needs spaCy to read 24 MB of vectors.
What is kept: the words gennai's analyser can produce as one token (a SudachiDict core entry whose
normalized form is the word itself, not a proper noun, a content word), their 20,000 pruned chiVe
vectors reduced to 100 principal components (60% of the variance; retrieval measured alike) and
stored as int8 with a scale per vector: about 2.5 MB instead of 59.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from spacy.strings import StringStore
from spacy.vectors import Vectors
from sudachipy import Dictionary, SplitMode

OUT = Path(__file__).resolve().parent.parent / "src" / "gennai" / "search" / "resources" / "word_vectors.npz"
DIMENSIONS = 100
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞"})


def main(vocab: Path) -> None:
    vectors = Vectors().from_disk(vocab)
    strings = StringStore().from_disk(vocab / "strings.json")
    tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.B)
    words: list[str] = []
    rows: list[int] = []
    for key, row in vectors.key2row.items():
        if key not in strings:
            continue
        word = strings[key]
        morphemes = tokenizer.tokenize(word)
        if len(morphemes) != 1 or morphemes[0].normalized_form() != word or morphemes[0].is_oov():
            continue
        pos = morphemes[0].part_of_speech()
        if pos[0] in CONTENT_POS and pos[1] != "固有名詞":
            words.append(word)
            rows.append(int(row))
    used, inverse = np.unique(np.array(rows), return_inverse=True)
    matrix = np.asarray(vectors.data, dtype=np.float64)[used]
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    centred = matrix - matrix.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:DIMENSIONS].T
    scale = np.abs(reduced).max(axis=1, keepdims=True) / 127
    order = np.argsort(words)
    np.savez_compressed(
        OUT,
        words=np.array(words)[order],
        rows=inverse[order].astype(np.uint16),
        vectors=np.round(reduced / scale).astype(np.int8),
        scales=scale[:, 0].astype(np.float32),
    )
    print(f"{len(words)} words, {len(used)} vectors of {DIMENSIONS} dimensions -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
