"""Our incremental BLEU/chrF must equal sacrebleu's sentence scores exactly."""

import random

import pytest
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from editloop.signals.overlap import bleu, chrf, tokenize_13a


def _pairs():
    rng = random.Random(11)
    words = "def class return self value items for in if else import from data user order id name - . , ( ) 1 2.5 x-y".split()
    out = [("", ""), ("a", ""), ("", "a"), ("a b", "a b"), ("x-\ny &amp; z.", "x-\ny & z ."), ("  \n ", "x"), ("1,000.5 end.", "1,000.5 end")]
    for _ in range(60):
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 9))) for _ in range(rng.randint(1, 25))]
        a = "\n".join(lines)
        b_lines = list(lines)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            i = rng.randrange(len(b_lines)) if b_lines else 0
            if op < 0.4 and b_lines:
                b_lines[i] = b_lines[i].replace(rng.choice(words), rng.choice(words), 1) + rng.choice(["", " z", "-"])
            elif op < 0.7:
                b_lines.insert(i, " ".join(rng.choice(words) for _ in range(rng.randint(0, 6))))
            elif b_lines:
                del b_lines[i]
        out.append((a, "\n".join(b_lines)))
    for _ in range(150):
        alphabet = "ab c\n-.,1&;é\t"
        out.append(("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))), "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))))
    return out


@pytest.mark.parametrize("hyp,ref", _pairs())
def test_same_scores_as_sacrebleu(hyp, ref):
    assert bleu(hyp, ref) == pytest.approx(sacrebleu.sentence_bleu(hyp, [ref]).score, abs=1e-9)
    assert chrf(hyp, ref) == pytest.approx(sacrebleu.sentence_chrf(hyp, [ref]).score, abs=1e-9)


def test_tokenizer_matches_13a():
    rng = random.Random(3)
    reference = Tokenizer13a()
    alphabet = "ab 1.,-(&;\n\t'\"é0<>_/{}"
    for _ in range(30_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert tokenize_13a(s) == reference(s.rstrip()).split(), repr(s)


def test_scale():
    assert bleu("same text here", "same text here") == 100.0
    assert chrf("same text here", "same text here") == 100.0
    assert bleu("a b c d", "w x y z") == 0.0
    assert 0 < chrf("select id from users", "select name from users") < 100
