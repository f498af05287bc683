import subprocess
import sys

from editloop.signals.embeddings import cosine, from_blob, to_blob


def test_blob_round_trip_and_cosine():
    v = [0.5, -0.25, 1.0]
    assert from_blob(to_blob(v)) == v
    assert len(to_blob(v)) == 12  # float32
    assert cosine([1, 0], [1, 0]) == 1.0 and cosine([1, 0], [0, 1]) == 0.0


def test_importing_signals_loads_no_model_library():
    code = "import sys, editloop.signals.score, editloop.signals.embeddings, editloop.signals.redact, editloop.signals.validate\n"
    code += "bad = [m for m in ('torch', 'transformers', 'sentence_transformers', 'sacrebleu', 'detect_secrets') if m in sys.modules]\n"
    code += "print(bad); sys.exit(1 if bad else 0)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
